"""The daily aggregates kept after a purge are the indicators themselves (one home for the
definitions): same counts, day by day and service by service, as analytics computes from the
records before they go."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from analytics.frame import frame_from_records
from analytics.indicators import breakdown
from decroche.app import App
from decroche.config import Config
from telephony.records import schema as t
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url
from tests.test_analytics_sources import generated_records


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_purge_keeps_the_indicators_of_each_day(backend: str, tmp_path: Path) -> None:
    records = generated_records(300, seed=3)
    for record in records[::10]:  # some calls reached a closed service first
        record.entries[0].closed = True
    first, last = date(2026, 10, 24), date(2026, 10, 27)
    with temporary_database(backend, tmp_path, pg_url()) as database:
        RecordStore(database, Pseudonymiser(b"a" * 32)).import_records(records)
        app = App(Config(data_dir=tmp_path / "data"), database=database)
        result = app.maintenance().purge(date(2026, 11, 1), datetime(2026, 12, 1, tzinfo=UTC))
        with database.engine.connect() as conn:
            kept = {
                (row["day"], row["service_id"]): row
                for row in conn.execute(select(t.daily_service_stats)).mappings()
            }
    assert result.calls_deleted == len(records)
    by_day = breakdown(frame_from_records(records), first, last, "day")
    compared = 0
    for day_label, services in by_day.items():
        for service, counts in services.items():
            if service == "total":
                continue
            row = kept[(date.fromisoformat(day_label), service)]
            assert [row[k] for k in COUNTED] == [getattr(counts, k) for k in COUNTED], (
                day_label,
                service,
            )
            assert row["wait_answered_sum_s"] == pytest.approx(counts.wait_answered_sum_s, abs=1e-3)
            compared += 1
    assert compared > 10
    assert sum(row["closed"] for row in kept.values()) == len(records[::10])
    assert compared == sum(1 for (day, _) in kept if first <= day <= last)


COUNTED = (
    "offered",
    "answered",
    "answered_within_target",
    "abandoned",
    "short_abandoned",
    "overflowed",
    "closed",
)
