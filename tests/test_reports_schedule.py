"""Monthly reports: due months, catch-up after downtime, never twice; the APScheduler trigger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from decroche.app import App
from decroche.config import Config
from reports.accounts import upgrade_web_schema
from reports.periods import Period, month_period
from reports.schedule import (
    MONTHLY,
    STALE_CLAIM,
    ReportLedger,
    monthly_trigger,
    months_due,
    run_due_reports,
    schedule_monthly_reports,
)
from telephony.records.testing import fill, temporary_database, town_calls
from tests.conftest import BACKENDS, pg_url

NOW = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def ledger(request, tmp_path: Path) -> ReportLedger:
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        upgrade_web_schema(database.engine)
        yield ReportLedger(database.engine)


def keys(periods: list[Period]) -> list[str]:
    return [p.month_key for p in periods]


@pytest.mark.parametrize(
    ("today", "done", "due"),
    [
        (date(2026, 11, 1), set(), ["2026-10"]),
        (date(2026, 11, 1), {"2026-10"}, []),
        (date(2026, 11, 1), {"2026-07"}, ["2026-08", "2026-09", "2026-10"]),
        (date(2026, 11, 1), {"2026-07", "2026-09"}, ["2026-08", "2026-10"]),
        (date(2027, 1, 15), {"2026-11"}, ["2026-12"]),
        (date(2026, 10, 31), {"2026-09"}, []),
    ],
)
def test_months_due(today: date, done: set[str], due: list[str]) -> None:
    assert keys(months_due(today, done)) == due


def test_catch_up_is_bounded() -> None:
    assert len(months_due(date(2030, 1, 1), {"2020-01"})) == 24


def test_claim_is_exclusive_until_released_or_stale(ledger: ReportLedger) -> None:
    assert ledger.claim(MONTHLY, "2026-10", now=NOW)
    assert not ledger.claim(MONTHLY, "2026-10", now=NOW)
    ledger.release(MONTHLY, "2026-10")
    assert ledger.claim(MONTHLY, "2026-10", now=NOW)
    # A claim left by a crashed run is taken over once it is stale...
    assert ledger.claim(MONTHLY, "2026-10", now=NOW + STALE_CLAIM + timedelta(seconds=1))
    ledger.done(MONTHLY, "2026-10", [Path("a.pdf")], now=NOW)
    # ...but a finished report is never claimed again.
    assert not ledger.claim(MONTHLY, "2026-10", now=NOW + timedelta(days=40))
    assert ledger.done_periods(MONTHLY) == {"2026-10"}


def test_what_the_ledger_says_of_a_report_and_the_refusal_that_tells_it(
    ledger: ReportLedger,
) -> None:
    from zoneinfo import ZoneInfo

    from decroche.app import ReportAlreadyMade

    paris = ZoneInfo("Europe/Paris")
    assert ledger.made(MONTHLY, "2026-10") is None
    assert ledger.claim(MONTHLY, "2026-10", now=NOW)
    running = ledger.made(MONTHLY, "2026-10")
    assert running is not None and not running.done and running.at == NOW
    assert str(ReportAlreadyMade(MONTHLY, "2026-10", running, paris)) == (
        "le bilan mensuel 2026-10 est en cours de production (commencé le 01/11/2026 à 06:00)"
    )
    files = [Path("/srv/rapports/bilan-mensuel-2026-10.html"), Path("/srv/rapports/b.pdf")]
    ledger.done(MONTHLY, "2026-10", files, now=NOW + timedelta(minutes=3), version=2)
    made = ledger.made(MONTHLY, "2026-10")
    assert made is not None and made.done and made.version == 2
    assert made.files == tuple(files)
    # The PDF is the one shown, in local time (Paris: UTC+1 in November).
    refused = ReportAlreadyMade(MONTHLY, "2026-10", made, paris)
    assert str(refused) == (
        "le bilan mensuel 2026-10 est déjà produit (version 2 du 01/11/2026 à 06:03 : "
        "/srv/rapports/b.pdf)"
    )
    # For a page, which lists the files itself: not their place on the server.
    assert (
        refused.said
        == "le bilan mensuel 2026-10 est déjà produit (version 2 du 01/11/2026 à 06:03)"
    )
    assert str(ReportAlreadyMade("annual", "2026", None, paris)) == (
        "le bilan annuel 2026 est déjà produit ou en cours"
    )


def test_run_due_reports_catches_up_once_and_retries_failures(ledger: ReportLedger) -> None:
    ledger.claim(MONTHLY, "2026-07", now=NOW)
    ledger.done(MONTHLY, "2026-07", [], now=NOW)
    calls: list[str] = []

    def generate(month: Period) -> list[Path]:
        calls.append(month.month_key)
        if month.month_key == "2026-09" and calls.count("2026-09") == 1:
            raise OSError("disk full")
        return [Path(f"{month.month_key}.pdf")]

    first = run_due_reports(ledger, generate, today=date(2026, 11, 1), now=NOW)
    assert keys(first) == ["2026-08", "2026-10"]
    second = run_due_reports(ledger, generate, today=date(2026, 11, 1), now=NOW)
    assert keys(second) == ["2026-09"]
    assert run_due_reports(ledger, generate, today=date(2026, 11, 2), now=NOW) == []
    assert calls == ["2026-08", "2026-09", "2026-10", "2026-09"]


def test_monthly_job_writes_last_months_report_once(tmp_path: Path) -> None:
    with temporary_database("sqlite", tmp_path) as database:
        upgrade_web_schema(database.engine)
        fill(database, town_calls(date(2026, 10, 1), 31, 2))
        app = App(Config(data_dir=tmp_path / "data"), database_url=database.url)
        job = app.monthly_report_job(tmp_path / "out", now=lambda: NOW, pdf=False)
        assert keys(job()) == ["2026-10"]
        assert job() == []
        assert (tmp_path / "out" / "bilan-mensuel-2026-10.html").is_file()
        app.close()


def test_trigger_fires_on_the_first_at_six_paris_time_across_dst() -> None:
    trigger = monthly_trigger()
    start = datetime(2026, 9, 15, tzinfo=UTC)
    fires = []
    previous = None
    now = start
    for _ in range(3):
        moment = trigger.get_next_fire_time(previous, now)
        fires.append(moment)
        previous, now = moment, moment + timedelta(seconds=1)
    assert [f.astimezone(UTC) for f in fires] == [
        datetime(2026, 10, 1, 4, 0, tzinfo=UTC),  # summer time: 06:00 = 04:00 UTC
        datetime(2026, 11, 1, 5, 0, tzinfo=UTC),  # winter time: 06:00 = 05:00 UTC
        datetime(2026, 12, 1, 5, 0, tzinfo=UTC),
    ]


def test_scheduler_gets_the_monthly_job_and_a_catch_up_run() -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="Europe/Paris")
    schedule_monthly_reports(scheduler, lambda: None)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"monthly-report", "monthly-report-catch-up"}
    monthly = jobs["monthly-report"]
    assert monthly.coalesce is True and monthly.max_instances == 1
    assert monthly.misfire_grace_time is None
    assert month_period("2026-10").is_month


class Scheduler:
    """What :class:`decroche.jobs.Retried` asks of APScheduler: its one-off runs, noted."""

    def __init__(self) -> None:
        self.added: list[dict[str, object]] = []

    def add_job(self, job: object, trigger: str, **options: object) -> None:
        self.added.append({"job": job, "trigger": trigger, **options})


def test_the_catch_up_on_a_fresh_database_is_retried_until_it_works(tmp_path: Path) -> None:
    """Issue 19, point 7: run before the reports' ledger exists (a database that was down at
    start), the catch-up failed ("no such table: generated_reports") and was dropped until the
    next month. It is now run again a few minutes later, longer each time, until it works."""
    from decroche.jobs import Retried

    with temporary_database("sqlite", tmp_path) as database:
        fill(database, town_calls(date(2026, 10, 1), 31, 2))
        app = App(Config(data_dir=tmp_path / "data"), database_url=database.url)
        job = app.monthly_report_job(tmp_path / "out", now=lambda: NOW, pdf=False, upgrade=False)
        scheduler = Scheduler()
        retried = Retried(job, scheduler, "monthly-report", now=lambda: NOW)
        retried()  # no table yet
        retried()
        assert [(a["trigger"], a["run_date"], a["id"]) for a in scheduler.added] == [
            ("date", NOW + timedelta(minutes=5), "monthly-report-retry"),
            ("date", NOW + timedelta(minutes=10), "monthly-report-retry"),
        ]
        assert scheduler.added[0]["job"] is retried
        upgrade_web_schema(database.engine)  # the service reached its database
        retried()
        assert len(scheduler.added) == 2  # done: nothing more to run
        assert (tmp_path / "out" / "bilan-mensuel-2026-10.html").is_file()
        app.close()


def test_a_month_that_could_not_be_written_is_owed_and_said(tmp_path: Path) -> None:
    """A report that fails (here: its folder cannot be made) leaves the job in error, so that it is
    run again; the command says which month, in French, and exits 1."""
    from click.testing import CliRunner

    from decroche.cli import main
    from reports.errors import ReportsOwed

    wall = tmp_path / "bilans"
    wall.write_text("un fichier, pas un dossier", encoding="utf-8")
    blocked = wall / "2026"
    with temporary_database("sqlite", tmp_path) as database:
        upgrade_web_schema(database.engine)
        fill(database, town_calls(date(2026, 10, 1), 31, 2))
        app = App(Config(data_dir=tmp_path / "data"), database_url=database.url)
        job = app.monthly_report_job(blocked, now=lambda: NOW, pdf=False)
        with pytest.raises(ReportsOwed) as raised:
            job()
        assert raised.value.owed == ["octobre 2026"]
        assert str(raised.value) == (
            "le bilan mensuel d’octobre 2026 n'a pas pu être produit (voir le journal du "
            "service) ; nouvel essai plus tard"
        )
        app.close()
        result = CliRunner().invoke(
            main, ["report", "due", "--db", database.url, "--out", str(blocked)]
        )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Erreur : le bilan mensuel d")
