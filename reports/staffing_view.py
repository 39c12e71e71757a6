"""The quality lead's staffing page and the review's section, from one :class:`StaffingPlan`.

Per service, a weekday × slot grid: in each cell the agents needed and the agents present,
and the cells short of agents marked with a symbol and said in words ("▲ manque 1"), never by
colour alone. The same plan gives the review's list of the slots short of agents.
"""

from __future__ import annotations

from dataclasses import dataclass

from analytics import glossary
from analytics.staffing.plan import ServiceStaffing, SlotStaffing, StaffingPlan, hhmm
from analytics.staffing.text import (
    SHORT_MARK,
    WEEKDAYS_FR,
    agents,
    decimal,
    duration,
    slot_label,
)
from reports.tables import Column, DataTable
from routing_rules.messages import agreeing, counted

MODEL_FR = {"erlang_a": "file d'attente (Erlang A)", "loss": "sans file d'attente (Erlang B)"}


@dataclass(frozen=True, slots=True)
class Cell:
    needed: int
    present: str  # "1,5", or "—" when nothing was seen
    short_by: str | None  # "1" agent missing, None when not short
    unreachable: bool  # objectives out of reach by staffing alone
    detail: str  # the whole cell in words (title and screen readers)

    @property
    def css(self) -> str:
        return "short" if self.short_by is not None else "covered"


@dataclass(frozen=True, slots=True)
class Grid:
    service: str
    name: str
    model: str
    why: str
    objectives: str
    patience: str
    weekdays: tuple[str, ...]  # column headers
    rows: tuple[tuple[str, tuple[Cell | None, ...]], ...]  # (slot "09:00-10:00", cells)
    short_count: int


@dataclass(frozen=True, slots=True)
class ShortSlot:
    """One line of "créneaux en sous-effectif"."""

    service: str
    when: str  # "lundi 09:00-10:00"
    needed: int
    present: str
    missing: str
    calls_per_hour: str


@dataclass(frozen=True, slots=True)
class StaffingView:
    start_fr: str
    end_fr: str
    slot_minutes: int
    grids: tuple[Grid, ...]
    short: tuple[ShortSlot, ...]
    slots: int  # every slot of every service

    @property
    def short_services(self) -> int:
        return len({s.service for s in self.short})


def _cell(slot: SlotStaffing) -> Cell:
    seen = slot.traffic.agents_observed
    present = "—" if seen is None else agents(round(seen, 1))
    missing = agents(round(slot.short_by, 1)) if slot.short_by > 0 else None
    words = (
        f"{glossary.count('staffing.agents_needed', slot.agents_needed)}, "
        + (
            "présence non mesurée"
            if seen is None
            else f"{present} {'présents' if round(seen, 1) >= 2 else 'présent'} en moyenne"
        )
        + f", {decimal(slot.traffic.calls_per_hour)} "
        + glossary.label("staffing.calls_per_hour").lower()
    )
    if missing is not None:
        word = "agents" if slot.short_by >= 2 else "agent"
        words += f" ; sous-effectif : il manque {missing} {word}"
    if not slot.reachable:
        words += " ; objectifs hors d'atteinte par l'effectif seul (décroché trop lent)"
    return Cell(slot.agents_needed, present, missing, not slot.reachable, words)


def _grid(service: ServiceStaffing, slot_minutes: int) -> Grid:
    by_key = {(s.traffic.weekday, s.traffic.start_s): s for s in service.slots}
    weekdays = sorted({s.traffic.weekday for s in service.slots})
    starts = sorted({s.traffic.start_s for s in service.slots})
    step = slot_minutes * 60
    rows = tuple(
        (
            f"{hhmm(start)}-{hhmm(start + step)}",
            tuple(
                _cell(by_key[(day, start)]) if (day, start) in by_key else None for day in weekdays
            ),
        )
        for start in starts
    )
    t = service.targets
    patience = service.traffic.mean_patience_s
    return Grid(
        service=service.service,
        name=service.name,
        model=MODEL_FR[service.model],
        why=service.why,
        objectives=t.words(),
        patience="aucun abandon sur la période"
        if patience is None
        else f"{duration(patience)} ({service.traffic.abandons} abandons)",
        weekdays=tuple(WEEKDAYS_FR[d - 1] for d in weekdays),
        rows=rows,
        short_count=sum(1 for s in service.slots if s.short_by > 0),
    )


