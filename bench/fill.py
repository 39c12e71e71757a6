"""Fill a call records database with a year of generated calls, through SQL (fast enough for
millions of calls), on PostgreSQL or SQLite: the benchmarks of reading indicators start here.

The schema is the project's (its migrations); rows are written as the store writes them, in the
order calls end (time order: a real database is appended to day after day, so a month's entries
sit together on disk). Per call: arrival between 08:00 and 18:00 (Paris, roughly), 5 % hang up
in the voice menu (no service entry), the others enter one service (85 %), two (13 %) or three
(2 %) of 14, overflowing on timeout from one to the next; the last entry is answered (82 %),
abandoned (12 %) or overflows to a message (6 %), the wait exponential (mean 15 s), 1 % are the
second leg of a blind transfer. The secondary indexes are dropped while filling and made again
after, as a bulk load does.
"""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import Connection, text

from telephony.records import schema as t
from telephony.records.engine import Database

SERVICES = (
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
)
YEAR = 2025
FIRST, LAST = date(YEAR, 1, 1), date(YEAR, 12, 31)

# One row per call: when it arrived, how many service entries, two uniform draws.
_PG_CALLS = """
CREATE TEMP TABLE bench_g AS
SELECT row_number() OVER (ORDER BY t0) AS i, t0,
  CASE WHEN r < 0.05 THEN 0 WHEN r < 0.8575 THEN 1 WHEN r < 0.981 THEN 2 ELSE 3 END AS hops,
  u, v
FROM (
  SELECT timestamptz '{year}-01-01 07:00:00+00' + floor(random() * 365)::int * interval '1 day'
           + random() * interval '10 hours' AS t0,
         random() AS r, random() AS u, random() AS v
  FROM generate_series(1, {n})
) s
"""
_SQLITE_CALLS = """
CREATE TEMP TABLE bench_g AS
SELECT row_number() OVER (ORDER BY t0) AS i, t0,
  CASE WHEN r < 0.05 THEN 0 WHEN r < 0.8575 THEN 1 WHEN r < 0.981 THEN 2 ELSE 3 END AS hops,
  u, v
FROM (
  WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {n})
  SELECT {epoch} + (abs(random()) % 365) * 86400 + (abs(random()) % 36000000) / 1000.0 AS t0,
    (abs(random()) % 1000000) / 1e6 AS r, (abs(random()) % 1000000) / 1e6 AS u,
    (abs(random()) % 1000000) / 1e6 AS v
  FROM s
)
"""


def _pg_time(expression: str) -> str:
    return f"({expression})"


def _sqlite_time(expression: str) -> str:
    # SQLite keeps times as naive UTC text with microseconds (schema.UtcDateTime).
    return f"strftime('%Y-%m-%d %H:%M:%f000', {expression}, 'unixepoch')"


def _statements(dialect: str, n: int) -> list[str]:
    pg = dialect == "postgresql"
    at = _pg_time if pg else _sqlite_time

    def plus(base: str, seconds: str) -> str:
        return f"{base} + ({seconds}) * interval '1 second'" if pg else f"{base} + ({seconds})"

    calls_of = (
        _PG_CALLS.format(year=YEAR, n=n)
        if pg
        else _SQLITE_CALLS.format(n=n, epoch=int(_epoch(FIRST)) + 7 * 3600)
    )
    services = ", ".join(f"'{s}'" for s in SERVICES)
    pick = (
        f"(ARRAY[{services}])[1 + floor(random() * {len(SERVICES)})::int]"
        if pg
        else "CASE abs(random()) % 14 "
        + " ".join(f"WHEN {k} THEN '{s}'" for k, s in enumerate(SERVICES))
        + " END"
    )
    draw = "random()" if pg else "((abs(random()) % 1000000) / 1e6)"

    def call_id(number: str) -> str:
        return (
            f"'bench-' || lpad(({number})::text, 9, '0')"
            if pg
            else f"printf('bench-%09d', {number})"
        )

    positions = (
        "generate_series(0, 2) AS p(p)"
        if pg
        else "(SELECT 0 AS p UNION ALL SELECT 1 UNION ALL SELECT 2) AS pp"
    )
    wait = (
        f"round((-15 * ln(1 - {draw}))::numeric, 3)::float8"
        if pg
        else f"round(-15 * ln(1 - {draw}), 3)"
    )
    return [
        calls_of,
        # The entries, one row each: service, entry time, wait, outcome.
        f"""
CREATE TEMP TABLE bench_e AS
SELECT i, p AS position, hops, {pick} AS service_id,
  {plus("t0", "8 + p * 40")} AS t, {wait} AS w,
  CASE WHEN p < hops - 1 THEN 'overflow_timeout' WHEN u < 0.82 THEN 'answered'
       WHEN u < 0.94 THEN 'abandoned' ELSE 'message' END AS outcome
FROM bench_g, {positions}
WHERE p < hops
""",
        f"""
INSERT INTO calls (call_id, source, status, started_at, ended_at, last_seen_at, dialled,
  caller_pseudonym, outcome, duration_s, survey_offered, transfer_of, journal_seq)
SELECT {call_id("i")}, 'ari', 'done', {at("t0")}, {at(plus("t0", "300"))}, {at(plus("t0", "300"))},
  '0232464646', {"md5((i % 300000)::text)" if pg else "hex(i % 300000)"},
  CASE WHEN hops = 0 THEN 'ivr_hangup' WHEN u < 0.82 THEN 'answered' ELSE 'abandoned' END,
  300, {"false" if pg else "0"},
  CASE WHEN v < 0.01 AND i > 1 THEN {call_id("i - 1")} END, i
FROM bench_g ORDER BY i
""",
        f"""
INSERT INTO service_entries (call_id, position, service_id, entered_at, ringing_at,
  answered_at, ended_at, outcome, agent, overflow_to, wait_s)
SELECT {call_id("i")}, position, service_id, {at("t")}, {at("t")},
  CASE WHEN outcome = 'answered' THEN {at(plus("t", "w"))} END,
  {at(plus("t", "w + CASE WHEN outcome = 'answered' THEN 180 ELSE 0 END"))},
  outcome, CASE WHEN outcome = 'answered' THEN 'PJSIP/10' || (i % 40) END,
  CASE WHEN position < hops - 1 THEN 'service:accueil'
       WHEN outcome = 'message' THEN 'message' END, w
FROM bench_e ORDER BY i, position
""",
        "DROP TABLE bench_e",
        "DROP TABLE bench_g",
    ]


def _epoch(day: date) -> float:
    from datetime import UTC, datetime, time

    return datetime.combine(day, time.min, UTC).timestamp()


def fill(database: Database, n_calls: int) -> float:
    """Write ``n_calls`` generated calls of :data:`YEAR` into ``database`` (at its schema's
    head, with no calls yet); returns the seconds it took."""
    started = time.perf_counter()
    indexes = [index for table in (t.calls, t.service_entries) for index in table.indexes]
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(text("SELECT setseed(0.42)"))
        for index in indexes:
            index.drop(conn)
        for statement in _statements(database.dialect, n_calls):
            conn.execute(text(statement))
        for index in indexes:
            index.create(conn)
        _analyse(conn)
    return time.perf_counter() - started


def _analyse(conn: Connection) -> None:
    conn.execute(text("ANALYZE"))
