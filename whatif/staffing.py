"""Staffing checked by simulation (``decroche staffing --verify``): the period replayed with the
recommended agents present.

The staffing plan says how many agents each service needs in each slot and what the queueing
model expects with them. The check replays the period's callers (arrival times, keys, patience,
talk: the what-if traffic model) through the real router on the simulated PBX, with, in every
slot of every day, exactly the recommended number of agents present for each service — virtual
agents of that service alone, answering after the service's observed mean ring-to-answer time —
and reports the figures the replay reached beside the model's.

Pure: :func:`staffed_rules` (each service answered by its virtual agents) and
:func:`staffed_agents` (who is present when). I/O: :func:`verify` (the replay).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from analytics.definitions import Parameters
from analytics.frame import frame_from_records
from analytics.staffing.api import RulesOpeningHours
from analytics.staffing.legs import legs_from_records
from analytics.staffing.plan import Expected, ServiceStaffing, StaffingPlan
from analytics.staffing.traffic import ServiceTraffic, service_traffic
from routing_rules.compiled import CompiledRules
from telephony.records.model import CallRecord
from telephony.simulator.scripts import AgentScript
from whatif.compare import in_period
from whatif.errors import WhatIfError
from whatif.replay import default_workers, replay, replay_pool
from whatif.traffic import AgentChange, traffic_from_records

Progress = Callable[[int, int], None]


def virtual_agent(service: str, index: int) -> str:
    """The endpoint of a service's ``index``-th virtual agent (1-based)."""
    return f"PJSIP/renfort_{service}_{index}"


def staffed_rules(rules: CompiledRules, plan: StaffingPlan) -> CompiledRules:
    """The rules with each planned service answered by its own virtual agents (as many as its
    busiest slot needs); other services keep theirs."""
    services = dict(rules.services)
    for service_id, staffing in plan.services.items():
        current = services.get(service_id)
        if current is None:
            continue
        most = max((slot.agents_needed for slot in staffing.slots), default=0)
        agents = tuple(virtual_agent(service_id, i) for i in range(1, max(1, most) + 1))
        services[service_id] = dataclasses.replace(current, agents=agents)
    return dataclasses.replace(rules, services=MappingProxyType(services))


def staffed_agents(
    plan: StaffingPlan, rules: CompiledRules, start: date, end: date
) -> list[AgentChange]:
    """Every virtual agent's presence over the period: at the start of each slot of each day,
    the first ``agents_needed`` of the service's virtual agents registered, the others not (a
    slot without calls in the plan needs nobody)."""
    slot_s = plan.slot_minutes * 60
    changes: list[AgentChange] = []
    before = datetime.combine(start - timedelta(days=1), time.min, rules.tz)
    for service_id, staffing in plan.services.items():
        needed = {(s.traffic.weekday, s.traffic.start_s): s.agents_needed for s in staffing.slots}
        most = max(max(needed.values(), default=0), 1)
        ring = staffing.traffic.pickup.mean_delay_s
        endpoints = [virtual_agent(service_id, i) for i in range(1, most + 1)]
        present = dict.fromkeys(endpoints, False)
        for endpoint in endpoints:
            changes.append(AgentChange(before, AgentScript(endpoint=endpoint, registered=False)))
        day = start
        while day <= end:
            for slot_start in range(0, 86400, slot_s):
                count = needed.get((day.isoweekday(), slot_start), 0)
                at = datetime.combine(day, time.min, rules.tz) + timedelta(seconds=slot_start)
                for index, endpoint in enumerate(endpoints, start=1):
                    wanted = index <= count
                    if present[endpoint] != wanted:
                        present[endpoint] = wanted
                        script = AgentScript(endpoint=endpoint, registered=wanted, ring_time=ring)
                        changes.append(AgentChange(at, script))
            day += timedelta(days=1)
    changes.sort(key=lambda change: change.at)
    return changes


