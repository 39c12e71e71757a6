"""Indicators read from the database, end to end: ``decroche indicators`` beside DuckDB reading
the same tables and one plain SQL query of the same definitions, on PostgreSQL and on SQLite.

Each database is filled with a year of generated calls through SQL (:mod:`bench.fill`), then,
in one run, ``BENCH_DB_ROUNDS`` rounds (default 3) of, interleaved (the machine is shared: every
figure is measured beside the others, and the load average is printed with them):

- ``decroche indicators --db URL`` for the year and for March, as a person types it (a new
  process each time, imports included): with the days' figures kept (as after the nightly
  maintenance), and with none kept (the first reading after the upgrade: it computes and keeps
  them; the month likewise); the checked rules kept in the bench's cache (``cache_dir``), and
  for the month also with an empty cache (the rules file checked: what a command paid before
  the cache, and after each change of the rules);
- the year with other thresholds (``--rings 4``): every day computed from the entries, a month
  of entries in memory at a time — the bound on memory;
- DuckDB reading the same tables (its postgres and sqlite extensions, from PyPI:
  ``make bench-duckdb``) computing the same definitions (:mod:`bench.reference_sql`), timed in
  its process from connecting to the result;
- one plain SQL query of the same definitions in the database itself;
- the dashboard's year view over HTTP (``/tableau-de-bord?du=…&au=…``), as the service builds
  it (the rules' survey included): ``BENCH_DB_REQUESTS`` requests per round (default 10).

It prints the median wall time, the CPU time and the peak memory (max RSS) of each, the ratios
to DuckDB, and checks that the three compute the same figures. Targets: the year within 1×
DuckDB, peak memory under 1 GB, a month under 0.5 s end to end, the dashboard's year view under
300 ms p95.

Sizes: ``BENCH_DB_PG_CALLS`` (default 1,000,000), ``BENCH_DB_SQLITE_CALLS`` (default
1,000,000); ``BENCH_DB_FULL=1`` sets PostgreSQL to the issue's 5,000,000. PostgreSQL is
``DECROCHE_TEST_PG_URL``'s cluster (a database of its own), or a throwaway one started with
``tools/with-postgres`` for this benchmark.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DUCKDB = ROOT / "build" / "bench-duckdb"
YEAR = (date(2025, 1, 1), date(2025, 12, 31))
MONTH = (date(2025, 3, 1), date(2025, 3, 31))
COUNTS = ("offered", "answered", "answered_within_target", "abandoned", "short_abandoned")
COUNTS += ("overflowed",)
TARGET_MONTH_S = 0.5
TARGET_P95_S = 0.300
TARGET_RSS_MB = 1024


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    out: str


@dataclass
class Series:
    runs: list[Run] = field(default_factory=list)

    def median(self, what: str) -> float:
        return statistics.median(getattr(r, what) for r in self.runs)

    def peak(self) -> float:
        return max(r.rss_mb for r in self.runs)


def run(cmd: list[str], env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to its end: its wall time, CPU time and peak memory (its own, from wait4)."""
    with tempfile.TemporaryFile("w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
        assert process.stdout is not None
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(cmd[:4])}… failed:\n{errors.read()[-3000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out)


def decroche_figures(out: str) -> dict[str, list[int]]:
    document = json.loads(out)
    figures = {name: [v[k] for k in COUNTS] for name, v in document["services"].items()}
    figures["total"] = [document["total"][k] for k in COUNTS]
    return figures


def reference_figures(out: str) -> tuple[float, dict[str, list[int]]]:
    document = json.loads(out.strip().splitlines()[-1])
    return document["seconds"], document["figures"]


@dataclass
class Backend:
    name: str
    url: str  # SQLAlchemy URL, for decroche
    reference: str  # what the SQL and DuckDB references connect to
    duckdb_kind: str
    sql_kind: str
    calls: int


def _forget_figures(url: str, first: date | None = None, last: date | None = None) -> None:
    """Forget the kept days' figures (all, or those of ``first``..``last``)."""
    from telephony.records import schema as t
    from telephony.records.engine import open_store

    database = open_store(url)
    try:
        table = t.daily_figures
        statement = table.delete()
        if first is not None and last is not None:
            statement = statement.where(table.c.day >= first, table.c.day <= last)
        with database.engine.begin() as conn:
            conn.execute(statement)
    finally:
        database.dispose()


def _bench(backend: Backend, rounds: int, requests: int) -> bool:
    decroche = [sys.executable, "-m", "decroche", "indicators", "--db", backend.url, "--json"]

    def period(first: date, last: date) -> list[str]:
        return ["--from", str(first), "--to", str(last)]

    reference = [sys.executable, str(ROOT / "bench" / "reference_sql.py")]
    duck = [str(DUCKDB / "bin" / "python"), str(ROOT / "bench" / "reference_sql.py")]
    sqlite_env = {**os.environ, "TZ": "Europe/Paris"}  # SQLite's local days
    # The commands keep the checked rules in a cache of the bench's (the first run fills it), as
    # IT's commands do in cache_dir; "rules checked" runs with an empty one each time.
    caches = tempfile.TemporaryDirectory(prefix="bench-cache-")
    kept = {**os.environ, "XDG_CACHE_HOME": f"{caches.name}/kept"}
    kept.pop("CACHE_DIRECTORY", None)

    def empty_cache() -> dict[str, str]:
        return {**kept, "XDG_CACHE_HOME": tempfile.mkdtemp(dir=caches.name)}

    series: dict[str, Series] = {}
    figures: dict[str, dict[str, list[int]]] = {}
    pages: list[float] = []
    first_page: list[float] = []
    loads = [os.getloadavg()]

    def measure(label: str, cmd: list[str], env: dict[str, str] | None = None) -> Run:
        result = run(cmd, env or kept)
        series.setdefault(label, Series()).runs.append(result)
        return result

    for _ in range(rounds):
        _forget_figures(backend.url)
        cold = measure("year, no day kept (first reading)", [*decroche, *period(*YEAR)])
        figures["decroche year"] = decroche_figures(cold.out)
        warm = measure("year, days kept", [*decroche, *period(*YEAR)])
        assert decroche_figures(warm.out) == figures["decroche year"]
        month = measure("month, days kept", [*decroche, *period(*MONTH)])
        figures["decroche month"] = decroche_figures(month.out)
        checked = measure(
            "month, days kept, rules checked", [*decroche, *period(*MONTH)], empty_cache()
        )
        assert decroche_figures(checked.out) == figures["decroche month"]
        _forget_figures(backend.url, *MONTH)
        measure("month, no day kept", [*decroche, *period(*MONTH)])
        other = measure(
            "year, --rings 4 (from the entries)", [*decroche, *period(*YEAR), "--rings", "4"]
        )
        assert decroche_figures(other.out)["total"][0] == figures["decroche year"]["total"][0]
        for label, (first, last) in (("year", YEAR), ("month", MONTH)):
            extensions = str(DUCKDB / "extensions")
            result = measure(
                f"DuckDB {label}",
                [*duck, backend.duckdb_kind, backend.reference, str(first), str(last), extensions],
            )
            seconds, figures[f"DuckDB {label}"] = reference_figures(result.out)
            series[f"DuckDB {label}"].runs[-1].wall = seconds  # its query, not its start
            result = measure(
                f"plain SQL {label}",
                [*reference, backend.sql_kind, backend.reference, str(first), str(last)],
                sqlite_env,
            )
            seconds, figures[f"SQL {label}"] = reference_figures(result.out)
            series[f"plain SQL {label}"].runs[-1].wall = seconds
        page = run(
            [
                sys.executable,
                "-m",
                "bench.bench_database",
                "--dashboard",
                backend.url,
                str(requests),
            ]
        )
        times = json.loads(page.out.strip().splitlines()[-1])
        first_page.append(times[0])
        pages.extend(times[1:])
        series.setdefault("dashboard process", Series()).runs.append(page)
        loads.append(os.getloadavg())

    same_year = figures["decroche year"] == figures["DuckDB year"] == figures["SQL year"]
    same_month = figures["decroche month"] == figures["DuckDB month"] == figures["SQL month"]
    duck_year = series["DuckDB year"].median("wall")
    duck_month = series["DuckDB month"].median("wall")
    print(
        f"{backend.name}, {backend.calls:,} calls over 2025 — {rounds} round(s), medians; "
        f"load average (1, 5, 15 min) at start {_load(loads[0])}, at end {_load(loads[-1])}"
    )
    print(f"  {'':44s} {'wall':>8s} {'CPU':>8s} {'peak RSS':>9s}  vs DuckDB")
    for label, measured in series.items():
        if label == "dashboard process":
            continue
        against = duck_month if "month" in label else duck_year
        wall = measured.median("wall")
        print(
            f"  {label:44s} {wall:7.2f}s {measured.median('cpu'):7.2f}s "
            f"{measured.peak():7.0f}MB  {wall / against:6.2f}x"
        )
    p50 = statistics.median(pages)
    p95 = sorted(pages)[min(len(pages) - 1, round(0.95 * (len(pages) - 1)))]
    print(
        f"  dashboard year view over HTTP: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
        f"({len(pages)} requests; the first of each round, days just kept: "
        f"{statistics.median(first_page) * 1000:.0f} ms); process peak RSS "
        f"{series['dashboard process'].peak():.0f} MB"
    )
    caches.cleanup()
    year_ratio = series["year, days kept"].median("wall") / duck_year
    month_s = series["month, days kept"].median("wall")
    peak = max(s.peak() for label, s in series.items() if not label.startswith(("DuckDB", "plain")))
    print(f"  same figures as DuckDB and SQL: year {same_year}, month {same_month}")
    print(
        f"  targets: year {year_ratio:.2f}x DuckDB (<= 1), month {month_s:.2f} s (< "
        f"{TARGET_MONTH_S}), peak {peak:.0f} MB (< {TARGET_RSS_MB}), dashboard p95 "
        f"{p95 * 1000:.0f} ms (< {TARGET_P95_S * 1000:.0f})"
    )
    return (
        same_year
        and same_month
        and year_ratio <= 1.0
        and month_s < TARGET_MONTH_S
        and peak < TARGET_RSS_MB
        and p95 < TARGET_P95_S
    )


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.1f}" for v in values)


