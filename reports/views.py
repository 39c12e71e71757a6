"""What the dashboard shows, and the building blocks of every page and report: columns of the
indicators, an assessment beside its objective, the objectives table, a service's label.

Pure of HTTP and HTML. Every figure comes from :class:`analytics.api.Indicators`, the same code
as ``decroche indicators``: the dashboard cannot disagree with the command. A service's page is
in :mod:`reports.service_view`, the voice-menu, callback and survey tables in
:mod:`reports.detail_tables`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from analytics.api import Dashboard, Indicators, ServiceAssessment
from analytics.definitions import COUNT_NAMES, LABELS_FR, TABLE_NAMES, Counts
from analytics.objectives import TREND_FR, Assessment, Trend
from analytics.satisfaction import SatisfactionReport
from reports import format as fmt
from reports.periods import Period
from reports.tables import Column, DataTable

TOTAL = "total"
COUNT_COLUMNS = COUNT_NAMES
RATE_COLUMNS = TABLE_NAMES[len(COUNT_NAMES) :]
TREND_ARROW = {Trend.BETTER: "↗", Trend.WORSE: "↘", Trend.STABLE: "→", Trend.UNKNOWN: "·"}


def _kind(name: str) -> str:
    if name.endswith("_s"):
        return "seconds"
    if name in fmt.RATES:
        return "rate"
    return "count"


def counts_columns() -> list[Column]:
    return [Column(name, LABELS_FR[name], _kind(name)) for name in (*COUNT_COLUMNS, *RATE_COLUMNS)]


def counts_cells(counts: Counts) -> list[float | int | None]:
    return [getattr(counts, name) for name in (*COUNT_COLUMNS, *RATE_COLUMNS)]


@dataclass(frozen=True, slots=True)
class AssessmentView:
    indicator: str
    label: str
    value: float | None
    value_text: str
    objective_text: str
    status: str  # met | missed | none: the CSS class; the text says the same
    status_text: str
    status_short: str  # in a cell headed by the indicator: "atteint", "non atteint"…
    trend: Trend
    trend_text: str
    previous_text: str

    @staticmethod
    def of(a: Assessment) -> AssessmentView:
        status = "none" if a.met is None else ("met" if a.met else "missed")
        return AssessmentView(
            indicator=a.indicator,
            label=a.label,
            value=a.value,
            value_text=fmt.indicator(a.indicator, a.value),
            objective_text=(
                "—"
                if a.objective is None
                else fmt.objective(a.indicator, a.objective.target, a.objective.kind)
            ),
            status=status,
            status_text=a.status_fr,
            status_short=a.status_fr.removeprefix("objectif ").removeprefix("sans objectif"),
            trend=a.trend,
            trend_text=f"{TREND_ARROW[a.trend]} {TREND_FR[a.trend]}",
            previous_text=fmt.indicator(a.indicator, a.previous),
        )


@dataclass(slots=True)
class ServiceCard:
    """A service's (or the total's) volume and assessed indicators."""

    service: str
    label: str
    counts: Counts
    assessments: list[AssessmentView]


@dataclass(frozen=True, slots=True)
class OverviewRow:
    """One service on the dashboard's overview: its volume and each indicator's assessment
    (None: the indicator is not measured for this service, e.g. nobody was surveyed)."""

    service: str
    label: str
    offered: int
    answered: int
    cells: list[AssessmentView | None]


@dataclass(frozen=True, slots=True)
class Overview:
    """The dashboard read at a glance: services (the total first) × indicators."""

    indicators: list[tuple[str, str]]  # (indicator, its French label), the columns
    rows: list[OverviewRow]


def overview(cards: list[ServiceCard]) -> Overview:
    """The overview of ``cards`` (the total first): one column per indicator any card has."""
    columns: dict[str, str] = {}
    for card in cards:
        for a in card.assessments:
            columns.setdefault(a.indicator, a.label)
    rows = []
    for card in cards:
        by_indicator = {a.indicator: a for a in card.assessments}
        rows.append(
            OverviewRow(
                service=card.service,
                label=card.label,
                offered=card.counts.offered,
                answered=card.counts.answered,
                cells=[by_indicator.get(indicator) for indicator in columns],
            )
        )
    return Overview(list(columns.items()), rows)


@dataclass(slots=True)
class DashboardView:
    period: Period
    previous: Period
    convention: str
    cards: list[ServiceCard]
    total: ServiceCard
    overview: Overview
    table: DataTable
    objectives: DataTable


def service_label(service: str, names: Mapping[str, str]) -> str:
    if service == TOTAL:
        return "Tous services (chaque appel une fois)"
    return names.get(service, service)


def _daily_table(
    name: str, label: str, service: str, days: dict[str, dict[str, Counts]]
) -> DataTable:
    table = DataTable(
        name=name,
        caption=f"{label} — par jour",
        columns=[Column("day", "Jour", "day"), *counts_columns()],
    )
    for day, per_service in days.items():
        counts = per_service.get(service)
        if counts is not None:
            table.rows.append([day, *counts_cells(counts)])
    return table


def _card(assessed: ServiceAssessment, names: Mapping[str, str]) -> ServiceCard:
    return ServiceCard(
        service=assessed.service,
        label=service_label(assessed.service, names),
        counts=assessed.counts,
        assessments=[AssessmentView.of(a) for a in assessed.assessments],
    )


def _answer_target(assessed: ServiceAssessment) -> float | None:
    for a in assessed.assessments:
        if a.indicator == "answer_rate" and a.objective is not None:
            return a.objective.target
    return None


SATISFACTION_ON_CARDS = "share_satisfied"  # the survey figure with an objective by default


def _satisfaction(card: ServiceCard, report: SatisfactionReport | None) -> list[Assessment]:
    """The card's survey assessment (share of satisfied callers), if any caller was asked."""
    if report is None:
        return []
    group = report.total if card.service == TOTAL else report.services.get(card.service)
    if group is None or group.figures.offered == 0:
        return []
    return [
        dataclasses.replace(a, label="Satisfaction (part de satisfaits)")
        for a in group.assessments
        if a.indicator == SATISFACTION_ON_CARDS
    ]


