"""The monthly report job the scheduler runs (and ``decroche report due``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from analytics.api import Indicators
from reports.documents import ReportSettings, build_report, write_report
from reports.periods import Period
from reports.schedule import ReportLedger, run_due_reports
from telephony.records.engine import Database


class MonthlyReportJob:
    """Callable with no argument, as APScheduler wants: generates every monthly report due.

    ``indicators``, ``settings``, ``names`` and ``scales`` are asked at each run, so a report
    follows the rules in force that day (service names, time zone, survey scales).
    """

    def __init__(
        self,
        database: Database,
        out_dir: Path,
        *,
        indicators: Callable[[], Indicators],
        settings: Callable[[], ReportSettings],
        names: Callable[[], Mapping[str, str]],
        scales: Callable[[], Mapping[str, Any]],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        pdf: bool = True,
    ) -> None:
        self._database = database
        self._out = out_dir
        self._indicators = indicators
        self._settings = settings
        self._names = names
        self._scales = scales
        self._now = now
        self._pdf = pdf
        self._ledger = ReportLedger(database.engine)

    def _generate(self, month: Period) -> list[Path]:
        document = build_report(
            self._indicators(),
            month,
            "monthly",
            database=self._database,
            names=self._names(),
            scales=self._scales(),
            settings=self._settings(),
            generated_at=self._now(),
        )
        return write_report(document, self._out, pdf=self._pdf)

    def __call__(self) -> list[Period]:
        now = self._now()
        zone = ZoneInfo(self._settings().timezone)
        return run_due_reports(
            self._ledger, self._generate, today=now.astimezone(zone).date(), now=now
        )
