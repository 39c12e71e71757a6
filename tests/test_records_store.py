"""Call records storage: round trip, idempotent writes, pseudonyms, callbacks, schema.

Every test runs on SQLite and on PostgreSQL (DECROCHE_TEST_PG_URL).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import column as sa_column
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy import table as sa_table

from telephony.records import schema as t
from telephony.records.bounds import bounded_record, dialable
from telephony.records.codec import Finished, Progressed, Started, Touched
from telephony.records.engine import (
    MIGRATIONS_DIR,
    current_revision,
    open_store,
    upgrade_schema,
)
from telephony.records.errors import CallbackNotFound, PseudonymError, RecordInputError
from telephony.records.model import CallOutcome, CallProgress, CallStart, EntryOutcome
from telephony.records.pseudonym import Pseudonymiser, load_or_create_secret, normalise_number
from telephony.records.store import RecordStore
from telephony.records.testing import T0, sample_record, temporary_database
from tests.conftest import BACKENDS, pg_url

SECRET = b"0123456789abcdef-test-secret"


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        yield RecordStore(database, Pseudonymiser(SECRET))


def test_full_record_round_trip(store):
    record = sample_record()
    result = store.apply([Finished(10, record)])
    assert result.written == 1

    loaded = store.load_call(record.call_id)
    assert loaded is not None
    expected = sample_record()
    expected.caller_number = Pseudonymiser(SECRET).pseudonym(record.caller_number) or ""
    assert loaded == expected
    # Times come back aware UTC with their microseconds.
    assert loaded.started_at.tzinfo is not None
    assert loaded.started_at.utcoffset() == timedelta(0)
    assert loaded.started_at.microsecond == 123456
    assert loaded.entries[1].wait_seconds == pytest.approx(8.5)


def test_non_utc_aware_times_are_stored_as_utc(store):
    paris = datetime(2025, 7, 1, 11, 0, 0, 500000).astimezone()  # local zone of the machine
    record = sample_record("tz.1", start=paris)
    store.apply([Finished(1, record)])
    loaded = store.load_call("tz.1")
    assert loaded is not None
    assert loaded.started_at == paris
    assert loaded.started_at.tzinfo == UTC


def test_naive_time_is_refused_with_the_call_named(store):
    record = sample_record("naive.1", start=datetime(2025, 1, 1, 9, 0))
    with pytest.raises(RecordInputError, match=r"naive\.1"):
        store.apply([Finished(1, record)])
    assert store.count_calls() == 0


def test_the_clear_caller_number_is_not_stored(store):
    record = sample_record(caller="0232000001")
    store.apply([Finished(1, record)])
    with store.database.engine.connect() as conn:
        row = conn.execute(select(t.calls)).mappings().one()
        dumped = " ".join(str(v) for v in row.values())
    assert "0232000001" not in dumped
    assert "232000001" not in dumped
    assert row["caller_pseudonym"] == Pseudonymiser(SECRET).pseudonym("+33 2 32 00 00 01")
    assert len(row["caller_pseudonym"]) == 64


def hostile_record(call_id: str = "h" * 120):
    """Values a caller or a SIP peer controls, as PostgreSQL used to refuse them."""
    record = sample_record(call_id, caller="06\x0012345678" + "9" * 40)
    record.dialled = "0232" + "0" * 100 + "\x00\ud800"
    record.callbacks[0].number = record.caller_number  # an abandoned call is owed a callback
    record.ivr[3].key = "1234567890#"
    record.entries[0].legs[0].channel_id = "chan\x00" + "c" * 100
    record.entries[0].legs[1].hangup_cause = 2**40
    record.transfers[0].destination = "2301\n" + "9" * 200
    record.transfer_of = "f" * 120
    return record


def test_values_from_the_network_are_bounded_the_same_on_every_database(store):
    record = hostile_record()
    start = CallStart(record.call_id, T0, record.dialled, record.caller_number)
    result = store.apply([Started(1, start)])
    assert result.written == 1
    store.apply([Touched(2, record.call_id, T0 + timedelta(seconds=5))])
    assert store.apply([Finished(3, record)]).written == 1

    call_id = "h" * 63 + "~" + hashlib.sha256(b"h" * 120).hexdigest()[:16]
    assert store.call_status(call_id) == "done"
    assert store.count_calls() == 1
    loaded = store.load_call(call_id)
    assert loaded is not None
    assert loaded.dialled == "0232" + "0" * 60
    assert loaded.ivr[3].key == "12345678"
    leg = loaded.entries[0].legs[0]
    assert leg.channel_id is not None and len(leg.channel_id) == 80
    assert leg.channel_id.startswith("chan\ufffdccc") and "~" in leg.channel_id
    assert loaded.entries[0].legs[1].hangup_cause is None
    assert loaded.transfers[0].destination == "2301\ufffd" + "9" * 75
    assert loaded.transfer_of == "f" * 63 + "~" + hashlib.sha256(b"f" * 120).hexdigest()[:16]
    # The caller's pseudonym is made from the cleaned number, the same on both databases.
    assert loaded.caller_number == Pseudonymiser(SECRET).pseudonym("06\ufffd12345678" + "9" * 40)
    # No one can dial that number back: the request is kept, closed at once, without a number.
    assert store.pending_callbacks() == []
    with store.database.engine.connect() as conn:
        callback = conn.execute(select(t.callback_requests)).mappings().one()
    assert (callback["status"], callback["number"]) == ("expired", None)
    assert callback["closed_at"] == record.callbacks[0].at


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("+33 (0)6 12.34.56-78", "+33 (0)6 12.34.56-78"),
        ("0612345678" * 4, ""),  # 40 digits: no one's number
        ("06\x0012345678", ""),
        ("sip:alice@example.com", ""),
        ("*51", ""),
    ],
)
def test_a_callback_keeps_a_number_only_if_it_can_be_dialled(given, kept):
    assert dialable(given) == kept


def test_bounding_twice_changes_nothing():
    once = bounded_record(hostile_record())
    assert bounded_record(once) == once


def test_replaying_the_same_items_writes_each_call_once(store):
    items = [Finished(5, sample_record("a")), Finished(6, sample_record("b"))]
    assert store.apply(items).written == 2
    again = store.apply(items)
    assert again.written == 0
    assert again.skipped == 2
    assert store.count_calls() == 2
    with store.database.engine.connect() as conn:
        entries = conn.execute(select(t.service_entries)).all()
        legs = conn.execute(select(t.agent_legs)).all()
    assert len(entries) == 4
    assert len(legs) == 8


def test_a_newer_finish_replaces_an_older_one_and_not_the_reverse(store):
    first = sample_record("x")
    second = sample_record("x")
    second.outcome = CallOutcome.ABANDONED
    second.entries = second.entries[:1]
    store.apply([Finished(1, first)])
    store.apply([Finished(2, second)])
    store.apply([Finished(1, first)])  # an old replay must not win
    loaded = store.load_call("x")
    assert loaded is not None
    assert loaded.outcome is CallOutcome.ABANDONED
    assert len(loaded.entries) == 1


def test_start_touch_then_close_interrupted_at_last_seen(store):
    start = CallStart("open.1", T0, "0232000000", "0600000000")
    store.apply([Started(100, start)])
    store.apply([Touched(101, "open.1", T0 + timedelta(seconds=42.5))])
    store.apply([Touched(102, "open.1", T0 + timedelta(seconds=10))])  # never backwards
    assert store.call_status("open.1") == "open"

    assert store.close_interrupted(before_seq=50, seq=200) == 0  # started after: left alone
    assert store.close_interrupted(before_seq=150, seq=200) == 1
    loaded = store.load_call("open.1")
    assert loaded is not None
    assert loaded.outcome is CallOutcome.INTERRUPTED
    assert loaded.ended_at == T0 + timedelta(seconds=42.5)
    assert store.call_status("open.1") == "done"
    assert store.close_interrupted(before_seq=1000, seq=1001) == 0


def progress_of(call_id: str, seconds: float) -> CallProgress:
    """The sample call as known ``seconds`` after its start: its second entry still open and
    answered, the second leg of it still ringing."""
    record = sample_record(call_id)
    at = T0 + timedelta(seconds=seconds)
    record.outcome = CallOutcome.INTERRUPTED
    record.ended_at = at
    record.transfers = []
    record.survey = []
    second = record.entries[1]
    second.ended_at = at
    second.legs[0].ended_at = at
    second.legs[1].ended_at = at
    return CallProgress(record, open_entry=True, open_legs=(0, 1))


def test_progress_closes_an_open_call_with_what_was_known(store):
    start = CallStart("p.1", T0, "0232000000", "+33 2 32 00 00 01")
    store.apply([Started(100, start), Progressed(101, progress_of("p.1", 60.0))])
    store.apply([Progressed(103, progress_of("p.1", 90.0))])
    store.apply([Progressed(102, progress_of("p.1", 70.0))])  # an older one never wins
    store.apply([Touched(104, "p.1", T0 + timedelta(seconds=95.5))])
    assert store.call_status("p.1") == "open"
    with store.database.engine.connect() as conn:
        stored = conn.execute(select(t.calls.c.progress)).scalar_one()
    assert "+33 2 32 00 00 01" not in stored  # only the start's pseudonym is kept
    assert store.load_call("p.1").entries == []  # nothing counted while it runs

    assert store.close_interrupted(before_seq=200, seq=300) == 1
    closed = store.load_call("p.1")
    assert closed is not None
    end = T0 + timedelta(seconds=95.5)  # the last time seen: what was open ends there
    expected = progress_of("p.1", 90.0).closed_at(end)
    expected.caller_number = Pseudonymiser(SECRET).pseudonym("+33 2 32 00 00 01") or ""
    assert closed == expected
    assert closed.outcome is CallOutcome.INTERRUPTED
    assert closed.entries[0].ended_at == T0 + timedelta(seconds=32)  # closed before: as it was
    assert closed.entries[1].ended_at == end
    assert [leg.ended_at for leg in closed.entries[1].legs] == [end, end]
    assert closed.callbacks[0].number == "06 12 34 56 78"  # the callback list still has it
    with store.database.engine.connect() as conn:
        assert conn.execute(select(t.calls.c.progress)).scalar_one() is None


def test_a_finished_call_ignores_a_late_progress(store):
    start = CallStart("late", T0, "0232000000", "0600000000")
    store.apply([Started(1, start), Progressed(2, progress_of("late", 5.0))])
    store.apply([Finished(3, sample_record("late")), Progressed(4, progress_of("late", 6.0))])
    store.apply([Progressed(5, progress_of("late", 7.0))])
    loaded = store.load_call("late")
    assert loaded is not None and loaded.outcome is CallOutcome.ANSWERED
    assert store.close_interrupted(before_seq=100, seq=101) == 0


def test_an_unreadable_progress_still_closes_the_call(store, caplog):
    store.apply([Started(1, CallStart("bad", T0, "0232000000", "0600000000"))])
    store.apply([Touched(2, "bad", T0 + timedelta(seconds=30))])
    with store.database.engine.begin() as conn:
        conn.execute(t.calls.update().values(progress='{"record": {"call_id": "bad"}}'))
    assert store.close_interrupted(before_seq=10, seq=11) == 1
    loaded = store.load_call("bad")
    assert loaded is not None
    assert (loaded.outcome, loaded.ended_at, loaded.entries) == (
        CallOutcome.INTERRUPTED,
        T0 + timedelta(seconds=30),
        [],
    )
    assert "call bad: its journaled progress is unreadable" in caplog.text


def test_start_then_finish_in_one_batch_keeps_the_finish(store):
    start = CallStart("both", T0, "0232000000", "0600000000")
    store.apply([Started(1, start), Finished(2, sample_record("both"))])
    store.apply([Started(1, start)])  # a replayed start never reopens a finished call
    assert store.call_status("both") == "done"


def test_callback_number_kept_until_done(store):
    store.apply([Finished(1, sample_record("cb.1"))])
    pending = store.pending_callbacks()
    assert [(p.call_id, p.number) for p in pending] == [("cb.1", "06 12 34 56 78")]

    done_at = T0 + timedelta(hours=2)
    store.mark_callback_done("cb.1", 0, by="PJSIP/1001", at=done_at)
    assert store.pending_callbacks() == []
    with store.database.engine.connect() as conn:
        row = conn.execute(select(t.callback_requests)).mappings().one()
    assert row["number"] is None
    assert row["status"] == "done"
    assert row["done_by"] == "PJSIP/1001"
    assert row["closed_at"] == done_at
    assert row["number_pseudonym"] == Pseudonymiser(SECRET).pseudonym("0612345678")
    with pytest.raises(CallbackNotFound, match=r"cb\.1#0"):
        store.mark_callback_done("cb.1", 0, by="PJSIP/1001", at=done_at)


def test_expired_callbacks_lose_their_number(store):
    store.apply([Finished(1, sample_record("old", start=T0))])
    store.apply([Finished(2, sample_record("new", start=T0 + timedelta(days=10)))])
    expired = store.expire_callbacks(T0 + timedelta(days=3), at=T0 + timedelta(days=11))
    assert expired == 1
    assert [p.call_id for p in store.pending_callbacks()] == ["new"]
    with store.database.engine.connect() as conn:
        numbers = dict(
            conn.execute(select(t.callback_requests.c.call_id, t.callback_requests.c.number)).all()
        )
    assert numbers == {"old": None, "new": "06 12 34 56 78"}


def test_schema_is_at_head_and_matches_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert current_revision(store.database.engine) == HEAD
    with store.database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    assert diff == []


def test_deleting_a_call_cascades_to_its_parts(store):
    store.apply([Finished(1, sample_record("gone"))])
    with store.database.engine.begin() as conn:
        conn.execute(t.calls.delete())
    with store.database.engine.connect() as conn:
        for table in t.CALL_CHILDREN:
            assert conn.execute(select(table)).all() == [], table.name


def transfer_leg(call_id: str = "leg.1", first: str = "first.1"):
    """The call an agent's blind transfer brought back into decroche."""
    record = sample_record(call_id, caller="0232000009")
    record.transfer_of = first
    return record


