"""Daily aggregates: per local day and service, the counts of the indicators, kept when the
detailed records of old calls are purged (CNIL retention).

They are the indicators' own counts (:func:`analytics.indicators.breakdown` by day, same
definitions, same thresholds), plus the sum of every entry's wait (to its answer, or to its end
when unanswered) for mean waits. Per service only: the "each call once" total needs the detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from analytics.definitions import Counts, Parameters
from analytics.frame import EntryFrame, day_number, local_days
from analytics.indicators import breakdown


@dataclass(frozen=True, slots=True)
class DailyAggregate:
    """One service on one local day."""

    day: date
    service: str
    counts: Counts
    wait_sum_s: float  # every entry's wait: to its answer, or to its end when unanswered
    parameters: Parameters


def daily_aggregates(
    frame: EntryFrame, start: date, end: date, params: Parameters | None = None
) -> list[DailyAggregate]:
    """The aggregates of every (local day, service) with entries in ``start``..``end``, by day
    then service."""
    params = params or Parameters()
    by_day = breakdown(frame, start, end, "day", params)
    days = local_days(frame.entered, params.timezone)
    waits = np.where(np.isnan(frame.answered), frame.ended, frame.answered) - frame.entered
    rows = (days >= day_number(start)) & (days <= day_number(end))
    n_services = max(1, len(frame.services))
    first = day_number(start)
    span = day_number(end) - first + 1
    group = (days[rows] - first) * n_services + frame.service[rows]
    wait_sums = np.bincount(
        group, weights=np.maximum(waits[rows], 0.0), minlength=span * n_services
    )
    aggregates: list[DailyAggregate] = []
    for label, services in by_day.items():
        day = date.fromisoformat(label)
        for service, counts in sorted(services.items()):
            if service == "total":
                continue
            index = (day_number(day) - first) * n_services + frame.services.index(service)
            aggregates.append(DailyAggregate(day, service, counts, float(wait_sums[index]), params))
    return aggregates
