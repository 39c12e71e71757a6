"""Pure routing decisions: which entry, which agents ring and how, where a call overflows.

No I/O and no clock here: ``now`` and the agents' state are passed in, the result is a value the
call flow carries out. Every decision says why (``.why``), which ``decroche rules simulate``
prints, so IT reads the very reasoning the service follows.

- :func:`entry_point` — the dialled number -> a menu, a service, or closed.
- :func:`service_decision` — one service at ``now`` -> :class:`Ring` (a plan) or :class:`Overflow`
  (reason: closed, nobody, busy).
- :func:`route_service` — follows the overflow chain until something rings or the call ends on
  a message or a callback request; :func:`after_no_answer` does the same after ringing in vain.
- :func:`overflow_target` — one hop of the chain.
- :func:`survey_for` — the satisfaction survey a call is sampled for, if any.

The chains are finite: the loader refuses overflow loops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from routing_rules.agents import ABSENT_STATES, AgentsView, DeviceState, Presence
from routing_rules.compiled import (
    CALLER_ID_NAME_MAX,
    CALLER_ID_NUMBER_MAX,
    CompiledRules,
    EntryRule,
    OverflowReason,
    OverflowTarget,
    PlayMessage,
    ServiceRules,
    SurveyRules,
    TakeCallback,
    ToMenu,
    ToService,
    normalise_number,
)
from routing_rules.errors import RoutingInputError, RulesError, UnknownTarget
from routing_rules.hours import OpeningState
from routing_rules.model import Strategy

_NEVER = datetime.min.replace(tzinfo=UTC)


# --- Entry -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IvrStart:
    menu_id: str
    rule: EntryRule

    @property
    def why(self) -> str:
        return f"entry route #{self.rule.index} ({_numbers(self.rule)}) -> menu {self.menu_id}"


@dataclass(frozen=True, slots=True)
class GoService:
    service_id: str
    rule: EntryRule

    @property
    def why(self) -> str:
        return (
            f"entry route #{self.rule.index} ({_numbers(self.rule)}) -> service {self.service_id}"
        )


@dataclass(frozen=True, slots=True)
class Closed:
    prompt_id: str
    rule: EntryRule
    opening: OpeningState

    @property
    def why(self) -> str:
        return (
            f"entry route #{self.rule.index} ({_numbers(self.rule)}) {self.opening.why}"
            f" -> message {self.prompt_id}"
        )


EntryDecision = IvrStart | GoService | Closed


def _numbers(rule: EntryRule) -> str:
    return "any number" if rule.numbers is None else "number " + ", ".join(sorted(rule.numbers))


def entry_point(rules: CompiledRules, dialled_number: str, now: datetime) -> EntryDecision:
    """The first entry route that matches the dialled number (one without numbers matches all)."""
    number = normalise_number(dialled_number)
    for rule in rules.entry:
        if rule.numbers is not None and number not in rule.numbers:
            continue
        if rule.schedule is not None and rule.closed_message is not None:
            opening = rule.schedule.state_at(_aware(now))
            if not opening.is_open:
                return Closed(rule.closed_message, rule, opening)
        if isinstance(rule.target, ToMenu):
            return IvrStart(rule.target.menu_id, rule)
        return GoService(rule.target.service_id, rule)
    # The loader requires a route for any number unless every number is listed explicitly.
    raise UnknownTarget(f"no entry route for the dialled number {dialled_number!r}")


# --- One service -------------------------------------------------------------------------------


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
    agents: tuple[tuple[str, str], ...] = ()  # busy, nobody: each agent and why not rung
    rang_s: float | None = None  # no answer: how long it rang
    closed_prompt: str | None = None  # the service's own closed message, when reason is closed

    @property
    def detail(self) -> str:
        """Why, in a few words (computed on demand: the hot path never formats text)."""
        if self.opening is not None:
            return self.opening.why
        if self.rang_s is not None:
            return f"no answer within {self.rang_s:g} s"
        return ", ".join(f"{e} {why}" for e, why in self.agents) or "no agents"

    @property
    def why(self) -> str:
        return (
            f"service {self.service_id} overflows ({self.reason.value}: {self.detail})"
            f" -> {self.target.describe()}"
        )


ServiceDecision = Ring | Overflow


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise RoutingInputError(f"routing needs an aware datetime, got naive {now.isoformat()}")
    return now


def _service(rules: CompiledRules, service_id: str) -> ServiceRules:
    service = rules.services.get(service_id)
    if service is None:
        raise UnknownTarget(f"unknown service {service_id!r} (rules {rules.version})")
    return service


def _absence(view: AgentsView, service_id: str, endpoint: str) -> str | None:
    """Why an agent is absent from this service, or None when present."""
    presence = view.presence_in(service_id, endpoint)
    if presence is not Presence.SIGNED_IN:
        return presence.value
    state = view.device(endpoint)
    if state in ABSENT_STATES:
        return f"device {state.value}"
    return None


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


def service_decision(
    rules: CompiledRules,
    service_id: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> ServiceDecision:
    """Ring the service's free agents per its strategy, or overflow (closed, nobody, busy)."""
    service = _service(rules, service_id)
    opening = None
    if service.schedule is not None:
        opening = service.schedule.state_at(_aware(now))
        if not opening.is_open:
            return Overflow(
                service_id,
                OverflowReason.CLOSED,
                service.overflow[OverflowReason.CLOSED],
                opening=opening,
                closed_prompt=service.closed_prompt,
            )
    free: list[str] = []
    busy: list[tuple[str, str]] = []
    absent: list[tuple[str, str]] = []
    for endpoint in service.agents:
        why_absent = _absence(agents, service_id, endpoint)
        if why_absent is not None:
            absent.append((endpoint, why_absent))
            continue
        state = agents.device(endpoint)
        if state is DeviceState.NOT_INUSE:
            free.append(endpoint)
        else:
            busy.append((endpoint, f"device {state.value}"))
    if not free:
        reason = OverflowReason.BUSY if busy else OverflowReason.NOBODY
        return Overflow(service_id, reason, service.overflow[reason], agents=(*busy, *absent))
    ordered = _order(service, free, agents)
    plan = RingPlan(
        service_id=service_id,
        strategy=service.strategy,
        steps=_steps(service, ordered),
        timeout_s=service.ring_s,
        caller_id=caller_id_for(rules, service, facts),
        skipped=(*busy, *absent),
    )
    return Ring(plan, opening)