def stored_transfer_of(store) -> dict[str, str | None]:
    with store.database.engine.connect() as conn:
        return dict(conn.execute(select(t.calls.c.call_id, t.calls.c.transfer_of)).all())


def test_a_transfer_leg_round_trips(store):
    store.apply([Finished(1, sample_record("first.1")), Finished(2, transfer_leg())])
    assert stored_transfer_of(store) == {"first.1": None, "leg.1": "first.1"}

    loaded = store.load_call("leg.1")
    expected = transfer_leg()
    expected.caller_number = Pseudonymiser(SECRET).pseudonym("0232000009") or ""
    assert loaded == expected
    first = store.load_call("first.1")
    assert first is not None
    assert first.transfer_of is None


def test_a_started_call_has_no_transfer_of_until_its_finish_says_so(store):
    store.apply([Started(1, CallStart("leg.1", T0, "0232000000", "0232000009"))])
    assert stored_transfer_of(store) == {"leg.1": None}
    store.apply([Finished(2, transfer_leg())])
    assert stored_transfer_of(store) == {"leg.1": "first.1"}
    # A newer finish rewrites the whole row: a value it no longer carries does not linger.
    store.apply([Finished(3, sample_record("leg.1"))])
    assert stored_transfer_of(store) == {"leg.1": None}


