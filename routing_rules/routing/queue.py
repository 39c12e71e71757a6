"""A service's waiting queue: who rings when agents free up, and how a caller leaves the queue.

A caller waits (:class:`~routing_rules.routing.service.Wait`, decided by
:func:`~routing_rules.routing.service.service_decision`) when the service has a queue and every
present agent is busy, or when callers already wait there: they come first. From then on:

- :func:`queue_round` — whenever an agent may have become free (a call ended, a phone came
  back, an agent signed in or ended a pause), the callers of one service's queue, longest
  waiting first, each get what a caller arriving now would: a ring plan over the free agents in
  the service's strategy, the agents given to those ahead being taken. The first caller left
  without a free agent stops the round: nobody behind goes before them. When no agent is present
  any more, every caller leaves with the ``nobody`` overflow: waiting would be in vain.
- :func:`left_queue` — the caller's maximum wait ran out: the ``busy`` overflow (``nobody``
  when no agent is present), then the chain from there.
- :func:`position_prompts` — how a caller's position is said.

Pure, as every routing decision: the flow (``telephony.flow.queues``) keeps the callers in
order, asks, and hands each caller its turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType

from routing_rules.agents import AgentsView, DeviceState
from routing_rules.compiled import (
    NEXT_IN_QUEUE_PROMPT,
    POSITION_PROMPT,
    CompiledRules,
    OverflowReason,
)
from routing_rules.routing.chain import Routed, route_onward
from routing_rules.routing.service import (
    CallFacts,
    Overflow,
    Ring,
    agents_now,
    opening_of,
    ring_free,
    service_rules,
)


@dataclass(frozen=True, slots=True)
class Queued:
    """One caller waiting in a service's queue: since when (the order of the queue), and the
    rules version and facts of its call (its ring plan is made with them)."""

    call_id: str
    since: datetime
    rules: CompiledRules
    facts: CallFacts


@dataclass(frozen=True, slots=True)
class Turn:
    """A waiting caller's turn: ring ``decision``'s plan, or leave by its overflow."""

    call_id: str
    decision: Ring | Overflow

    @property
    def why(self) -> str:
        if isinstance(self.decision, Ring):
            return f"its turn in the queue: {self.decision.why}"
        return f"leaves the queue: {self.decision.why}"


def queue_round(
    service_id: str, queued: Sequence[Queued], now: datetime, agents: AgentsView
) -> tuple[Turn, ...]:
    """The turns given now to the callers waiting in ``service_id``'s queue (see the module's
    docstring); ``queued`` in the order they joined, ``agents`` as they are now."""
    turns: list[Turn] = []
    view = agents
    for caller in sorted(queued, key=lambda q: q.since):  # stable: joined first, served first
        service = caller.rules.services.get(service_id)
        if service is None:
            continue  # rules without it: the caller leaves when its wait runs out
        present = agents_now(service, view)
        if not present.present:
            reason = OverflowReason.NOBODY
            hop = Overflow(service_id, reason, service.overflow[reason], agents=present.absent)
            turns.append(Turn(caller.call_id, hop))
            continue
        if not present.free:
            break  # first come, first served: nobody behind takes an agent before this caller
        ring = ring_free(
            caller.rules, service, present, view, caller.facts, opening_of(service, now)
        )
        turns.append(Turn(caller.call_id, ring))
        # The phones it rings first are this caller's: those behind get the others.
        view = _ringing(view, ring.plan.steps[0].endpoints)
    return tuple(turns)


def _ringing(view: AgentsView, endpoints: Sequence[str]) -> AgentsView:
    devices = {**view.devices, **dict.fromkeys(endpoints, DeviceState.RINGING)}
    return replace(view, devices=MappingProxyType(devices))


def left_queue(
    rules: CompiledRules,
    service_id: str,
    queued_s: float,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> Routed:
    """The caller's maximum wait ran out after ``queued_s`` in the queue: overflow ``busy``
    (``nobody`` if no agent is present any more), then follow the chain."""
    service = service_rules(rules, service_id)
    present = agents_now(service, agents)
    reason = OverflowReason.BUSY if present.present else OverflowReason.NOBODY
    hop = Overflow(
        service_id,
        reason,
        service.overflow[reason],
        agents=(*present.busy, *present.absent),
        queued_s=queued_s,
    )
    return route_onward(rules, hop, now, agents, facts)


def position_prompts(position: int) -> tuple[str, ...]:
    """What says a caller's ``position`` (1: the next one served): the prompts, and the number as
    Asterisk says it in the call's language."""
    if position <= 1:
        return (NEXT_IN_QUEUE_PROMPT,)
    return (POSITION_PROMPT, f"number:{position}")
