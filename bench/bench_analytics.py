"""Monthly indicators over 10 million generated calls: decroche's engine beside DuckDB.

Both compute, for every month of a year and every service, the counts of
:mod:`analytics.definitions` (per-entry counts per service, and the total counting each call
once from its first to its last entry), with local (Europe/Paris) dates. Each engine runs in its
own process so that its peak memory (max RSS) is its own. Targets: no slower than 2x DuckDB,
peak memory under 3 GB.

``BENCH_ANALYTICS_CALLS`` sets the number of calls (default 10,000,000).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from datetime import date

import numpy as np

from analytics.frame import EntryFrame, Outcome

SERVICES = [
    "accueil",
    "etat_civil",
    "ccas",
    "guichet_famille",
    "droit_famille",
    "police",
    "eau_urbanisme",
    "mediatheque",
    "loisirs",
    "pole_ados",
    "multi_accueil",
    "associations",
    "residence_autonomie",
    "cabinet_maire",
]
YEAR = 2025
START, END = date(YEAR, 1, 1), date(YEAR, 12, 31)


def generate(n_calls: int, seed: int = 20261129) -> EntryFrame:
    rng = np.random.default_rng(seed)
    # 85 % of calls enter one service, 13 % overflow once, 2 % twice.
    per_call = rng.choice([1, 2, 3], size=n_calls, p=[0.85, 0.13, 0.02]).astype(np.int64)
    call = np.repeat(np.arange(n_calls, dtype=np.int64), per_call)
    n = len(call)
    first_row = np.concatenate(([0], np.cumsum(per_call)[:-1]))
    position = np.arange(n, dtype=np.int64) - np.repeat(first_row, per_call)
    is_last = position == np.repeat(per_call - 1, per_call)
    year_start = 1735686000.0  # 2025-01-01 00:00 Paris
    call_start = year_start + rng.random(n_calls) * 365 * 86400
    entered = np.repeat(call_start, per_call) + position * 20.0
    wait = rng.exponential(15.0, size=n)
    last_outcome = rng.choice(
        [Outcome.ANSWERED, Outcome.ABANDONED, Outcome.OVERFLOWED], size=n, p=[0.82, 0.12, 0.06]
    ).astype(np.int8)
    outcome = np.where(is_last, last_outcome, np.int8(Outcome.OVERFLOWED)).astype(np.int8)
    answered = np.where(outcome == Outcome.ANSWERED, entered + wait, np.nan)
    ended = np.where(outcome == Outcome.ANSWERED, entered + wait + 180.0, entered + wait)
    return EntryFrame(
        services=SERVICES,
        agents=[],
        call=call,
        service=rng.integers(0, len(SERVICES), size=n, dtype=np.int32),
        entered=entered,
        answered=answered,
        ended=ended,
        outcome=outcome,
        agent=np.full(n, -1, dtype=np.int32),
        overflow_to=np.full(n, -1, dtype=np.int32),
        caller=rng.integers(0, n_calls // 3, size=n_calls, dtype=np.int64),
    )


DUCKDB_SQL = """
WITH e AS (
  SELECT call, service, entered, answered, ended, outcome,
         (to_timestamp(entered) AT TIME ZONE 'Europe/Paris')::date AS day
  FROM frame
),
p AS (SELECT *, date_trunc('month', day) AS month FROM e
      WHERE day BETWEEN DATE '{start}' AND DATE '{end}'),
per_service AS (
  SELECT month, service,
    count(*) AS offered,
    count(*) FILTER (WHERE outcome = 0) AS answered,
    count(*) FILTER (WHERE outcome = 0 AND answered - entered <= {target} + 1e-4) AS within,
    count(*) FILTER (WHERE outcome = 1) AS abandoned,
    count(*) FILTER (WHERE outcome = 1 AND ended - entered < {short} - 1e-4) AS short_abandoned,
    count(*) FILTER (WHERE outcome = 2) AS overflowed,
    sum(CASE WHEN outcome = 0 THEN answered - entered ELSE 0 END) AS wait_sum
  FROM p GROUP BY ALL
),
calls AS (
  SELECT call, min(entered) AS first_entered,
         arg_max(outcome, entered) AS last_outcome,
         arg_max(answered, entered) AS last_answered,
         arg_max(ended, entered) AS last_ended,
         arg_min(day, entered) AS first_day
  FROM e GROUP BY call
),
totals AS (
  SELECT date_trunc('month', first_day) AS month, -1 AS service,
    count(*) AS offered,
    count(*) FILTER (WHERE last_outcome = 0) AS answered,
    count(*) FILTER (WHERE last_outcome = 0
                     AND last_answered - first_entered <= {target} + 1e-4) AS within,
    count(*) FILTER (WHERE last_outcome = 1) AS abandoned,
    count(*) FILTER (WHERE last_outcome = 1
                     AND last_ended - first_entered < {short} - 1e-4) AS short_abandoned,
    count(*) FILTER (WHERE last_outcome = 2) AS overflowed,
    sum(CASE WHEN last_outcome = 0 THEN last_answered - first_entered ELSE 0 END) AS wait_sum
  FROM calls WHERE first_day BETWEEN DATE '{start}' AND DATE '{end}' GROUP BY ALL
)
SELECT * FROM per_service UNION ALL SELECT * FROM totals
"""


def _run_engine(engine: str, n_calls: int) -> dict[str, float]:
    frame = generate(n_calls)
    started = time.perf_counter()
    if engine == "decroche":
        from analytics.indicators import breakdown

        result = breakdown(frame, START, END, "month")
        checksum = sum(c["total"].offered for c in result.values())
        answered = sum(c["total"].answered for c in result.values())
    else:
        import duckdb

        columns = {
            name: getattr(frame, name)
            for name in ("call", "service", "entered", "answered", "ended", "outcome")
        }
        connection = duckdb.connect()
        connection.register("frame", columns)
        rows = connection.execute(
            DUCKDB_SQL.format(start=START, end=END, target=25.0, short=5.0)
        ).fetchall()
        checksum = sum(row[2] for row in rows if row[1] == -1)
        answered = sum(row[3] for row in rows if row[1] == -1)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "peak_mb": peak_mb,
        "calls": float(checksum),
        "answered": float(answered),
    }


def main() -> bool:
    n_calls = int(os.environ.get("BENCH_ANALYTICS_CALLS", "10000000"))
    results: dict[str, dict[str, float]] = {}
    for engine in ("decroche", "duckdb"):
        output = subprocess.run(
            [sys.executable, "-m", "bench.bench_analytics", engine, str(n_calls)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results[engine] = json.loads(output.strip().splitlines()[-1])
        figures = results[engine]
        print(
            f"{engine:9s} monthly indicators, {n_calls:,} calls: {figures['seconds']:.2f} s, "
            f"peak RSS {figures['peak_mb']:.0f} MB (incl. the generated data)"
        )
    ours, reference = results["decroche"], results["duckdb"]
    same = ours["calls"] == reference["calls"] and ours["answered"] == reference["answered"]
    ratio = ours["seconds"] / reference["seconds"]
    print(f"same totals in both engines: {same} ({ours['calls']:.0f} calls)")
    print(f"ratio decroche / DuckDB (all cores): {ratio:.2f} (target <= 2.0)")
    print(f"peak memory: {ours['peak_mb']:.0f} MB (target < 3072 MB)")
    return same and ratio <= 2.0 and ours["peak_mb"] < 3072


if __name__ == "__main__":
    if len(sys.argv) == 3:
        print(json.dumps(_run_engine(sys.argv[1], int(sys.argv[2]))))
    else:
        sys.exit(0 if main() else 1)
