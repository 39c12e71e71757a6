"""Call records: sustained write rate and queue_log import speed, each beside a reference.

- Writes: full records (IVR path, two service entries, four agent legs, a transfer, a survey,
  a callback: 16 rows per call) through the RecordWriter (queue → batches → one transaction per
  batch) into SQLite, and into PostgreSQL when ``DECROCHE_TEST_PG_URL`` reaches one. Reference:
  the same rows inserted with bare DB-API ``executemany`` (the database's own cost, no
  SQLAlchemy, no pseudonyms). Target >= 2,000 calls/s.
- queue_log: a generated file of ``BENCH_RECORDS_QL_LINES`` lines (default 1,000,000) parsed
  into call records. Reference: the bare ``line.split("|")`` loop over the same lines (the floor
  of any Python parser). Target >= 200,000 lines/s.

``BENCH_RECORDS_CALLS`` sets the number of calls written (default 20,000).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from telephony.records import schema as t
from telephony.records.engine import Database, create_store_engine, open_store
from telephony.records.journal import Journal
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.queue_log import QueueLogParser
from telephony.records.store import RecordStore
from telephony.records.testing import T0, sample_record
from telephony.records.writer import RecordWriter

SECRET = b"benchmark-secret-0123456789"


def _records(n: int) -> list:
    return [
        sample_record(f"bench.{i}", start=T0 + timedelta(seconds=7 * i), caller=f"06{i:08d}")
        for i in range(n)
    ]


async def _through_writer(store: RecordStore, journal_dir: Path, records: list) -> float:
    writer = RecordWriter(store, Journal(journal_dir / "bench.journal"), batch_size=1000)
    writer.start()
    assert writer.wait_idle(30)
    started = time.perf_counter()
    for record in records:
        await writer.call_finished(record)
    assert await writer.drain(300), "writer did not drain"
    elapsed = time.perf_counter() - started
    writer.stop()
    status = writer.status()
    assert status.journaled == 0, f"journaled during the benchmark: {status}"
    assert status.written == len(records), status
    return elapsed


def _reference_rows(store: RecordStore, records: list) -> dict[str, list[tuple]]:
    rows: dict[str, list[dict]] = {table.name: [] for table in t.CALL_TABLES}
    for i, record in enumerate(records):
        store._record_rows(record, i, rows)
    out: dict[str, list[tuple]] = {}
    for table in t.CALL_TABLES:
        columns = [c.name for c in table.columns]
        out[table.name] = [
            tuple(
                v.isoformat(" ") if hasattr(v, "isoformat") else v
                for v in (row[c] for c in columns)
            )
            for row in rows[table.name]
        ]
    return out


def _reference_insert(
    dbapi_conn, placeholder: str, rows: dict[str, list[tuple]], batch: int
) -> float:
    """Bare executemany of the same rows, one transaction per ``batch`` calls."""
    per_call: dict[str, list[list[tuple]]] = {}
    ids = [r[0] for r in rows["calls"]]
    index = {cid: i for i, cid in enumerate(ids)}
    for table in t.CALL_TABLES:
        grouped: list[list[tuple]] = [[] for _ in ids]
        for r in rows[table.name]:
            grouped[index[r[0]]].append(r)
        per_call[table.name] = grouped
    statements = {
        table.name: f"INSERT INTO {table.name} ({', '.join(c.name for c in table.columns)}) "
        f"VALUES ({', '.join([placeholder] * len(table.columns))})"
        for table in t.CALL_TABLES
    }
    cursor = dbapi_conn.cursor()
    started = time.perf_counter()
    for low in range(0, len(ids), batch):
        for table in t.CALL_TABLES:
            chunk = [r for group in per_call[table.name][low : low + batch] for r in group]
            if chunk:
                cursor.executemany(statements[table.name], chunk)
        dbapi_conn.commit()
    return time.perf_counter() - started


def _bench_backend(name: str, database: Database, tmp: Path, records: list) -> bool:
    store = RecordStore(database, Pseudonymiser(SECRET))
    ours = asyncio.run(_through_writer(store, tmp, records))
    assert store.count_calls() == len(records)
    rows = _reference_rows(store, records)
    with database.engine.begin() as conn:
        for table in reversed(t.CALL_TABLES):
            conn.execute(table.delete())
    raw = database.engine.raw_connection()
    try:
        placeholder = "?" if database.dialect == "sqlite" else "%s"
        reference = _reference_insert(raw.driver_connection, placeholder, rows, 1000)
    finally:
        raw.close()
    n = len(records)
    rate = n / ours
    print(
        f"{name:10s} writer: {n:,} full calls in {ours:.2f} s = {rate:,.0f} calls/s "
        f"(target >= 2,000); bare executemany of the same rows: {n / reference:,.0f} calls/s; "
        f"ratio writer / bare = {reference / ours:.2f}"
    )
    return rate >= 2000


def _generate_queue_log(path: Path, n_lines: int) -> int:
    rng = random.Random(42)
    queues = ["accueil", "etat-civil", "urbanisme", "ccas", "police"]
    agents = [f"PJSIP/{1000 + i}" for i in range(30)]
    epoch = 1_700_000_000
    written = 0
    call = 0
    with path.open("w", encoding="utf-8") as out:
        while written < n_lines:
            call += 1
            epoch += rng.randint(1, 20)
            cid = f"{epoch}.{call}"
            queue = rng.choice(queues)
            lines = [
                f"{epoch}|{cid}|NONE|NONE|DID|0232000000",
                f"{epoch}|{cid}|{queue}|NONE|ENTERQUEUE||06{call % 10**8:08d}|1",
            ]
            wait = rng.randint(1, 60)
            for k in range(rng.randint(0, 2)):
                lines.append(
                    f"{epoch + 5 * (k + 1)}|{cid}|{queue}|{rng.choice(agents)}|RINGNOANSWER|5000"
                )
            fate = rng.random()
            if fate < 0.75:
                agent = rng.choice(agents)
                talk = rng.randint(20, 400)
                lines.append(f"{epoch + wait}|{cid}|{queue}|{agent}|CONNECT|{wait}|{cid}9|3")
                lines.append(
                    f"{epoch + wait + talk}|{cid}|{queue}|{agent}|COMPLETECALLER|{wait}|{talk}|1"
                )
            elif fate < 0.9:
                lines.append(f"{epoch + wait}|{cid}|{queue}|NONE|ABANDON|1|1|{wait}")
            else:
                lines.append(f"{epoch + wait}|{cid}|{queue}|NONE|EXITWITHTIMEOUT|1|1|{wait}")
            if call % 500 == 0:
                lines.append(f"{epoch}|NONE|NONE|{rng.choice(agents)}|PAUSE|")
            out.write("\n".join(lines) + "\n")
            written += len(lines)
    return written


def _bench_queue_log(tmp: Path) -> bool:
    n_lines = int(os.environ.get("BENCH_RECORDS_QL_LINES", "1000000"))
    path = tmp / "queue_log"
    n = _generate_queue_log(path, n_lines)
    lines = path.read_text(encoding="utf-8").splitlines()

    started = time.perf_counter()
    fields = 0
    for line in lines:
        fields += len(line.split("|"))
    reference = time.perf_counter() - started

    parser = QueueLogParser()
    started = time.perf_counter()
    calls = sum(1 for _ in parser.parse(lines))
    ours = time.perf_counter() - started
    assert parser.report.skipped == 0, parser.report.malformed[:3]
    rate = n / ours
    print(
        f"queue_log  parse: {n:,} lines ({calls:,} calls) in {ours:.2f} s = {rate:,.0f} lines/s "
        f"(target >= 200,000); bare split loop: {n / reference:,.0f} lines/s; "
        f"ratio parse / split = {ours / reference:.1f}x"
    )
    return rate >= 200_000


def main() -> bool:
    n_calls = int(os.environ.get("BENCH_RECORDS_CALLS", "20000"))
    records = _records(n_calls)
    ok = True
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sqlite = open_store(f"sqlite:///{tmp / 'bench.db'}")
        try:
            ok &= _bench_backend("SQLite", sqlite, tmp, records)
        finally:
            sqlite.dispose()
        url = os.environ.get("DECROCHE_TEST_PG_URL")
        if url:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            admin = create_store_engine(url)
            try:
                with admin.begin() as conn:
                    conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                pg = open_store(url, schema=schema)
                try:
                    ok &= _bench_backend("PostgreSQL", pg, tmp, records)
                finally:
                    pg.dispose()
            except Exception as exc:  # the benchmark reports an unreachable PG, never dies
                print(f"PostgreSQL: not measured ({exc.__class__.__name__}: {exc})")
            finally:
                try:
                    with admin.begin() as conn:
                        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                except Exception as exc:
                    print(f"PostgreSQL: could not drop {schema}: {exc}")
                admin.dispose()
        else:
            print("PostgreSQL: not measured (DECROCHE_TEST_PG_URL not set)")
        ok &= _bench_queue_log(tmp)
    print(f"all targets met: {ok}")
    return ok


if __name__ == "__main__":
    import sys

    sys.exit(0 if main() else 1)