def test_imported_records_keep_transfer_of(store):
    result = store.import_records([sample_record("first.1"), transfer_leg()])
    assert result.inserted == 2
    assert stored_transfer_of(store) == {"first.1": None, "leg.1": "first.1"}


# --- migrations -------------------------------------------------------------------------------


def downgrade_schema(engine, revision):
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def calls_columns(database) -> set[str]:
    return {column["name"] for column in inspect(database.engine).get_columns("calls")}


def row_counts(database) -> dict[str, int]:
    with database.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in t.CALL_TABLES
        }


HEAD = "0007"  # the newest revision of the call records' schema

# The columns each revision added, that the store writes now.
ADDED_BY = {
    "0002": {"calls": ("transfer_of",)},
    "0005": {"service_entries": ("queue_started_at", "queue_ended_at")},
    "0006": {"service_entries": ("closed",)},
}


def write_as_at(revision, store, record, seq):
    """Store a call with the columns ``revision`` has (the store writes the newer ones)."""
    rows = {table.name: [] for table in t.CALL_TABLES}
    store._record_rows(record, seq, rows)
    for added in (columns for rev, columns in ADDED_BY.items() if rev > revision):
        for table, names in added.items():
            for row in rows[table]:
                for name in names:
                    del row[name]
    with store.database.engine.begin() as conn:
        for table in t.CALL_TABLES:
            if not rows[table.name]:
                continue
            # Only the columns the revision has (the models' defaults would add the others).
            columns = [
                sa_column(c.name, c.type) for c in table.columns if c.name in rows[table.name][0]
            ]
            old = sa_table(table.name, *columns, schema=table.schema)
            conn.execute(insert(old), rows[table.name])


