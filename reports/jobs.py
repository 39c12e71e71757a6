"""The monthly report job the scheduler runs (and ``decroche report due``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from analytics.api import Indicators
from analytics.sources import DatabaseSource
from reports.documents import ReportSettings, build_report, write_report
from reports.periods import Period
from reports.schedule import ReportLedger, run_due_reports
from telephony.records.engine import Database


class MonthlyReportJob:
    """Callable with no argument, as APScheduler wants: generates every monthly report due."""

    def __init__(
        self,
        database: Database,
        out_dir: Path,
        *,
        town: str = "Ville de Bernay",
        indicators: Indicators | None = None,
        names: dict[str, str] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        timezone: str = "Europe/Paris",
        pdf: bool = True,
    ) -> None:
        self._database = database
        self._out = out_dir
        self._indicators = indicators or Indicators(DatabaseSource(database))
        self._settings = ReportSettings(town=town, timezone=timezone)
        self._names = names or {}
        self._now = now
        self._zone = ZoneInfo(timezone)
        self._pdf = pdf
        self._ledger = ReportLedger(database.engine)

    def _generate(self, month: Period) -> list[Path]:
        document = build_report(
            self._indicators,
            month,
            "monthly",
            database=self._database,
            names=self._names,
            settings=self._settings,
            generated_at=self._now(),
        )
        return write_report(document, self._out, pdf=self._pdf)

    def __call__(self) -> list[Period]:
        now = self._now()
        return run_due_reports(
            self._ledger, self._generate, today=now.astimezone(self._zone).date(), now=now
        )