# --- Chains ------------------------------------------------------------------------------------


def overflow_target(
    rules: CompiledRules, service_id: str, reason: OverflowReason
) -> OverflowTarget:
    """Where the service sends a call it cannot take for this reason (one hop)."""
    return _service(rules, service_id).overflow[reason]


@dataclass(frozen=True, slots=True)
class Routed:
    """The outcome of a chain: the hops taken, then a ring plan or the end of the call.

    ``announcements``: the closed message of the service the caller asked for, when it was
    closed (it tells its opening hours), played before whatever comes next.
    """

    hops: tuple[Overflow, ...]
    final: Ring | PlayMessage | TakeCallback

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
            self.final.why if isinstance(self.final, Ring) else f"ends: {self.final.describe()}"
        )
        return lines


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
        if isinstance(decision, Ring):
            return Routed(tuple(hops), decision)
        hops.append(decision)
        if not isinstance(decision.target, ToService):
            return Routed(tuple(hops), decision.target)
        current = decision.target.service_id
    raise RulesError(f"overflow chain from {service_id} does not end (rules {rules.version})")


def route_service(
    rules: CompiledRules,
    service_id: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> Routed:
    """Route a call arriving at a service, following overflows until something rings or ends."""
    return _follow(rules, [], service_id, now, agents, facts)


def after_no_answer(
    rules: CompiledRules,
    service_id: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> Routed:
    """The service rang for its whole time in vain: overflow ``no_answer``, then follow on."""
    target = overflow_target(rules, service_id, OverflowReason.NO_ANSWER)
    rang = _service(rules, service_id).ring_s
    hop = Overflow(service_id, OverflowReason.NO_ANSWER, target, rang_s=rang)
    if isinstance(target, ToService):
        return _follow(rules, [hop], target.service_id, now, agents, facts)
    return Routed((hop,), target)


# --- Surveys -----------------------------------------------------------------------------------


def survey_for(rules: CompiledRules, service_id: str, call_number: int) -> SurveyRules | None:
    """The first survey covering the service whose sampling picks this call.

    ``call_number`` is the flow's count of answered calls of the service (0, 1, 2...): with
    ``one_in: N`` the calls 0, N, 2N... are surveyed. Deterministic, so testable.
    """
    for survey in rules.surveys.values():
        if survey.services is not None and service_id not in survey.services:
            continue
        if call_number % survey.one_in == 0:
            return survey
    return None
