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
from datetime import date

from analytics import glossary
from analytics.api import Dashboard, Indicators, ServiceAssessment
from analytics.definitions import TABLE_COUNT_NAMES, TABLE_NAMES, Counts, Parameters
from analytics.objectives import Assessment, Trend
from analytics.satisfaction import SatisfactionReport
from reports import format as fmt
from reports import words
from reports.periods import Period
from reports.tables import Column, DataTable

TOTAL = "total"
COUNT_COLUMNS = TABLE_COUNT_NAMES
RATE_COLUMNS = TABLE_NAMES[len(TABLE_COUNT_NAMES) :]


def _kind(name: str) -> str:
    unit = glossary.unit_of(name)
    return unit if unit in ("rate", "seconds") else "count"


def engagement_of(parameters: Parameters) -> str | None:
    """The ring commitment every service shares, in words (None: services word their own)."""
    if any(parameters.commitment_for(s) != parameters.commitment for s in parameters.commitments):
        return None
    return parameters.commitment.words


def counts_columns(engagement: str | None = "en 5 sonneries") -> list[Column]:
    """The columns of the counts and rates, in the glossary's words (``engagement``: the ring
    commitment that names "Décrochés en 5 sonneries"; None: each service's own)."""
    return [
        Column(name, glossary.label(name, engagement), _kind(name))
        for name in (*COUNT_COLUMNS, *RATE_COLUMNS)
    ]


def counts_cells(counts: Counts) -> list[float | int | None]:
    return [getattr(counts, name) for name in (*COUNT_COLUMNS, *RATE_COLUMNS)]


@dataclass(frozen=True, slots=True)
class AssessmentView:
    indicator: str
    key: str  # the glossary's
    label: str
    value: float | None
    value_text: str
    objective_text: str
    status: str  # met | missed | none: the CSS class; the text says the same
    status_text: str
    status_short: str  # in a cell headed by the indicator: "atteint", "non atteint"…
    trend: Trend
    trend_text: str  # the quality's direction and the previous value, in words
    previous_text: str

    @staticmethod
    def of(a: Assessment) -> AssessmentView:
        status = "none" if a.met is None else ("met" if a.met else "missed")
        return AssessmentView(
            indicator=a.indicator,
            key=a.key,
            label=a.label,
            value=a.value,
            value_text=glossary.value(a.key, a.value),
            objective_text=(
                "—"
                if a.objective is None
                else fmt.objective(a.key, a.objective.target, a.objective.kind)
            ),
            status=status,
            status_text=a.status_fr,
            status_short=a.status_fr.removeprefix("objectif ").removeprefix("sans objectif"),
            trend=a.trend,
            trend_text=a.trend_sentence,
            previous_text=glossary.value(a.key, a.previous),
        )


@dataclass(slots=True)
class ServiceCard:
    """A service's (or the total's) volume and assessed indicators."""

    service: str
    label: str
    counts: Counts
    assessments: list[AssessmentView]
    volume: str = ""  # « 534 appels présentés, 515 appels décrochés, 66 appels reçus hors … »
    notes: list[str] = dataclasses.field(default_factory=list)  # ring limit, unanswered calls
    fate: str | None = None  # where the calls it did not answer went (the dashboard's line)


@dataclass(frozen=True, slots=True)
class OverviewRow:
    """One service on the dashboard's overview: its volume and each indicator's assessment
    (None: the indicator is not measured for this service, e.g. nobody was surveyed)."""

    service: str
    label: str
    offered: int
    answered: int
    cells: list[AssessmentView | None]
    closed: int = 0  # received while closed: in no rate, shown beside the volume


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
                closed=card.counts.closed,
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
    summary: list[str] = dataclasses.field(default_factory=list)  # calls received, shortfalls
    definitions: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    running: str = ""  # the period is not over: what the trend compares
    ring_limits: str | None = None  # the services that ring only their commitment


