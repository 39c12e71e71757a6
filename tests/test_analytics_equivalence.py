"""The same calls give the same figures from decroche's records and from a queue_log of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from analytics.frame import frame_from_records
from analytics.indicators import compute_indicators
from telephony.records.model import CallRecord
from telephony.records.queue_log import parse_queue_log
from telephony.records.queue_log_export import queue_log_lines
from tests.test_analytics_sources import generated_records

PERIODS = [
    (date(2026, 10, 25), date(2026, 10, 25)),
    (date(2026, 10, 24), date(2026, 10, 27)),
]


def _whole(record: CallRecord) -> CallRecord:
    """The record with every time truncated to the second, as a queue_log would see it."""

    def cut(moment):
        return None if moment is None else moment - timedelta(microseconds=moment.microsecond)

    entries = [
        replace(
            e,
            entered_at=cut(e.entered_at),
            answered_at=cut(e.answered_at),
            ended_at=cut(e.ended_at),
            legs=[],
        )
        for e in record.entries
    ]
    return replace(record, entries=entries)


def _direct(record: CallRecord) -> CallRecord:
    """The call without its voice menu: a queue_log knows nothing before the first queue, so
    its calls arrive there (their short abandons count from it)."""
    return replace(record, started_at=record.entries[0].entered_at)


@pytest.mark.parametrize("whole_seconds", [True, False])
def test_same_figures(whole_seconds: bool) -> None:
    records = [_direct(r) for r in generated_records(500, seed=11)]
    if whole_seconds:
        records = [_whole(r) for r in records]
    parsed, report = parse_queue_log(queue_log_lines(records, whole_seconds=whole_seconds))
    assert report.malformed_count == 0
    assert len(parsed) == len(records)
    for first, last in PERIODS:
        expected = compute_indicators(frame_from_records(records), first, last).to_json()
        got = compute_indicators(frame_from_records(parsed), first, last).to_json()
        assert got == expected
        assert expected["total"]["offered"] > 0
