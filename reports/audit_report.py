"""The « audit interne de l'accueil téléphonique » report, per audit run and per month, as HTML
then PDF (WeasyPrint): the evidence of the internal audits the Qualivilles certification asks
for — the paths tested, their results, and each failure with the date it was fixed.

It reads the audit's own history (never the call records): :class:`AuditHistory` is what the
composition root hands it (``audit.store.AuditStore``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from markupsafe import Markup

from audit.results import AuditRun
from reports.audit_view import MonthView, RunView, Wording, month_view, run_view
from reports.documents import ReportSettings, css_string, document_templates, write_report
from routing_rules.calendar_fr import MONTHS_FR

log = logging.getLogger(__name__)


class AuditHistory(Protocol):
    def runs(
        self, *, start: datetime | None = None, end: datetime | None = None, limit: int | None = 20
    ) -> list[AuditRun]: ...

    def fixed_at(self, path_id: str, after: datetime) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class AuditDocument:
    stem: str
    title: str
    html: str


def run_stem(run: AuditRun) -> str:
    return f"audit-interne-{run.id}"


def month_stem(year: int, month: int) -> str:
    return f"audit-interne-mensuel-{year:04d}-{month:02d}"


class AuditReportWriter:
    """Writes the report of a run, or of a month, into ``out_dir`` (``<stem>.html`` and
    ``.pdf``, each written whole then renamed: a reader never sees half a file)."""

    def __init__(
        self,
        history: AuditHistory,
        out_dir: Path,
        wording: Callable[[], Wording],
        settings: Callable[[], ReportSettings],
        *,
        pdf: bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.history = history
        self.out_dir = out_dir
        self.wording = wording
        self.settings = settings
        self.pdf = pdf
        self.now = now

    # --- documents ---------------------------------------------------------------------------

    def run_document(self, run: AuditRun) -> AuditDocument:
        wording = self.wording()
        view: RunView = run_view(run, wording, self.history.fixed_at)
        title = f"Audit interne de l’accueil téléphonique — {view.started}"
        html = self._render(title, f"TEL-AI-{run.id}", run=view, month=None)
        return AuditDocument(run_stem(run), title, html)

    def month_document(self, year: int, month: int) -> AuditDocument:
        wording = self.wording()
        start = datetime(year, month, 1, tzinfo=wording.zone)
        end = (start + timedelta(days=32)).replace(day=1)
        runs = [r for r in self.history.runs(start=start, end=end, limit=None) if r.results]
        view: MonthView = month_view(runs, wording, self.history.fixed_at)
        label = f"{MONTHS_FR[month - 1]} {year}"
        title = f"Audit interne de l’accueil téléphonique — {label}"
        reference = f"TEL-AI-{year:04d}-{month:02d}"
        html = self._render(title, reference, run=None, month=view, month_label=label)
        return AuditDocument(month_stem(year, month), title, html)

    def _render(self, title: str, reference: str, **content: object) -> str:
        """``reference``: the document's reference; its version is the moment it was made (a
        month's report is made again as its runs come)."""
        settings = self.settings()
        wording = self.wording()
        generated = wording.when(self.now())
        return (
            document_templates()
            .get_template("audit_report.html")
            .render(
                title=title,
                town=settings.town,
                reference=f"{reference} — version du {generated}",
                footer=Markup(css_string(f"{settings.town} — {title} — {reference}")),
                generated=generated,
                **content,
            )
        )

    # --- files -------------------------------------------------------------------------------

    def run_report(self, run: AuditRun) -> list[Path]:
        return self.write(self.run_document(run))

    def month_report(self, year: int, month: int) -> list[Path]:
        return self.write(self.month_document(year, month))

    def write(self, document: AuditDocument) -> list[Path]:
        return write_report(document, self.out_dir, pdf=self.pdf)
