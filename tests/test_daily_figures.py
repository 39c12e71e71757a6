"""The figures of past days kept in the database give exactly the figures the engine computes
from the raw entries: for random calls over days that cross a change of time, written by the
writer's path, imported, then followed by late records and a second import that touch days
already kept — on SQLite and on PostgreSQL.

Also: which days are read from the store and which are computed, the marks of the days the
store writes to (kept by a write that comes in while a reader computes), other thresholds never
mixed with the kept ones, and a snapshot of the definitions' figures that says when to bump
``DEFINITIONS_REVISION``.
"""

from __future__ import annotations

import json
import random
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from analytics import aggregates
from analytics.api import Indicators, InMemorySource
from analytics.definitions import Counts, Parameters
from analytics.figures import PeriodFigures
from analytics.frame import frame_from_records
from analytics.indicators import (
    breakdown,
    compute_indicators,
    overflow_flows,
    wait_percentiles,
)
from analytics.sources import DatabaseSource
from telephony.records import schema as t
from telephony.records.codec import Finished
from telephony.records.model import CallOutcome, CallRecord, EntryOutcome, ServiceEntry
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url

SERVICES = ("accueil", "ccas", "etat_civil", "police", "urbanisme")
FIRST = date(2026, 10, 20)  # the days run over the change of time of 25 October
LAST = date(2026, 10, 31)
TODAY = date(2026, 10, 29)  # the days from here on are open: never kept
WAITS = (0.0, 0.5, 3.2, 4.999, 5.0, 12.25, 24.999, 25.0, 25.001, 61.7, 700.0, 4000.0)


def random_records(rng: random.Random, n: int, prefix: str, first: date, last: date) -> list:
    span = (
        datetime.combine(last, datetime.min.time(), UTC)
        - datetime.combine(first, datetime.min.time(), UTC)
    ).total_seconds() + 86400
    origin = datetime.combine(first, datetime.min.time(), UTC) - timedelta(hours=3)
    records = []
    for i in range(n):
        t = origin + timedelta(seconds=rng.uniform(0, span + 6 * 3600))
        started = t
        entries = []
        hops = rng.choice([0, 1, 1, 1, 1, 2, 2, 3])
        for hop in range(hops):
            t += timedelta(seconds=rng.uniform(1, 20))
            wait = rng.choice(WAITS)
            last_hop = hop == hops - 1
            outcome = (
                rng.choice(
                    [
                        EntryOutcome.ANSWERED,
                        EntryOutcome.ANSWERED,
                        EntryOutcome.ABANDONED,
                        EntryOutcome.MESSAGE,
                        EntryOutcome.CALLBACK,
                        EntryOutcome.OVERFLOW_BUSY,
                        EntryOutcome.TRANSFERRED,
                    ]
                )
                if last_hop
                else EntryOutcome.OVERFLOW_TIMEOUT
            )
            answered = t + timedelta(seconds=wait) if outcome is EntryOutcome.ANSWERED else None
            ended = t + timedelta(seconds=wait + (rng.uniform(20, 300) if answered else 0))
            target = None
            if not last_hop:
                target = "service:" + rng.choice(SERVICES)
            elif outcome is EntryOutcome.MESSAGE:
                target = "message"
            elif outcome is EntryOutcome.CALLBACK:
                target = "callback"
            entries.append(
                ServiceEntry(
                    service_id=rng.choice(SERVICES),
                    entered_at=t,
                    ended_at=ended,
                    outcome=outcome,
                    answered_at=answered,
                    agent="PJSIP/1001" if answered else None,
                    overflow_to=target,
                )
            )
            t = ended
        records.append(
            CallRecord(
                call_id=f"{prefix}.{i}",
                started_at=started,
                ended_at=t + timedelta(seconds=1),
                dialled="0232464646",
                caller_number=f"06{rng.randrange(10**8):08d}",
                outcome=CallOutcome.ANSWERED if entries else CallOutcome.IVR_HANGUP,
                entries=entries,
                transfer_of=f"{prefix}.{i - 1}" if i and rng.random() < 0.03 else None,
            )
        )
    return records