def sentence(text: str) -> str:
    """``text`` starting with a capital, as a sentence does."""
    return text[:1].upper() + text[1:]


def dashboard_view(
    indicators: Indicators,
    period: Period,
    names: Mapping[str, str] | None = None,
    satisfaction: SatisfactionReport | None = None,
) -> DashboardView:
    """The dashboard; ``satisfaction`` (the survey's report of the same period) adds the share
    of satisfied callers to each card that had callers surveyed, beside its objective."""
    names = names or {}
    board: Dashboard = indicators.dashboard(period.start, period.end)
    cards = [_card(s, names) for s in board.services]
    total = _card(board.total, names)
    surveyed: dict[str, list[Assessment]] = {}
    for card in [*cards, total]:
        surveyed[card.service] = _satisfaction(card, satisfaction)
        card.assessments += [AssessmentView.of(a) for a in surveyed[card.service]]
    table = DataTable(
        name="tableau-de-bord",
        caption=f"Indicateurs par service — {period.label_fr}",
        columns=[Column("service", "Service"), *counts_columns()],
    )
    for card in [total, *cards]:
        table.rows.append([card.label, *counts_cells(card.counts)])
    return DashboardView(
        period=period,
        previous=Period(board.previous.start, board.previous.end),
        convention=sentence(board.report.parameters.convention()),
        cards=cards,
        total=total,
        overview=overview([total, *cards]),
        table=table,
        objectives=objectives_table(board, names, period, surveyed),
    )


def objectives_table(
    board: Dashboard,
    names: Mapping[str, str],
    period: Period,
    surveyed: Mapping[str, list[Assessment]] | None = None,
) -> DataTable:
    """One line per service and indicator: value, objective, met or not, trend (the survey's
    share of satisfied callers after the phone indicators, where callers were asked)."""
    table = DataTable(
        name="objectifs",
        caption=f"Objectifs et résultats — {period.label_fr}",
        columns=[
            Column("service", "Service"),
            Column("indicator", "Indicateur"),
            Column("value", "Valeur"),
            Column("objective", "Objectif"),
            Column("status", "Résultat"),
            Column("previous", "Période précédente"),
            Column("trend", "Tendance"),
        ],
    )
    for assessed in [*board.services, board.total]:
        survey = (surveyed or {}).get(assessed.service, [])
        for a in [*assessed.assessments, *survey]:
            view = AssessmentView.of(a)
            table.rows.append(
                [
                    service_label(assessed.service, names),
                    view.label,
                    view.value_text,
                    view.objective_text,
                    view.status_text,
                    view.previous_text,
                    TREND_FR[a.trend],
                ]
            )
    return table