def service_label(service: str, names: Mapping[str, str]) -> str:
    if service == TOTAL:
        return "Tous services (chaque appel une fois)"
    return names.get(service, service)


def _daily_table(
    name: str,
    label: str,
    service: str,
    days: dict[str, dict[str, Counts]],
    engagement: str | None,
) -> DataTable:
    table = DataTable(
        name=name,
        caption=f"{label} — par jour",
        columns=[Column("day", "Jour", "day"), *counts_columns(engagement)],
    )
    for day, per_service in days.items():
        counts = per_service.get(service)
        if counts is not None:
            table.rows.append([day, *counts_cells(counts)])
    return table


def volume(counts: Counts) -> str:
    """« 534 appels présentés, 515 appels décrochés, 66 appels reçus hors horaires »."""
    parts = [glossary.count("offered", counts.offered), glossary.count("answered", counts.answered)]
    if counts.closed:
        parts.append(glossary.count("closed", counts.closed))
    return ", ".join(parts)


def _card(
    assessed: ServiceAssessment, names: Mapping[str, str], parameters: Parameters
) -> ServiceCard:
    return ServiceCard(
        service=assessed.service,
        label=service_label(assessed.service, names),
        counts=assessed.counts,
        assessments=[AssessmentView.of(a) for a in assessed.assessments],
        volume=volume(assessed.counts),
        notes=words.service_notes(assessed, parameters, names),
        fate=words.unanswered(assessed.unanswered, names),
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
    return [a for a in group.assessments if a.indicator == SATISFACTION_ON_CARDS]


def summary(board: Dashboard, names: Mapping[str, str]) -> list[str]:
    """What the total says first: the calls received, then each objective the total meets that
    some services miss, by name."""
    return [
        words.received(board.received, board.total.counts),
        *(words.shortfall(found, names) for found in board.shortfalls()),
    ]


def dashboard_by_name(
    indicators: Indicators, period: Period, names: Mapping[str, str], today: date | None = None
) -> Dashboard:
    """The period's dashboard with its services in the order every page and report shows them:
    by name, in French reading order (the total apart, first where it is shown first)."""
    board = indicators.dashboard(period.start, period.end, today)
    order = glossary.by_name(names)
    board.services = sorted(board.services, key=lambda s: order(s.service))
    return board


def dashboard_view(
    indicators: Indicators,
    period: Period,
    names: Mapping[str, str] | None = None,
    satisfaction: SatisfactionReport | None = None,
    today: date | None = None,
) -> DashboardView:
    """The dashboard; ``satisfaction`` (the survey's report of the same period) adds the share
    of satisfied callers to each card that had callers surveyed, beside its objective;
    ``today``: a period not over is compared with the same days of the previous one."""
    names = names or {}
    board = dashboard_by_name(indicators, period, names, today)
    parameters = board.report.parameters
    cards = [_card(s, names, parameters) for s in board.services]
    total = _card(board.total, names, parameters)
    surveyed: dict[str, list[Assessment]] = {}
    for card in [*cards, total]:
        surveyed[card.service] = _satisfaction(card, satisfaction)
        card.assessments += [AssessmentView.of(a) for a in surveyed[card.service]]
    table = DataTable(
        name="tableau-de-bord",
        caption=f"Indicateurs par service — {period.label_fr}",
        columns=[Column("service", "Service"), *counts_columns(engagement_of(parameters))],
    )
    for card in [total, *cards]:
        table.rows.append([card.label, *counts_cells(card.counts)])
    comparison = board.comparison
    return DashboardView(
        period=period,
        previous=Period(board.previous.start, board.previous.end),
        convention=words.engagements(parameters, names),
        cards=cards,
        total=total,
        overview=overview([total, *cards]),
        table=table,
        objectives=objectives_table(board, names, period, surveyed),
        summary=summary(board, names),
        definitions=words.received_definitions(),
        running=comparison.words() if comparison is not None else "",
        ring_limits=words.ring_limits(board.services, names),
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
                    a.trend_fr,
                ]
            )
    return table
