"""Daily figures: what the indicators of any period are made of, one local day at a time.

Every figure of a period adds up from its days: per service the entries of the day, in total
each call once in the day the engine counts it in (see :mod:`analytics.definitions`), the waits
counted in classes (:mod:`analytics.waits`), the overflows by destination. A day over does not
change unless the store writes to it again (a late record, an import: see
:mod:`telephony.records.touched`), so its figures are computed once by the engine, from the
entries, with the same definitions as any other figure, and kept (``daily_figures``); a year is
then 365 days of figures plus the open day read from its entries, and gives exactly the figures
the engine gives from the year's entries (``tests/test_daily_figures.py`` checks it).

:class:`DayFigures` is one day's figures: the counts of each local hour, per service and in
total, the waits in classes and the overflows per service. They are computed by
:func:`day_figures` from a frame, merged over a period by :func:`period_report`,
:func:`period_breakdown`, :func:`period_percentiles` and :func:`period_overflows`, packed for the
store by :func:`pack` and read back by :func:`unpack`. A day's figures are kept with the
:func:`fingerprint` of what they were computed with (the definitions' revision, the counts'
names, the classes of waits, the parameters): figures under another fingerprint are computed
again, so a change of thresholds, of time zone or of definitions never mixes old and new.

The retention purge keeps its own per-day counts (:class:`DailyAggregate`, at the end of this
module): computed by the same engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from analytics import waits
from analytics.definitions import Counts, Parameters
from analytics.frame import F64, I64, EntryFrame, day_number, day_of, local_days
from analytics.indicators import (
    COUNT_NAMES,
    Granularity,
    IndicatorReport,
    breakdown,
    counts_rows,
    key_label,
    keyed_counts,
    overflow_flows_by_day,
    percentiles_of,
    report_of,
    shown,
    wait_classes,
)

# Bump when what a day's figures hold, or how they are packed, changes; a change of the
# definitions themselves bumps DEFINITIONS_REVISION (tests/test_daily_figures.py says when).
LAYOUT_REVISION = 1
DEFINITIONS_REVISION = 2

TOTAL = "total"  # the group of the total (each call once), as the engine's breakdowns name it
HOURS = 24


def fingerprint(params: Parameters) -> str:
    """What a day's figures were computed with: figures under another one are not used."""
    text = json.dumps(
        {
            "layout": LAYOUT_REVISION,
            "definitions": DEFINITIONS_REVISION,
            "counts": COUNT_NAMES,
            "waits": waits.DESCRIPTION,
            "parameters": repr(params),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def counts_vector(counts: Counts) -> F64:
    return np.asarray([getattr(counts, name) for name in COUNT_NAMES], dtype=np.float64)


def counts_of(vector: F64) -> Counts:
    (counts,) = counts_rows(vector.reshape(1, len(COUNT_NAMES)))
    return counts


@dataclass(slots=True)
class DayFigures:
    """The figures of one local day. ``counts``: per group (each service, and :data:`TOTAL`)
    the day's counts as a vector (:data:`COUNT_NAMES`); ``hours``: the same per local hour
    (24 rows); ``waits``: per service, the answered waits' classes and how many in each;
    ``flows``: per service, the overflowed entries by destination. A figure not read from the
    store (only the parts a question needs are) is None."""

    day: date
    counts: dict[str, F64]
    hours: dict[str, F64] | None = None
    waits: dict[str, tuple[I64, I64]] | None = None
    flows: dict[str, dict[str, int]] | None = None

    @classmethod
    def empty(cls, day: date) -> DayFigures:
        zero = np.zeros(len(COUNT_NAMES))
        return cls(day, {TOTAL: zero}, {TOTAL: np.zeros((HOURS, len(COUNT_NAMES)))}, {}, {})


def day_figures(
    frame: EntryFrame, start: date, end: date, params: Parameters
) -> dict[date, DayFigures]:
    """The figures of every local day ``start``..``end`` (those with no call too), computed by
    the engine from ``frame`` (which holds every entry of those days, with margin)."""
    first = day_number(start)
    n_days = day_number(end) - first + 1
    n_services = len(frame.services)
    width = len(COUNT_NAMES)
    keyed = keyed_counts(frame, start, end, "dayhour", params)
    day_index, hour = np.divmod(keyed.keys, HOURS)
    day_index -= first
    # Per day, group (the services, then the total) and local hour: the counts.
    cube = np.zeros((n_days, n_services + 1, HOURS, width))
    cube[day_index, :n_services, hour] = keyed.per_service[:, :n_services]
    cube[day_index, n_services, hour] = keyed.total
    present = np.asarray(cube.any(axis=(2, 3)), dtype=np.bool_)
    names = [*frame.services, TOTAL]
    result: dict[date, DayFigures] = {}
    for d in range(n_days):
        day = day_of(first + d)
        groups = [*np.flatnonzero(present[d, :n_services]).tolist(), n_services]
        hours = {names[g]: cube[d, g] for g in groups}
        counts = {group: matrix.sum(axis=0) for group, matrix in hours.items()}
        result[day] = DayFigures(day, counts, hours, {}, {})
    days, services, classes, entries = wait_classes(frame, start, end, params)
    if len(days):
        # One day, one service after the other (wait_classes sorts them so).
        cell = (days - first) * max(1, n_services) + services
        starts = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1])))
        for low, high in zip(starts.tolist(), [*starts[1:].tolist(), len(cell)], strict=True):
            figures = result[day_of(int(days[low]))]
            assert figures.waits is not None
            figures.waits[frame.services[int(services[low])]] = (
                classes[low:high].copy(),
                entries[low:high].copy(),
            )
    for (number, source, destination), count in overflow_flows_by_day(
        frame, start, end, params
    ).items():
        flows = result[day_of(number)].flows
        assert flows is not None
        flows.setdefault(source, {})[destination] = count
    return result


