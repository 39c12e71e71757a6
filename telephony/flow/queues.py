"""The services' waiting queues, as the router holds them: who waits where, since when, and each
caller's turn.

A call whose routing says :class:`~routing_rules.routing.Wait` joins its service's queue
(:meth:`ServiceQueues.join`) and waits for its :class:`Ticket`'s turn while it hears the queue's
announcements (``telephony.flow.executor``). Whenever an agent may have become free — the agents'
tracker changed (a call ended, a phone came back, a sign-in, the end of a pause), a caller joined
or left — a round is run once the current step is done: ``routing_rules.routing.queue_round``
says, longest waiting first, who rings now and whom, or who leaves (nobody present), and each
ticket gets its turn.

The phones of a turn's first ring step are *reserved* for that caller until its legs start:
every decision meanwhile (the next round, a new caller) sees them ringing, so no other call
takes them in between (:meth:`view`); a phone another call is about to ring (a later ring
stage, :meth:`claim`) is not given to a turn either. A phone that answered busy *rests* for
:data:`BUSY_REST_S`: no turn rings it meanwhile, even if Asterisk shows it free (a phone on do
not disturb answers busy while idle; without the rest the queue would ring it again at once, in
a loop, until the caller's maximum wait). Nothing here is shared between processes: one router,
one set of queues.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from routing_rules.agents import AgentsView, DeviceState
from routing_rules.compiled import CompiledRules
from routing_rules.routing import CallFacts, Overflow, Queued, Ring, queue_round
from telephony.clock import Clock
from telephony.flow.agents import AgentTracker

log = logging.getLogger(__name__)

BUSY_REST_S = 5.0  # a phone that answered busy is not rung for a queue's turn meanwhile


@dataclass(eq=False, slots=True)
class Ticket:
    """One caller's place in a service's queue; ``turn`` is set when it rings or must leave."""

    call_id: str
    service_id: str
    since: datetime
    rules: CompiledRules
    facts: CallFacts
    turn: asyncio.Future[Ring | Overflow] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def queued(self) -> Queued:
        return Queued(self.call_id, self.since, self.rules, self.facts)


@dataclass(frozen=True, slots=True)
class QueuedCall:
    """A caller waiting in a queue, for the live view."""

    call_id: str
    service_id: str
    since: datetime
    position: int


class ServiceQueues:
    def __init__(self, agents: AgentTracker, clock: Clock) -> None:
        self._agents = agents
        self._clock = clock
        self._queues: dict[str, list[Ticket]] = {}
        # endpoint -> the call whose turn rings it first, until its leg starts.
        self._reserved: dict[str, str] = {}
        # endpoint -> the call about to ring it, until its leg starts (a later ring stage).
        self._claimed: dict[str, str] = {}
        # endpoint -> until when it rests, having answered busy (see the module's docstring).
        self._resting: dict[str, datetime] = {}
        self._round_due = False
        self.rounds = 0  # rounds run (for /metrics and tests)
        agents.add_listener(self.kick)

    # --- callers ---------------------------------------------------------------------------

    def join(
        self,
        service_id: str,
        call_id: str,
        since: datetime,
        rules: CompiledRules,
        facts: CallFacts,
    ) -> Ticket:
        """The caller waits in ``service_id``'s queue, placed by ``since`` (a caller back from a
        ringing that found its phones busy keeps the place it had)."""
        ticket = Ticket(call_id, service_id, since, rules, facts)
        queue = self._queues.setdefault(service_id, [])
        at = len(queue)
        while at > 0 and queue[at - 1].since > since:
            at -= 1
        queue.insert(at, ticket)
        self.kick()
        return ticket

    def leave(self, ticket: Ticket) -> None:
        """The caller is out of the queue (its turn came, or it left): its place goes to the
        next. A turn it did not take frees the phones reserved for it."""
        queue = self._queues.get(ticket.service_id)
        if queue is not None and ticket in queue:
            queue.remove(ticket)
            if not queue:
                del self._queues[ticket.service_id]
        if not ticket.turn.done():
            ticket.turn.cancel()
        self.kick()

    def position(self, ticket: Ticket) -> int:
        """1: the next one served (the callers whose turn came are no longer waiting)."""
        queue = self._queues.get(ticket.service_id, [])
        ahead = 0
        for other in queue:
            if other is ticket:
                break
            if not other.turn.done():
                ahead += 1
        return ahead + 1

    def counts(self) -> dict[str, int]:
        """Callers waiting per service (their turn not come yet)."""
        counts: dict[str, int] = {}
        for service_id, queue in self._queues.items():
            waiting = sum(1 for ticket in queue if not ticket.turn.done())
            if waiting:
                counts[service_id] = waiting
        return counts

    def waiting(self) -> list[QueuedCall]:
        """Every caller waiting, by service and position (the live view)."""
        return [
            QueuedCall(ticket.call_id, service_id, ticket.since, position)
            for service_id, queue in self._queues.items()
            for position, ticket in enumerate((t for t in queue if not t.turn.done()), start=1)
        ]

    # --- phones reserved for a turn ------------------------------------------------------------

    def claim(self, call_id: str, endpoint: str) -> None:
        """The call is about to ring ``endpoint`` (its leg is being created): no queue's turn
        may take it meanwhile (both calls would ring it). Other decisions are left as they
        were: they see the phone ringing once its leg starts."""
        self._claimed[endpoint] = call_id

    def leg_started(self, call_id: str, endpoint: str) -> None:
        """The call's leg to ``endpoint`` started (or could not): the tracker follows it now."""
        if self._claimed.get(endpoint) == call_id:
            del self._claimed[endpoint]
        if self._reserved.get(endpoint) == call_id:
            del self._reserved[endpoint]
            self.kick()

    def forget(self, call_id: str) -> None:
        """The call is over: whatever was reserved for it is free."""
        for endpoint in [e for e, owner in self._claimed.items() if owner == call_id]:
            del self._claimed[endpoint]
        mine = [endpoint for endpoint, owner in self._reserved.items() if owner == call_id]
        for endpoint in mine:
            del self._reserved[endpoint]
        if mine:
            self.kick()

    def found_busy(self, endpoint: str) -> None:
        """The phone answered busy: no turn rings it for :data:`BUSY_REST_S`."""
        until = self._clock.now() + timedelta(seconds=BUSY_REST_S)
        self._resting[endpoint] = until
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(self._clock.real_seconds(BUSY_REST_S), self._rested, endpoint, until)

    def _rested(self, endpoint: str, until: datetime) -> None:
        if self._resting.get(endpoint) == until:
            del self._resting[endpoint]
            self.kick()

    def view(self, agents: AgentsView, mine: str | None = None) -> AgentsView:
        """``agents`` as routing must see them: the phones reserved for a turn ringing (but
        those of the call ``mine``: it is about to ring them), and the callers waiting in each
        queue."""
        if not self._reserved and not self._queues:
            return agents
        devices = agents.devices
        others = [endpoint for endpoint, owner in self._reserved.items() if owner != mine]
        if others:
            devices = MappingProxyType({**devices, **dict.fromkeys(others, DeviceState.RINGING)})
        return replace(agents, devices=devices, queued=MappingProxyType(self.counts()))

    def resting_busy(self, agents: AgentsView) -> AgentsView:
        """``agents`` with the phones resting after a busy answer shown busy (a queue's
        decisions: its turns, and who rings after a ringing found its phones busy)."""
        if not self._resting:
            return agents
        devices = {**agents.devices, **dict.fromkeys(self._resting, DeviceState.INUSE)}
        return replace(agents, devices=MappingProxyType(devices))

    def _claimed_ringing(self, agents: AgentsView) -> AgentsView:
        if not self._claimed:
            return agents
        devices = {**agents.devices, **dict.fromkeys(self._claimed, DeviceState.RINGING)}
        return replace(agents, devices=MappingProxyType(devices))

    # --- rounds --------------------------------------------------------------------------------

    def kick(self) -> None:
        """An agent may be free, or a queue changed: run a round once the current step is done
        (every change of one event gives one round)."""
        if self._round_due or not self._queues:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: nobody can be waiting
        self._round_due = True
        loop.call_soon(self._round)

    def _round(self) -> None:
        self._round_due = False
        if not self._queues:
            return
        self.rounds += 1
        now = self._clock.now()
        for service_id in list(self._queues):
            waiting = [t for t in self._queues.get(service_id, ()) if not t.turn.done()]
            if not waiting:
                continue
            view = self._claimed_ringing(self.resting_busy(self.view(self._agents.view())))
            by_call = {ticket.call_id: ticket for ticket in waiting}
            for turn in queue_round(service_id, [t.queued for t in waiting], now, view):
                ticket = by_call[turn.call_id]
                log.info("call %s: %s", ticket.call_id, turn.why)
                if isinstance(turn.decision, Ring):
                    for endpoint in turn.decision.plan.steps[0].endpoints:
                        self._reserved[endpoint] = ticket.call_id
                ticket.turn.set_result(turn.decision)
