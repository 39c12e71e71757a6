"""One service at ``now``: ring its free agents per its strategy, wait in its queue, or
overflow, and why.

:func:`service_decision` gives a :class:`Ring` (a :class:`RingPlan`: who rings, together or in
turn, for how long, with which caller id), a :class:`Wait` (the service has a queue and every
present agent is busy, or callers already wait in it: this one waits behind them) or an
:class:`Overflow` (closed, nobody, busy). The hops of a chain (:mod:`.chain`) and after ringing
(:mod:`.after_ringing`) are :class:`Overflow` values too, so the flow records every hop the same
way. Who rings when a queue's caller gets its turn is :mod:`.queue`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from routing_rules.agents import ABSENT_STATES, AgentsView, DeviceState, Presence
from routing_rules.compiled import (
    CALLER_ID_NAME_MAX,
    CALLER_ID_NUMBER_MAX,
    CompiledRules,
    OverflowReason,
    OverflowTarget,
    QueueRules,
    ServiceRules,
)
from routing_rules.errors import RoutingInputError, UnknownTarget
from routing_rules.hours import OpeningState
from routing_rules.kinds import Strategy
from routing_rules.outcomes import EntryOutcome

_NEVER = datetime.min.replace(tzinfo=UTC)

# How the call leaves a service that overflows, as the call records keep it.
_ENTRY_OUTCOME = {
    OverflowReason.NO_ANSWER: EntryOutcome.OVERFLOW_TIMEOUT,
    OverflowReason.BUSY: EntryOutcome.OVERFLOW_BUSY,
    OverflowReason.NOBODY: EntryOutcome.OVERFLOW_NOBODY,
    OverflowReason.CLOSED: EntryOutcome.OVERFLOW_CLOSED,
}


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What routing knows of the call (from the channel's caller id)."""

    caller_number: str | None
    caller_name: str | None = None