def _dashboard(url: str, requests: int) -> list[float]:
    """Times of ``requests`` GETs of the dashboard's year view, as ``decroche serve`` builds it
    (the composition root's web deps: the rules' names and survey)."""
    import asyncio
    from datetime import UTC, datetime

    from aiohttp.test_utils import TestClient, TestServer

    from decroche.app import App
    from decroche.config import Config
    from reports.accounts import AccountStore, Role, upgrade_web_schema
    from reports.live import InMemoryLiveFeed
    from reports.web.app import create_app

    password = "mot-de-passe-du-banc"
    with tempfile.TemporaryDirectory() as tmp:
        app = App(Config(data_dir=Path(tmp)), database_url=url)
        upgrade_web_schema(app.database().engine)
        deps = app.web_deps(None, InMemoryLiveFeed())
        accounts = AccountStore(app.database().engine, deps.auth)
        login = f"banc{uuid.uuid4().hex[:8]}"
        accounts.add_user(login, password, Role.QUALITY, now=datetime.now(UTC))

        async def times() -> list[float]:
            client = TestClient(TestServer(create_app(deps)))
            await client.start_server()
            try:
                html = await (await client.get("/connexion")).text()
                token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                await client.post(
                    "/connexion", data={"csrf": token, "login": login, "password": password}
                )
                found = []
                for _ in range(requests + 1):
                    started = time.perf_counter()
                    response = await client.get(f"/tableau-de-bord?du={YEAR[0]}&au={YEAR[1]}")
                    body = await response.read()
                    found.append(time.perf_counter() - started)
                    assert response.status == 200 and b"data-indicator" in body, body[:500]
                return found
            finally:
                await client.close()

        try:
            return asyncio.run(times())
        finally:
            app.close()


