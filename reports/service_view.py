"""The page of one service (or of every service together): by day, by hour of the day, waits,
overflows, and for the total the voice menus and the callbacks. Pure of HTTP and HTML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from analytics import glossary
from analytics.api import Indicators
from analytics.definitions import Counts
from reports import svg, words
from reports.detail_tables import detail_tables
from reports.periods import Period
from reports.tables import Column, DataTable
from reports.views import (
    TOTAL,
    ServiceCard,
    _answer_target,
    _card,
    _daily_table,
    counts_cells,
    counts_columns,
    engagement_of,
    service_label,
)
from routing_rules.narration import MenuWords

# The page's charts: as wide as the page's text at 1280 px, their text at the page's size.
WIDE, TALL, FONT = 1000, 300, 13


@dataclass(slots=True)
class ServiceView:
    period: Period
    service: str
    label: str
    convention: str
    running: str  # the period is not over: what the trend compares
    card: ServiceCard | None
    daily_chart: Markup
    rate_chart: Markup
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


def _column(table: DataTable, key: str) -> list[float | None]:
    """A count column of ``table``, as a chart's series."""
    index = next(i for i, c in enumerate(table.columns) if c.key == key)
    series: list[float | None] = []
    for row in table.rows:
        cell = row[index]
        series.append(float(cell) if isinstance(cell, int) else None)
    return series


def service_view(
    indicators: Indicators,
    period: Period,
    service: str,
    names: Mapping[str, str] | None = None,
    menus: Mapping[str, MenuWords] | None = None,
    today: date | None = None,
) -> ServiceView:
    """The page of one service (or ``total``): by day, by hour of day (the calls received while
    closed too: evidence for the opening hours), waits, overflows; for the total also the voice
    menu choices and the callbacks, when the records have them."""
    names = names or {}
    label = service_label(service, names)
    board = indicators.dashboard(period.start, period.end, today)
    parameters = board.report.parameters
    assessed = next((s for s in board.services if s.service == service), None)
    if service == TOTAL:
        assessed = board.total
    engagement = (
        engagement_of(parameters) if service == TOTAL else parameters.commitment_for(service).words
    )
    days = indicators.breakdown(period.start, period.end, "day")
    card = None if assessed is None else _card(assessed, names, parameters)
    daily = _daily_table(f"jours-{service}", label, service, days, engagement)
    day_labels = [str(row[0])[8:10] for row in daily.rows]
    per_day = [per_service.get(service) for per_service in days.values()]
    shown_days = [c for c in per_day if c is not None]
    offered, answered = glossary.GLOSSARY["offered"], glossary.GLOSSARY["answered"]
    daily_chart = svg.bar_chart(
        day_labels,
        [(offered.many, _column(daily, "offered")), (answered.many, _column(daily, "answered"))],
        title=f"{offered.label} et {answered.many} par jour — {label}",
        desc="Les valeurs sont dans le tableau « par jour » ci-dessous.",
        width=WIDE,
        height=TALL,
        font_size=FONT,
    )
    rate = glossary.label("answer_rate")
    rate_chart = svg.bar_chart(
        day_labels,
        [(rate.lower(), [c.answer_rate for c in shown_days])],
        title=f"{rate} par jour — {label}",
        desc=f"Barres : {rate.lower()} du jour ; ligne pointillée : objectif. "
        "Les valeurs sont dans le tableau « par jour » ci-dessous.",
        percent=True,
        target=None if assessed is None else _answer_target(assessed),
        width=WIDE,
        height=TALL,
        font_size=FONT,
    )
    hours_data = indicators.breakdown(period.start, period.end, "hour")
    hours = DataTable(
        name=f"heures-{service}",
        caption=f"{label} — par heure de la journée (période entière)",
        columns=[Column("hour", "Heure"), *counts_columns(engagement)],
    )
    for hour, per_service in hours_data.items():
        counts = per_service.get(service)
        if counts is not None:
            hours.rows.append([hour, *counts_cells(counts)])
    hour_labels = [str(row[0]) for row in hours.rows]
    rows = ("offered", "answered", "abandoned", "closed")
    hours_chart = svg.heatmap(
        [glossary.label(key) for key in rows],
        [h.removesuffix("h") for h in hour_labels],
        [_column(hours, key) for key in rows],
        title=f"Appels par heure de la journée — {label}",
        desc="Plus la case est foncée, plus il y a d'appels à cette heure ; "
        "les valeurs sont dans le tableau « par heure ».",
        cell=44,
        font_size=FONT - 1,
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
    waits.rows.append([glossary.label("mean_wait_answered_s"), counts.mean_wait_answered_s])
    for key, value in percentiles.items():
        waits.rows.append([glossary.label(f"wait_percentiles.{key}"), value])
    overflows = DataTable(
        name=f"debordements-{service}",
        caption=f"{label} — débordements",
        columns=[Column("from", "De"), Column("to", "Vers"), Column("count", "Appels", "count")],
    )
    order = glossary.by_name(names)
    for (source, target), count in sorted(
        indicators.overflow_flows(period.start, period.end).items(),
        key=lambda f: (order(f[0][0]), order(f[0][1])),
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
        rate_chart=rate_chart,
        daily=daily,
        hours_chart=hours_chart,
        hours=hours,
        waits=waits,
        overflows=overflows,
        convention=words.engagements(parameters, names),
        running=board.comparison.words() if board.comparison is not None else "",
    )
    if service == TOTAL:
        view.ivr, view.callbacks = detail_tables(indicators, period, menus)
    return view
