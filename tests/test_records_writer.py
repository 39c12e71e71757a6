"""The record writer: never blocks, journals when the database is unavailable, replays in
order exactly once, and closes calls left open by a crash as interrupted."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta

import pytest

from telephony.records.codec import WriteItem
from telephony.records.engine import open_store
from telephony.records.errors import StoreUnavailable
from telephony.records.journal import MASK, Journal, redact
from telephony.records.model import CallOutcome, CallStart
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import ApplyResult, RecordStore
from telephony.records.testing import T0, sample_record, temporary_database
from telephony.records.writer import RecordWriter, WriterState
from tests.conftest import BACKENDS, pg_url

SECRET = b"0123456789abcdef-test-secret"


class FlakyStore:
    """A real store whose database can be switched off, as if unreachable."""

    def __init__(self, inner: RecordStore) -> None:
        self.inner = inner
        self.down = False
        self.applied_batches = 0

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("connection refused (simulated)")

    def ensure_schema(self) -> None:
        self._check()
        self.inner.ensure_schema()

    def apply(self, items: list[WriteItem]) -> ApplyResult:
        self._check()
        self.applied_batches += 1
        return self.inner.apply(items)

    def close_interrupted(self, before_seq: int, seq: int) -> int:
        self._check()
        return self.inner.close_interrupted(before_seq, seq)


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        yield RecordStore(database, Pseudonymiser(SECRET))


def make_writer(store, tmp_path, **kwargs) -> RecordWriter:
    options = {"retry_min_s": 0.01, "retry_max_s": 0.05, "flush_interval_s": 0.01} | kwargs
    return RecordWriter(store, Journal(tmp_path / "records.journal"), **options)


async def test_records_reach_the_database(store, tmp_path):
    writer = make_writer(store, tmp_path)
    writer.start()
    await writer.call_started(CallStart("w.1", T0, "0232000000", "0600000001"))
    await writer.call_finished(sample_record("w.1"))
    await writer.call_finished(sample_record("w.2"))
    assert await writer.drain()
    await writer.aclose()
    assert store.count_calls() == 2
    assert store.call_status("w.1") == "done"
    status = writer.status()
    assert status.state is WriterState.STOPPED
    assert status.journal_backlog == 0
    assert status.journaled == 0


async def test_database_down_loses_nothing_and_replays_once_in_order(store, tmp_path):
    flaky = FlakyStore(store)
    writer = make_writer(flaky, tmp_path)
    writer.start()
    await writer.call_finished(sample_record("before"))
    assert await writer.drain()
    assert writer.status().state is WriterState.OK

    flaky.down = True
    await writer.call_started(CallStart("during", T0, "0232000000", "0600000001"))
    for i in range(30):
        await writer.call_finished(sample_record(f"down.{i}"))
    # The later finish of "during" must win over its earlier start, even through the journal.
    await writer.call_finished(sample_record("during"))
    assert await writer.drain()
    status = writer.status()
    assert status.state is WriterState.JOURNALING
    assert status.journal_backlog == 32
    assert store.count_calls() == 1
    lines = (tmp_path / "records.journal").read_text().splitlines()
    assert len(lines) == 32
    assert [json.loads(line)["seq"] for line in lines] == sorted(
        json.loads(line)["seq"] for line in lines
    )

    flaky.down = False
    # The writer retries on its own (every 10 to 50 ms here): wait for the replay to be done,
    # so that "after" is written straight away (before this wait, it raced the retry timer).
    async with asyncio.timeout(10):
        # The writer is a thread: no asyncio event to await, its status is what it exposes.
        while writer.status().state is not WriterState.OK:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await writer.call_finished(sample_record("after"))
    assert await writer.drain()
    await writer.aclose()
    assert store.count_calls() == 33
    assert store.call_status("during") == "done"
    status = writer.status()
    assert status.journal_backlog == 0
    # 30 + "during" once: its start, replayed in the same batch as its finish, is superseded.
    assert status.replayed == 31
    assert status.written == 2  # "before" and "after"
    assert (tmp_path / "records.journal").read_text() == ""


async def test_replaying_a_journal_twice_takes_effect_once(store, tmp_path):
    """A crash after the database committed but before the journal was cleared."""
    flaky = FlakyStore(store)
    flaky.down = True
    writer = make_writer(flaky, tmp_path)
    writer.start()
    await writer.call_finished(sample_record("cb"))
    assert await writer.drain()
    writer.stop()
    journal_copy = (tmp_path / "records.journal").read_bytes()
    assert journal_copy

    flaky.down = False
    second = make_writer(flaky, tmp_path)
    second.start()
    assert await second.drain()
    second.stop()
    assert store.count_calls() == 1
    # The agent calls back: the number is forgotten...
    store.mark_callback_done("cb", 0, by="PJSIP/1001", at=T0 + timedelta(hours=1))
    # ...then the journal turns up again (crash before truncation) and is replayed.
    (tmp_path / "records.journal").write_bytes(journal_copy)
    third = make_writer(flaky, tmp_path)
    third.start()
    assert await third.drain()
    third.stop()
    assert third.status().skipped == 1
    assert third.status().journal_backlog == 0
    assert store.pending_callbacks() == []  # not resurrected by the replay


async def test_crash_mid_call_is_closed_as_interrupted_after_restart(store, tmp_path):
    first = make_writer(store, tmp_path)
    first.start()
    await first.call_started(CallStart("crash.1", T0, "0232000000", "0600000001"))
    first.touch("crash.1", T0 + timedelta(seconds=75.5))
    await first.call_started(CallStart("crash.2", T0, "0232000000", "0600000002"))
    assert await first.drain()
    first.stop()  # the process dies here: no call_finished ever comes
    assert store.call_status("crash.1") == "open"

    second = make_writer(store, tmp_path)
    second.start()
    await second.call_started(CallStart("new.1", T0, "0232000000", "0600000003"))
    assert await second.drain()
    second.stop()
    assert second.status().interrupted_closed == 2
    one = store.load_call("crash.1")
    assert one is not None
    assert one.outcome is CallOutcome.INTERRUPTED
    assert one.ended_at == T0 + timedelta(seconds=75.5)
    two = store.load_call("crash.2")
    assert two is not None
    assert two.ended_at == T0  # never touched: closed at its start
    assert store.call_status("new.1") == "open"  # this run's call is left alone


async def test_crash_while_journaling_replays_then_closes(store, tmp_path):
    flaky = FlakyStore(store)
    flaky.down = True
    first = make_writer(flaky, tmp_path)
    first.start()
    await first.call_started(CallStart("j.1", T0, "0232000000", "0600000001"))
    first.touch("j.1", T0 + timedelta(seconds=12))
    await first.call_started(CallStart("j.2", T0, "0232000000", "0600000002"))
    await first.call_finished(sample_record("j.2"))
    assert await first.drain()
    first.stop()
    assert store.count_calls() == 0

    flaky.down = False
    second = make_writer(flaky, tmp_path)
    second.start()
    assert await second.drain()
    second.stop()
    closed = store.load_call("j.1")
    assert closed is not None
    assert closed.outcome is CallOutcome.INTERRUPTED
    assert closed.ended_at == T0 + timedelta(seconds=12)
    finished = store.load_call("j.2")
    assert finished is not None
    assert finished.outcome is CallOutcome.ANSWERED


async def test_progress_journaled_while_the_database_is_down_closes_the_call_after(store, tmp_path):
    from tests.test_records_store import progress_of

    flaky = FlakyStore(store)
    flaky.down = True
    first = make_writer(flaky, tmp_path)
    first.start()
    await first.call_started(CallStart("jp.1", T0, "0232000000", "+33 2 32 00 00 01"))
    first.call_progress(progress_of("jp.1", 50.0))
    first.touch("jp.1", T0 + timedelta(seconds=55))
    assert await first.drain()
    first.stop()  # crash with everything in the journal
    lines = [json.loads(line) for line in (tmp_path / "records.journal").read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["start", "progress", "touch"]
    assert lines[1]["data"]["record"]["caller_number"] == ""
    masked = redact(lines[1])
    assert masked["data"]["record"]["callbacks"][0][2] == MASK  # what a set-aside line keeps

    flaky.down = False
    second = make_writer(flaky, tmp_path)
    second.start()
    assert await second.drain()
    second.stop()
    assert second.status().interrupted_closed == 1
    closed = store.load_call("jp.1")
    assert closed is not None
    assert closed.outcome is CallOutcome.INTERRUPTED
    assert closed.ended_at == T0 + timedelta(seconds=55)
    assert [e.service_id for e in closed.entries] == ["etat-civil", "accueil-general"]
    assert closed.entries[1].agent == "PJSIP/1001"


async def test_locked_sqlite_is_journaled_then_replayed(tmp_path):
    path = tmp_path / "locked.db"
    database = open_store(f"sqlite:///{path}", busy_timeout_ms=50)
    store = RecordStore(database, Pseudonymiser(SECRET))
    writer = make_writer(store, tmp_path)
    writer.start()
    await writer.call_finished(sample_record("l.0"))
    assert await writer.drain()

    locker = sqlite3.connect(path, timeout=0.05)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(1, 6):
            await writer.call_finished(sample_record(f"l.{i}"))
        assert await writer.drain()
        status = writer.status()
        assert status.state is WriterState.JOURNALING
        assert status.journal_backlog == 5
        assert "locked" in (status.last_error or "")
    finally:
        locker.rollback()
        locker.close()
    writer.stop()  # stopping gives the journal one last chance
    assert writer.status().journal_backlog == 0
    assert store.count_calls() == 6
    database.dispose()


async def test_unreachable_postgresql_then_restart_with_the_database_back(store, tmp_path):
    refused = open_store(
        "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1", upgrade=False
    )
    writer = make_writer(RecordStore(refused, Pseudonymiser(SECRET)), tmp_path)
    writer.start()
    for i in range(3):
        await writer.call_finished(sample_record(f"pg.{i}"))
    assert await writer.drain()
    writer.stop()
    assert writer.status().journal_backlog == 3
    assert writer.status().state is WriterState.STOPPED
    assert "127.0.0.1" in (writer.status().last_error or "")
    refused.dispose()

    restarted = make_writer(store, tmp_path)
    restarted.start()
    assert await restarted.drain()
    restarted.stop()
    assert store.count_calls() == 3
    assert restarted.status().replayed == 3


async def test_a_refused_record_is_set_aside_without_blocking_the_others(store, tmp_path):
    writer = make_writer(store, tmp_path)
    writer.start()
    bad = sample_record("bad")
    bad.entries[0].entered_at = bad.entries[0].entered_at.replace(tzinfo=None)
    await writer.call_finished(sample_record("good.1"))
    await writer.call_finished(bad)
    await writer.call_finished(sample_record("good.2"))
    assert await writer.drain()
    writer.stop()
    assert store.count_calls() == 2
    assert writer.status().rejected == 1
    rejected = (tmp_path / "records.journal.rejected").read_text().splitlines()
    assert len(rejected) == 1
    line = json.loads(rejected[0])["line"]
    assert '"bad"' in line
    # Kept for a person to read: never a clear caller or callback number.
    assert "[masqué]" in line
    assert "32 00 00 01" not in line and "06 12 34 56 78" not in line


def test_torn_last_line_is_skipped_and_garbage_set_aside(tmp_path):
    journal = Journal(tmp_path / "j")
    from telephony.records.codec import Finished

    journal.append([Finished(1, sample_record("ok"))])
    with (tmp_path / "j").open("ab") as handle:
        handle.write(b"not json, caller +33 6 12 34 56 78\n")
        handle.write(b'{"seq": 3, "kind": "fin')  # cut by a crash
    items = [line.item.seq for line in journal.read()]
    assert items == [1]
    rejected = (tmp_path / "j.rejected").read_text().splitlines()
    assert len(rejected) == 1
    assert "journal line 2" in json.loads(rejected[0])["reason"]
    assert json.loads(rejected[0])["line"] == "not json, caller [masqué]"


async def test_values_from_the_network_go_through_the_journal_to_the_database(store, tmp_path):
    """A NUL, a lone surrogate or an over-long number from the network: journaled while the
    database is down, then stored on either database; nothing refused, held or set aside."""
    flaky = FlakyStore(store)
    writer = make_writer(flaky, tmp_path)
    flaky.down = True
    writer.start()
    record = sample_record("hostile", caller="06\x00" + "1" * 40)
    record.dialled = "0232\ud800" + "0" * 100
    record.callbacks[0].number = record.caller_number
    await writer.call_started(CallStart("hostile", T0, record.dialled, record.caller_number))
    await writer.call_finished(record)
    assert await writer.drain()
    status = writer.status()
    assert (status.journal_backlog, status.held_in_memory) == (2, 0)
    flaky.down = False
    async with asyncio.timeout(10):
        while writer.status().state is not WriterState.OK:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    await writer.aclose()
    assert store.call_status("hostile") == "done"
    assert writer.status().rejected == 0
    assert not (tmp_path / "records.journal.rejected").exists()
    loaded = store.load_call("hostile")
    assert loaded is not None and loaded.dialled == "0232\ufffd" + "0" * 59


def transfer_leg(call_id: str = "leg.1"):
    record = sample_record(call_id)
    record.transfer_of = "first.1"
    return record


def test_the_journal_carries_transfer_of(tmp_path):
    from telephony.records.codec import Finished

    journal = Journal(tmp_path / "j")
    journal.append([Finished(1, transfer_leg()), Finished(2, sample_record("first.1"))])
    lines = [json.loads(raw) for raw in (tmp_path / "j").read_text().splitlines()]
    assert [line["data"]["transfer_of"] for line in lines] == ["first.1", None]
    records = [line.item.record for line in journal.read()]
    assert records == [transfer_leg(), sample_record("first.1")]


def test_a_journal_line_from_before_transfer_of_still_reads(tmp_path):
    from telephony.records.codec import Finished, item_to_json

    old = item_to_json(Finished(4, sample_record("old.1")))
    del old["data"]["transfer_of"]  # what the writer journaled before the field existed
    (tmp_path / "j").write_text(json.dumps(old) + "\n", encoding="utf-8")
    lines = list(Journal(tmp_path / "j").read())
    assert len(lines) == 1
    assert lines[0].item == Finished(4, sample_record("old.1"))
    assert not (tmp_path / "j.rejected").exists()


async def test_a_journaled_transfer_leg_reaches_the_database_with_its_first_call(store, tmp_path):
    flaky = FlakyStore(store)
    flaky.down = True
    writer = make_writer(flaky, tmp_path)
    writer.start()
    await writer.call_finished(sample_record("first.1"))
    await writer.call_finished(transfer_leg())
    assert await writer.drain()
    assert writer.status().journal_backlog == 2
    flaky.down = False
    await writer.call_finished(sample_record("after"))
    assert await writer.drain()
    await writer.aclose()
    leg = store.load_call("leg.1")
    assert leg is not None
    assert leg.transfer_of == "first.1"
    first = store.load_call("first.1")
    assert first is not None
    assert first.transfer_of is None