def write_as_at_0001(store, record, seq):
    write_as_at("0001", store, record, seq)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_made_at_0001_upgrades_keeping_its_calls(backend, tmp_path):
    with temporary_database(backend, tmp_path, pg_url(), revision="0001") as database:
        store = RecordStore(database, Pseudonymiser(SECRET))
        assert current_revision(database.engine) == "0001"
        assert "transfer_of" not in calls_columns(database)
        write_as_at("0001", store, sample_record("old.1"), 7)
        before = row_counts(database)
        assert before["calls"] == 1
        assert before["agent_legs"] == 4

        upgrade_schema(database.engine)
        assert current_revision(database.engine) == HEAD
        assert "transfer_of" in calls_columns(database)
        # Every part of the old call is still there (a table copy on SQLite could cascade).
        assert row_counts(database) == before
        expected = sample_record("old.1")
        expected.caller_number = Pseudonymiser(SECRET).pseudonym(expected.caller_number) or ""
        assert store.load_call("old.1") == expected  # transfer_of reads back as None

        # The old call's journal sequence still guards against replays after the upgrade.
        assert store.apply([Finished(7, sample_record("old.1"))]).skipped == 1
        store.apply([Finished(8, transfer_leg(first="old.1"))])
        assert stored_transfer_of(store) == {"old.1": None, "leg.1": "old.1"}


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrading_to_0001_drops_transfer_of_and_keeps_every_row(backend, tmp_path):
    with temporary_database(backend, tmp_path, pg_url()) as database:
        store = RecordStore(database, Pseudonymiser(SECRET))
        store.apply([Finished(1, sample_record("first.1")), Finished(2, transfer_leg())])
        before = row_counts(database)
        assert before["service_entries"] == 4

        downgrade_schema(database.engine, "0001")
        assert current_revision(database.engine) == "0001"
        assert "transfer_of" not in calls_columns(database)
        # SQLite drops the column in place: copying `calls` and dropping the original would
        # have cascaded to every call's entries, legs, IVR path...
        assert row_counts(database) == before

        upgrade_schema(database.engine)
        assert stored_transfer_of(store) == {"first.1": None, "leg.1": None}
        leg = store.load_call("leg.1")
        assert leg is not None
        assert len(leg.entries) == 2


