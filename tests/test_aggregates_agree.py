"""The daily aggregates kept after a purge (telephony.records.retention) follow the same
definitions as the indicators (analytics): same counts, day by day and service by service."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from analytics.frame import frame_from_records
from analytics.indicators import breakdown
from telephony.records.pseudonym import Pseudonymiser
from telephony.records.retention import AggregateParameters, compute_day_stats
from telephony.records.store import RecordStore
from telephony.records.testing import temporary_database
from tests.conftest import BACKENDS, pg_url
from tests.test_analytics_sources import generated_records


@pytest.mark.parametrize("backend", BACKENDS)
def test_daily_aggregates_equal_the_indicators(backend: str, tmp_path: Path) -> None:
    records = generated_records(300, seed=3)
    first, last = date(2026, 10, 24), date(2026, 10, 27)
    with temporary_database(backend, tmp_path, pg_url()) as database:
        RecordStore(database, Pseudonymiser(b"a" * 32)).import_records(records)
        stats = compute_day_stats(database, first, last, AggregateParameters())
    by_day = breakdown(frame_from_records(records), first, last, "day")
    compared = 0
    for day_label, services in by_day.items():
        for service, counts in services.items():
            if service == "total":
                continue
            kept = stats[(date.fromisoformat(day_label), service)]
            assert (
                kept.offered,
                kept.answered,
                kept.answered_within_target,
                kept.abandoned,
                kept.short_abandoned,
                kept.overflowed,
            ) == (
                counts.offered,
                counts.answered,
                counts.answered_within_target,
                counts.abandoned,
                counts.short_abandoned,
                counts.overflowed,
            ), (day_label, service)
            assert kept.wait_answered_sum_s == pytest.approx(counts.wait_answered_sum_s, abs=1e-3)
            compared += 1
    assert compared == len(stats) > 10