def same_counts(ours: Counts, theirs: Counts, where: Any) -> None:
    for f in fields(Counts):
        mine, engine = getattr(ours, f.name), getattr(theirs, f.name)
        if isinstance(engine, float):
            assert mine == pytest.approx(engine, rel=1e-12, abs=1e-9), (where, f.name)
        else:
            assert mine == engine, (where, f.name)


def assert_same_figures(indicators: Indicators, records: list, start: date, end: date) -> None:
    """Every figure of ``start``..``end`` equals the engine's on the raw entries."""
    frame = frame_from_records(records)
    params = indicators.parameters
    ours = indicators.report(start, end)
    engine = compute_indicators(frame, start, end, params)
    assert list(ours.services) == list(engine.services)
    for name, counts in engine.services.items():
        same_counts(ours.services[name], counts, (start, end, name))
    same_counts(ours.total, engine.total, (start, end, "total"))
    for by in ("day", "week", "month", "hour"):
        mine = indicators.breakdown(start, end, by)  # type: ignore[arg-type]
        theirs = breakdown(frame, start, end, by, params)  # type: ignore[arg-type]
        assert list(mine) == list(theirs), by
        for key, services in theirs.items():
            assert list(mine[key]) == list(services), (by, key)
            for name, counts in services.items():
                same_counts(mine[key][name], counts, (by, key, name))
    percentiles = wait_percentiles(frame, start, end, params)
    assert indicators.wait_percentiles(start, end) == {
        name: values for name, values in percentiles.items() if values["p50"] is not None
    }
    assert indicators.overflow_flows(start, end) == overflow_flows(frame, start, end, params)


def indicators_on(database: Any, *, today: date = TODAY, **options: Any) -> Indicators:
    source = DatabaseSource(database)
    return Indicators(
        source,
        Parameters(),
        daily=source,
        today=lambda: today,
        chunk_days=options.pop("chunk_days", 3),
        **options,
    )


def kept_days(database: Any) -> set[date]:
    with database.engine.connect() as conn:
        return set(conn.execute(select(t.daily_figures.c.day).distinct()).scalars())


