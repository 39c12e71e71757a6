"""The monthly report on the 1st at 06:00 (Europe/Paris), caught up after downtime, never twice.

APScheduler fires the job; what it does is decided by the ledger of generated reports (the
``generated_reports`` table): every month from the first one ever generated up to last month
that has no report yet is generated, oldest first. A month is *claimed* before it is generated
(primary key kind+period), so two processes, or a manual run and the scheduler, never both
produce it; a claim left by a crash expires after :data:`STALE_CLAIM`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from reports.periods import Period, month_period, months_between, previous_month
from reports.schema import generated_reports

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(hours=2)
MAX_CATCH_UP = 24  # months: beyond, someone has to look at it rather than a loop of reports
MONTHLY = "monthly"
ANNUAL = "annual"


@dataclass(frozen=True, slots=True)
class MadeReport:
    """A report of the ledger: ``done`` (else being made since ``at``), when, where, which
    version."""

    done: bool
    at: datetime
    files: tuple[Path, ...]
    version: int


class ReportLedger:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, kind: str, period: str, *, now: datetime) -> bool:
        """True if this caller now owns the generation of ``kind``/``period``."""
        g = generated_reports.c
        with self._engine.begin() as conn:
            conn.execute(
                delete(generated_reports).where(
                    and_(
                        g.kind == kind,
                        g.period == period,
                        g.status == "running",
                        g.claimed_at < now - STALE_CLAIM,
                    )
                )
            )
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(generated_reports).values(
                        kind=kind, period=period, status="running", claimed_at=now, files=""
                    )
                )
        except IntegrityError:
            return False
        return True

    def done(
        self, kind: str, period: str, files: list[Path], *, now: datetime, version: int = 1
    ) -> None:
        g = generated_reports.c
        with self._engine.begin() as conn:
            conn.execute(
                update(generated_reports)
                .where(and_(g.kind == kind, g.period == period))
                .values(
                    status="done",
                    finished_at=now,
                    files=";".join(str(f) for f in files),
                    version=version,
                )
            )

    def next_version(self, kind: str, period: str) -> int:
        """The version of the document about to be made: 1 the first time, one more each time
        it is made again (``--force``)."""
        g = generated_reports.c
        with self._engine.connect() as conn:
            row = conn.execute(
                select(g.version).where(
                    and_(g.kind == kind, g.period == period, g.status == "done")
                )
            ).first()
        return 1 if row is None else int(row[0]) + 1

    def release(self, kind: str, period: str) -> None:
        g = generated_reports.c
        with self._engine.begin() as conn:
            conn.execute(
                delete(generated_reports).where(
                    and_(g.kind == kind, g.period == period, g.status == "running")
                )
            )

    def made(self, kind: str, period: str) -> MadeReport | None:
        """What the ledger holds of ``kind``/``period``: being made, or made (its version, when,
        its files); None if neither."""
        g = generated_reports.c
        with self._engine.connect() as conn:
            row = conn.execute(
                select(g.status, g.claimed_at, g.finished_at, g.files, g.version).where(
                    and_(g.kind == kind, g.period == period)
                )
            ).first()
        if row is None:
            return None
        files = tuple(Path(f) for f in row.files.split(";") if f)
        return MadeReport(
            row.status == "done", row.finished_at or row.claimed_at, files, row.version
        )

    def done_periods(self, kind: str) -> set[str]:
        g = generated_reports.c
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(g.period).where(and_(g.kind == kind, g.status == "done"))
            ).all()
        return {row[0] for row in rows}


def months_due(today: date, done: set[str]) -> list[Period]:
    """Months whose monthly report is owed on ``today`` (local date): last month, and every
    month since the first report ever generated that has none. Oldest first."""
    last = previous_month(today)
    if not done:
        return [last]
    first = month_period(min(done))
    months = [m for m in months_between(first, last) if m.month_key not in done]
    return months[-MAX_CATCH_UP:]


def run_due_reports(
    ledger: ReportLedger,
    generate: Callable[[Period], list[Path]],
    *,
    today: date,
    now: datetime,
) -> list[Period]:
    """Generate every monthly report due; returns the months generated by this call."""
    generated: list[Period] = []
    for month in months_due(today, ledger.done_periods(MONTHLY)):
        if not ledger.claim(MONTHLY, month.month_key, now=now):
            log.info("monthly report %s is being generated elsewhere", month.month_key)
            continue
        try:
            files = generate(month)
        except Exception:
            ledger.release(MONTHLY, month.month_key)
            log.exception("monthly report %s failed; it will be retried", month.month_key)
            continue
        ledger.done(MONTHLY, month.month_key, files, now=now)
        generated.append(month)
    return generated


def monthly_trigger(timezone: str = "Europe/Paris") -> Any:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(day=1, hour=6, minute=0, timezone=timezone)


def schedule_monthly_reports(
    scheduler: Any, job: Callable[[], object], timezone: str = "Europe/Paris"
) -> None:
    """Add the monthly job to an APScheduler 3 scheduler, and one run at start-up that catches
    up what was missed while the service was down (the ledger makes it a no-op otherwise)."""
    scheduler.add_job(
        job,
        monthly_trigger(timezone),
        id="monthly-report",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )
    scheduler.add_job(job, id="monthly-report-catch-up", max_instances=1, replace_existing=True)