def _numbers(start: date, end: date) -> range:
    return range(day_number(start), day_number(end) + 1)


# --- a period from its days ------------------------------------------------------------------


def _in(days: Iterable[DayFigures], start: date, end: date) -> list[DayFigures]:
    return [figures for figures in days if start <= figures.day <= end]


def _sum(vectors: Iterable[tuple[str, F64]]) -> dict[str, F64]:
    summed: dict[str, F64] = {}
    for group, vector in vectors:
        found = summed.get(group)
        summed[group] = vector.copy() if found is None else found + vector
    return summed


def period_report(
    days: Sequence[DayFigures],
    start: date,
    end: date,
    params: Parameters,
    skipped_lines: int = 0,
) -> IndicatorReport:
    """The report of ``start``..``end``: the sum of its days' counts."""
    summed = _sum(
        (group, vector)
        for figures in _in(days, start, end)
        for group, vector in figures.counts.items()
    )
    total = summed.pop(TOTAL, None)
    services = {group: counts_of(vector) for group, vector in summed.items()}
    return report_of(
        start,
        end,
        params,
        services,
        counts_of(total) if total is not None else Counts(),
        skipped_lines,
    )


def period_breakdown(
    days: Sequence[DayFigures], start: date, end: date, by: Granularity
) -> dict[str, dict[str, Counts]]:
    """As :func:`analytics.indicators.breakdown`, from the days' figures (``hours`` for a
    breakdown by hour, the counts otherwise)."""
    keyed: dict[int, dict[str, F64]] = {}
    for figures in _in(days, start, end):
        number = day_number(figures.day)
        if by in ("hour", "dayhour"):
            if figures.hours is None:
                raise ValueError("a breakdown by hour needs the figures' hours")
            for group, hours in figures.hours.items():
                for hour in np.flatnonzero(hours.any(axis=1)).tolist():
                    key = hour if by == "hour" else number * HOURS + hour
                    cell = keyed.setdefault(key, {})
                    found = cell.get(group)
                    cell[group] = hours[hour].copy() if found is None else found + hours[hour]
            continue
        key = _day_key(number, by)
        cell = keyed.setdefault(key, {})
        for group, vector in figures.counts.items():
            found = cell.get(group)
            cell[group] = vector.copy() if found is None else found + vector
    # One conversion to Python numbers for every cell (a year by day is thousands of them).
    cells = [(key, group) for key in sorted(keyed) for group in keyed[key]]
    if not cells:
        return {}
    converted = counts_rows(np.stack([keyed[key][group] for key, group in cells]))
    counted: dict[int, dict[str, Counts]] = {}
    for (key, group), counts in zip(cells, converted, strict=True):
        counted.setdefault(key, {})[group] = counts
    result: dict[str, dict[str, Counts]] = {}
    for key, groups in counted.items():
        total = groups.pop(TOTAL, Counts())
        cell_counts = {group: counts for group, counts in sorted(groups.items()) if shown(counts)}
        if not cell_counts and total == Counts():
            continue  # the engine has no key where nothing happened
        cell_counts[TOTAL] = total
        result[key_label(key, by)] = cell_counts
    return result


def _day_key(number: int, by: Granularity) -> int:
    if by == "day":
        return number
    if by == "month":
        return int(np.datetime64(number, "D").astype("datetime64[M]").astype(np.int64))
    return number - ((number + 3) % 7)  # the Monday of the ISO week


def period_percentiles(
    days: Sequence[DayFigures],
    start: date,
    end: date,
    quantiles: tuple[float, ...] = (0.5, 0.9),
) -> dict[str, dict[str, float | None]]:
    """The percentiles of the answered waits per service, from the days' classes."""
    per_service: dict[str, I64] = {}
    for figures in _in(days, start, end):
        if figures.waits is None:
            raise ValueError("percentiles need the figures' waits")
        for service, (classes, entries) in figures.waits.items():
            found = per_service.get(service)
            if found is None:
                found = per_service[service] = np.zeros(waits.N_CLASSES, np.int64)
            np.add.at(found, classes, entries)
    return {
        service: percentiles_of(counts, quantiles)
        for service, counts in sorted(per_service.items())
    }


