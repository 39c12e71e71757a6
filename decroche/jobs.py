"""The service's scheduled jobs, added to its APScheduler by the composition root.

- the monthly report (:class:`reports.jobs.MonthlyReportJob`) on the 1st at 06:00, caught up
  at start-up;
- the daily maintenance at 03:30: callback requests past their time expire (their clear numbers
  go), then detailed records past the retention period are purged, their indicators kept as
  daily aggregates.

Times are in the rules' time zone.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from decroche.app import App
    from telephony.records.retention import AggregateParameters, MaintenanceResult, PurgeResult

log = logging.getLogger(__name__)


class Maintenance:
    """Callable with no argument, as APScheduler wants."""

    def __init__(self, app: App) -> None:
        self._app = app

    def _parameters(self) -> AggregateParameters:
        from telephony.records.retention import AggregateParameters

        parameters = self._app.parameters()
        return AggregateParameters(
            target_s=parameters.target_s,
            short_abandon_s=parameters.short_abandon_s,
            timezone=parameters.timezone,
        )

    def retention_cutoff(self, now: datetime) -> date:
        """The first local day whose detailed records are kept."""
        from telephony.records.retention import retention_cutoff

        today = now.astimezone(ZoneInfo(self._app.timezone)).date()
        return retention_cutoff(today, self._app.config.storage.retention_months)

    def purge(self, before: date, now: datetime) -> PurgeResult:
        """Detailed records of calls before ``before`` deleted, their indicators kept."""
        from telephony.records.retention import purge

        return purge(self._app.database(), before, now=now, params=self._parameters())

    def run(self, now: datetime) -> MaintenanceResult:
        from telephony.records.retention import daily_maintenance

        app = self._app
        return daily_maintenance(
            app.database(),
            now=now,
            retention_months=app.config.storage.retention_months,
            params=self._parameters(),
        )

    def __call__(self) -> None:
        self.run(datetime.now(UTC))


def schedule_jobs(app: App, scheduler: Any) -> None:
    """Add every job of the service to an APScheduler 3 scheduler."""
    from reports.schedule import schedule_monthly_reports

    schedule_monthly_reports(scheduler, app.monthly_report_job(), timezone=app.timezone)
    scheduler.add_job(
        app.maintenance(),
        "cron",
        hour=3,
        minute=30,
        timezone=app.timezone,
        id="retention",
        replace_existing=True,
    )
