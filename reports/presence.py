"""Agents signing in to and out of their services, and pausing: what the agents' page drives.

The router implements :class:`AgentPresence` (it decides whom to ring); the in-memory version
here keeps the same rules for tests and for ``decroche web`` on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from reports.errors import PresenceError


@dataclass(frozen=True, slots=True)
class PresenceState:
    agent: str
    signed_in: frozenset[str] = frozenset()
    paused: bool = False
    pause_reason: str | None = None


class AgentPresence(Protocol):
    """``allowed`` is the set of services the agent's account answers for: signing in to any
    other is refused (the caller passes it, the router need not know accounts)."""

    async def state(self, agent: str) -> PresenceState: ...

    async def sign_in(self, agent: str, service: str, allowed: frozenset[str]) -> PresenceState: ...

    async def sign_out(self, agent: str, service: str) -> PresenceState: ...

    async def pause(self, agent: str, reason: str | None = None) -> PresenceState: ...

    async def resume(self, agent: str) -> PresenceState: ...


PAUSE_REASONS_FR = ("pause", "réunion", "accueil physique", "formation")


class InMemoryAgentPresence:
    def __init__(self) -> None:
        self._states: dict[str, PresenceState] = {}

    async def state(self, agent: str) -> PresenceState:
        return self._states.get(agent, PresenceState(agent))

    async def sign_in(self, agent: str, service: str, allowed: frozenset[str]) -> PresenceState:
        if service not in allowed:
            raise PresenceError(f"{agent} ne répond pas pour le service « {service} »")
        current = await self.state(agent)
        return self._set(
            PresenceState(
                agent, current.signed_in | {service}, current.paused, current.pause_reason
            )
        )

    async def sign_out(self, agent: str, service: str) -> PresenceState:
        current = await self.state(agent)
        if service not in current.signed_in:
            raise PresenceError(f"{agent} n'est pas connecté au service « {service} »")
        return self._set(
            PresenceState(
                agent, current.signed_in - {service}, current.paused, current.pause_reason
            )
        )

    async def pause(self, agent: str, reason: str | None = None) -> PresenceState:
        current = await self.state(agent)
        if not current.signed_in:
            raise PresenceError(f"{agent} n'est connecté à aucun service : pas de pause possible")
        if reason is not None and reason not in PAUSE_REASONS_FR:
            raise PresenceError(f"motif de pause inconnu « {reason} »")
        return self._set(PresenceState(agent, current.signed_in, True, reason))

    async def resume(self, agent: str) -> PresenceState:
        current = await self.state(agent)
        return self._set(PresenceState(agent, current.signed_in, False, None))

    def _set(self, state: PresenceState) -> PresenceState:
        self._states[state.agent] = state
        return state