def touched_marks(database: Any) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.touched_days)).scalar_one())


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [1, 2])
def test_kept_days_give_the_figures_of_the_raw_entries(
    backend: str, seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    written = random_records(rng, 500, f"w{seed}", FIRST, LAST)
    imported = random_records(rng, 300, f"q{seed}", FIRST, LAST)
    with temporary_database(backend, tmp_path, pg_url()) as database:
        store = RecordStore(database, Pseudonymiser(b"s" * 32))
        store.apply([Finished(i + 1, r) for i, r in enumerate(written)])
        store.import_records(imported)
        records = written + imported
        # First reading: every day computed from its entries, the past ones kept.
        assert_same_figures(indicators_on(database), records, FIRST, LAST)
        kept = kept_days(database)
        assert kept >= set(aggregates.days_between(FIRST, TODAY - timedelta(1)))
        assert max(kept) < TODAY  # the open days never
        assert touched_marks(database) > 0  # the open days' marks stay

        # Late records into kept days: a call the writer journaled, a rewritten call (its
        # entries move to another day), a second queue_log import.
        late = random_records(rng, 40, f"late{seed}", FIRST, TODAY - timedelta(1))
        moved = random_records(rng, 1, f"w{seed}", FIRST, FIRST)[0]  # same id as w{seed}.0
        store.apply([Finished(10_000 + i, r) for i, r in enumerate(late)])
        store.apply([Finished(20_000, moved)])
        again = random_records(rng, 60, f"q2{seed}", date(2026, 10, 24), date(2026, 10, 26))
        store.import_records(again)
        records = [moved, *written[1:], *imported, *late, *again]
        for start, end in [
            (FIRST, LAST),
            (date(2026, 10, 25), date(2026, 10, 25)),
            (date(2026, 10, 22), date(2026, 10, 28)),
            (date(2026, 10, 28), date(2026, 10, 30)),
        ]:
            assert_same_figures(indicators_on(database), records, start, end)
        # And once more from the kept days alone, marks done.
        assert_same_figures(indicators_on(database, chunk_days=31), records, FIRST, LAST)


class CountingSource:
    """A DatabaseSource that counts how many entries it loads, and can write a call while a
    reader computes (after the reader read the marks)."""

    def __init__(self, source: DatabaseSource, during_load: Any = None) -> None:
        self._source = source
        self.loads: list[tuple[date, date]] = []
        self._during_load = during_load

    def load(self, start: date, end: date, *, callers: bool = False) -> Any:
        self.loads.append((start, end))
        if self._during_load is not None:
            self._during_load()
            self._during_load = None
        return self._source.load(start, end, callers=callers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_open_and_touched_days_are_read_from_their_entries(
    backend: str, tmp_path: Path
) -> None:
    rng = random.Random(5)
    records = random_records(rng, 300, "a", FIRST, LAST)
    with temporary_database(backend, tmp_path, pg_url()) as database:
        store = RecordStore(database, Pseudonymiser(b"s" * 32))
        store.import_records(records)
        base = DatabaseSource(database)

        def reader(source: Any) -> Indicators:
            return Indicators(
                source, Parameters(), daily=source, today=lambda: TODAY, chunk_days=31
            )

        first = CountingSource(base)
        reader(first).report(FIRST, LAST)
        assert len(first.loads) == 1  # the past and the open days: one run of days

        second = CountingSource(base)
        reader(second).report(FIRST, TODAY - timedelta(days=1))
        assert second.loads == []  # every past day read from the store

        # A late call on the 23rd: that day (and only days around it) computed again.
        late = random_records(rng, 1, "late", date(2026, 10, 23), date(2026, 10, 23))
        store.apply([Finished(1, late[0])])
        third = CountingSource(base)
        reader(third).report(FIRST, TODAY - timedelta(days=1))
        assert len(third.loads) == 1
        low, high = third.loads[0]
        assert date(2026, 10, 21) <= low and high <= date(2026, 10, 25)
        fourth = CountingSource(base)
        report = reader(fourth).report(FIRST, TODAY - timedelta(days=1))
        assert fourth.loads == []
        engine = compute_indicators(
            frame_from_records([*records, *late]), FIRST, TODAY - timedelta(days=1)
        )
        same_counts(report.total, engine.total, "total")

        # A call written to a day while a reader computes it keeps its mark: the reader
        # clears only the mark it read, and the next reader computes the day again.
        noon = datetime(2026, 10, 21, 10, 0, tzinfo=UTC)
        early = random_records(rng, 1, "early", date(2026, 10, 21), date(2026, 10, 21))[0]
        racing_call = random_records(rng, 1, "racing", date(2026, 10, 21), date(2026, 10, 21))[0]
        for record, at in ((early, noon), (racing_call, noon + timedelta(hours=1))):
            shift = at - record.started_at
            record.started_at += shift
            record.ended_at += shift
            for entry in record.entries:
                entry.entered_at += shift
                entry.ended_at += shift
                if entry.answered_at is not None:
                    entry.answered_at += shift
        store.apply([Finished(1, early)])
        racing = CountingSource(base, lambda: store.apply([Finished(1, racing_call)]))
        day = date(2026, 10, 21)
        reader(racing).report(day, day)
        assert racing.loads != []
        fifth = CountingSource(base)
        report = reader(fifth).report(day, day)
        assert fifth.loads != []  # the racing call's mark was kept
        everything = [*records, *late, early, racing_call]
        engine = compute_indicators(frame_from_records(everything), day, day)
        same_counts(report.total, engine.total, "total with the racing call")
        sixth = CountingSource(base)
        reader(sixth).report(day, day)
        assert sixth.loads == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_other_thresholds_are_computed_never_kept(backend: str, tmp_path: Path) -> None:
    records = random_records(random.Random(9), 200, "r", FIRST, LAST)
    with temporary_database(backend, tmp_path, pg_url()) as database:
        RecordStore(database, Pseudonymiser(b"s" * 32)).import_records(records)
        kept = indicators_on(database)
        kept.report(FIRST, LAST)
        with database.engine.connect() as conn:
            before = conn.execute(select(t.daily_figures)).all()
        strict = kept.using(parameters=Parameters(rings=3))
        assert_same_figures(strict, records, FIRST, LAST)
        with database.engine.connect() as conn:
            assert conn.execute(select(t.daily_figures)).all() == before
        # Figures kept under one time zone are not read for another.
        elsewhere = kept.using(parameters=Parameters(timezone="America/Cayenne"))
        assert_same_figures(elsewhere, records, FIRST, LAST)


def test_a_source_in_memory_gives_the_engines_figures() -> None:
    records = random_records(random.Random(4), 400, "m", FIRST, LAST)
    indicators = Indicators(InMemorySource(frame_from_records(records)))
    assert_same_figures(indicators, records, FIRST, LAST)
    assert_same_figures(indicators, records, date(2026, 10, 25), date(2026, 10, 26))


def test_chunks_are_runs_of_consecutive_days() -> None:
    from analytics.figures import _chunks

    days = [date(2026, 1, d) for d in (1, 2, 3, 4, 5, 9, 10, 20)]
    assert _chunks(days, 2) == [
        (date(2026, 1, 1), date(2026, 1, 2)),
        (date(2026, 1, 3), date(2026, 1, 4)),
        (date(2026, 1, 5), date(2026, 1, 5)),
        (date(2026, 1, 9), date(2026, 1, 10)),
        (date(2026, 1, 20), date(2026, 1, 20)),
    ]
    assert _chunks(days, None)[0] == (date(2026, 1, 1), date(2026, 1, 5))
    assert PeriodFigures  # the planner these chunks feed


SNAPSHOT = Path(__file__).parent / "data" / "definitions_snapshot.json"


def snapshot_figures() -> dict[str, Any]:
    records = random_records(random.Random(2026), 300, "snap", FIRST, LAST)
    frame = frame_from_records(records)
    report = compute_indicators(frame, FIRST, LAST)
    return {
        "report": report.to_json(),
        "by_day": {
            key: {name: counts.as_dict() for name, counts in services.items()}
            for key, services in breakdown(frame, FIRST, LAST, "day").items()
        },
        "percentiles": wait_percentiles(frame, FIRST, LAST),
        "flows": sorted(
            [[*key, count] for key, count in overflow_flows(frame, FIRST, LAST).items()]
        ),
    }


def test_the_definitions_give_the_figures_they_gave() -> None:
    """Figures kept in the database were computed under DEFINITIONS_REVISION: if the
    definitions now give other figures on the same calls, bump it (the kept days are then
    computed again) and write the snapshot afresh:
    ``python -c "from tests.test_daily_figures import write_snapshot; write_snapshot()"``."""
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    current = json.loads(json.dumps(snapshot_figures()))
    if current != snapshot["figures"]:
        assert snapshot["revision"] != aggregates.DEFINITIONS_REVISION, (
            "the definitions give other figures than at revision "
            f"{snapshot['revision']}: bump analytics.aggregates.DEFINITIONS_REVISION and write "
            "the snapshot afresh (see this test's text)"
        )
    assert snapshot["revision"] == aggregates.DEFINITIONS_REVISION, "write the snapshot afresh"


def write_snapshot() -> None:
    SNAPSHOT.write_text(
        json.dumps(
            {"revision": aggregates.DEFINITIONS_REVISION, "figures": snapshot_figures()},
            ensure_ascii=False,
            indent=1,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
