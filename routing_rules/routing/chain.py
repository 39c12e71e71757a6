"""Overflow chains: from a service the call cannot ring, hop by hop until something rings, the
caller waits in a service's queue, or the call ends on a message or a callback request.

The chains are finite: the loader refuses overflow loops (and :func:`follow` is bounded anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from routing_rules.agents import AgentsView
from routing_rules.compiled import (
    CompiledRules,
    OverflowReason,
    OverflowTarget,
    PlayMessage,
    TakeCallback,
    ToService,
)
from routing_rules.errors import RulesError
from routing_rules.routing.service import (
    CallFacts,
    Overflow,
    Ring,
    Wait,
    service_decision,
    service_rules,
)


def overflow_target(
    rules: CompiledRules, service_id: str, reason: OverflowReason
) -> OverflowTarget:
    """Where the service sends a call it cannot take for this reason (one hop)."""
    return service_rules(rules, service_id).overflow[reason]


@dataclass(frozen=True, slots=True)
class Routed:
    """The outcome of a chain: the hops taken, then a ring plan, a wait in a queue, or the end of
    the call.

    ``announcements``: the closed message of the service the caller asked for, when it was
    closed (it tells its opening hours), played before whatever comes next.
    """

    hops: tuple[Overflow, ...]
    final: Ring | Wait | PlayMessage | TakeCallback

    @property
    def announcements(self) -> tuple[str, ...]:
        if (
            self.hops
            and self.hops[0].reason is OverflowReason.CLOSED
            and self.hops[0].closed_prompt
        ):
            return (self.hops[0].closed_prompt,)
        return ()

    @property
    def why(self) -> list[str]:
        lines = [hop.why for hop in self.hops]
        lines.append(
            self.final.why
            if isinstance(self.final, Ring | Wait)
            else f"ends: {self.final.describe()}"
        )
        return lines


def route_service(
    rules: CompiledRules,
    service_id: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> Routed:
    """Route a call arriving at a service, following overflows until something rings, waits or
    ends."""
    return _follow(rules, [], service_id, now, agents, facts)


def route_onward(
    rules: CompiledRules,
    hop: Overflow,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> Routed:
    """The call leaves a service by ``hop``: follow its target on to the end of the chain."""
    if isinstance(hop.target, ToService):
        return _follow(rules, [hop], hop.target.service_id, now, agents, facts)
    return Routed((hop,), hop.target)


def _follow(
    rules: CompiledRules,
    hops: list[Overflow],
    service_id: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> Routed:
    current = service_id
    # Bounded even if a loop slipped through: one visit per service at most.
    for _ in range(len(rules.services) + 1):
        decision = service_decision(rules, current, now, agents, facts)
        if isinstance(decision, Ring | Wait):
            return Routed(tuple(hops), decision)
        hops.append(decision)
        if not isinstance(decision.target, ToService):
            return Routed(tuple(hops), decision.target)
        current = decision.target.service_id
    raise RulesError(f"overflow chain from {service_id} does not end (rules {rules.version})")
