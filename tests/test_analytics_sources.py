"""The indicators read from the database equal those computed on the same records in memory,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from analytics.frame import frame_from_records
from analytics.indicators import compute_indicators, repeat_callers
from analytics.sources import DatabaseSource
from telephony.records.model import CallOutcome, CallRecord, EntryOutcome, ServiceEntry
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url


def generated_records(n: int, seed: int = 7) -> list[CallRecord]:
    rng = random.Random(seed)
    start = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # spans the DST change of 25 October
    services = ["accueil", "ccas", "etat_civil", "police"]
    records = []
    for i in range(n):
        t = start + timedelta(seconds=rng.uniform(0, 3 * 86400))
        entries = []
        hops = rng.choice([1, 1, 1, 2, 3])
        for hop in range(hops):
            service = rng.choice(services)
            wait = rng.choice([0.5, 4.999, 5.0, 12.25, 24.999, 25.0, 25.001, 60.0])
            last = hop == hops - 1
            outcome = (
                rng.choice([EntryOutcome.ANSWERED, EntryOutcome.ABANDONED, EntryOutcome.MESSAGE])
                if last
                else EntryOutcome.OVERFLOW_TIMEOUT
            )
            answered = t + timedelta(seconds=wait) if outcome is EntryOutcome.ANSWERED else None
            ended = t + timedelta(seconds=wait + (90 if answered else 0))
            entries.append(
                ServiceEntry(
                    service_id=service,
                    entered_at=t,
                    ended_at=ended,
                    outcome=outcome,
                    answered_at=answered,
                    agent="PJSIP/1001" if answered else None,
                    overflow_to=None if last else "accueil",
                )
            )
            t = ended
        records.append(
            CallRecord(
                call_id=f"1795917483.{i}",
                started_at=entries[0].entered_at - timedelta(seconds=8),
                ended_at=entries[-1].ended_at,
                dialled="0232464646",
                caller_number=f"06000000{rng.randrange(30):02d}",
                outcome=CallOutcome.ANSWERED,
                entries=entries,
            )
        )
    return records


@pytest.mark.parametrize("backend", BACKENDS)
def test_database_source_matches_memory(backend: str, tmp_path: Path) -> None:
    records = generated_records(400)
    with temporary_database(backend, tmp_path, pg_url()) as database:
        store = RecordStore(database, Pseudonymiser(b"k" * 32))
        store.import_records(records)
        source = DatabaseSource(database)
        for first, last in [
            (date(2026, 10, 25), date(2026, 10, 25)),
            (date(2026, 10, 24), date(2026, 10, 27)),
        ]:
            from_db = compute_indicators(source.load(first, last).frame, first, last)
            in_memory = compute_indicators(frame_from_records(records), first, last)
            assert from_db.to_json() == in_memory.to_json()
            assert from_db.total.offered > 0
        whole = (date(2026, 10, 24), date(2026, 10, 27))
        repeats_db = repeat_callers(source.load(*whole, callers=True).frame, *whole)
        assert repeats_db == repeat_callers(frame_from_records(records), *whole)
        assert repeats_db["repeat_calls"] > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_columns_read_the_same_whatever_the_first_rows_hold(backend: str, tmp_path: Path) -> None:
    # SQLite's columnar driver guesses a column's type from its first rows: 1,500 entries with
    # no answer and no overflow target first, then ones that have them, then transfer legs.
    rng = random.Random(3)
    day = datetime(2026, 10, 14, 6, 0, tzinfo=UTC)
    records = []
    for i in range(1800):
        t = day + timedelta(seconds=i * 20)
        answered = i >= 1500
        entries = [
            ServiceEntry(
                service_id=rng.choice(["ccas", "police"]),
                entered_at=t,
                ended_at=t + timedelta(seconds=30 if answered else 12),
                outcome=EntryOutcome.ANSWERED if answered else EntryOutcome.ABANDONED,
                answered_at=t + timedelta(seconds=7.25) if answered else None,
            )
        ]
        if i % 7 == 0 and answered:  # overflowed first, then answered elsewhere
            entries.insert(
                0,
                ServiceEntry(
                    service_id="etat_civil",
                    entered_at=t - timedelta(seconds=9),
                    ended_at=t,
                    outcome=EntryOutcome.OVERFLOW_TIMEOUT,
                    overflow_to="service:ccas",
                ),
            )
        records.append(
            CallRecord(
                call_id=f"c{i}",
                started_at=entries[0].entered_at - timedelta(seconds=3),
                ended_at=entries[-1].ended_at,
                dialled="0232464646",
                caller_number="0600000000",
                outcome=CallOutcome.ANSWERED,
                entries=entries,
                transfer_of=f"c{i - 1}" if i % 50 == 49 else None,
            )
        )
    with temporary_database(backend, tmp_path, pg_url()) as database:
        RecordStore(database, Pseudonymiser(b"k" * 32)).import_records(records)
        loaded = DatabaseSource(database).load(date(2026, 10, 14), date(2026, 10, 14)).frame
    expected = frame_from_records(records)
    assert loaded.transfer_leg.sum() == expected.transfer_leg.sum() == 36
    assert np.isnan(loaded.answered).sum() == np.isnan(expected.answered).sum()
    assert sorted(loaded.overflow_to.tolist()) == sorted(
        # service codes differ between frames: compare the targets by name
        (loaded.services.index(expected.services[c]) if c >= 0 else c)
        for c in expected.overflow_to.tolist()
    )
    day_ = date(2026, 10, 14)
    assert (
        compute_indicators(loaded, day_, day_).to_json()
        == compute_indicators(expected, day_, day_).to_json()
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_surveyed_calls_are_read_through_their_own_index(backend: str, tmp_path: Path) -> None:
    # Every page reads the calls offered the survey; through the calls' start index that is
    # every call of the period (seconds for a year of a million calls): a partial index holds
    # only those offered the survey, and the query must be one the database can match to it.
    records = generated_records(300)
    for i, record in enumerate(records):
        record.survey_offered = i % 10 == 0
    with temporary_database(backend, tmp_path, pg_url()) as database:
        RecordStore(database, Pseudonymiser(b"k" * 32)).import_records(records)
        source = DatabaseSource(database)
        first, last = date(2026, 10, 24), date(2026, 10, 27)
        found = source.surveyed_calls(first, last, "Europe/Paris")
        assert sorted(c.call_id for c in found) == sorted(
            r.call_id for r in records if r.survey_offered
        )
        query = source.surveyed_calls_query(first, last)
        with database.engine.connect() as connection:
            if backend == "sqlite":
                compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
                plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
            else:
                connection.exec_driver_sql("SET enable_seqscan = off")  # a tiny table
                compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
                plan = connection.exec_driver_sql(f"EXPLAIN {compiled}").all()
        assert "ix_calls_surveyed_started_at" in str(plan), plan


# Reads SQLite's columns in a process of its own, then lists the shared libraries it mapped.
ONE_SQLITE = """
import sys, tempfile
from datetime import date
from pathlib import Path
from decroche.testing import indicators_of
from telephony.records.testing import fill, temporary_database, town_calls

with tempfile.TemporaryDirectory() as tmp, temporary_database("sqlite", Path(tmp)) as db:
    fill(db, town_calls(date(2026, 10, 1), 3, 20))
    report = indicators_of(db).report(date(2026, 10, 1), date(2026, 10, 3))
    assert report.total.offered > 0, report.total
    with open("/proc/self/maps") as maps:
        print("\\n".join(sorted({line.split()[-1] for line in maps if "sqlite" in line.lower()})))
"""


def test_the_process_links_one_sqlite_library() -> None:
    """Two copies of SQLite in one process lose each other's POSIX locks: the service died of a
    SIGBUS when its pages read the calls through ADBC's SQLite while it wrote them through
    Python's (telephony/records/columnar.py). The columns are read through Python's."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", ONE_SQLITE],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    mapped = done.stdout.split()
    assert any("_sqlite3" in path for path in mapped), mapped  # the store's own
    assert not [path for path in mapped if "adbc" in path.lower()], mapped
