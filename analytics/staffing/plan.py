"""Agents needed per service and slot: the smallest number that meets the service's objectives.

Objectives (per service, from the configuration): the **service level** (answered within the
target wait, "en N sonneries", over the callers) and the **answer rate** (answered, over the
callers). A slot needs the smallest number of agents for which the model expects both.

The model of each service depends on what a caller who finds every agent busy does:

- **loss** — no queue (decroche today): the caller overflows at once (``busy``). Erlang B gives
  the share of callers who find every agent busy; the others are put through to a free agent's
  phone, who picks up as the records show (the share answered, and answered within the target,
  of the callers put through — that is where the ring limit acts). Patience plays no part;
- **erlang_a** — a queue (:class:`QueueSetup`; a queue_log comes from Asterisk queues): callers
  wait for the next free agent and some hang up, Erlang A (M/M/n+M) with the service's
  estimated patience and the queue's maximum wait. The agents' ring-to-answer time is added to
  the queue's wait (its distribution, by convolution over its deciles).

In both, an agent is taken from the moment their phone rings: the model's service time is the
handle time (talk + after-call work) plus the mean ring-to-answer time. Erlang C (a queue and
callers who never hang up) is computed beside, for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from analytics import glossary
from analytics.definitions import Parameters
from analytics.objectives import ObjectivesConfig
from analytics.staffing.erlang import (
    F64,
    ErlangAFigures,
    ErlangCFigures,
    Figures,
    LossFigures,
)
from analytics.staffing.traffic import Pickup, ServiceTraffic, SlotTraffic

Model = Literal["erlang_a", "loss"]

# Past this many agents a slot's figures no longer move (everyone is answered as fast as the
# agents pick up): if the objectives are still missed, staffing alone cannot meet them.
_SATURATED = 1e-5


@dataclass(frozen=True, slots=True)
class QueueSetup:
    """A service whose callers wait for a free agent. ``max_wait_s``: after this long a caller
    still waiting overflows (None: they wait until answered or they hang up)."""

    max_wait_s: float | None = None


@dataclass(frozen=True, slots=True)
class Targets:
    service_level: float  # share answered within ``wait_s``
    answer_rate: float
    wait_s: float
    engagement: str = "en 5 sonneries"  # the ring commitment in the quality plan's words

    def words(self) -> str:
        """« 80,0 % des appels décrochés en 5 sonneries (attente ≤ 25 s), taux de décroché
        85,0 % » — the glossary's words."""
        return (
            f"{glossary.percent(self.service_level)} des appels décrochés {self.engagement} "
            f"(attente {'<' if self.engagement.startswith('avant') else '≤'} "
            f"{glossary.decimal(self.wait_s)} s), {glossary.label('answer_rate').lower()} "
            f"{glossary.percent(self.answer_rate)}"
        )

    @classmethod
    def of(cls, objectives: ObjectivesConfig, service: str, params: Parameters) -> Targets:
        chosen = objectives.for_service(service)
        level = chosen.get("service_level")
        rate = chosen.get("answer_rate")
        return cls(
            service_level=level.target if level is not None and level.kind == "min" else 0.0,
            answer_rate=rate.target if rate is not None and rate.kind == "min" else 0.0,
            wait_s=params.commitment_for(service).limit_s(params.ring_seconds),
            engagement=params.commitment_for(service).words,
        )


@dataclass(frozen=True, slots=True)
class Expected:
    service_level: float
    answer_rate: float

    def meets(self, targets: Targets) -> bool:
        # A hair of tolerance: "80 %" met by 0.7999999999 is met.
        return (
            self.service_level >= targets.service_level - 1e-9
            and self.answer_rate >= targets.answer_rate - 1e-9
        )


@dataclass(frozen=True, slots=True)
class SlotStaffing:
    traffic: SlotTraffic
    mean_patience_s: float | None
    agents_needed: int
    agents_needed_erlang_c: int
    expected: Expected
    reachable: bool  # False: even agents_needed misses the objectives (pick-up too slow)

    @property
    def short_by(self) -> float:
        """Agents missing in the slot (0 when enough were seen, or nothing was seen)."""
        seen = self.traffic.agents_observed
        return 0.0 if seen is None else max(0.0, self.agents_needed - seen)

    def to_json(self) -> dict[str, Any]:
        t = self.traffic
        observed = t.agents_observed
        return {
            "weekday": t.weekday,
            "start": hhmm(t.start_s),
            "end": hhmm(t.end_s),
            "calls_per_hour": round(t.calls_per_hour, 3),
            "mean_handle_s": round(t.mean_handle_s, 1),
            "mean_patience_s": None
            if self.mean_patience_s is None
            else round(self.mean_patience_s, 1),
            "agents_needed": self.agents_needed,
            "agents_needed_erlang_c": self.agents_needed_erlang_c,
            "agents_observed": None if observed is None else round(observed, 2),
            "expected": {
                "service_level": round(self.expected.service_level, 4),
                "answer_rate": round(self.expected.answer_rate, 4),
            },
        }


@dataclass(frozen=True, slots=True)
class ServiceStaffing:
    service: str
    name: str
    model: Model
    why: str  # in French, for the table and the page
    targets: Targets
    traffic: ServiceTraffic
    slots: tuple[SlotStaffing, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "slots": [slot.to_json() for slot in self.slots],
        }