def period_overflows(
    days: Sequence[DayFigures], start: date, end: date
) -> dict[tuple[str, str], int]:
    """The overflowed entries of the period, per service and destination."""
    summed: dict[tuple[str, str], int] = {}
    for figures in _in(days, start, end):
        if figures.flows is None:
            raise ValueError("overflows need the figures' flows")
        for source, destinations in figures.flows.items():
            for destination, count in destinations.items():
                summed[(source, destination)] = summed.get((source, destination), 0) + count
    return summed


# --- packed for the store ----------------------------------------------------------------------

PARTS = ("counts", "hours", "waits", "flows")
_F8 = np.dtype("<f8")
_STORED_TOTAL = ""
_WAIT = np.dtype([("group", "<u2"), ("cls", "<u2"), ("n", "<u4")])


@dataclass(slots=True)
class PackedDay:
    """One stored row: a day's figures, packed (little-endian). ``groups``: the groups' names,
    one a line, the total's an empty line (no service has an empty id)."""

    day: date
    groups: str
    counts: bytes  # float64: per group, its counts (COUNT_NAMES)
    hours: bytes  # float64: per group and local hour with a call, group, hour, its counts
    waits: bytes  # per group and class with a wait: uint16 group, uint16 class, uint32 waits
    flows: str  # JSON {service: {destination: entries}}


def pack(figures: DayFigures) -> PackedDay:
    """The row of a computed day (every part; a day with no call has its total, at zero)."""
    assert figures.hours is not None and figures.waits is not None and figures.flows is not None
    groups = list(figures.counts)
    counts = np.stack([figures.counts[group] for group in groups])
    hours = []
    for index, group in enumerate(groups):
        matrix = figures.hours[group]
        used = np.flatnonzero(matrix.any(axis=1))
        hours.append(np.column_stack((np.full(len(used), index), used, matrix[used])))
    wait_rows = [
        (index, classes, entries)
        for index, group in enumerate(groups)
        if group in figures.waits
        for classes, entries in [figures.waits[group]]
    ]
    waits = np.empty(sum(len(c) for _, c, _ in wait_rows), _WAIT)
    at = 0
    for index, classes, entries in wait_rows:
        waits["group"][at : at + len(classes)] = index
        waits["cls"][at : at + len(classes)] = classes
        waits["n"][at : at + len(classes)] = entries
        at += len(classes)
    return PackedDay(
        day=figures.day,
        groups="\n".join(_STORED_TOTAL if group == TOTAL else group for group in groups),
        counts=counts.astype(_F8).tobytes(),
        hours=np.concatenate(hours).astype(_F8).tobytes(),
        waits=waits.tobytes(),
        flows=json.dumps(figures.flows, sort_keys=True),
    )


def unpack(rows: Iterable[PackedDay], parts: Iterable[str]) -> dict[date, DayFigures]:
    """The days of stored rows, with the ``parts`` read (``counts`` always)."""
    wanted = set(parts)
    width = len(COUNT_NAMES)
    days: dict[date, DayFigures] = {}
    for row in rows:
        groups = [TOTAL if g == _STORED_TOTAL else g for g in row.groups.split("\n")]
        counts = np.frombuffer(row.counts, _F8).reshape(len(groups), width)
        figures = days[row.day] = DayFigures(row.day, dict(zip(groups, counts, strict=True)))
        if "hours" in wanted:
            packed = np.frombuffer(row.hours, _F8).reshape(-1, width + 2)
            matrices = np.zeros((len(groups), HOURS, width))
            matrices[packed[:, 0].astype(np.int64), packed[:, 1].astype(np.int64)] = packed[:, 2:]
            figures.hours = dict(zip(groups, matrices, strict=True))
        if "waits" in wanted:
            packed_waits = np.frombuffer(row.waits, _WAIT)
            figures.waits = {}
            for index in np.unique(packed_waits["group"]).tolist():
                mine = packed_waits[packed_waits["group"] == index]
                figures.waits[groups[index]] = (
                    mine["cls"].astype(np.int64),
                    mine["n"].astype(np.int64),
                )
        if "flows" in wanted:
            flows = json.loads(row.flows)
            figures.flows = {
                str(source): {str(k): int(v) for k, v in destinations.items()}
                for source, destinations in flows.items()
            }
    return days


def covered(figures: DayFigures, parts: Iterable[str]) -> bool:
    """Whether ``figures`` hold every part of ``parts``."""
    return all(part == "counts" or getattr(figures, part) is not None for part in parts)


def merge_parts(into: DayFigures, other: DayFigures) -> None:
    """Add to ``into`` the parts ``other`` holds and it lacks (same day, same figures)."""
    for part in ("hours", "waits", "flows"):
        if getattr(into, part) is None and getattr(other, part) is not None:
            setattr(into, part, getattr(other, part))


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


# --- what the retention purge keeps ----------------------------------------------------------


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
