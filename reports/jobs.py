"""The monthly report job the scheduler runs (and ``decroche report due``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from reports.documents import ReportInputs, build_report, write_report
from reports.errors import ReportsOwed
from reports.periods import Period
from reports.schedule import MONTHLY, ReportLedger, months_due, run_due_reports


class MonthlyReportJob:
    """Callable with no argument, as APScheduler wants: generates every monthly report due, and
    raises :class:`ReportsOwed` when one could not be (to be run again later).

    ``inputs`` is asked at each run, so a report follows the rules in force that day (services'
    names, time zone, survey scales) and the configured town and objectives; so is ``ledger``,
    so that a run finds the ledger's table even when the database was down at start-up.
    """

    def __init__(
        self,
        ledger: Callable[[], ReportLedger],
        out_dir: Path,
        inputs: Callable[[], ReportInputs],
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        pdf: bool = True,
    ) -> None:
        self._ledger = ledger
        self._out = out_dir
        self._inputs = inputs
        self._now = now
        self._pdf = pdf

    def __call__(self) -> list[Period]:
        now = self._now()
        inputs = self._inputs()

        def generate(month: Period) -> list[Path]:
            document = build_report(inputs, month, "monthly", generated_at=self._now())
            return write_report(document, self._out, pdf=self._pdf)

        today = now.astimezone(inputs.settings.zone).date()
        ledger = self._ledger()
        generated = run_due_reports(ledger, generate, today=today, now=now)
        # A month that failed stays due: say so, so that the scheduler runs the job again
        # (its cron would only come back next month).
        owed = months_due(today, ledger.done_periods(MONTHLY))
        if owed:
            raise ReportsOwed([m.label_fr for m in generated], [m.label_fr for m in owed])
        return generated