def short_slots(plan: StaffingPlan) -> tuple[ShortSlot, ...]:
    """The review's "créneaux en sous-effectif": service, slot, agents needed, present, missing."""
    return tuple(
        ShortSlot(
            service=service.name,
            when=slot_label(slot),
            needed=slot.agents_needed,
            present=agents(round(slot.traffic.agents_observed or 0.0, 1)),
            missing=agents(round(slot.short_by, 1)),
            calls_per_hour=decimal(slot.traffic.calls_per_hour),
        )
        for service, slot in plan.short_slots()
    )


def staffing_view(plan: StaffingPlan) -> StaffingView:
    return StaffingView(
        start_fr=f"{plan.start:%d/%m/%Y}",
        end_fr=f"{plan.end:%d/%m/%Y}",
        slot_minutes=plan.slot_minutes,
        grids=tuple(_grid(s, plan.slot_minutes) for s in plan.services.values()),
        short=short_slots(plan),
        slots=sum(len(s.slots) for s in plan.services.values()),
    )


@dataclass(frozen=True, slots=True)
class ReviewSection:
    """The annual review's "créneaux en sous-effectif": a sentence, the table, the method."""

    summary: str
    table: DataTable
    method: str


def review_section(plan: StaffingPlan) -> ReviewSection:
    """The slots short of agents over the review's period, each with the agents missing."""
    short = short_slots(plan)
    table = DataTable(
        "sous-effectif",
        f"Créneaux en sous-effectif — du {plan.start:%d/%m/%Y} au {plan.end:%d/%m/%Y}",
        [
            Column("service", "Service"),
            Column("slot", "Créneau"),
            # Figures already in French (decimal comma), right-aligned as figures.
            Column("calls", "Appels par heure", "count"),
            Column("needed", "Agents nécessaires", "count"),
            Column("present", "Agents présents", "count"),
            Column("missing", "Agents manquants", "count"),
        ],
        [
            [s.service, s.when, s.calls_per_hour, s.needed, s.present, f"{SHORT_MARK} {s.missing}"]
            for s in short
        ],
    )
    slots = sum(len(s.slots) for s in plan.services.values())
    hours = plan.slot_minutes / 60
    missing = sum(slot.short_by * hours for _, slot in plan.short_slots())
    if short:
        services = len({s.service for s in short})
        slots_short = counted(len(short), "créneau", "créneaux")
        verb = agreeing(len(short), "comptait", "comptaient")
        hours_missing = agreeing(missing, "heure-agent", "heures-agent")
        summary = (
            f"{slots_short} de la semaine sur {slots} {verb} moins d'agents présents que "
            f"nécessaires pour tenir les objectifs, dans {counted(services, 'service')} ;"
            f" il manquait en tout {decimal(missing)} {hours_missing} par semaine."
        )
    else:
        summary = (
            f"Aucun des {slots} créneaux de la semaine ne comptait moins d'agents présents que "
            "nécessaires pour tenir les objectifs."
        )
    method = (
        "Agents nécessaires : le plus petit nombre d'agents avec lequel le créneau tient les "
        "objectifs du service (niveau de service et taux de décroché), d'après les appels de la "
        "période (modèle Erlang B sans file d'attente, Erlang A avec). Agents présents : agents "
        "dont le téléphone a sonné pour le service dans le créneau, en moyenne sur les jours où "
        "il a reçu des appels (un minimum). Détail : page Effectifs du tableau de bord, ou "
        "« decroche staffing »."
    )
    return ReviewSection(summary, table, method)


__all__ = [
    "SHORT_MARK",
    "Cell",
    "Grid",
    "ReviewSection",
    "ShortSlot",
    "StaffingView",
    "review_section",
    "staffing_view",
]
