"""Purge past the retention period keeps the indicators' numerators and denominators.

The purge is a job of the composition root (:class:`decroche.jobs.Maintenance`): it asks
analytics for the daily aggregates, hands them to the store, then deletes the detail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from analytics.definitions import Parameters
from decroche.app import App, AppError
from decroche.config import Config
from telephony.records import schema as t
from telephony.records.codec import Finished
from telephony.records.errors import RecordInputError
from telephony.records.model import EntryOutcome
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.retention import retention_cutoff
from telephony.records.store import RecordStore
from telephony.records.testing import sample_record, temporary_database
from tests.conftest import BACKENDS, pg_url


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with temporary_database(request.param, tmp_path, pg_url()) as database:
        yield RecordStore(database, Pseudonymiser(b"0123456789abcdef-secret"))


def purge(database, before, *, now, params=None):
    app = App(Config(data_dir=Path("unused")), database=database)
    return app.maintenance(params).purge(before, now)


def daily_maintenance(database, *, now, callback_ttl):
    from decroche.jobs import Maintenance

    app = App(Config(data_dir=Path("unused")), database=database)
    return Maintenance(app, callback_ttl=callback_ttl).run(now)


def abandoned(call_id: str, start: datetime, wait: float):
    record = sample_record(call_id, start=start)
    entry = record.entries[1]
    entry.outcome = EntryOutcome.ABANDONED
    entry.answered_at = None
    entry.agent = None
    entry.ended_at = entry.entered_at + timedelta(seconds=wait)
    return record


def test_purge_writes_daily_aggregates_then_deletes_details(store):
    # 2025-01-14 23:30 UTC is 2025-01-15 00:30 in Paris: it counts for the 15th.
    day = datetime(2025, 1, 14, 23, 30, tzinfo=UTC)
    later = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    store.apply(
        [
            Finished(1, sample_record("a", start=day)),  # overflow, then answered after 8.5 s
            # 3 s in the service, 35 s after arriving (menu, a first service): not a misdial
            Finished(2, abandoned("b", day, 3.0)),
            Finished(3, abandoned("c", day, 40.0)),
            Finished(4, sample_record("keep", start=later)),
        ]
    )
    now = datetime(2025, 4, 1, tzinfo=UTC)
    result = purge(store.database, date(2025, 2, 1), now=now)
    assert result.calls_deleted == 3
    assert result.aggregate_rows == 2
    assert store.count_calls() == 1
    assert store.load_call("keep") is not None

    with store.database.engine.connect() as conn:
        rows = {r["service_id"]: r for r in conn.execute(select(t.daily_service_stats)).mappings()}
        leftover = conn.execute(select(t.service_entries.c.call_id)).scalars().all()
    assert set(leftover) == {"keep"}
    general = rows["accueil-general"]
    assert general["day"] == date(2025, 1, 15)
    assert general["offered"] == 3
    assert general["answered"] == 1
    assert general["answered_within_target"] == 1
    assert general["abandoned"] == 2
    assert general["short_abandoned"] == 0
    assert general["overflowed"] == 0
    assert general["wait_answered_sum_s"] == pytest.approx(8.5)
    assert general["wait_sum_s"] == pytest.approx(8.5 + 3.0 + 40.0)
    civil = rows["etat-civil"]
    assert (civil["offered"], civil["overflowed"], civil["answered"]) == (3, 3, 0)
    assert civil["target_s"] == 25.0

    # A second purge finds nothing more and never rewrites the aggregates.
    again = purge(store.database, date(2025, 2, 1), now=now)
    assert (again.calls_deleted, again.aggregate_rows) == (0, 0)


def test_a_transfer_leg_counts_for_the_service_it_reached(store):
    """The aggregates are per service only (no per-call total, see docs/records.md): a transfer
    leg's entries count there like any other; the "each call once" total needs the detail."""
    day = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    leg = sample_record("leg.1", start=day + timedelta(seconds=150))
    leg.transfer_of = "first.1"
    leg.entries = leg.entries[1:]  # straight to the service, answered after 8.5 s
    leg.entries[0].service_id = "urbanisme"
    store.apply([Finished(1, sample_record("first.1", start=day)), Finished(2, leg)])
    purge(store.database, date(2025, 2, 1), now=datetime(2025, 4, 1, tzinfo=UTC))
    with store.database.engine.connect() as conn:
        rows = {r["service_id"]: r for r in conn.execute(select(t.daily_service_stats)).mappings()}
    assert set(rows) == {"etat-civil", "accueil-general", "urbanisme"}
    urbanisme = rows["urbanisme"]
    assert urbanisme["offered"] == 1
    assert urbanisme["answered"] == urbanisme["answered_within_target"] == 1
    assert rows["accueil-general"]["offered"] == 1  # the first call only


def test_target_is_a_parameter(store):
    start = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
    store.apply([Finished(1, sample_record("a", start=start))])
    purge(
        store.database,
        date(2025, 2, 1),
        now=datetime(2025, 4, 1, tzinfo=UTC),
        params=Parameters(rings=1, ring_seconds=5.0),
    )
    with store.database.engine.connect() as conn:
        row = (
            conn.execute(
                select(t.daily_service_stats).where(
                    t.daily_service_stats.c.service_id == "accueil-general"
                )
            )
            .mappings()
            .one()
        )
    assert row["answered"] == 1
    assert row["answered_within_target"] == 0  # waited 8.5 s > 5 s
    assert row["target_s"] == 5.0


def test_purge_refuses_a_future_date(store):
    with pytest.raises(AppError, match="est dans le futur"):
        purge(store.database, date(2030, 1, 1), now=datetime(2025, 1, 1, tzinfo=UTC))


def test_daily_maintenance_expires_callbacks_and_applies_retention(store):
    now = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
    store.apply(
        [
            Finished(1, sample_record("ancient", start=now - timedelta(days=400))),
            Finished(2, sample_record("month", start=now - timedelta(days=40))),
            Finished(3, sample_record("fresh", start=now - timedelta(days=1))),
        ]
    )
    result = daily_maintenance(store.database, now=now, callback_ttl=timedelta(days=30))
    assert result.callbacks_expired == 2  # "ancient" and "month", before the purge
    assert result.purge.calls_deleted == 1
    assert [p.call_id for p in store.pending_callbacks()] == ["fresh"]


@pytest.mark.parametrize(
    ("today", "months", "cutoff"),
    [
        (date(2025, 6, 15), 12, date(2024, 6, 15)),
        (date(2025, 3, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2023, 2, 28)),
        (date(2025, 1, 10), 1, date(2024, 12, 10)),
    ],
)
def test_retention_cutoff(today, months, cutoff):
    assert retention_cutoff(today, months) == cutoff


def test_retention_must_be_positive():
    with pytest.raises(RecordInputError, match="at least one month"):
        retention_cutoff(date(2025, 1, 1), 0)
