"""When a service's ringing ends without an answer: why, and where the call goes next.

The flow rings the plan and reports how each leg ended: the Q.850 cause of its hang-up, read by
:func:`leg_outcome_of_cause` (Asterisk sends no final BUSY or NOANSWER Dial status), or a
channel Asterisk refused to create. :func:`after_ringing` then decides, from those legs alone:

- a phone rang (or its agent declined) -> ``no_answer``: the service rang its time in vain;
- else a phone was busy -> ``busy``;
- else nobody could be reached (unreachable, failed) -> ``nobody``;

and follows the service's overflow for that reason down the chain, as any other hop. A service
with a queue keeps a caller whose ringing found its phones busy (an agent took another call
meanwhile): its other free agents ring at once if nobody waits ahead, else the caller waits in
the queue again, at their place, for what is left of their maximum wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from routing_rules.agents import AgentsView
from routing_rules.compiled import CompiledRules, OverflowReason
from routing_rules.outcomes import LegOutcome
from routing_rules.routing.chain import Routed, overflow_target, route_onward
from routing_rules.routing.service import (
    AgentsNow,
    CallFacts,
    Overflow,
    agents_now,
    opening_of,
    queue_wait,
    ring_free,
    service_rules,
)

# Q.850 causes -> how an agent's leg ended.
_CAUSES: dict[int, LegOutcome] = {
    17: LegOutcome.BUSY,  # user busy (486)
    18: LegOutcome.NO_ANSWER,  # no user responding
    19: LegOutcome.NO_ANSWER,  # user alerting, no answer (480: Asterisk's dial timeout)
    21: LegOutcome.DECLINED,  # call rejected (603)
    1: LegOutcome.UNREACHABLE,  # unallocated number
    3: LegOutcome.UNREACHABLE,  # no route to destination
    20: LegOutcome.UNREACHABLE,  # subscriber absent
    27: LegOutcome.UNREACHABLE,  # destination out of order
    34: LegOutcome.UNREACHABLE,  # no circuit available
    38: LegOutcome.UNREACHABLE,  # network out of order
}
_NORMAL_CLEARING = 16  # the phone hung up while ringing: it rang, nobody took the call

# The legs that tell the service rang: somebody's phone was ringing for it.
_RANG = frozenset({LegOutcome.NO_ANSWER, LegOutcome.DECLINED})


def leg_outcome_of_cause(cause: int | None, *, rang: bool = True) -> LegOutcome:
    """How a leg ended, from the Q.850 cause of its hang-up (None: no cause given) and whether
    its phone rang (sent 180): a phone that never rang was not answering, it was unreachable
    (no reply to the INVITE: 18 after SIP timer B or Asterisk's dial timeout)."""
    if cause is None:
        return LegOutcome.FAILED
    outcome = LegOutcome.NO_ANSWER if cause == _NORMAL_CLEARING else _CAUSES.get(cause)
    if outcome is None:
        return LegOutcome.FAILED
    if outcome is LegOutcome.NO_ANSWER and not rang:
        return LegOutcome.UNREACHABLE
    return outcome


@dataclass(frozen=True, slots=True)
class RungLeg:
    """One agent's leg of the ringing, and how it ended without an answer."""

    endpoint: str
    outcome: LegOutcome


def unanswered_reason(legs: Sequence[RungLeg]) -> OverflowReason:
    """Why nobody answered: someone rang (or declined) -> no answer; else someone was busy ->
    busy; else nobody could be reached (no legs at all included)."""
    outcomes = {leg.outcome for leg in legs}
    if outcomes & _RANG:
        return OverflowReason.NO_ANSWER
    if LegOutcome.BUSY in outcomes:
        return OverflowReason.BUSY
    return OverflowReason.NOBODY


def after_ringing(
    rules: CompiledRules,
    service_id: str,
    legs: Sequence[RungLeg],
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
    *,
    queued_s: float | None = None,
) -> Routed:
    """The service's ringing ended with these legs, none answered: overflow for the reason they
    give, then follow on (``agents`` and ``now`` are those after the ringing). Phones busy and
    a queue: wait in it again (``queued_s``: how long this caller already waited in it, None if
    it never did)."""
    reason = unanswered_reason(legs)
    service = service_rules(rules, service_id)
    # Each phone once, in the order rung (one rung twice in turn is told once).
    told = tuple(dict.fromkeys((leg.endpoint, leg.outcome.value) for leg in legs))
    if reason is OverflowReason.BUSY and service.queue is not None:
        # A caller who waited is back at its place, the head of the queue; another behind who
        # already waits there.
        ahead = 0 if queued_s is not None else agents.queued.get(service_id, 0)
        opening = opening_of(service, now)
        present = agents_now(service, agents)
        # Agents free now that this ringing did not find busy (not reached yet, or freed
        # meanwhile) ring at once for a caller nobody waits ahead of; the phones that just
        # answered busy are not rung again straight away.
        busy_now = {endpoint for endpoint, _ in told}
        free = tuple(e for e in present.free if e not in busy_now)
        if free and not ahead:
            others = AgentsNow(free, present.busy, present.absent)
            return Routed((), ring_free(rules, service, others, agents, facts, opening))
        wait = queue_wait(
            service,
            AgentsNow((), told, ()),
            ahead=ahead,
            queued_s=queued_s or 0.0,
            opening=opening,
        )
        if wait is not None:
            return Routed((), wait)
    target = overflow_target(rules, service_id, reason)
    if reason is OverflowReason.NO_ANSWER:
        hop = Overflow(service_id, reason, target, rang_s=service.ring_s)
    else:
        hop = Overflow(service_id, reason, target, agents=told, queued_s=queued_s)
    return route_onward(rules, hop, now, agents, facts)
