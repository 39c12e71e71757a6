"""Where an agent's blind transfer leads.

An agent's REFER to a number comes back into decroche as ``Stasis(decroche,<number>,transfer)``
(``asterisk/extensions.conf``, ``[decroche-transfer]``): a leg of a call an agent already took,
not a new caller. :func:`transfer_destination` decides where it goes:

- ``<number>`` is a colleague's extension (``<technology>/<number>`` in a service's agent list):
  that colleague is rung first, for their service's rings per agent, if they can take calls now
  (signed in to that service, not paused, phone registered and free); then the service's own
  plan without them, and the service's overflow after (:class:`ToColleague`). A colleague who
  cannot take calls is not rung: the service's rules apply at once (:class:`ColleagueAway`). The
  service is the first of the rules listing the phone where it is signed in (else the first
  listing it).
- any other number: the entry routes, as for a caller, but a menu starts at its prompt, not its
  welcome (:class:`~routing_rules.routing.entry.IvrStart` with ``greet`` false); a service's
  number follows that service's rules.

The flow never offers the survey's consent to a transferred leg: the caller was sampled (or not)
when the call first rang.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from routing_rules.agents import AgentsView, DeviceState
from routing_rules.compiled import CompiledRules, ServiceRules
from routing_rules.routing.entry import EntryDecision, IvrStart, entry_point
from routing_rules.routing.service import (
    CallFacts,
    Ring,
    RingPlan,
    RingStep,
    absence,
    caller_id_for,
    service_decision,
)


@dataclass(frozen=True, slots=True)
class ToColleague:
    """Ring the colleague first, then their service's plan."""

    endpoint: str
    ring: Ring

    @property
    def service_id(self) -> str:
        return self.ring.plan.service_id

    @property
    def why(self) -> str:
        return f"transfer to {self.endpoint}, then {self.service_id}: {self.ring.why}"


@dataclass(frozen=True, slots=True)
class ColleagueAway:
    """The colleague cannot take calls: their service's rules apply."""

    endpoint: str
    service_id: str
    reason: str

    @property
    def why(self) -> str:
        return f"transfer to {self.endpoint} ({self.reason}): service {self.service_id}"


TransferDecision = ToColleague | ColleagueAway | EntryDecision


def colleague_of(rules: CompiledRules, number: str) -> str | None:
    """The agents' phone whose extension is ``number`` (``PJSIP/1201`` for 1201), if any."""
    for service in rules.services.values():
        for endpoint in service.agents:
            if endpoint.partition("/")[2] == number:
                return endpoint
    return None


def transfer_destination(
    rules: CompiledRules,
    number: str,
    now: datetime,
    agents: AgentsView,
    facts: CallFacts,
) -> TransferDecision:
    """Where a leg transferred to ``number`` goes (see the module's docstring)."""
    endpoint = colleague_of(rules, number)
    if endpoint is None:
        decision = entry_point(rules, number, now)
        if isinstance(decision, IvrStart):
            return replace(decision, greet=False)
        return decision
    service = _service_of(rules, endpoint, agents)
    reason = _unavailable(agents, service.id, endpoint)
    if reason is not None:
        return ColleagueAway(endpoint, service.id, reason)
    first = RingStep((endpoint,), service.per_agent_s)
    then: tuple[RingStep, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    decided = service_decision(rules, service.id, now, agents, facts)
    if isinstance(decided, Ring):
        skipped = decided.plan.skipped
        for step in decided.plan.steps:
            others = tuple(e for e in step.endpoints if e != endpoint)
            if others:
                then += (RingStep(others, step.seconds),)
    steps = (first, *then)
    plan = RingPlan(
        service_id=service.id,
        strategy=service.strategy,
        steps=steps,
        timeout_s=sum(step.seconds for step in steps),
        caller_id=caller_id_for(rules, service, facts),
        skipped=skipped,
    )
    opening = decided.opening if isinstance(decided, Ring) else None
    return ToColleague(endpoint, Ring(plan, opening))


def _service_of(rules: CompiledRules, endpoint: str, agents: AgentsView) -> ServiceRules:
    listing = [s for s in rules.services.values() if endpoint in s.agents]
    for service in listing:
        if absence(agents, service.id, endpoint) is None:
            return service
    return listing[0]


def _unavailable(agents: AgentsView, service_id: str, endpoint: str) -> str | None:
    why = absence(agents, service_id, endpoint)
    if why is not None:
        return why
    state = agents.device(endpoint)
    return None if state is DeviceState.NOT_INUSE else f"device {state.value}"
