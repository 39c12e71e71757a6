"""The monthly report and the annual review (*bilan annuel*): HTML, then PDF with WeasyPrint.

Both read figures only through :class:`analytics.api.Indicators` (and the same views as the
dashboard), so a report, the dashboard and ``decroche indicators`` agree to the last call. Each
ends with the definitions of the indicators (``docs/indicateurs.md``) as an appendix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from analytics.api import Indicators
from analytics.definitions import Counts
from analytics.staffing.plan import StaffingPlan
from reports import format as fmt
from reports import svg
from reports.errors import ReportGenerationError
from reports.periods import MONTHS_FR, Period
from reports.staffing_view import review_section
from reports.tables import Column, DataTable
from reports.views import (
    TOTAL,
    AssessmentView,
    counts_cells,
    counts_columns,
    objectives_table,
    satisfaction_table,
    service_label,
)
from telephony.records.engine import Database

log = logging.getLogger(__name__)

DEFINITIONS = Path(__file__).resolve().parents[1] / "docs" / "indicateurs.md"
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ReportSettings:
    town: str = "Ville de Bernay"
    definitions: Path = DEFINITIONS
    timezone: str = "Europe/Paris"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class ReportDocument:
    kind: str  # monthly | annual
    period: Period
    title: str
    html: str

    @property
    def stem(self) -> str:
        if self.kind == "monthly":
            return f"bilan-mensuel-{self.period.month_key}"
        return f"bilan-annuel-{self.period.start.year}"


def definitions_html(path: Path) -> Markup:
    """The French definitions document rendered as the appendix (its headings one level down)."""
    from markdown_it import MarkdownIt

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportGenerationError(
            f"{path} : définitions des indicateurs illisibles (annexe du rapport) : {exc}"
        ) from exc
    html = MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
    for level in (4, 3, 2, 1):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(
            f"</h{level}>", f"</h{level + 1}>"
        )
    return Markup(html)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _css_string(text: str) -> str:
    """Text safe inside a CSS string in a <style> block (the PDF's page footer)."""
    return "".join(c for c in text.replace("'", "’") if c not in '"\\<>')


def _noop(_: str) -> None:
    return None


def _services_table(
    name: str, caption: str, counts: dict[str, Counts], total: Counts, names: dict[str, str]
) -> DataTable:
    table = DataTable(name, caption, [Column("service", "Service"), *counts_columns()])
    for service, c in counts.items():
        table.rows.append([service_label(service, names), *counts_cells(c)])
    table.rows.append([service_label(TOTAL, names), *counts_cells(total)])
    return table


def _rates_chart(
    labels: list[str], values: list[float | None], target: float | None, title: str
) -> Markup:
    return svg.bar_chart(
        labels,
        [("taux de décroché", values)],
        title=title,
        desc="Barres : taux de décroché ; ligne pointillée : objectif. "
        "Les valeurs sont dans le tableau qui suit.",
        max_value=1.0,
        percent=True,
        target=target,
        width=680,
    )


def build_report(
    indicators: Indicators,
    period: Period,
    kind: str,
    *,
    database: Database | None = None,
    names: Mapping[str, str] | None = None,
    scales: Mapping[str, Any] | None = None,
    settings: ReportSettings | None = None,
    generated_at: datetime,
    progress: Progress = _noop,
    staffing: StaffingPlan | None = None,
) -> ReportDocument:
    """The HTML of the monthly report (``kind="monthly"``) or annual review (``"annual"``).

    ``staffing``: the period's staffing plan; the annual review then has its section "créneaux
    en sous-effectif" (the adequacy of resources a management review looks at)."""
    if kind not in ("monthly", "annual"):
        raise ReportGenerationError(f"type de rapport inconnu « {kind} » (monthly ou annual)")
    settings = settings or ReportSettings()
    names = dict(names or {})
    progress("indicateurs et objectifs")
    board = indicators.dashboard(period.start, period.end)
    target = board.total.assessments[0].objective
    answer_target = target.target if target is not None else None
    progress("répartition dans le temps")
    steps = indicators.breakdown(period.start, period.end, "day" if kind == "monthly" else "month")
    step_labels = list(steps)
    if kind == "annual":
        step_labels = [MONTHS_FR[int(key[5:7]) - 1][:4] + "." for key in steps]
    else:
        step_labels = [key[8:10] for key in steps]
    totals = [steps[key].get(TOTAL, Counts()) for key in steps]
    volume_chart = svg.bar_chart(
        step_labels,
        [
            ("présentés", [float(c.offered) for c in totals]),
            ("décrochés", [float(c.answered) for c in totals]),
        ],
        title="Appels présentés et décrochés",
        desc="Par " + ("jour" if kind == "monthly" else "mois") + " ; valeurs dans le tableau.",
        width=680,
    )
    rate_chart = _rates_chart(
        step_labels,
        [c.answer_rate for c in totals],
        answer_target,
        "Taux de décroché par " + ("jour" if kind == "monthly" else "mois"),
    )
    steps_table = DataTable(
        "periodes",
        "Tous services, par " + ("jour" if kind == "monthly" else "mois"),
        [Column("key", "Jour" if kind == "monthly" else "Mois"), *counts_columns()],
        [[key, *counts_cells(c)] for key, c in zip(steps, totals, strict=True)],
    )
    progress("services")
    services = [s for s in board.services]
    service_chart = _rates_chart(
        [service_label(s.service, names) for s in services],
        [s.counts.answer_rate for s in services],
        answer_target,
        "Taux de décroché par service",
    )
    services_table = _services_table(
        "services",
        f"Indicateurs par service — {period.label_fr}",
        {s.service: s.counts for s in services},
        board.total.counts,
        names,
    )
    objectives = objectives_table(board, names, period)
    cards = [
        (service_label(s.service, names), [AssessmentView.of(a) for a in s.assessments])
        for s in [board.total, *services]
    ]
    progress("heures, attentes, débordements")
    hours = indicators.breakdown(period.start, period.end, "hour")
    hour_totals = [hours[h].get(TOTAL, Counts()) for h in hours]
    hours_chart = svg.bar_chart(
        [h.removesuffix("h") for h in hours],
        [("présentés", [float(c.offered) for c in hour_totals])],
        title="Appels par heure de la journée",
        desc="Tous services, sur toute la période.",
        width=680,
        height=180,
    )
    overflow_table = DataTable(
        "debordements",
        "Débordements",
        [Column("from", "De"), Column("to", "Vers"), Column("n", "Appels", "count")],
    )
    for (source, dest), n in sorted(indicators.overflow_flows(period.start, period.end).items()):
        overflow_table.rows.append([service_label(source, names), service_label(dest, names), n])
    waits = DataTable(
        "attentes",
        "Attente des appels décrochés (secondes)",
        [Column("service", "Service")]
        + [
            Column(k, "Médiane" if k == "p50" else f"{k[1:]}e centile", "seconds")
            for k in ("p50", "p90")
        ],
    )
    for service, values in sorted(board.percentiles.items()):
        waits.rows.append([service_label(service, names), values.get("p50"), values.get("p90")])
    extra: list[DataTable] = []
    if database is not None:
        progress("menu vocal et rappels")
        from reports.views import detail_tables

        extra = [t for t in detail_tables(database, period, settings.timezone) if t is not None]
        progress("satisfaction")
        survey = satisfaction_table(
            database, period, TOTAL, scales or {}, indicators.objectives, settings.timezone
        )
        if survey is not None:
            extra.append(survey)
    progress("mise en page")
    title = (
        f"Bilan mensuel de l’accueil téléphonique — {period.label_fr}"
        if kind == "monthly"
        else f"Bilan annuel de l’accueil téléphonique — {period.start.year}"
    )
    zone = ZoneInfo(settings.timezone)
    html = (
        _env()
        .get_template("report.html")
        .render(
            title=title,
            town=settings.town,
            footer=Markup(_css_string(f"{settings.town} — {title}")),
            rings=board.report.parameters.rings,
            kind=kind,
            period=period,
            previous=Period(board.previous.start, board.previous.end),
            generated=generated_at.astimezone(zone).strftime("%d/%m/%Y à %H:%M"),
            convention=board.report.parameters.convention(),
            total=board.total.counts,
            fmt=fmt,
            cards=cards,
            charts={
                "volume": volume_chart,
                "rate": rate_chart,
                "services": service_chart,
                "hours": hours_chart,
            },
            tables={
                "objectives": objectives,
                "services": services_table,
                "steps": steps_table,
                "waits": waits,
                "overflows": overflow_table,
            },
            extra=extra,
            staffing=review_section(staffing)
            if staffing is not None and kind == "annual"
            else None,
            appendix=definitions_html(settings.definitions),
        )
    )
    return ReportDocument(kind, period, title, html)


def render_pdf(document: ReportDocument) -> bytes:
    try:
        from weasyprint import HTML

        pdf: bytes = HTML(string=document.html, base_url=".").write_pdf()
    except Exception as exc:  # WeasyPrint raises many kinds; the caller needs one
        raise ReportGenerationError(f"{document.stem} : échec du rendu PDF : {exc}") from exc
    return pdf


def write_report(
    document: ReportDocument, out_dir: Path, *, pdf: bool = True, progress: Progress = _noop
) -> list[Path]:
    """Write ``<stem>.html`` (and ``.pdf``) atomically: a reader never sees half a file."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportGenerationError(
            f"{out_dir} : impossible de créer le dossier des rapports : {exc}"
        ) from exc
    written: list[Path] = []
    outputs: list[tuple[str, bytes]] = [("html", document.html.encode("utf-8"))]
    if pdf:
        progress("PDF")
        outputs.append(("pdf", render_pdf(document)))
    for suffix, body in outputs:
        final = out_dir / f"{document.stem}.{suffix}"
        partial = final.with_name(final.name + ".part")
        try:
            partial.write_bytes(body)
            partial.replace(final)
        except OSError as exc:
            raise ReportGenerationError(
                f"{final} : impossible d'écrire le rapport : {exc}"
            ) from exc
        written.append(final)
        log.info("report written: %s", final)
    return written