@dataclass(frozen=True, slots=True)
class RingStep:
    """Ring these endpoints together for ``seconds``, then go on to the next step."""

    endpoints: tuple[str, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class RingPlan:
    service_id: str
    strategy: Strategy
    steps: tuple[RingStep, ...]
    timeout_s: float  # total; no answer by then -> overflow no_answer
    caller_id: str  # what agents' phones show, e.g. "[CCAS] 0612345678"
    skipped: tuple[tuple[str, str], ...]  # (endpoint, why it is not rung)

    @property
    def first_endpoint(self) -> str:
        """The flow stores it as the service's ``round_robin_last`` for the next call."""
        return self.steps[0].endpoints[0]


@dataclass(frozen=True, slots=True)
class Ring:
    plan: RingPlan
    opening: OpeningState | None

    @property
    def why(self) -> str:
        p = self.plan
        hours = self.opening.why if self.opening else "always open"
        steps = "; ".join(f"{' + '.join(s.endpoints)} for {s.seconds:g} s" for s in p.steps)
        skipped = "".join(f"; not rung: {e} ({why})" for e, why in p.skipped)
        return (
            f"service {p.service_id} {hours}; rings ({p.strategy.value}, {p.timeout_s:g} s): "
            f"{steps}; caller id {p.caller_id!r}{skipped}"
        )


@dataclass(frozen=True, slots=True)
class Overflow:
    service_id: str
    reason: OverflowReason
    target: OverflowTarget
    opening: OpeningState | None = None  # closed: the hours that said so
    # busy, nobody: each agent and why it is not rung, or after ringing how its leg ended
    agents: tuple[tuple[str, str], ...] = ()
    rang_s: float | None = None  # no answer: how long it rang
    closed_prompt: str | None = None  # the service's own closed message, when reason is closed
    queued_s: float | None = None  # left the service's queue after waiting this long in it

    @property
    def detail(self) -> str:
        """Why, in a few words (computed on demand: the hot path never formats text)."""
        if self.opening is not None:
            return self.opening.why
        if self.rang_s is not None:
            return f"no answer within {self.rang_s:g} s"
        agents = ", ".join(f"{e} {why}" for e, why in self.agents) or "no agents"
        if self.queued_s is not None:
            return f"after {self.queued_s:g} s in the queue; {agents}"
        return agents

    @property
    def entry_outcome(self) -> EntryOutcome:
        """How the call left the service, for its record."""
        return _ENTRY_OUTCOME[self.reason]

    @property
    def why(self) -> str:
        return (
            f"service {self.service_id} overflows ({self.reason.value}: {self.detail})"
            f" -> {self.target.describe()}"
        )


@dataclass(frozen=True, slots=True)
class Wait:
    """The caller waits in the service's queue for the next free agent (``position`` 1: the
    next one served), ``remaining_s`` at most, then overflows ``busy`` to ``then``."""

    service_id: str
    queue: QueueRules
    position: int
    remaining_s: float
    then: OverflowTarget
    # Each agent not rung now and why (busy, absent), as in an Overflow's.
    agents: tuple[tuple[str, str], ...] = ()
    ahead: int = 0  # callers already waiting in the queue
    opening: OpeningState | None = None

    @property
    def why(self) -> str:
        """For the service's logs (``routing_rules.narration`` tells it in French)."""
        if self.ahead:
            cause = f"{self.ahead} caller(s) already waiting (first come, first served)"
        else:
            busy = ", ".join(f"{e} {why}" for e, why in self.agents)
            cause = f"every present agent busy ({busy})"
        return (
            f"service {self.service_id}: {cause}; waits in the queue (position"
            f" {self.position}, {self.remaining_s:g} s at most, then busy ->"
            f" {self.then.describe()}); {self.queue.describe()}"
        )


ServiceDecision = Ring | Wait | Overflow


def require_aware(now: datetime) -> datetime:
    """``now`` itself; a naive datetime is refused (opening hours need the offset)."""
    if now.tzinfo is None:
        raise RoutingInputError(f"routing needs an aware datetime, got naive {now.isoformat()}")
    return now


def service_rules(rules: CompiledRules, service_id: str) -> ServiceRules:
    """The service's rules; an unknown id is a clear error naming the rules version."""
    service = rules.services.get(service_id)
    if service is None:
        raise UnknownTarget(f"unknown service {service_id!r} (rules {rules.version})")
    return service


def absence(view: AgentsView, service_id: str, endpoint: str) -> str | None:
    """Why an agent is absent from this service, or None when present."""
    presence = view.presence_in(service_id, endpoint)
    if presence is not Presence.SIGNED_IN:
        return presence.value
    state = view.device(endpoint)
    if state in ABSENT_STATES:
        return f"device {state.value}"
    return None


def can_ring(view: AgentsView, service_id: str, endpoint: str) -> bool:
    """Whether the agent can be rung for the service now: signed in, registered, phone free.
    A plan's later stages ask again when they start: the plan was made seconds before."""
    return (
        absence(view, service_id, endpoint) is None
        and view.device(endpoint) is DeviceState.NOT_INUSE
    )


def caller_id_for(rules: CompiledRules, service: ServiceRules, facts: CallFacts) -> str:
    """The caller id agents see; the format was checked at load to stay within CALLER_ID_MAX."""
    return rules.caller_id_format.format(
        tag=service.tag,
        number=(facts.caller_number or "")[:CALLER_ID_NUMBER_MAX] or rules.anonymous_number,
        name=(facts.caller_name or "")[:CALLER_ID_NAME_MAX],
    ).strip()


def _order(service: ServiceRules, free: list[str], view: AgentsView) -> list[str]:
    if service.strategy is Strategy.ROUND_ROBIN:
        last = view.round_robin_last.get(service.id)
        if last in service.agents:
            rank = {a: i for i, a in enumerate(service.agents)}
            start = rank[last] + 1
            n = len(service.agents)
            return sorted(free, key=lambda a: (rank[a] - start) % n)
        return free
    if service.strategy is Strategy.LONGEST_IDLE:
        # Stable sort: agents idle since the same moment keep the listed order.
        return sorted(free, key=lambda a: view.last_call_end.get(a, _NEVER))
    return free


def _steps(service: ServiceRules, ordered: list[str]) -> tuple[RingStep, ...]:
    if service.strategy is Strategy.RING_ALL:
        return (RingStep(tuple(ordered), service.ring_s),)
    # One at a time, round the list again if rings remain: the service rings its full time.
    steps: list[RingStep] = []
    remaining = service.ring_s
    i = 0
    while remaining > 1e-9:
        seconds = min(service.per_agent_s, remaining)
        steps.append(RingStep((ordered[i % len(ordered)],), seconds))
        remaining -= seconds
        i += 1
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class AgentsNow:
    """A service's agents at one moment: free (in the listed order), busy and absent, each of
    the last two with why it is not rung."""

    free: tuple[str, ...]
    busy: tuple[tuple[str, str], ...]
    absent: tuple[tuple[str, str], ...]

    @property
    def present(self) -> bool:
        return bool(self.free or self.busy)


def agents_now(service: ServiceRules, agents: AgentsView) -> AgentsNow:
    free: list[str] = []
    busy: list[tuple[str, str]] = []
    absent: list[tuple[str, str]] = []
    for endpoint in service.agents:
        why_absent = absence(agents, service.id, endpoint)
        if why_absent is not None:
            absent.append((endpoint, why_absent))
            continue
        state = agents.device(endpoint)
        if state is DeviceState.NOT_INUSE:
            free.append(endpoint)
        else:
            busy.append((endpoint, f"device {state.value}"))
    return AgentsNow(tuple(free), tuple(busy), tuple(absent))


def opening_of(service: ServiceRules, now: datetime) -> OpeningState | None:
    return None if service.schedule is None else service.schedule.state_at(require_aware(now))


def ring_free(
    rules: CompiledRules,
    service: ServiceRules,
    now_agents: AgentsNow,
    agents: AgentsView,
    facts: CallFacts,
    opening: OpeningState | None,
) -> Ring:
    """Ring the free agents per the service's strategy (at least one is free)."""
    ordered = _order(service, list(now_agents.free), agents)
    plan = RingPlan(
        service_id=service.id,
        strategy=service.strategy,
        steps=_steps(service, ordered),
        timeout_s=service.ring_s,
        caller_id=caller_id_for(rules, service, facts),
        skipped=(*now_agents.busy, *now_agents.absent),
    )
    return Ring(plan, opening)


def wait_in_queue(
    service: ServiceRules,
    now_agents: AgentsNow,
    agents: AgentsView,
    *,
    queued_s: float = 0.0,
    opening: OpeningState | None = None,
) -> Wait | None:
    """The caller waits in the service's queue, if it has one, an agent is present and the
    caller may still wait (``queued_s``: how long it already has): when none is free, or when
    callers already wait (they come first, whoever is free)."""
    if service.queue is None or not now_agents.present:
        return None
    ahead = agents.queued.get(service.id, 0)
    if now_agents.free and not ahead:
        return None
    return queue_wait(service, now_agents, ahead=ahead, queued_s=queued_s, opening=opening)


def queue_wait(
    service: ServiceRules,
    now_agents: AgentsNow,
    *,
    ahead: int,
    queued_s: float,
    opening: OpeningState | None = None,
) -> Wait | None:
    """The caller waits in the service's queue behind ``ahead`` callers, for what is left of
    its maximum wait after ``queued_s`` (None: no queue, or no time left)."""
    queue = service.queue
    if queue is None or queued_s >= queue.max_wait_s:
        return None
    return Wait(
        service.id,
        queue,
        position=ahead + 1,
        remaining_s=queue.max_wait_s - queued_s,
        then=service.overflow[OverflowReason.BUSY],
        agents=(*now_agents.busy, *now_agents.absent),
        ahead=ahead,
        opening=opening,
    )


def service_decision(
    rules: CompiledRules,
    service_id: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> ServiceDecision:
    """Ring the service's free agents per its strategy, wait in its queue, or overflow (closed,
    nobody, busy)."""
    service = service_rules(rules, service_id)
    opening = opening_of(service, now)
    if opening is not None and not opening.is_open:
        return Overflow(
            service_id,
            OverflowReason.CLOSED,
            service.overflow[OverflowReason.CLOSED],
            opening=opening,
            closed_prompt=service.closed_prompt,
        )
    now_agents = agents_now(service, agents)
    wait = wait_in_queue(service, now_agents, agents, opening=opening)
    if wait is not None:
        return wait
    if not now_agents.free:
        reason = OverflowReason.BUSY if now_agents.busy else OverflowReason.NOBODY
        return Overflow(
            service_id,
            reason,
            service.overflow[reason],
            agents=(*now_agents.busy, *now_agents.absent),
        )
    return ring_free(rules, service, now_agents, agents, facts, opening)
