"""The definitions of the indicators as plain SQL, for the references of ``bench_database``: one
query in PostgreSQL or SQLite itself, and DuckDB reading their tables. Standalone (no import of
the project): DuckDB runs in its own virtualenv (``make bench-duckdb``), its version pinned to
the one its postgres and sqlite extensions were built for.

What it computes is :mod:`analytics.definitions` for one period, per service and in total (each
call once, in the local day of its arrival; the legs of blind transfers left out), in
Europe/Paris days, with the default thresholds (25 s, 5 s; short abandons counted from the
call's arrival): the counts ``offered``, ``answered``, ``answered_within_target``,
``abandoned``, ``short_abandoned``, ``overflowed``. The generated calls have no entry while a
service is closed (``bench.fill``): ``closed`` is not compared.

``python bench/reference_sql.py duckdb-postgres|duckdb-sqlite|postgres|sqlite TARGET FIRST LAST
[EXTENSIONS_DIR]`` prints one JSON line: ``{"seconds": ..., "figures": {service: [counts],
"total": [counts]}}``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta

OVERFLOWS = (
    "'overflow_timeout', 'overflow_busy', 'overflow_nobody', 'overflow_closed', 'message', "
    "'callback'"
)
TARGET_S, SHORT_S, EPS = 25.0, 5.0, 1e-4

# Written over a relation `e` (call_id, position, service_id, entered, answered, ended: epoch
# seconds; outcome; day: the local date of entering) and a relation `c` (call_id, arrived: epoch
# seconds, aday: the local date of arrival, leg: the leg of a blind transfer). The generated
# calls start before their first entry. Portable SQL: PostgreSQL, SQLite and DuckDB run it as
# it is.
DEFINITIONS = f"""
coded AS (
  SELECT e.call_id, position, service_id, entered, answered, ended, day, c.arrived, c.aday,
    c.leg,
    CASE WHEN outcome = 'answered' THEN 0 WHEN outcome = 'abandoned' THEN 1
         WHEN outcome IN ({OVERFLOWS}) THEN 2 ELSE 3 END AS o
  FROM e JOIN c ON c.call_id = e.call_id
),
per_service AS (
  SELECT service_id AS grp,
    count(*) AS offered,
    sum(CASE WHEN o = 0 THEN 1 ELSE 0 END) AS answered,
    sum(CASE WHEN o = 0 AND answered - entered <= {TARGET_S + EPS} THEN 1 ELSE 0 END) AS within,
    sum(CASE WHEN o = 1 THEN 1 ELSE 0 END) AS abandoned,
    sum(CASE WHEN o = 1 AND ended - arrived < {SHORT_S - EPS} THEN 1 ELSE 0 END) AS short,
    sum(CASE WHEN o = 2 THEN 1 ELSE 0 END) AS overflowed
  FROM coded WHERE day BETWEEN {{first}} AND {{last}}
  GROUP BY service_id
),
bounds AS (
  SELECT call_id, min(position) AS p0, max(position) AS pn FROM coded GROUP BY call_id
),
calls_once AS (
  SELECT l.o,
    CASE WHEN l.o = 0 THEN l.answered ELSE l.ended END - f.entered AS wait,
    CASE WHEN l.o = 0 THEN l.answered ELSE l.ended END - f.arrived AS since_arrival
  FROM bounds b
  JOIN coded f ON f.call_id = b.call_id AND f.position = b.p0
  JOIN coded l ON l.call_id = b.call_id AND l.position = b.pn
  WHERE f.aday BETWEEN {{first}} AND {{last}} AND NOT f.leg
),
total AS (
  SELECT 'total' AS grp, count(*) AS offered,
    sum(CASE WHEN o = 0 THEN 1 ELSE 0 END) AS answered,
    sum(CASE WHEN o = 0 AND wait <= {TARGET_S + EPS} THEN 1 ELSE 0 END) AS within,
    sum(CASE WHEN o = 1 THEN 1 ELSE 0 END) AS abandoned,
    sum(CASE WHEN o = 1 AND since_arrival < {SHORT_S - EPS} THEN 1 ELSE 0 END) AS short,
    sum(CASE WHEN o = 2 THEN 1 ELSE 0 END) AS overflowed
  FROM calls_once
)
SELECT * FROM per_service UNION ALL SELECT * FROM total
"""


def _bounds(first: date, last: date) -> tuple[str, str]:
    """UTC bounds covering the local days, with a day of margin (as decroche reads them)."""
    return (str(first - timedelta(days=2)), str(last + timedelta(days=3)))


def postgres_sql(first: date, last: date) -> str:
    low, high = _bounds(first, last)
    return (
        "WITH e AS (SELECT call_id, position, service_id, outcome, "
        "extract(epoch FROM entered_at)::float8 AS entered, "
        "extract(epoch FROM answered_at)::float8 AS answered, "
        "extract(epoch FROM ended_at)::float8 AS ended, "
        "(entered_at AT TIME ZONE 'Europe/Paris')::date AS day FROM service_entries "
        f"WHERE entered_at >= '{low}+00' AND entered_at < '{high}+00'), "
        "c AS (SELECT call_id, extract(epoch FROM started_at)::float8 AS arrived, "
        "(started_at AT TIME ZONE 'Europe/Paris')::date AS aday, "
        "transfer_of IS NOT NULL AS leg FROM calls "
        f"WHERE started_at >= '{_before(low)}+00' AND started_at < '{high}+00'), "
        + DEFINITIONS.format(first=f"DATE '{first}'", last=f"DATE '{last}'")
    )


def _before(day: str) -> str:
    """A day earlier: a call starts before its first entry."""
    return str(date.fromisoformat(day) - timedelta(days=1))


def sqlite_sql(first: date, last: date) -> str:
    """SQLite keeps times as UTC text; the local day needs TZ=Europe/Paris in the process."""
    low, high = _bounds(first, last)

    def epoch(column: str) -> str:
        return f"(CAST(strftime('%s', {column}) AS REAL) + CAST(substr({column}, 20) AS REAL))"

    return (
        f"WITH e AS (SELECT call_id, position, service_id, outcome, {epoch('entered_at')} "
        f"AS entered, {epoch('answered_at')} AS answered, {epoch('ended_at')} AS ended, "
        "date(entered_at, 'localtime') AS day FROM service_entries "
        f"WHERE entered_at >= '{low}' AND entered_at < '{high}'), "
        f"c AS (SELECT call_id, {epoch('started_at')} AS arrived, "
        "date(started_at, 'localtime') AS aday, transfer_of IS NOT NULL AS leg FROM calls "
        f"WHERE started_at >= '{_before(low)}' AND started_at < '{high}'), "
        + DEFINITIONS.format(first=f"'{first}'", last=f"'{last}'")
    )


def duckdb_sql(first: date, last: date, schema: str, naive: bool) -> str:
    """Over the attached database ``schema``; ``naive``: times are UTC without a zone
    (SQLite's text)."""
    low, high = _bounds(first, last)

    def utc(column: str) -> str:
        return f"timezone('UTC', CAST({column} AS TIMESTAMP))" if naive else column

    return (
        f"WITH e AS (SELECT call_id, position, service_id, outcome, "
        f"epoch({utc('entered_at')}) AS entered, epoch({utc('answered_at')}) AS answered, "
        f"epoch({utc('ended_at')}) AS ended, "
        f"CAST(timezone('Europe/Paris', {utc('entered_at')}) AS DATE) AS day "
        f"FROM {schema}.service_entries "
        f"WHERE {utc('entered_at')} >= TIMESTAMPTZ '{low} 00:00:00+00' "
        f"AND {utc('entered_at')} < TIMESTAMPTZ '{high} 00:00:00+00'), "
        f"c AS (SELECT call_id, epoch({utc('started_at')}) AS arrived, "
        f"CAST(timezone('Europe/Paris', {utc('started_at')}) AS DATE) AS aday, "
        f"transfer_of IS NOT NULL AS leg FROM {schema}.calls "
        f"WHERE {utc('started_at')} >= TIMESTAMPTZ '{_before(low)} 00:00:00+00' "
        f"AND {utc('started_at')} < TIMESTAMPTZ '{high} 00:00:00+00'), "
        + DEFINITIONS.format(first=f"DATE '{first}'", last=f"DATE '{last}'")
    )


def _figures(rows: list[tuple]) -> dict[str, list[int]]:
    return {str(row[0]): [int(v or 0) for v in row[1:]] for row in rows}


def run(kind: str, target: str, first: date, last: date, extensions: str = "") -> dict:
    started = time.perf_counter()
    if kind == "postgres":
        import psycopg

        with psycopg.connect(target) as connection:
            rows = connection.execute(postgres_sql(first, last)).fetchall()
    elif kind == "sqlite":
        import sqlite3

        connection = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
        rows = connection.execute(sqlite_sql(first, last)).fetchall()
        connection.close()
    else:
        import duckdb

        connection = duckdb.connect()
        if kind == "duckdb-postgres":
            connection.execute(f"LOAD '{extensions}/postgres_scanner.duckdb_extension'")
            connection.execute(f"ATTACH '{target}' AS db (TYPE postgres, READ_ONLY)")
            sql = duckdb_sql(first, last, "db.public", naive=False)
        else:
            connection.execute(f"LOAD '{extensions}/sqlite_scanner.duckdb_extension'")
            connection.execute(f"ATTACH '{target}' AS db (TYPE sqlite, READ_ONLY)")
            sql = duckdb_sql(first, last, "db.main", naive=True)
        rows = connection.execute(sql).fetchall()
    return {"seconds": time.perf_counter() - started, "figures": _figures(rows)}


if __name__ == "__main__":
    kind, target, first, last = sys.argv[1:5]
    extensions = sys.argv[5] if len(sys.argv) > 5 else ""
    result = run(kind, target, date.fromisoformat(first), date.fromisoformat(last), extensions)
    print(json.dumps(result))
