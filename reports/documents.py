"""The monthly report and the annual review (*bilan annuel*): HTML, then PDF with WeasyPrint.

Both read figures only through :class:`analytics.api.Indicators` (the sections are in
:mod:`reports.report_sections`, built from the same views as the dashboard), so a report, the
dashboard and ``decroche indicators`` agree to the last call. Each ends with the definitions of
the indicators (``docs/indicateurs.md``) as an appendix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from analytics import glossary
from analytics.api import Dashboard, Indicators
from analytics.staffing.plan import StaffingPlan
from reports import format as fmt
from reports import report_sections as sections
from reports import words
from reports.annual_review import QualityRecords, annual_review
from reports.errors import ReportGenerationError
from reports.periods import Period
from reports.staffing_view import review_section
from reports.views import dashboard_by_name, engagement_of, summary
from routing_rules.messages import agreeing, counted
from routing_rules.narration import MenuWords

log = logging.getLogger(__name__)

DEFINITIONS = Path(__file__).resolve().parents[1] / "docs" / "indicateurs.md"
Progress = Callable[[str], None]
BUILD_STEPS = 7  # the progress steps of build_report (write_report adds one for the PDF)


@dataclass(frozen=True, slots=True)
class ReportSettings:
    town: str = "Ville de Bernay"
    definitions: Path = DEFINITIONS
    timezone: str = "Europe/Paris"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def document_reference(kind: str, period: Period) -> str:
    """The reference printed on a document, the same each time it is made again (its version
    says which): TEL-BM-2026-10 (bilan mensuel), TEL-RD-2026 (revue de direction)."""
    if kind == "monthly":
        return f"TEL-BM-{period.month_key}"
    return f"TEL-RD-{period.start.year}"


@dataclass(frozen=True, slots=True)
class ReportDocument:
    kind: str  # monthly | annual
    period: Period
    title: str
    html: str
    version: int = 1

    @property
    def stem(self) -> str:
        if self.kind == "monthly":
            return f"bilan-mensuel-{self.period.month_key}"
        return f"bilan-annuel-{self.period.start.year}"

    @property
    def reference(self) -> str:
        return document_reference(self.kind, self.period)


def definitions_html(path: Path) -> Markup:
    """The French definitions document rendered as the appendix, as its readers need it (see
    :mod:`reports.appendix`)."""
    from reports.appendix import appendix_html

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReportGenerationError(
            f"{path} : définitions des indicateurs illisibles (annexe du rapport) : {exc}"
        ) from exc
    return Markup(appendix_html(text))


def document_templates() -> jinja2.Environment:
    """The reports' templates, for documents (the web app has its own environment)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Counts with their words agreeing, as on the pages: « 1 parcours testé, 1 conforme ».
    env.globals["counted"] = counted
    env.globals["agreeing"] = agreeing
    return env


def css_string(text: str) -> str:
    """Text safe inside a CSS string in a <style> block (the PDF's page footer)."""
    return "".join(c for c in text.replace("'", "’") if c not in '"\\<>')


