"""Figures beside the main indicators: per agent, the voice menu, and callbacks.

They count the detailed records (agent legs, IVR events, callback requests) of one period of
local dates, as a :class:`DetailSource` gives them (:class:`analytics.sources.DatabaseSource`
reads them from the database). Volumes are a month of one town's calls, so these are plain
Python loops; the heavy per-service indicators are in :mod:`analytics.indicators`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from analytics.definitions import DEFAULT_TIMEZONE

# (endpoint, seconds it rang, leg outcome) of one ring of an agent's phone.
LegOutcomeRow = tuple[str, float, str]
# (call id, call outcome, menu, event kind, key) of one voice-menu event.
IvrRow = tuple[str, str, str, str, str | None]


class DetailSource(Protocol):
    """The detailed records of the local days ``start``..``end`` (already cut to them)."""

    def agent_leg_outcomes(self, start: date, end: date, timezone: str) -> list[LegOutcomeRow]: ...

    def ivr_events(self, start: date, end: date, timezone: str) -> list[IvrRow]: ...

    def callback_requests(self, start: date, end: date, timezone: str) -> list[CallbackItem]: ...


@dataclass(slots=True)
class AgentFigures:
    """One agent's phone over the period: each time it rang for a call, and what came of it."""

    endpoint: str
    presented: int = 0  # legs: times the phone rang (or was tried) for a call
    answered: int = 0
    missed: int = 0  # rang and nobody picked up on this phone (no answer, declined)
    busy: int = 0
    unreachable: int = 0
    ring_answered_sum_s: float = 0.0

    @property
    def mean_ring_answered_s(self) -> float | None:
        """Mean time the phone rang before this agent answered."""
        return self.ring_answered_sum_s / self.answered if self.answered else None

    def as_dict(self) -> dict[str, Any]:
        mean = self.mean_ring_answered_s
        return {
            "endpoint": self.endpoint,
            "presented": self.presented,
            "answered": self.answered,
            "missed": self.missed,
            "busy": self.busy,
            "unreachable": self.unreachable,
            "mean_ring_answered_s": None if mean is None else round(mean, 3),
        }


def agent_figures(
    source: DetailSource, start: date, end: date, timezone: str = DEFAULT_TIMEZONE
) -> dict[str, AgentFigures]:
    figures: dict[str, AgentFigures] = {}
    for endpoint, ring_s, outcome in source.agent_leg_outcomes(start, end, timezone):
        agent = figures.setdefault(endpoint, AgentFigures(endpoint))
        agent.presented += 1
        if outcome == "answered":
            agent.answered += 1
            agent.ring_answered_sum_s += ring_s
        elif outcome in ("no_answer", "declined"):
            agent.missed += 1
        elif outcome == "busy":
            agent.busy += 1
        elif outcome == "unreachable":
            agent.unreachable += 1
    return dict(sorted(figures.items()))


@dataclass(slots=True)
class IvrFigures:
    """The voice menus over the period: what callers chose, and where they got lost."""

    calls: int = 0  # calls that heard at least one menu
    hangups_in_ivr: int = 0  # calls that ended in the menus, before reaching a service
    choices: dict[str, Counter[str]] = field(default_factory=dict)  # menu -> key -> count
    timeouts: Counter[str] = field(default_factory=Counter)  # menu -> count
    invalid: Counter[str] = field(default_factory=Counter)
    fallbacks: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "hangups_in_ivr": self.hangups_in_ivr,
            "choices": {menu: dict(sorted(keys.items())) for menu, keys in self.choices.items()},
            "timeouts": dict(self.timeouts),
            "invalid": dict(self.invalid),
            "fallbacks": dict(self.fallbacks),
        }


def ivr_figures(
    source: DetailSource, start: date, end: date, timezone: str = DEFAULT_TIMEZONE
) -> IvrFigures:
    figures = IvrFigures()
    seen: set[str] = set()
    for call_id, outcome, menu, kind, key in source.ivr_events(start, end, timezone):
        if call_id not in seen:
            seen.add(call_id)
            figures.calls += 1
            if outcome == "ivr_hangup":
                figures.hangups_in_ivr += 1
        if kind == "key" and key is not None:
            figures.choices.setdefault(menu, Counter())[key] += 1
        elif kind == "timeout":
            figures.timeouts[menu] += 1
        elif kind == "invalid":
            figures.invalid[menu] += 1
        elif kind == "fallback":
            figures.fallbacks[menu] += 1
    figures.choices = dict(sorted(figures.choices.items()))
    return figures


@dataclass(slots=True)
class CallbackFigures:
    """Callbacks owed over the period (requests, abandoned and overflowed calls with a number)
    and how they were honoured: the *Plan téléphone* asks for callbacks."""

    owed: int = 0
    done: int = 0
    expired: int = 0
    pending: int = 0
    delays_s: list[float] = field(default_factory=list)
    by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def callback_rate(self) -> float | None:
        return self.done / self.owed if self.owed else None

    @property
    def mean_delay_s(self) -> float | None:
        return statistics.fmean(self.delays_s) if self.delays_s else None

    @property
    def median_delay_s(self) -> float | None:
        return statistics.median(self.delays_s) if self.delays_s else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "owed": self.owed,
            "done": self.done,
            "expired": self.expired,
            "pending": self.pending,
            "by_kind": dict(self.by_kind),
            "callback_rate": self.callback_rate,
            "mean_delay_s": self.mean_delay_s,
            "median_delay_s": self.median_delay_s,
        }


@dataclass(frozen=True, slots=True)
class CallbackItem:
    """One line of the list of people to call back."""

    call_id: str
    position: int
    at: datetime
    service_id: str
    kind: str
    status: str
    number: str | None  # clear only while the callback is pending
    done_by: str | None
    closed_at: datetime | None


def callback_figures(
    source: DetailSource,
    start: date,
    end: date,
    service_id: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> CallbackFigures:
    figures = CallbackFigures()
    for item in source.callback_requests(start, end, timezone):
        if service_id is not None and item.service_id != service_id:
            continue
        figures.owed += 1
        figures.by_kind[item.kind] += 1
        if item.status == "done":
            figures.done += 1
            if item.closed_at is not None:
                figures.delays_s.append((item.closed_at - item.at).total_seconds())
        elif item.status == "expired":
            figures.expired += 1
        else:
            figures.pending += 1
    return figures


def callbacks_of_day(
    source: DetailSource, day: date, timezone: str = DEFAULT_TIMEZONE
) -> list[CallbackItem]:
    """The abandoned and overflowed calls and the callback requests of one day, with who called
    back and when; the clear number only while the callback is pending."""
    items = source.callback_requests(day, day, timezone)
    return sorted(items, key=lambda item: (item.service_id, item.at))
