"""The service's scheduled jobs, added to its APScheduler by the composition root.

- the monthly report (:class:`reports.jobs.MonthlyReportJob`) on the 1st at 06:00, caught up
  at start-up;
- the daily maintenance at 03:30 (:class:`Maintenance`): callback requests past their time
  expire (their clear numbers go), then detailed records past the retention period are purged,
  their indicators kept as daily aggregates — computed by analytics with the indicators' own
  definitions, then handed to the store; then the figures of every past day still detailed are
  kept (:mod:`analytics.figures`: the day just over, the days written to since).

- the nightly audit of every path (``audit.nightly_at``, 02:30 by default; none if empty), and
  on the 1st at 06:15 the audit report of the month before (:class:`AuditMonthReport`).

Times are in the rules' time zone. A new job: a callable here, one ``add_job`` in
:func:`schedule_jobs`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from decroche.app import AppError

if TYPE_CHECKING:
    from analytics.aggregates import DailyAggregate
    from analytics.definitions import Parameters
    from audit.jobs import AuditJobs
    from decroche.app import App
    from telephony.records.retention import DailyStats

log = logging.getLogger(__name__)

CALLBACK_TTL = timedelta(days=30)  # a callback not made within a month is no longer owed


@dataclass(slots=True)
class PurgeResult:
    cutoff: datetime  # detailed calls started before this instant (UTC) were deleted
    aggregate_rows: int = 0
    calls_deleted: int = 0
    days: list[date] = field(default_factory=list)


@dataclass(slots=True)
class MaintenanceResult:
    callbacks_expired: int
    purge: PurgeResult


def stats_row(aggregate: DailyAggregate) -> DailyStats:
    """An aggregate of analytics as the store keeps it."""
    from telephony.records.retention import DailyStats

    counts = aggregate.counts
    return DailyStats(
        day=aggregate.day,
        service_id=aggregate.service,
        target_s=aggregate.parameters.target_s,
        short_abandon_s=aggregate.parameters.short_abandon_s,
        offered=counts.offered,
        answered=counts.answered,
        answered_within_target=counts.answered_within_target,
        abandoned=counts.abandoned,
        short_abandoned=counts.short_abandoned,
        overflowed=counts.overflowed,
        wait_answered_sum_s=counts.wait_answered_sum_s,
        wait_sum_s=aggregate.wait_sum_s,
        closed=counts.closed,
    )


class Maintenance:
    """Callable with no argument, as APScheduler wants; :meth:`purge` is ``decroche purge``."""

    def __init__(
        self,
        app: App,
        *,
        parameters: Parameters | None = None,
        callback_ttl: timedelta = CALLBACK_TTL,
    ) -> None:
        self._app = app
        self._parameters = parameters
        self._callback_ttl = callback_ttl

    def retention_cutoff(self, now: datetime) -> date:
        """The first local day whose detailed records are kept."""
        from telephony.records.retention import retention_cutoff

        today = now.astimezone(ZoneInfo(self._app.timezone)).date()
        return retention_cutoff(today, self._app.config.storage.retention_months)

    def purge(self, before: date, now: datetime) -> PurgeResult:
        """Delete the detailed records of calls started before local midnight of ``before``,
        after keeping the daily aggregates of every day they cover."""
        from telephony.records import retention

        app = self._app
        timezone = app.timezone
        cutoff = retention.local_midnight(before, timezone)
        if cutoff > now:
            raise AppError(
                f"la date de purge {before:%d/%m/%Y} est dans le futur : le détail d'appels "
                "pas encore terminés serait supprimé"
            )
        database = app.database()
        result = PurgeResult(cutoff=cutoff)
        span = retention.entries_span_before(database, cutoff)
        if span is not None:
            zone = ZoneInfo(timezone)
            first, last = (moment.astimezone(zone).date() for moment in span)
            # The days about to lose their entries keep their figures (analytics.figures): the
            # indicators of a purged period are still read from them.
            app.indicators().prepare(first, last)
            aggregates = app.indicators(self._parameters).daily_aggregates(first, last)
            rows = [stats_row(a) for a in aggregates]
            result.aggregate_rows = retention.write_daily_stats(database, rows, now=now)
            result.days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        result.calls_deleted = retention.delete_calls_before(database, cutoff)
        log.info(
            "purge before %s: %d call(s) deleted, %d aggregate row(s) kept",
            before.isoformat(),
            result.calls_deleted,
            result.aggregate_rows,
        )
        return result

    def run(self, now: datetime) -> MaintenanceResult:
        """Expire old callback requests, then purge past the retention period."""
        from telephony.records.retention import expire_callbacks

        if now.tzinfo is None:
            raise ValueError("the maintenance needs an aware 'now'")
        expired = expire_callbacks(self._app.database(), now - self._callback_ttl, now=now)
        cutoff = self.retention_cutoff(now)
        purged = self.purge(cutoff, now)
        # Every past day still detailed has its figures kept, so that the first page of the
        # morning reads a year from them (the store marks the days it writes to later).
        yesterday = now.astimezone(ZoneInfo(self._app.timezone)).date() - timedelta(days=1)
        if cutoff <= yesterday:
            self._app.indicators().prepare(cutoff, yesterday)
        return MaintenanceResult(callbacks_expired=expired, purge=purged)

    def __call__(self) -> None:
        self.run(datetime.now(UTC))


class AuditMonthReport:
    """The audit report of the month before (an APScheduler job, on the 1st)."""

    def __init__(self, app: App) -> None:
        self._app = app

    def __call__(self) -> None:
        today = datetime.now(UTC).astimezone(ZoneInfo(self._app.timezone)).date()
        last = today.replace(day=1) - timedelta(days=1)
        try:
            self._app.audit_report_writer().month_report(last.year, last.month)
        except Exception:  # the next month's report must still come
            log.exception("audit report of %s not written", f"{last:%Y-%m}")


class Retried:
    """A scheduled job run again after it failed — ``first_s`` later, then twice as long each
    time up to ``most_s`` — until it succeeds. APScheduler's own trigger would only come back at
    its next date: a month for the monthly report, a day for the maintenance."""

    def __init__(
        self,
        job: Callable[[], object],
        scheduler: Any,
        name: str,
        *,
        first_s: float = 300.0,
        most_s: float = 3600.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._job = job
        self._scheduler = scheduler
        self.name = name
        self._first_s = first_s
        self._most_s = most_s
        self._delay_s = first_s
        self._now = now

    def __call__(self) -> None:
        try:
            self._job()
        except Exception as exc:
            delay, self._delay_s = self._delay_s, min(self._most_s, self._delay_s * 2)
            log.error(
                "job %s failed (%s); next attempt in %d s", self.name, exc, delay, exc_info=exc
            )
            self._scheduler.add_job(
                self,
                "date",
                run_date=self._now() + timedelta(seconds=delay),
                id=f"{self.name}-retry",
                replace_existing=True,
                misfire_grace_time=None,
            )
            return
        self._delay_s = self._first_s


def schedule_jobs(app: App, scheduler: Any, audit: AuditJobs | None = None) -> None:
    """Add every job of the service to an APScheduler 3 scheduler, the monthly report's
    catch-up run included (so: once the database's tables exist — the service makes them as
    soon as it reaches the database; the jobs run no migration of their own); ``audit``: the
    service's audits. The monthly report and the maintenance, when they fail, are run again a
    few minutes later (:class:`Retried`)."""
    from reports.schedule import schedule_monthly_reports

    monthly = Retried(app.monthly_report_job(upgrade=False), scheduler, "monthly-report")
    schedule_monthly_reports(scheduler, monthly, timezone=app.timezone)
    scheduler.add_job(
        Retried(app.maintenance(), scheduler, "retention"),
        "cron",
        hour=3,
        minute=30,
        timezone=app.timezone,
        id="retention",
        replace_existing=True,
    )
    if audit is not None:
        nightly = app.config.audit.nightly_at
        if nightly:
            hour, minute = (int(part) for part in nightly.split(":"))
            scheduler.add_job(
                audit.nightly,
                "cron",
                hour=hour,
                minute=minute,
                timezone=app.timezone,
                id="audit-nightly",
                replace_existing=True,
            )
        scheduler.add_job(
            AuditMonthReport(app),
            "cron",
            day=1,
            hour=6,
            minute=15,
            timezone=app.timezone,
            id="audit-monthly-report",
            replace_existing=True,
        )