def _noop(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class ReportInputs:
    """What a report is made from, as the composition root builds it: the indicators (with
    the configured objectives, in the rules' time zone), the services' names of the rules in
    force, the town and the time zone; ``records``: the quality lead's records (action plan,
    management reviews, audits, rules' versions; None: the documents say they are missing)."""

    indicators: Indicators
    names: Mapping[str, str]
    settings: ReportSettings
    records: QualityRecords | None = None
    # Each voice menu's name and what each key does (routing_rules.narration.menu_choices).
    menus: Mapping[str, MenuWords] = field(default_factory=dict)


def build_report(
    inputs: ReportInputs,
    period: Period,
    kind: str,
    *,
    generated_at: datetime,
    progress: Progress = _noop,
    staffing: StaffingPlan | None = None,
    version: int = 1,
) -> ReportDocument:
    """The HTML of the monthly report (``kind="monthly"``) or annual review (``"annual"``).

    ``staffing``: the period's staffing plan; the annual review then has its section "créneaux
    en sous-effectif" (the adequacy of resources a management review looks at). ``version``:
    printed beside the document's reference (the ledger counts the times it was made)."""
    if kind not in ("monthly", "annual"):
        raise ReportGenerationError(f"type de rapport inconnu « {kind} » (monthly ou annual)")
    indicators, names, settings = inputs.indicators, inputs.names, inputs.settings
    progress("indicateurs et objectifs")
    today = generated_at.astimezone(settings.zone).date()
    board = dashboard_by_name(indicators, period, names, today)
    if kind == "annual":
        return _annual(inputs, board, period, generated_at, progress, staffing, version)
    parameters = board.report.parameters
    target = sections.answer_target(board)
    progress("répartition dans le temps")
    steps = sections.evolution(indicators, period, kind, target, engagement_of(parameters))
    progress("services")
    services = sections.by_service(board, period, names, target)
    progress("heures, attentes, débordements")
    flows = sections.hours_and_flows(indicators, board, period, names)
    progress("menu vocal et rappels")
    extra = sections.menus_and_callbacks(indicators, period, inputs.menus)
    progress("satisfaction")
    extra += sections.satisfaction(indicators, period)
    actions = (
        sections.open_actions(inputs.records.actions, period, names)
        if inputs.records is not None
        else None
    )
    progress("mise en page")
    title = (
        f"Bilan mensuel de l’accueil téléphonique — {period.label_fr}"
        if kind == "monthly"
        else f"Bilan annuel de l’accueil téléphonique — {period.start.year}"
    )
    html = (
        document_templates()
        .get_template("report.html")
        .render(
            title=title,
            town=settings.town,
            header=Markup(
                css_string(f"{settings.town} — accueil téléphonique — {period.label_fr}")
            ),
            footer=Markup(css_string(f"{settings.town} — {title}")),
            kind=kind,
            period=period,
            previous=Period(board.previous.start, board.previous.end),
            generated=generated_at.astimezone(settings.zone).strftime("%d/%m/%Y à %H:%M"),
            convention=words.engagements(parameters, names),
            running=board.comparison.words() if board.comparison is not None else "",
            summary=summary(board, names),
            definitions=words.received_definitions(),
            highlights=highlights(board),
            ring_limits=words.ring_limits(board.services, names),
            label=lambda key: glossary.label(key, board.total.commitment.words),
            total=board.total.counts,
            fmt=fmt,
            cards=services.cards,
            charts={
                "volume": steps.volume,
                "rate": steps.rate,
                "services": services.chart,
                "hours": flows.hours,
            },
            tables={
                "objectives": services.objectives,
                "services": services.table,
                "steps": steps.table,
                "waits": flows.waits,
                "overflows": flows.overflows,
            },
            extra=extra,
            actions=actions,
            reference=document_reference(kind, period),
            version=version,
            staffing=review_section(staffing)
            if staffing is not None and kind == "annual"
            else None,
            appendix=definitions_html(settings.definitions),
        )
    )
    return ReportDocument(kind, period, title, html, version)


def _annual(
    inputs: ReportInputs,
    board: Dashboard,
    period: Period,
    generated_at: datetime,
    progress: Progress,
    staffing: StaffingPlan | None,
    version: int,
) -> ReportDocument:
    """The revue de direction (:mod:`reports.annual_review`)."""
    settings = inputs.settings
    local = generated_at.astimezone(settings.zone)
    review = annual_review(
        inputs.indicators,
        board,
        period,
        inputs.names,
        inputs.records,
        zone=settings.zone,
        today=local.date(),
        progress=progress,
    )
    progress("mise en page")
    year = period.start.year
    title = f"Revue de direction de l’accueil téléphonique — {year}"
    reference = f"{document_reference('annual', period)} — version {version}"
    html = (
        document_templates()
        .get_template("annual_review.html")
        .render(
            title=title,
            year=year,
            town=settings.town,
            period=period,
            reference=reference,
            header=Markup(css_string(f"{settings.town} — revue de direction {year}")),
            footer=Markup(css_string(f"{settings.town} — {title} — {reference}")),
            generated=local.strftime("%d/%m/%Y à %H:%M"),
            convention=board.report.parameters.convention(),
            review=review,
            staffing=review_section(staffing) if staffing is not None else None,
            appendix=definitions_html(settings.definitions),
        )
    )
    return ReportDocument("annual", period, title, html, version)


def highlights(board: Dashboard) -> list[tuple[str, str]]:
    """The report's first figures, each with its glossary words: the calls received, then the
    total's rates."""
    received = board.received.received
    term = glossary.GLOSSARY["received"]
    found = [(glossary.number(received), agreeing(received, term.one, term.many))]
    for key in ("answer_rate", "service_level", "abandonment_rate"):
        words = glossary.label(key)
        if key == "service_level":  # the commitment's words: in the sentence above the box
            words += f" ({board.total.commitment.words})"
        found.append((glossary.value(key, getattr(board.total.counts, key)), words))
    return found


class Printable(Protocol):
    """A document to write as ``<stem>.html`` and ``.pdf`` (the reports, the audit's)."""

    @property
    def stem(self) -> str: ...

    @property
    def html(self) -> str: ...


def render_pdf(document: Printable) -> bytes:
    try:
        from weasyprint import HTML

        pdf: bytes = HTML(string=document.html, base_url=".").write_pdf()
    except Exception as exc:  # WeasyPrint raises many kinds; the caller needs one
        raise ReportGenerationError(f"{document.stem} : échec du rendu PDF : {exc}") from exc
    return pdf


def write_report(
    document: Printable, out_dir: Path, *, pdf: bool = True, progress: Progress = _noop
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