def closed_then_open_record(call_id: str = "closed.1"):
    """The youth centre closed (the call sent on at once), then the general desk answers."""
    record = sample_record(call_id)
    first = record.entries[0]
    first.outcome = EntryOutcome.OVERFLOW_CLOSED
    first.ended_at = first.entered_at
    first.legs = []
    first.closed = True
    return record


def entries_closed(database) -> dict[tuple[str, int], bool]:
    e = t.service_entries.c
    with database.engine.connect() as conn:
        rows = conn.execute(select(e.call_id, e.position, e.closed)).all()
    return {(call_id, position): bool(closed) for call_id, position, closed in rows}


def test_an_entry_while_closed_round_trips(store):
    store.apply([Finished(1, closed_then_open_record())])
    assert entries_closed(store.database) == {("closed.1", 0): True, ("closed.1", 1): False}
    loaded = store.load_call("closed.1")
    assert loaded is not None
    assert [entry.closed for entry in loaded.entries] == [True, False]


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_to_0006_marks_the_entries_routing_sent_on_as_closed(backend, tmp_path):
    with temporary_database(backend, tmp_path, pg_url(), revision="0005") as database:
        store = RecordStore(database, Pseudonymiser(SECRET))
        write_as_at("0005", store, closed_then_open_record("old.1"), 7)
        write_as_at("0005", store, sample_record("old.2"), 8)
        before = row_counts(database)

        upgrade_schema(database.engine)
        assert current_revision(database.engine) == HEAD
        assert row_counts(database) == before
        # Before 0006 only the routing decision "closed" gave the outcome overflow_closed.
        assert entries_closed(database) == {
            ("old.1", 0): True,
            ("old.1", 1): False,
            ("old.2", 0): False,
            ("old.2", 1): False,
        }
        stats = {c["name"] for c in inspect(database.engine).get_columns("daily_service_stats")}
        assert "closed" in stats

        downgrade_schema(database.engine, "0005")
        assert "closed" not in {
            c["name"] for c in inspect(database.engine).get_columns("service_entries")
        }
        assert row_counts(database) == before  # dropped in place, nothing cascaded


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    database = open_store(f"sqlite:///{tmp_path / 'd' / 'x.db'}")
    try:
        with database.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert "calls" in database.table_names()
    finally:
        database.dispose()


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("+33 2 32 00 00 01", "0232000001"),
        ("0033232000001", "0232000001"),
        ("02.32.00.00.01", "0232000001"),
        ("0044 20 7946 0000", "+442079460000"),
        ("anonymous", None),
        ("", None),
    ],
)
def test_number_normalisation(raw, normal):
    assert normalise_number(raw) == normal


