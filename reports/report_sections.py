"""The sections of the monthly report and of the annual review, each computed from the analytics
API alone (:class:`analytics.api.Indicators`): the same figures as the dashboard.

Pure of HTML: each section gives its charts (SVG markup) and tables (:class:`DataTable`);
:func:`reports.documents.build_report` lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from markupsafe import Markup

from analytics import glossary
from analytics.api import Dashboard, Indicators
from analytics.definitions import Counts
from reports import svg, words
from reports.actions import ActionPlan
from reports.detail_tables import detail_tables, satisfaction_table
from reports.periods import MONTHS_SHORT_FR, Period
from reports.quality_tables import actions_table
from reports.tables import Column, DataTable
from reports.views import (
    TOTAL,
    AssessmentView,
    counts_cells,
    counts_columns,
    engagement_of,
    objectives_table,
    service_label,
    volume,
)
from routing_rules.messages import counted
from routing_rules.narration import MenuWords


@dataclass(slots=True)
class Card:
    """One service (or the total) in the report: its volume, its assessments, where the calls
    it did not answer went."""

    label: str
    volume: str
    assessments: list[AssessmentView]
    notes: list[str]


Cards = list[Card]


def answer_target(board: Dashboard) -> float | None:
    """The objective of the answer rate of every service together (the charts' dotted line)."""
    target = board.total.assessments[0].objective
    return target.target if target is not None else None


def rates_chart(
    labels: list[str], values: list[float | None], target: float | None, title: str
) -> Markup:
    rate = glossary.label("answer_rate")
    return svg.bar_chart(
        labels,
        [(rate.lower(), values)],
        title=title,
        desc=f"Barres : {rate.lower()} ; ligne pointillée : objectif. "
        "Les valeurs sont dans le tableau qui suit.",
        max_value=1.0,
        percent=True,
        target=target,
        width=680,
    )


@dataclass(slots=True)
class Evolution:
    """Day by day (monthly report) or month by month (annual review), all services."""

    volume: Markup
    rate: Markup
    table: DataTable


def evolution(
    indicators: Indicators,
    period: Period,
    kind: str,
    target: float | None,
    engagement: str | None = None,
) -> Evolution:
    monthly = kind == "monthly"
    steps = indicators.breakdown(period.start, period.end, "day" if monthly else "month")
    if monthly:
        labels = [key[8:10] for key in steps]
    else:
        labels = [MONTHS_SHORT_FR[int(key[5:7]) - 1] for key in steps]
    totals = [steps[key].get(TOTAL, Counts()) for key in steps]
    unit = "jour" if monthly else "mois"
    offered, answered = glossary.GLOSSARY["offered"], glossary.GLOSSARY["answered"]
    chart = svg.bar_chart(
        labels,
        [
            (offered.many, [float(c.offered) for c in totals]),
            (answered.many, [float(c.answered) for c in totals]),
        ],
        title=f"{offered.label} et {answered.many}",
        desc=f"Par {unit} ; valeurs dans le tableau.",
        width=680,
    )
    rate = rates_chart(
        labels,
        [c.answer_rate for c in totals],
        target,
        f"{glossary.label('answer_rate')} par {unit}",
    )
    table = DataTable(
        "periodes",
        f"Tous services, par {unit}",
        [
            Column("key", "Jour", "day") if monthly else Column("key", "Mois"),
            *counts_columns(engagement),
        ],
        [[key, *counts_cells(c)] for key, c in zip(steps, totals, strict=True)],
    )
    return Evolution(chart, rate, table)


@dataclass(slots=True)
class ByService:
    """Each service beside its objectives: a chart, the table of counts, the objectives table
    and one card of assessments per service."""

    chart: Markup
    table: DataTable
    objectives: DataTable
    cards: Cards


def by_service(
    board: Dashboard, period: Period, names: Mapping[str, str], target: float | None
) -> ByService:
    services = list(board.services)
    parameters = board.report.parameters
    rate = glossary.label("answer_rate")
    # Across: the services' names stay whole and readable, however many and long.
    chart = svg.hbar_chart(
        [service_label(s.service, names) for s in services],
        [s.counts.answer_rate for s in services],
        title=f"{rate} par service",
        desc=f"Barres : {rate.lower()} ; ligne pointillée : objectif. "
        "Les valeurs sont dans le tableau qui suit.",
        name=rate.lower(),
        target=target,
        width=680,
    )
    table = DataTable(
        "services",
        f"Indicateurs par service — {period.label_fr}",
        [Column("service", "Service"), *counts_columns(engagement_of(parameters))],
    )
    # The total first, as on the dashboard.
    table.rows.append([service_label(TOTAL, names), *counts_cells(board.total.counts)])
    for s in services:
        table.rows.append([service_label(s.service, names), *counts_cells(s.counts)])
    cards = [
        Card(
            service_label(s.service, names),
            volume(s.counts),
            [AssessmentView.of(a) for a in s.assessments],
            [fate] if (fate := words.unanswered(s.unanswered, names)) else [],
        )
        for s in [board.total, *services]
    ]
    return ByService(chart, table, objectives_table(board, names, period), cards)


@dataclass(slots=True)
class HoursAndFlows:
    """Calls by hour of the day, the waits of answered calls, where overflows went."""

    hours: Markup
    waits: DataTable
    overflows: DataTable


def hours_and_flows(
    indicators: Indicators, board: Dashboard, period: Period, names: Mapping[str, str]
) -> HoursAndFlows:
    hours = indicators.breakdown(period.start, period.end, "hour")
    hour_totals = [hours[h].get(TOTAL, Counts()) for h in hours]
    offered, closed = glossary.GLOSSARY["offered"], glossary.GLOSSARY["closed"]
    chart = svg.bar_chart(
        [h.removesuffix("h") for h in hours],
        [
            (offered.many, [float(c.offered) for c in hour_totals]),
            (closed.many, [float(c.closed) for c in hour_totals]),
        ],
        title="Appels par heure de la journée",
        desc="Tous services, sur toute la période, chaque appel une fois.",
        width=680,
        height=180,
    )
    overflows = DataTable(
        "debordements",
        "Débordements",
        [Column("from", "De"), Column("to", "Vers"), Column("n", "Appels", "count")],
    )
    order = glossary.by_name(names)
    flows = indicators.overflow_flows(period.start, period.end)
    for (source, dest), n in sorted(flows.items(), key=lambda f: (order(f[0][0]), order(f[0][1]))):
        overflows.rows.append([service_label(source, names), service_label(dest, names), n])
    waits = DataTable(
        "attentes",
        "Attente des appels décrochés",
        [Column("service", "Service")]
        + [Column(k, glossary.label(f"wait_percentiles.{k}"), "seconds") for k in ("p50", "p90")],
    )
    for service, values in sorted(board.percentiles.items(), key=lambda p: order(p[0])):
        waits.rows.append([service_label(service, names), values.get("p50"), values.get("p90")])
    return HoursAndFlows(chart, waits, overflows)


def menus_and_callbacks(
    indicators: Indicators, period: Period, menus: Mapping[str, MenuWords]
) -> list[DataTable]:
    """The voice menus' choices (each key with what it does) and the callbacks owed, when the
    period has some."""
    return [t for t in detail_tables(indicators, period, menus) if t is not None]


def satisfaction(indicators: Indicators, period: Period) -> list[DataTable]:
    """The callers' satisfaction, every service together, when surveys were offered."""
    table = satisfaction_table(indicators, period, TOTAL)
    return [] if table is None else [table]


@dataclass(slots=True)
class OpenActions:
    """The action plan at the end of the month: the actions still open (late ones said so) and
    those closed during the month."""

    summary: str
    open: DataTable
    closed: DataTable


def open_actions(plan: ActionPlan, period: Period, names: Mapping[str, str]) -> OpenActions:
    still_open = plan.open_on(period.end)
    closed = plan.closed_between(period.start, period.end)
    late = sum(1 for action in still_open if action.late_on(period.end))
    said = [
        counted(
            len(still_open), "action ouverte", "actions ouvertes", none="aucune action ouverte"
        ),
        f"dont {late} en retard" if late else "aucune en retard",
        counted(len(closed), "action close", "actions closes", none="aucune action close")
        + " pendant le mois",
    ]
    if not still_open:
        said[1] = ""
    summary = f"Au {period.end:%d/%m/%Y} : " + ", ".join(s for s in said if s) + "."
    return OpenActions(
        summary,
        actions_table(
            still_open,
            names,
            name="actions-ouvertes",
            caption=f"Actions ouvertes au {period.end:%d/%m/%Y}",
            on=period.end,
            result=False,
        ),
        actions_table(
            closed, names, name="actions-closes", caption="Actions closes pendant le mois"
        ),
    )
