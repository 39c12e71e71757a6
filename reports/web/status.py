"""What the IT page shows: routing rules status, reload history, system health.

The router implements :class:`SystemStatus`; until it is plugged in, the page says so rather
than showing made-up figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ReloadEvent:
    at: datetime
    ok: bool
    rules_hash: str | None
    message: str


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name: str  # French, shown as is
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class RulesStatus:
    rules_hash: str | None
    loaded_at: datetime | None
    source: str | None
    reloads: tuple[ReloadEvent, ...] = field(default_factory=tuple)


class SystemStatus(Protocol):
    def rules(self) -> RulesStatus | None: ...

    def health(self) -> list[HealthCheck]: ...


class NoRouterStatus:
    """Used by ``decroche web`` alone: no router in this process, so no rules to report."""

    def rules(self) -> RulesStatus | None:
        return None

    def health(self) -> list[HealthCheck]:
        return []