def test_pseudonyms_are_keyed():
    a = Pseudonymiser(SECRET)
    b = Pseudonymiser(b"another-secret-of-sufficient-length")
    assert a.pseudonym("0232000001") == a.pseudonym("+33232000001")
    assert a.pseudonym("0232000001") != b.pseudonym("0232000001")
    assert a.pseudonym("anonymous") is None
    with pytest.raises(PseudonymError, match="at least 16 bytes"):
        Pseudonymiser(b"short")


def test_secret_file_is_created_once_owner_only(tmp_path):
    path = tmp_path / "keys" / "pseudonym.key"
    first = load_or_create_secret(path)
    assert load_or_create_secret(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    path.write_bytes(b"tiny")
    with pytest.raises(PseudonymError, match="too short"):
        load_or_create_secret(path)


def test_the_head_read_without_alembic_is_alembics():
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from telephony.records.engine import MIGRATIONS_DIR, at_head, head_revision

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [head_revision()]
    database = open_store("sqlite://", upgrade=False)
    try:
        assert not at_head(database.engine)  # no schema yet: Alembic makes it
    finally:
        database.dispose()


def test_a_database_at_head_opens_without_alembic(tmp_path):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_store(url).dispose()
    # A fresh process: opening the upgraded database imports no Alembic module.
    code = (
        "import sys; from telephony.records.engine import open_store; "
        f"open_store({url!r}).dispose(); "
        "print(sorted(m for m in sys.modules if m.startswith('alembic')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- the wait in a service's queue (issue 16) --------------------------------------------------


def queued_record(call_id: str = "q.1"):
    """The sample call whose second entry waited 40 s in the service's queue first."""
    record = sample_record(call_id)
    second = record.entries[1]
    second.queue_started_at = second.entered_at + timedelta(seconds=0.5)
    second.queue_ended_at = second.entered_at + timedelta(seconds=40.5, microseconds=7)
    return record


def test_the_queue_wait_round_trips(store):
    store.apply([Finished(1, queued_record())])
    loaded = store.load_call("q.1")
    assert loaded is not None
    second = queued_record().entries[1]
    assert loaded.entries[1].queue_started_at == second.queue_started_at
    assert loaded.entries[1].queue_ended_at == second.queue_ended_at
    assert loaded.entries[1].queue_seconds == pytest.approx(40.000007)
    assert loaded.entries[0].queue_started_at is None  # never waited in a queue
    assert loaded.entries[0].queue_seconds is None


def test_an_interrupted_call_waiting_in_a_queue_ends_its_wait_with_the_call(store):
    progress = progress_of("pq.1", 60.0)
    waiting = progress.record.entries[1]
    waiting.queue_started_at = waiting.entered_at
    waiting.queue_ended_at = T0 + timedelta(seconds=60.0)
    progress = CallProgress(progress.record, open_entry=True, open_legs=(), open_queue=True)
    start = CallStart("pq.1", T0, "0232000000", "0600000000")
    store.apply([Started(1, start), Progressed(2, progress)])
    store.apply([Touched(3, "pq.1", T0 + timedelta(seconds=75.0))])
    assert store.close_interrupted(before_seq=10, seq=11) == 1
    closed = store.load_call("pq.1")
    assert closed is not None
    assert closed.entries[1].queue_ended_at == T0 + timedelta(seconds=75.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrading_below_the_queue_drops_its_columns_and_keeps_every_row(backend, tmp_path):
    with temporary_database(backend, tmp_path, pg_url()) as database:
        store = RecordStore(database, Pseudonymiser(SECRET))
        store.apply([Finished(1, queued_record())])
        before = row_counts(database)
        downgrade_schema(database.engine, "0004")
        with database.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("service_entries")}
        assert "queue_started_at" not in columns
        assert row_counts(database) == before
        upgrade_schema(database.engine)
        loaded = store.load_call("q.1")
        assert loaded is not None
        assert loaded.entries[1].queue_started_at is None  # what the old schema could not keep
        assert len(loaded.entries[1].legs) == len(queued_record().entries[1].legs)
