"""What each page and report shows, computed from the analytics API (pure of HTTP and HTML).

Every figure comes from :class:`analytics.api.Indicators` (or :mod:`analytics.details`), the
same code as ``decroche indicators``: the dashboard cannot disagree with the command.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from analytics.api import Dashboard, Indicators, ServiceAssessment
from analytics.definitions import LABELS_FR, Counts
from analytics.objectives import TREND_FR, Assessment, Trend
from analytics.satisfaction import SatisfactionReport
from reports import format as fmt
from reports import svg
from reports.periods import Period
from reports.tables import Column, DataTable
from telephony.records.engine import Database

TOTAL = "total"
COUNT_COLUMNS = (
    "offered",
    "answered",
    "answered_within_target",
    "abandoned",
    "short_abandoned",
    "overflowed",
)
RATE_COLUMNS = ("answer_rate", "service_level", "abandonment_rate", "mean_wait_answered_s")
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


def service_label(service: str, names: dict[str, str]) -> str:
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
    names: dict[str, str],
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
    names: dict[str, str] | None = None,
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
        table.rows.append([card.service, *counts_cells(card.counts)])
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
    names: dict[str, str],
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


@dataclass(slots=True)
class ServiceView:
    period: Period
    service: str
    label: str
    card: ServiceCard | None
    daily_chart: Markup
    daily: DataTable
    hours_chart: Markup
    hours: DataTable
    waits: DataTable
    overflows: DataTable
    ivr: DataTable | None = None
    callbacks: DataTable | None = None
    extra: dict[str, DataTable] = field(default_factory=dict)

    def tables(self) -> list[DataTable]:
        found = [self.daily, self.hours, self.waits, self.overflows]
        found += [t for t in (self.ivr, self.callbacks) if t is not None]
        return found


def service_view(
    indicators: Indicators,
    period: Period,
    service: str,
    names: dict[str, str] | None = None,
    database: Database | None = None,
) -> ServiceView:
    """The page of one service (or ``total``): by day, by hour of day, waits, overflows; for the
    total also the voice menu choices and the callbacks, when the database has them."""
    names = names or {}
    label = service_label(service, names)
    board = indicators.dashboard(period.start, period.end)
    assessed = next((s for s in board.services if s.service == service), None)
    if service == TOTAL:
        assessed = board.total
    days = indicators.breakdown(period.start, period.end, "day")
    card = None if assessed is None else _card(assessed, names, days, _answer_target(assessed))
    daily = _daily_table(f"jours-{service}", label, service, days)
    day_labels = [str(row[0])[8:10] for row in daily.rows]
    offered = [float(row[1]) if isinstance(row[1], int) else None for row in daily.rows]
    answered = [float(row[2]) if isinstance(row[2], int) else None for row in daily.rows]
    daily_chart = svg.bar_chart(
        day_labels,
        [("présentés", offered), ("décrochés", answered)],
        title=f"Appels présentés et décrochés par jour — {label}",
        desc="Les valeurs sont dans le tableau « par jour » ci-dessous.",
    )
    hours_data = indicators.breakdown(period.start, period.end, "hour")
    hours = DataTable(
        name=f"heures-{service}",
        caption=f"{label} — par heure de la journée (période entière)",
        columns=[Column("hour", "Heure"), *counts_columns()],
    )
    for hour, per_service in hours_data.items():
        counts = per_service.get(service)
        if counts is not None:
            hours.rows.append([hour, *counts_cells(counts)])
    hour_labels = [str(row[0]) for row in hours.rows]
    hours_chart = svg.heatmap(
        ["présentés", "décrochés", "abandons"],
        [h.removesuffix("h") for h in hour_labels],
        [
            [float(row[1]) if isinstance(row[1], int) else None for row in hours.rows],
            [float(row[2]) if isinstance(row[2], int) else None for row in hours.rows],
            [float(row[4]) if isinstance(row[4], int) else None for row in hours.rows],
        ],
        title=f"Appels par heure de la journée — {label}",
        desc="Plus la case est foncée, plus il y a d'appels à cette heure ; "
        "les valeurs sont dans le tableau « par heure ».",
    )
    waits = DataTable(
        name=f"attentes-{service}",
        caption=f"{label} — attente des appels décrochés",
        columns=[
            Column("measure", "Mesure"),
            Column("value", "Valeur", "seconds"),
        ],
    )
    percentiles = board.percentiles.get(service, {})
    counts = assessed.counts if assessed is not None else Counts()
    waits.rows.append(["Attente moyenne", counts.mean_wait_answered_s])
    for key, value in percentiles.items():
        word = "médiane" if key == "p50" else f"{key[1:]}e centile"
        waits.rows.append([f"Attente {word}", value])
    overflows = DataTable(
        name=f"debordements-{service}",
        caption=f"{label} — débordements",
        columns=[Column("from", "De"), Column("to", "Vers"), Column("count", "Appels", "count")],
    )
    for (source, target), count in sorted(
        indicators.overflow_flows(period.start, period.end).items()
    ):
        if service in (TOTAL, source, target):
            overflows.rows.append(
                [service_label(source, names), service_label(target, names), count]
            )
    view = ServiceView(
        period=period,
        service=service,
        label=label,
        card=card,
        daily_chart=daily_chart,
        daily=daily,
        hours_chart=hours_chart,
        hours=hours,
        waits=waits,
        overflows=overflows,
    )
    if service == TOTAL and database is not None:
        view.ivr, view.callbacks = detail_tables(database, period, indicators.parameters.timezone)
    return view


def detail_tables(
    database: Database, period: Period, timezone: str
) -> tuple[DataTable | None, DataTable | None]:
    from analytics.details import callback_figures, ivr_figures

    ivr = ivr_figures(database, period.start, period.end, timezone)
    ivr_table: DataTable | None = None
    if ivr.calls:
        ivr_table = DataTable(
            name="choix-menu",
            caption=(
                f"Choix dans le menu vocal ({fmt.number(ivr.calls)} appels, "
                f"{fmt.number(ivr.hangups_in_ivr)} raccrochés dans le menu)"
            ),
            columns=[Column("menu", "Menu"), Column("key", "Choix"), Column("n", "Fois", "count")],
        )
        for menu, keys in ivr.choices.items():
            for key, n in keys.items():
                ivr_table.rows.append([menu, f"touche {key}", n])
            for what, counter in (
                ("sans choix (délai)", ivr.timeouts),
                ("touche invalide", ivr.invalid),
            ):
                if counter.get(menu):
                    ivr_table.rows.append([menu, what, counter[menu]])
    callbacks = callback_figures(database, period.start, period.end, timezone=timezone)
    callbacks_table: DataTable | None = None
    if callbacks.owed:
        callbacks_table = DataTable(
            name="rappels",
            caption="Rappels dus (demandes, appels abandonnés ou débordés avec un numéro)",
            columns=[Column("measure", "Mesure"), Column("value", "Valeur")],
        )
        callbacks_table.rows += [
            ["Rappels dus", callbacks.owed],
            ["Faits", callbacks.done],
            ["Expirés", callbacks.expired],
            ["En attente", callbacks.pending],
            ["Taux de rappel", fmt.percent(callbacks.callback_rate)],
            ["Délai médian", fmt.seconds(callbacks.median_delay_s)],
        ]
    return ivr_table, callbacks_table


def satisfaction_table(
    database: Database,
    period: Period,
    service: str,
    scales: Mapping[str, Any],
    objectives: Any = None,
    timezone: str = "Europe/Paris",
) -> DataTable | None:
    """The survey figures of one service (or every service for the total page) beside their
    objectives; None when no caller was offered the survey in the period."""
    from analytics.satisfaction import satisfaction_report

    if not scales:
        return None
    report = satisfaction_report(
        database, period.start, period.end, scales, objectives=objectives, timezone=timezone
    )
    group = report.total if service == TOTAL else report.services.get(service)
    if group is None or group.figures.offered == 0:
        return None
    figures = group.figures
    table = DataTable(
        name=f"satisfaction-{service}",
        caption=(
            f"Enquête de satisfaction : {fmt.number(figures.offered)} appelants sollicités, "
            f"{fmt.number(figures.responded)} ont répondu"
        ),
        columns=[
            Column("indicator", "Indicateur"),
            Column("value", "Valeur"),
            Column("objective", "Objectif"),
            Column("result", "Résultat"),
        ],
    )
    for assessment in group.assessments:
        value = assessment.value
        shown = (
            "—"
            if value is None
            else (
                f"{value:.2f}".replace(".", ",")
                if assessment.indicator == "mean_score"
                else fmt.percent(value)
            )
        )
        objective = assessment.objective
        target = (
            "—"
            if objective is None
            else ("≥ " if objective.kind == "min" else "≤ ") + fmt.percent(objective.target)
        )
        table.rows.append([assessment.label, shown, target, assessment.status_fr])
    return table
