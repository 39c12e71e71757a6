"""The dashboard page and the reports on a month of a 100,000-calls-a-year town.

Fills a SQLite call records database with two months of generated calls (~400 calls a working
day: 100,000 a year; the dashboard compares with the previous month), then times:

- the dashboard page over HTTP (sign-in done, ``GET /tableau-de-bord?mois=...``): p50 and p95 of
  ``BENCH_WEB_REQUESTS`` requests (default 30). Target: p95 < 300 ms.
- the reference, in the same process: ``Indicators.dashboard`` alone (what the page cannot be
  faster than), so the ratio shows what the page adds;
- the monthly report (HTML, then PDF) and the annual review (HTML).

``BENCH_WEB_PER_DAY`` sets the calls per working day (default 400).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

TARGET_P95_S = 0.300


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _page_times(deps, requests: int) -> list[float]:
    from aiohttp.test_utils import TestClient, TestServer

    from decroche.testing import PASSWORD
    from reports.web.app import create_app

    client = TestClient(TestServer(create_app(deps)))
    await client.start_server()
    try:
        page = await client.get("/connexion")
        html = await page.text()
        token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        await client.post(
            "/connexion", data={"csrf": token, "login": "qualite", "password": PASSWORD}
        )
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = await client.get("/tableau-de-bord?mois=2026-10")
            body = await response.read()
            times.append(time.perf_counter() - started)
            assert response.status == 200 and b"data-indicator" in body
        return times
    finally:
        await client.close()


def main() -> bool:
    from decroche.testing import indicators_of, web_deps
    from reports.documents import ReportInputs, ReportSettings, build_report, render_pdf
    from reports.periods import month_period, year_period
    from telephony.records.engine import open_store
    from telephony.records.testing import fill, town_calls

    per_day = int(os.environ.get("BENCH_WEB_PER_DAY", "400"))
    requests = int(os.environ.get("BENCH_WEB_REQUESTS", "30"))
    now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        database = open_store(f"sqlite:///{(Path(tmp) / 'records.db').as_posix()}")
        started = time.perf_counter()
        records = list(town_calls(date(2026, 9, 1), 61, per_day))
        store = fill(database, iter(records))
        print(f"filled {len(records):,} calls (2 months) in {time.perf_counter() - started:.1f} s")
        month = month_period("2026-10")
        indicators = indicators_of(database)
        reference = []
        for _ in range(max(5, requests // 3)):
            started = time.perf_counter()
            indicators.dashboard(month.start, month.end)
            reference.append(time.perf_counter() - started)
        deps = web_deps(database, store, now=now)
        times = asyncio.run(_page_times(deps, requests))
        p50, p95 = statistics.median(times), _percentile(times, 0.95)
        ref = statistics.median(reference)
        print(
            f"dashboard page: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
            f"(target p95 < {TARGET_P95_S * 1000:.0f} ms) over {requests} requests"
        )
        print(
            f"reference Indicators.dashboard alone: median {ref * 1000:.0f} ms; "
            f"page / reference = {p50 / ref:.2f}x"
        )
        started = time.perf_counter()
        inputs = ReportInputs(indicators, {}, ReportSettings())
        document = build_report(inputs, month, "monthly", generated_at=now)
        html_s = time.perf_counter() - started
        started = time.perf_counter()
        pdf = render_pdf(document)
        pdf_s = time.perf_counter() - started
        started = time.perf_counter()
        build_report(inputs, year_period(2026), "annual", generated_at=now)
        annual_s = time.perf_counter() - started
        print(
            f"monthly report: HTML {html_s:.2f} s, PDF {pdf_s:.2f} s ({len(pdf) // 1024} KiB); "
            f"annual review HTML {annual_s:.2f} s"
        )
        database.dispose()
    ok = p95 < TARGET_P95_S
    print("dashboard target met" if ok else "dashboard target MISSED")
    return ok
