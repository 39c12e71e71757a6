"""The page of one service (or of every service together): by day, by hour of the day, waits,
overflows, and for the total the voice menus and the callbacks. Pure of HTTP and HTML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from markupsafe import Markup

from analytics.api import Indicators
from analytics.definitions import Counts
from reports import svg
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
    service_label,
)

# The page's charts: as wide as the page's text at 1280 px, their text at the page's size.
WIDE, TALL, FONT = 1000, 300, 13


@dataclass(slots=True)
class ServiceView:
    period: Period
    service: str
    label: str
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


def service_view(
    indicators: Indicators,
    period: Period,
    service: str,
    names: Mapping[str, str] | None = None,
    menus: Mapping[str, Mapping[str, str]] | None = None,
) -> ServiceView:
    """The page of one service (or ``total``): by day, by hour of day, waits, overflows; for the
    total also the voice menu choices and the callbacks, when the records have them."""
    names = names or {}
    label = service_label(service, names)
    board = indicators.dashboard(period.start, period.end)
    assessed = next((s for s in board.services if s.service == service), None)
    if service == TOTAL:
        assessed = board.total
    days = indicators.breakdown(period.start, period.end, "day")
    card = None if assessed is None else _card(assessed, names)
    daily = _daily_table(f"jours-{service}", label, service, days)
    day_labels = [str(row[0])[8:10] for row in daily.rows]
    per_day = [per_service.get(service) for per_service in days.values()]
    shown_days = [c for c in per_day if c is not None]
    daily_chart = svg.bar_chart(
        day_labels,
        [
            ("présentés", [float(c.offered) for c in shown_days]),
            ("décrochés", [float(c.answered) for c in shown_days]),
        ],
        title=f"Appels présentés et décrochés par jour — {label}",
        desc="Les valeurs sont dans le tableau « par jour » ci-dessous.",
        width=WIDE,
        height=TALL,
        font_size=FONT,
    )
    rate_chart = svg.bar_chart(
        day_labels,
        [("taux de décroché", [c.answer_rate for c in shown_days])],
        title=f"Taux de décroché par jour — {label}",
        desc="Barres : taux de décroché du jour ; ligne pointillée : objectif. "
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
        rate_chart=rate_chart,
        daily=daily,
        hours_chart=hours_chart,
        hours=hours,
        waits=waits,
        overflows=overflows,
    )
    if service == TOTAL:
        view.ivr, view.callbacks = detail_tables(indicators, period, menus)
    return view
