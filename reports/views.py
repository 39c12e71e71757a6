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

from markupsafe import Markup

from analytics.api import Dashboard, Indicators, ServiceAssessment
from analytics.definitions import COUNT_NAMES, LABELS_FR, TABLE_NAMES, Counts
from analytics.objectives import TREND_FR, Assessment, Trend
from analytics.satisfaction import SatisfactionReport
from reports import format as fmt
from reports import svg
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
            trend=a.trend,
            trend_text=f"{TREND_ARROW[a.trend]} {TREND_FR[a.trend]}",
            previous_text=fmt.indicator(a.indicator, a.previous),
        )


@dataclass(slots=True)
class ServiceCard:
    service: str
    label: str
    counts: Counts
    assessments: list[AssessmentView]
    chart: Markup
    daily: DataTable


@dataclass(slots=True)
class DashboardView:
    period: Period
    previous: Period
    convention: str
    cards: list[ServiceCard]
    total: ServiceCard
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
        columns=[Column("day", "Jour"), *counts_columns()],
    )
    for day, per_service in days.items():
        counts = per_service.get(service)
        if counts is not None:
            table.rows.append([day, *counts_cells(counts)])
    return table


def _card(
    assessed: ServiceAssessment,
    names: Mapping[str, str],
    days: dict[str, dict[str, Counts]],
    objective: float | None,
) -> ServiceCard:
    label = service_label(assessed.service, names)
    rates = [
        days[d][assessed.service].answer_rate if assessed.service in days[d] else None for d in days
    ]
    chart = svg.sparkline(
        rates,
        title=f"Taux de décroché par jour — {label}",
        desc="Le tableau « par jour » de la page du service donne les mêmes valeurs.",
        target=objective,
    )
    return ServiceCard(
        service=assessed.service,
        label=label,
        counts=assessed.counts,
        assessments=[AssessmentView.of(a) for a in assessed.assessments],
        chart=chart,
        daily=_daily_table(f"jours-{assessed.service}", label, assessed.service, days),
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
    days = indicators.breakdown(period.start, period.end, "day")
    cards = [_card(s, names, days, _answer_target(s)) for s in board.services]
    total = _card(board.total, names, days, _answer_target(board.total))
    surveyed: dict[str, list[Assessment]] = {}
    for card in [*cards, total]:
        surveyed[card.service] = _satisfaction(card, satisfaction)
        card.assessments += [AssessmentView.of(a) for a in surveyed[card.service]]
    table = DataTable(
        name="tableau-de-bord",
        caption=f"Indicateurs par service — {period.label_fr}",
        columns=[Column("service", "Service"), *counts_columns()],
    )
    for card in [*cards, total]:
        table.rows.append([card.label, *counts_cells(card.counts)])
    return DashboardView(
        period=period,
        previous=Period(board.previous.start, board.previous.end),
        convention=board.report.parameters.convention(),
        cards=cards,
        total=total,
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