def _fill(url: str, calls: int) -> float:
    from bench.fill import fill
    from telephony.records.engine import open_store

    database = open_store(url)
    try:
        return fill(database, calls)
    finally:
        database.dispose()


def _sqlite(rounds: int, requests: int) -> bool:
    calls = int(os.environ.get("BENCH_DB_SQLITE_CALLS", "1000000"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.db"
        url = f"sqlite:///{path}"
        seconds = _fill(url, calls)
        print(f"SQLite: {calls:,} calls filled through SQL in {seconds:.0f} s")
        backend = Backend("SQLite", url, str(path), "duckdb-sqlite", "sqlite", calls)
        return _bench(backend, rounds, requests)


def _postgresql(rounds: int, requests: int) -> bool:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from telephony.records.engine import create_store_engine

    full = os.environ.get("BENCH_DB_FULL") == "1"
    calls = int(os.environ.get("BENCH_DB_PG_CALLS", "5000000" if full else "1000000"))
    server = os.environ["DECROCHE_TEST_PG_URL"]
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_store_engine(server)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server).set(database=name)
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        sqlalchemy_url = url.render_as_string(hide_password=False)
        seconds = _fill(sqlalchemy_url, calls)
        print(f"PostgreSQL: {calls:,} calls filled through SQL in {seconds:.0f} s")
        backend = Backend("PostgreSQL", sqlalchemy_url, plain, "duckdb-postgres", "postgres", calls)
        return _bench(backend, rounds, requests)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> bool:
    if not (DUCKDB / ".installed").exists():
        print("DuckDB's virtualenv is missing: make bench-duckdb (make bench makes it)")
        return False
    rounds = int(os.environ.get("BENCH_DB_ROUNDS", "3"))
    requests = int(os.environ.get("BENCH_DB_REQUESTS", "10"))
    ok = _sqlite(rounds, requests)
    if os.environ.get("DECROCHE_TEST_PG_URL"):
        ok &= _postgresql(rounds, requests)
    else:  # a throwaway PostgreSQL for this benchmark alone
        done = subprocess.run(
            [
                str(ROOT / "tools" / "with-postgres"),
                sys.executable,
                "-m",
                "bench.bench_database",
                "--postgresql",
            ],
            cwd=ROOT,
        )
        ok &= done.returncode == 0
    return ok


if __name__ == "__main__":
    if sys.argv[1:2] == ["--dashboard"]:
        print(json.dumps(_dashboard(sys.argv[2], int(sys.argv[3]))))
    elif sys.argv[1:2] == ["--postgresql"]:
        rounds = int(os.environ.get("BENCH_DB_ROUNDS", "3"))
        requests = int(os.environ.get("BENCH_DB_REQUESTS", "10"))
        sys.exit(0 if _postgresql(rounds, requests) else 1)
    else:
        sys.exit(0 if main() else 1)