@dataclass(frozen=True, slots=True)
class StaffingPlan:
    start: date
    end: date
    slot_minutes: int
    parameters: Parameters
    services: dict[str, ServiceStaffing] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The document of ``decroche staffing --json``, read by the page and the review."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "slot_minutes": self.slot_minutes,
            "services": {sid: s.to_json() for sid, s in self.services.items()},
        }

    def short_slots(self) -> list[tuple[ServiceStaffing, SlotStaffing]]:
        """Every slot where fewer agents were seen than needed, by service then time."""
        return [
            (service, slot)
            for service in self.services.values()
            for slot in service.slots
            if slot.short_by > 0
        ]


def hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def choose_model(
    service: str, queues: Mapping[str, QueueSetup], queue_log: bool
) -> tuple[Model, QueueSetup | None, str]:
    """The model of a service, its queue, and why, in French."""
    queue = queues.get(service)
    if queue is not None:
        limit = (
            "sans limite d'attente"
            if queue.max_wait_s is None
            else f"jusqu'à {queue.max_wait_s:g} s, puis débordement"
        )
        return (
            "erlang_a",
            queue,
            f"file d'attente ({limit}) : l'appelant attend un agent libre et peut raccrocher "
            "— Erlang A (M/M/n+M), patience estimée sur les abandons",
        )
    if queue_log:
        return (
            "erlang_a",
            QueueSetup(),
            "journal queue_log d'Asterisk : les appelants attendaient dans une file "
            "— Erlang A (M/M/n+M), patience estimée sur les abandons",
        )
    return (
        "loss",
        None,
        "pas de file d'attente : l'appelant qui trouve tous les agents occupés déborde "
        "aussitôt — modèle à perte (Erlang B), décroché mesuré dans la limite des sonneries",
    )


Evaluate = Callable[[int], Expected]


def _evaluator(
    model: Model,
    queue: QueueSetup | None,
    slot: SlotTraffic,
    pickup: Pickup,
    patience_s: float | None,
    targets: Targets,
    erlang_c: bool,
) -> tuple[Evaluate, Callable[[int], Figures]]:
    rate = slot.calls_per_hour / 3600.0
    service_s = slot.mean_handle_s + pickup.mean_delay_s
    # The caller's wait = the queue's + the agent's ring-to-answer: within the target when the
    # queue's wait is within the target less that ring time (each decile equally likely).
    budgets: F64 = targets.wait_s - np.asarray(pickup.delay_deciles)

    def figures(agents: int) -> Figures:
        if erlang_c:
            return ErlangCFigures(rate, service_s, agents)
        if model == "loss":
            return LossFigures(rate, service_s, agents)
        assert queue is not None
        return ErlangAFigures(rate, service_s, agents, patience_s, queue.max_wait_s)

    def evaluate(agents: int) -> Expected:
        result = figures(agents)
        if model == "loss" and not erlang_c:
            put_through = result.answered
            return Expected(
                service_level=put_through * pickup.within_share,
                answer_rate=put_through * pickup.answered_share,
            )
        within = float(np.mean(result.answered_within(budgets)))
        return Expected(service_level=within, answer_rate=result.answered)

    return evaluate, figures


def agents_needed(
    evaluate: Evaluate,
    figures: Callable[[int], Figures],
    erlangs: float,
    targets: Targets,
) -> tuple[int, Expected, bool]:
    """The smallest number of agents meeting ``targets``: (agents, expected, reachable).

    The answered share never exceeds what the agents can take (n/a of the callers), so the
    search starts there. When more agents stop changing anything and the targets are still
    missed, the number where it stops is returned, marked unreachable.
    """
    if erlangs <= 0:
        return 0, evaluate(0), True
    floor = max(targets.service_level, targets.answer_rate) * erlangs
    agents = max(1, math.floor(floor))
    while True:
        expected = evaluate(agents)
        if expected.meets(targets):
            return agents, expected, True
        if figures(agents).p_wait < _SATURATED or agents > 10 * erlangs + 50:
            return agents, expected, False
        agents += 1


def staffing_plan(
    traffic: Mapping[str, ServiceTraffic],
    start: date,
    end: date,
    *,
    slot_minutes: int,
    objectives: ObjectivesConfig,
    params: Parameters,
    names: Mapping[str, str] | None = None,
    queues: Mapping[str, QueueSetup] | None = None,
    queue_log: bool = False,
) -> StaffingPlan:
    """The agents each service needs in each slot of its traffic (see the module's text)."""
    plan = StaffingPlan(start, end, slot_minutes, params)
    for service_id in sorted(traffic, key=glossary.by_name(names or {})):
        service = traffic[service_id]
        model, queue, why = choose_model(service_id, queues or {}, queue_log)
        targets = Targets.of(objectives, service_id, params)
        patience = service.mean_patience_s
        slots: list[SlotStaffing] = []
        for slot in service.slots:
            erlangs = (
                slot.calls_per_hour / 3600.0 * (slot.mean_handle_s + service.pickup.mean_delay_s)
            )
            evaluate, figures = _evaluator(
                model, queue, slot, service.pickup, patience, targets, erlang_c=False
            )
            needed, expected, reachable = agents_needed(evaluate, figures, erlangs, targets)
            evaluate_c, figures_c = _evaluator(
                model, queue, slot, service.pickup, patience, targets, erlang_c=True
            )
            needed_c, _, _ = agents_needed(evaluate_c, figures_c, erlangs, targets)
            slots.append(SlotStaffing(slot, patience, needed, needed_c, expected, reachable))
        plan.services[service_id] = ServiceStaffing(
            service=service_id,
            name=(names or {}).get(service_id, service_id),
            model=model,
            why=why,
            targets=targets,
            traffic=service,
            slots=tuple(slots),
        )
    return plan
