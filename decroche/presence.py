"""The agents' page drives the router's agents: sign-in, sign-out and pause per service.

The web app knows accounts (logins), routing knows phones (endpoints): the configuration maps
each agent's login to their phone (``web.agent_phones``). Presence is kept by the router's
:class:`~telephony.flow.agents.AgentTracker`, so what the page sets is what routing uses, and a
feature code typed on the phone (``*51``/``*52``/``*53``) shows on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reports.errors import PresenceError
from reports.presence import PAUSE_REASONS_FR, PresenceState
from routing_rules.agents import Presence
from routing_rules.compiled import CompiledRules
from telephony.flow.agents import AgentTracker


class RouterPresence:
    """:class:`reports.presence.AgentPresence` over the router's agent tracker."""

    def __init__(
        self,
        tracker: AgentTracker,
        rules: Callable[[], CompiledRules],
        phones: Mapping[str, str],
    ) -> None:
        self._tracker = tracker
        self._rules = rules
        self._phones = dict(phones)
        self._reasons: dict[str, str | None] = {}

    def _endpoint(self, agent: str) -> str:
        endpoint = self._phones.get(agent)
        if endpoint is None:
            raise PresenceError(
                f"aucun poste n'est configuré pour l'agent « {agent} » (web.agent_phones)"
            )
        return endpoint

    def _services(self, endpoint: str) -> list[str]:
        return [s.id for s in self._rules().services.values() if endpoint in s.agents]

    async def state(self, agent: str) -> PresenceState:
        endpoint = self._phones.get(agent)
        if endpoint is None:
            return PresenceState(agent)
        states = {s: self._tracker.presence(s, endpoint) for s in self._services(endpoint)}
        signed = frozenset(s for s, p in states.items() if p is not Presence.SIGNED_OUT)
        paused = any(p is Presence.PAUSED for p in states.values())
        return PresenceState(agent, signed, paused, self._reasons.get(agent) if paused else None)

    async def sign_in(self, agent: str, service: str, allowed: frozenset[str]) -> PresenceState:
        endpoint = self._endpoint(agent)
        if service not in allowed or service not in self._services(endpoint):
            raise PresenceError(f"{agent} ne répond pas pour le service « {service} »")
        current = await self.state(agent)
        target = Presence.PAUSED if current.paused else Presence.SIGNED_IN
        self._tracker.set_presence(service, endpoint, target)
        return await self.state(agent)

    async def sign_out(self, agent: str, service: str) -> PresenceState:
        endpoint = self._endpoint(agent)
        if service not in (await self.state(agent)).signed_in:
            raise PresenceError(f"{agent} n'est pas connecté au service « {service} »")
        self._tracker.set_presence(service, endpoint, Presence.SIGNED_OUT)
        return await self.state(agent)

    async def pause(self, agent: str, reason: str | None = None) -> PresenceState:
        endpoint = self._endpoint(agent)
        current = await self.state(agent)
        if not current.signed_in:
            raise PresenceError(f"{agent} n'est connecté à aucun service : pas de pause possible")
        if reason is not None and reason not in PAUSE_REASONS_FR:
            raise PresenceError(f"motif de pause inconnu « {reason} »")
        for service in current.signed_in:
            self._tracker.set_presence(service, endpoint, Presence.PAUSED)
        self._reasons[agent] = reason
        return await self.state(agent)

    async def resume(self, agent: str) -> PresenceState:
        endpoint = self._endpoint(agent)
        for service in (await self.state(agent)).signed_in:
            self._tracker.set_presence(service, endpoint, Presence.SIGNED_IN)
        self._reasons.pop(agent, None)
        return await self.state(agent)