@dataclass(frozen=True, slots=True)
class Observed:
    """What became of a service's callers as the model counts them (entered while open, not
    by overflow, short abandons out): answered, and answered within the target."""

    calls: int
    answered: int
    answered_within: int

    @classmethod
    def of(cls, traffic: ServiceTraffic | None) -> Observed:
        if traffic is None:
            return cls(0, 0, 0)
        return cls(traffic.arrivals, traffic.answered, traffic.answered_within)

    @property
    def service_level(self) -> float | None:
        return self.answered_within / self.calls if self.calls else None

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.calls if self.calls else None

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "service_level": _round(self.service_level),
            "answer_rate": _round(self.answer_rate),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass(frozen=True, slots=True)
class ServiceCheck:
    service: str
    name: str
    model: Expected  # the model's figures with the recommended agents, weighted by calls
    replayed: Observed  # the replay's, with the recommended agents
    recorded: Observed  # what the records say, with the agents that were there

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": {
                "service_level": round(self.model.service_level, 4),
                "answer_rate": round(self.model.answer_rate, 4),
            },
            "replayed": self.replayed.to_json(),
            "recorded": self.recorded.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Verification:
    calls: int
    services: dict[str, ServiceCheck]

    def total(self) -> tuple[Expected, Observed, Observed]:
        """Model, replay and records over every service, each weighted by its callers."""
        checks = list(self.services.values())
        weights = [c.recorded.calls for c in checks]
        total = sum(weights) or 1
        model = Expected(
            sum(w * c.model.service_level for w, c in zip(weights, checks, strict=True)) / total,
            sum(w * c.model.answer_rate for w, c in zip(weights, checks, strict=True)) / total,
        )

        def added(which: Callable[[ServiceCheck], Observed]) -> Observed:
            parts = [which(c) for c in checks]
            return Observed(
                sum(p.calls for p in parts),
                sum(p.answered for p in parts),
                sum(p.answered_within for p in parts),
            )

        return model, added(lambda c: c.replayed), added(lambda c: c.recorded)

    def to_json(self) -> dict[str, Any]:
        model, replayed, recorded = self.total()
        return {
            "calls": self.calls,
            "services": {sid: check.to_json() for sid, check in self.services.items()},
            "total": {
                "model": {
                    "service_level": round(model.service_level, 4),
                    "answer_rate": round(model.answer_rate, 4),
                },
                "replayed": replayed.to_json(),
                "recorded": recorded.to_json(),
            },
        }


def model_figures(service: ServiceStaffing) -> Expected:
    """The model's figures over the period: each slot's, weighted by its calls."""
    weights = [slot.traffic.calls for slot in service.slots]
    total = sum(weights) or 1
    return Expected(
        service_level=sum(
            w * s.expected.service_level for w, s in zip(weights, service.slots, strict=True)
        )
        / total,
        answer_rate=sum(
            w * s.expected.answer_rate for w, s in zip(weights, service.slots, strict=True)
        )
        / total,
    )


def verify(
    records: Sequence[CallRecord],
    rules: CompiledRules,
    plan: StaffingPlan,
    *,
    params: Parameters | None = None,
    direct: bool = False,
    queue_map: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Verification:
    """Replay ``plan``'s period with its recommended agents (see the module's text)."""
    chosen = in_period(records, plan.start, plan.end, rules.tz)
    if not chosen:
        raise WhatIfError(f"aucun appel enregistré du {plan.start} au {plan.end} : rien à rejouer")
    model = traffic_from_records(chosen, direct=direct, queue_map=queue_map, rules=rules)
    model.agent_changes = staffed_agents(plan, rules, plan.start, plan.end)
    staffed = staffed_rules(rules, plan)
    with replay_pool(workers or default_workers()) as pool:
        replayed = replay(model, staffed, progress, pool=pool)
    hours = RulesOpeningHours(rules)

    def outcomes(calls: Sequence[CallRecord]) -> dict[str, ServiceTraffic]:
        return service_traffic(
            frame_from_records(calls),
            legs_from_records(calls),
            hours,
            plan.start,
            plan.end,
            slot_minutes=plan.slot_minutes,
            params=params or plan.parameters,
        )

    after, before = outcomes(replayed), outcomes(chosen)
    return Verification(
        calls=len(model.calls),
        services={
            service_id: ServiceCheck(
                service=service_id,
                name=service.name,
                model=model_figures(service),
                replayed=Observed.of(after.get(service_id)),
                recorded=Observed.of(before.get(service_id)),
            )
            for service_id, service in plan.services.items()
        },
    )
