"""The service's audit jobs in APScheduler: every path each night at ``audit.nightly_at`` (none
when empty), and on the 1st at 06:15 the audit report of the month before, in the town's
time."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from audit.jobs import AuditJobs
from audit.results import Trigger
from audit.store import AuditStoreError
from decroche.app import App
from decroche.config import load_config
from decroche.jobs import AuditMonthReport, schedule_jobs

PARIS = ZoneInfo("Europe/Paris")
# Wednesday 14 October 2026, noon; the clocks go back on Sunday 25 October.
NOON = datetime(2026, 10, 14, 12, 0, tzinfo=PARIS)


class Audits:
    """What the scheduler is given of the service's audits: the nightly run."""

    async def nightly(self) -> None:
        raise AssertionError("not run here")


def jobs(tmp_path: Path, nightly_at: str | None) -> dict[str, Any]:
    config = load_config(None, environ={})
    config = config.model_copy(
        update={
            "data_dir": tmp_path,
            "audit": config.audit.model_copy(update={"nightly_at": nightly_at}),
        }
    )
    app = App(config)
    scheduler = BackgroundScheduler(timezone=PARIS)
    try:
        schedule_jobs(app, scheduler, Audits())  # type: ignore[arg-type]
        return {job.id: job for job in scheduler.get_jobs()}
    finally:
        app.close()


def fires(job: Any, after: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    previous = None
    now = after
    for _ in range(count):
        moment = job.trigger.get_next_fire_time(previous, now)
        found.append(moment.astimezone(PARIS))
        previous = now = moment
    return found


@pytest.mark.parametrize("at", ["02:30", "23:05"])
def test_every_night_at_the_configured_time_in_the_towns_time(tmp_path: Path, at: str) -> None:
    job = jobs(tmp_path, at)["audit-nightly"]
    assert job.func.__name__ == "nightly"
    hour, minute = (int(part) for part in at.split(":"))
    # Across the change of time: still at that hour on the town's clock, every night (at 02:30
    # twice the night the clocks go back: the nightly job then runs once, see below).
    nights = fires(job, datetime(2026, 10, 23, 12, 0, tzinfo=PARIS), 5)
    assert {n.date() for n in nights} >= {datetime(2026, 10, d).date() for d in (24, 25, 26, 27)}
    assert {(n.hour, n.minute) for n in nights} == {(hour, minute)}


def test_no_nightly_audit_when_its_time_is_empty(tmp_path: Path) -> None:
    found = jobs(tmp_path, None)
    assert "audit-nightly" not in found
    assert "audit-monthly-report" in found


def test_the_months_audit_report_on_the_first_at_quarter_past_six(tmp_path: Path) -> None:
    job = jobs(tmp_path, "02:30")["audit-monthly-report"]
    assert isinstance(job.func, AuditMonthReport)
    assert fires(job, NOON, 2) == [
        datetime(2026, 11, 1, 6, 15, tzinfo=PARIS),
        datetime(2026, 12, 1, 6, 15, tzinfo=PARIS),
    ]


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Runner:
    """An audit runner that only notes when it was asked to run, on a clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.clock = Clock(now)
        self.running = False
        self.runs: list[tuple[Trigger, datetime]] = []

    async def run(self, trigger: Trigger, **_: object) -> None:
        self.runs.append((trigger, self.clock.now()))


async def test_the_night_the_clocks_go_back_the_nightly_audit_runs_once() -> None:
    """At 02:30 the night of the last Sunday of October, the scheduler fires twice (02:30 summer
    time, then 02:30 winter time, an hour later): the second is no new audit."""
    first = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS).astimezone(UTC)
    runner = Runner(first)
    audits = AuditJobs(runner, store=None)  # type: ignore[arg-type]
    await audits.nightly()
    await audits.wait()
    runner.clock.at = first + timedelta(hours=1)
    assert runner.clock.at.astimezone(PARIS).hour == 2  # 02:30 again on the town's clock
    await audits.nightly()
    await asyncio.sleep(0)
    runner.clock.at = datetime(2026, 10, 26, 2, 30, tzinfo=PARIS).astimezone(UTC)
    await audits.nightly()
    await audits.wait()
    assert [at for _, at in runner.runs] == [first, runner.clock.at]
    assert {trigger for trigger, _ in runner.runs} == {Trigger.NIGHTLY}


class _Client:
    async def close(self) -> None:
        return None


class UnreachableStore:
    """An audit store on a database that does not answer: who reads it, from which thread."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def latest(self) -> None:
        self.threads.append(threading.get_ident())
        raise AuditStoreError("base des appels injoignable : délai dépassé")


async def test_healthz_and_metrics_never_wait_for_the_database_on_the_calls_loop() -> None:
    # /healthz and /metrics are scraped on the service's loop, the one the calls run on: the
    # last audit run is read in a thread (at start, every LATEST_EVERY_S, after each run), and
    # a scrape says what was read last, however slow or down the database is.
    runner = Runner(NOON)
    runner.rules = lambda: None  # type: ignore[attr-defined]
    runner.client = _Client()  # type: ignore[attr-defined]
    store = UnreachableStore()
    audits = AuditJobs(runner, store)  # type: ignore[arg-type]
    audits.start()
    try:
        await audits.refresh()
        read = len(store.threads)
        health = audits.health()
        lines = audits.metrics()
        assert len(store.threads) == read  # the scrape read nothing
        assert store.threads and threading.get_ident() not in store.threads
        assert health["unreadable"] == "base des appels injoignable : délai dépassé"
        assert "decroche_audit_ok 0" in lines
    finally:
        await audits.close()
