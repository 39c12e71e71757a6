"""The indicators of a what-if (pure): recorded, replayed with the current rules, with the new
ones, and their differences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from analytics.definitions import Counts, Parameters
from analytics.frame import frame_from_records
from analytics.indicators import IndicatorReport, compute_indicators
from telephony.records.model import CallRecord

COMPARED = (
    "closed",
    "offered",
    "answered",
    "abandoned",
    "overflowed",
    "answer_rate",
    "service_level",
    "abandonment_rate",
    "mean_wait_answered_s",
)


def indicators_of(
    records: Iterable[CallRecord], start: date, end: date, params: Parameters | None = None
) -> IndicatorReport:
    return compute_indicators(frame_from_records(records), start, end, params)


def _difference(a: Counts, b: Counts) -> dict[str, float | None]:
    da, db = a.as_dict(), b.as_dict()
    out: dict[str, float | None] = {}
    for key in COMPARED:
        x, y = da[key], db[key]
        out[key] = None if x is None or y is None else round(y - x, 6)
    return out


def compare(before: IndicatorReport, after: IndicatorReport) -> dict[str, Any]:
    """``after − before`` per service and in total, for the compared figures."""
    names = sorted(set(before.services) | set(after.services))
    return {
        "services": {
            n: _difference(before.services.get(n, Counts()), after.services.get(n, Counts()))
            for n in names
        },
        "total": _difference(before.total, after.total),
    }


@dataclass(slots=True)
class WhatIfResult:
    start: date
    end: date
    recorded: IndicatorReport
    current: IndicatorReport
    new: IndicatorReport
    calls: int
    # Why services the new rules change show no difference (whatif.explain), in French.
    notes: tuple[str, ...] = ()

    @property
    def gap(self) -> dict[str, Any]:
        """How far the replay of the current rules is from what was recorded."""
        return compare(self.recorded, self.current)

    @property
    def difference(self) -> dict[str, Any]:
        """What the new rules change, against the replay of the current ones."""
        return compare(self.current, self.new)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "calls": self.calls,
            "recorded": self.recorded.to_json(),
            "current": self.current.to_json(),
            "new": self.new.to_json(),
            "gap": self.gap,
            "difference": self.difference,
            "notes": list(self.notes),
        }


def in_period(records: Iterable[CallRecord], start: date, end: date, tz: Any) -> list[CallRecord]:
    low = datetime.combine(start, time.min, tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time.min, tz).astimezone(UTC)
    return [r for r in records if low <= r.started_at < high]
