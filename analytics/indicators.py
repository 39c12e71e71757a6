"""The phone indicators per service and in total, computed on an :class:`EntryFrame`.

Pure functions: a frame and a period in, counts out. See :mod:`analytics.definitions` for what
each count means; the code below is that text, vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal

import numpy as np

from analytics import waits
from analytics.definitions import Counts, Parameters
from analytics.frame import (
    F64,
    I64,
    TO_CALLBACK,
    TO_MESSAGE,
    Bool,
    EntryFrame,
    Outcome,
    day_number,
    local_days,
    local_offsets,
)

# Times come from millisecond timestamps held in float seconds since 1970: a wait of exactly
# 25 s can come out as 25.0000002. Thresholds are compared with this tolerance so that "exactly
# at the target" is within it, as the definition says.
_EPS = 1e-4


@dataclass(slots=True)
class _Prepared:
    """Per-row and per-call columns derived once from a frame for a set of parameters."""

    day: I64
    answered: Bool
    within: Bool
    abandoned: Bool
    short: Bool
    overflowed: Bool
    wait_answer: F64
    first: I64  # row index of each call's first entry
    last: I64  # row index of each call's last entry


def _prepare(frame: EntryFrame, params: Parameters) -> _Prepared:
    outcome = frame.outcome
    wait_answer = frame.answered - frame.entered
    wait_end = frame.ended - frame.entered
    answered = outcome == Outcome.ANSWERED
    abandoned = outcome == Outcome.ABANDONED
    n = len(frame)
    if n:
        starts = np.flatnonzero(np.concatenate(([True], frame.call[1:] != frame.call[:-1])))
        ends = np.concatenate((starts[1:] - 1, [n - 1])).astype(np.int64)
    else:
        starts = np.zeros(0, np.int64)
        ends = np.zeros(0, np.int64)
    return _Prepared(
        day=local_days(frame.entered, params.timezone),
        answered=answered,
        within=answered & (wait_answer <= params.target_s + _EPS),
        abandoned=abandoned,
        short=abandoned & (wait_end < params.short_abandon_s - _EPS),
        overflowed=outcome == Outcome.OVERFLOWED,
        wait_answer=np.where(answered, wait_answer, 0.0),
        first=starts.astype(np.int64),
        last=ends,
    )


COUNT_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Counts))
_WHOLE = [i for i, f in enumerate(fields(Counts)) if isinstance(f.default, int)]


def counts_rows(matrix: F64) -> list[Counts]:
    """One :class:`Counts` per row of a matrix of counts (columns: :data:`COUNT_NAMES`)."""
    rows = matrix.tolist()
    for row in rows:
        for i in _WHOLE:  # whole counts; the sums of seconds stay floats
            row[i] = int(row[i])
    return [Counts(*row) for row in rows]


def _grouped_matrix(
    group: I64,
    n_groups: int,
    answered: Bool,
    within: Bool,
    abandoned: Bool,
    short: Bool,
    overflowed: Bool,
    wait: F64,
) -> F64:
    """The counts of each group, one row per group, one column per :data:`COUNT_NAMES`."""

    def count(flags: Bool) -> F64:
        counted: F64 = np.bincount(group, weights=flags, minlength=n_groups).astype(np.float64)
        return counted

    columns = {
        "offered": np.bincount(group, minlength=n_groups).astype(np.float64),
        "answered": count(answered),
        "answered_within_target": count(within),
        "abandoned": count(abandoned),
        "short_abandoned": count(short),
        "overflowed": count(overflowed),
        "wait_answered_sum_s": np.bincount(
            group, weights=np.where(answered, wait, 0.0), minlength=n_groups
        ),
    }
    matrix: F64 = np.column_stack([columns[name] for name in COUNT_NAMES]).reshape(
        n_groups, len(COUNT_NAMES)
    )
    return matrix


def _grouped_counts(*args: Any) -> list[Counts]:
    return counts_rows(_grouped_matrix(*args))


def _entry_matrix(frame: EntryFrame, prep: _Prepared, rows: Bool, group: I64, n_groups: int) -> F64:
    return _grouped_matrix(
        group[rows],
        n_groups,
        prep.answered[rows],
        prep.within[rows],
        prep.abandoned[rows],
        prep.short[rows],
        prep.overflowed[rows],
        prep.wait_answer[rows],
    )


def _entry_counts(
    frame: EntryFrame, prep: _Prepared, rows: Bool, group: I64, n_groups: int
) -> list[Counts]:
    return counts_rows(_entry_matrix(frame, prep, rows, group, n_groups))


def _call_counts(*args: Any) -> list[Counts]:
    return counts_rows(_call_matrix(*args))


def _call_matrix(
    frame: EntryFrame,
    prep: _Prepared,
    params: Parameters,
    calls: Bool,
    group: I64,
    n_groups: int,
) -> F64:
    """Counts where each call counts once: last entry's outcome, wait from the first entry."""
    first = prep.first[calls]
    last = prep.last[calls]
    start = frame.entered[first]
    outcome = frame.outcome[last]
    answered = outcome == Outcome.ANSWERED
    abandoned = outcome == Outcome.ABANDONED
    wait = np.where(answered, frame.answered[last], frame.ended[last]) - start
    return _grouped_matrix(
        group,
        n_groups,
        answered,
        answered & (wait <= params.target_s + _EPS),
        abandoned,
        abandoned & (wait < params.short_abandon_s - _EPS),
        outcome == Outcome.OVERFLOWED,
        wait,
    )


@dataclass(slots=True)
class IndicatorReport:
    """The indicators of one period: per service and in total (each call once)."""

    start: date
    end: date
    parameters: Parameters
    services: dict[str, Counts]
    total: Counts
    skipped_lines: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "parameters": self.parameters.as_dict(),
            "services": {name: counts.as_dict() for name, counts in self.services.items()},
            "total": self.total.as_dict(),
            "skipped_lines": self.skipped_lines,
        }
        document.update(self.extra)
        return document


def _period_rows(prep: _Prepared, start: date, end: date) -> Bool:
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    rows: Bool = (prep.day >= day_number(start)) & (prep.day <= day_number(end))
    return rows


def compute_indicators(
    frame: EntryFrame,
    start: date,
    end: date,
    params: Parameters | None = None,
    skipped_lines: int = 0,
) -> IndicatorReport:
    """Indicators for the local dates ``start``..``end`` inclusive."""
    params = params or Parameters()
    prep = _prepare(frame, params)
    rows = _period_rows(prep, start, end)
    per_service = _entry_counts(
        frame, prep, rows, frame.service.astype(np.int64), len(frame.services)
    )
    calls = rows[prep.first] & frame.counted_calls()
    (total,) = _call_counts(
        frame, prep, params, calls, np.zeros(int(calls.sum()), np.int64), 1
    ) or [Counts()]
    services = dict(zip(frame.services, per_service, strict=True))
    return report_of(start, end, params, services, total, skipped_lines)


def shown(counts: Counts) -> bool:
    """Whether a service appears in a report or a breakdown key with these counts."""
    return counts.offered > 0


def report_of(
    start: date,
    end: date,
    params: Parameters,
    services: dict[str, Counts],
    total: Counts,
    skipped_lines: int = 0,
) -> IndicatorReport:
    """The report of a period from its counts (the engine's, or the sum of daily figures'):
    the services shown, by identifier."""
    shown_services = {name: counts for name, counts in sorted(services.items()) if shown(counts)}
    return IndicatorReport(start, end, params, shown_services, total, skipped_lines)


# "dayhour": each local hour of each day, the grain of the daily figures (analytics.aggregates).
Granularity = Literal["day", "week", "month", "hour", "dayhour"]


def _period_keys(frame: EntryFrame, prep: _Prepared, by: Granularity, params: Parameters) -> I64:
    if by == "day":
        return prep.day
    if by in ("hour", "dayhour"):
        local = frame.entered + local_offsets(frame.entered, params.timezone)
        hours: I64 = (np.floor(local / 3600.0).astype(np.int64)) % 24
        return hours if by == "hour" else prep.day * 24 + hours
    days = prep.day.astype("datetime64[D]")
    if by == "month":
        months: I64 = days.astype("datetime64[M]").astype(np.int64)
        return months
    # ISO week: the Monday that starts it (1970-01-01 was a Thursday).
    mondays: I64 = prep.day - ((prep.day + 3) % 7)
    return mondays


def key_label(key: int, by: Granularity) -> str:
    if by == "hour":
        return f"{key:02d}h"
    if by == "dayhour":
        day, hour = divmod(key, 24)
        return f"{np.datetime64(day, 'D')} {hour:02d}h"
    if by == "month":
        return str(np.datetime64(key, "M"))
    day = np.datetime64(key, "D").astype(object)
    if by == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return str(day)


def breakdown(
    frame: EntryFrame,
    start: date,
    end: date,
    by: Granularity,
    params: Parameters | None = None,
) -> dict[str, dict[str, Counts]]:
    """Per period key (day, ISO week, month, or local hour of day): counts per service and total.

    The total of each key is under ``"total"`` and counts each call once, in the key of its
    first entry. Keys are labelled ``2026-10-14``, ``2026-W42``, ``2026-10``, ``09h``.
    """
    return {
        key_label(key, by): counts
        for key, counts in keyed_breakdown(frame, start, end, by, params).items()
    }


def keyed_breakdown(
    frame: EntryFrame,
    start: date,
    end: date,
    by: Granularity,
    params: Parameters | None = None,
) -> dict[int, dict[str, Counts]]:
    """:func:`breakdown` by number: day (days since 1970), Monday of the ISO week, month
    (months since 1970), hour of the day, or day × 24 + hour."""
    keyed = keyed_counts(frame, start, end, by, params)
    n_keys, n_services = keyed.per_service.shape[:2]
    per = counts_rows(keyed.per_service.reshape(n_keys * n_services, len(COUNT_NAMES)))
    totals = counts_rows(keyed.total)
    by_name = sorted(range(len(frame.services)), key=frame.services.__getitem__)
    result: dict[int, dict[str, Counts]] = {}
    for k, key in enumerate(keyed.keys.tolist()):
        by_service = {
            frame.services[s]: per[k * n_services + s]
            for s in by_name
            if shown(per[k * n_services + s])
        }
        by_service["total"] = totals[k]
        result[int(key)] = by_service
    return result


@dataclass(slots=True)
class KeyedCounts:
    """The counts of a breakdown as matrices (columns: :data:`COUNT_NAMES`): per key and
    service (the frame's service codes), and per key in total (each call once)."""

    keys: I64
    per_service: F64  # (keys, services, counts)
    total: F64  # (keys, counts)


def keyed_counts(
    frame: EntryFrame,
    start: date,
    end: date,
    by: Granularity,
    params: Parameters | None = None,
) -> KeyedCounts:
    """The counts of :func:`keyed_breakdown` as matrices, for the keys where something
    happened (the daily figures take them so: :mod:`analytics.aggregates`)."""
    params = params or Parameters()
    prep = _prepare(frame, params)
    rows = _period_rows(prep, start, end)
    keys = _period_keys(frame, prep, by, params)
    unique = np.unique(keys[rows])
    key_index: I64 = np.searchsorted(unique, keys).astype(np.int64)
    n_services = max(1, len(frame.services))
    group = key_index * n_services + frame.service.astype(np.int64)
    per = _entry_matrix(frame, prep, rows, np.where(rows, group, 0), len(unique) * n_services)
    calls = rows[prep.first] & frame.counted_calls()
    totals = _call_matrix(frame, prep, params, calls, key_index[prep.first][calls], len(unique))
    width = len(COUNT_NAMES)
    return KeyedCounts(unique, per.reshape(len(unique), n_services, width), totals)


def wait_classes(
    frame: EntryFrame, start: date, end: date, params: Parameters | None = None
) -> tuple[I64, I64, I64, I64]:
    """The waits of answered entries counted in classes (:mod:`analytics.waits`), per local day
    and service: four columns (day number, service code, class, entries), one row per
    non-empty class."""
    params = params or Parameters()
    prep = _prepare(frame, params)
    rows = _period_rows(prep, start, end) & prep.answered
    days = prep.day[rows]
    services = frame.service[rows].astype(np.int64)
    found = waits.classes((frame.answered - frame.entered)[rows])
    first = day_number(start)
    n_services = max(1, len(frame.services))
    key = ((days - first) * n_services + services) * waits.N_CLASSES + found
    unique, counts = np.unique(key, return_counts=True)
    cell, cls = np.divmod(unique, waits.N_CLASSES)
    day_index, service = np.divmod(cell, n_services)
    return day_index + first, service, cls, counts.astype(np.int64)


def percentiles_of(
    counts: I64, quantiles: tuple[float, ...] = (0.5, 0.9)
) -> dict[str, float | None]:
    """``{"p50": ..., "p90": ...}`` from waits counted in classes."""
    return {f"p{round(q * 100)}": waits.quantile(counts, q) for q in quantiles}


def wait_percentiles(
    frame: EntryFrame,
    start: date,
    end: date,
    params: Parameters | None = None,
    quantiles: tuple[float, ...] = (0.5, 0.9),
) -> dict[str, dict[str, float | None]]:
    """Median, p90... of the wait of answered entries, per service (seconds), read from the
    waits counted in classes (:mod:`analytics.waits`: exact to half a second below 10 min)."""
    _, services, classes, counts = wait_classes(frame, start, end, params)
    per_service = np.zeros((len(frame.services), waits.N_CLASSES), np.int64)
    np.add.at(per_service, (services, classes), counts)
    return {
        name: percentiles_of(per_service[code], quantiles)
        for code, name in enumerate(frame.services)
    }


_DESTINATIONS = {TO_MESSAGE: "message", TO_CALLBACK: "rappel"}


def overflow_flows_by_day(
    frame: EntryFrame, start: date, end: date, params: Parameters | None = None
) -> dict[tuple[int, str, str], int]:
    """How many entries overflowed from each service to each destination, per local day
    (day number, service, destination: a service, ``message``, ``rappel`` or ``inconnu``)."""
    prep = _prepare(frame, params or Parameters())
    rows = _period_rows(prep, start, end) & prep.overflowed
    flows: dict[tuple[int, str, str], int] = {}
    triples = np.stack((prep.day[rows], frame.service[rows], frame.overflow_to[rows]), axis=1)
    if len(triples) == 0:
        return flows
    unique, counts = np.unique(triples, axis=0, return_counts=True)
    for (day, source, target), count in zip(unique.tolist(), counts.tolist(), strict=True):
        destination = (
            frame.services[target] if target >= 0 else _DESTINATIONS.get(target, "inconnu")
        )
        flows[(day, frame.services[source], destination)] = int(count)
    return flows


def overflow_flows(
    frame: EntryFrame, start: date, end: date, params: Parameters | None = None
) -> dict[tuple[str, str], int]:
    """How many entries overflowed from each service to each destination in the period."""
    flows: dict[tuple[str, str], int] = {}
    for (_, source, destination), count in overflow_flows_by_day(frame, start, end, params).items():
        flows[(source, destination)] = flows.get((source, destination), 0) + count
    return flows


def repeat_callers(
    frame: EntryFrame, start: date, end: date, within_days: float = 7.0
) -> dict[str, int]:
    """Calls in the period from a caller who had already called within ``within_days`` before.

    Works on pseudonymised caller codes: who called is never needed.
    """
    prep = _prepare(frame, Parameters())
    if len(frame) == 0 or len(frame.caller) == 0:
        return {"calls": 0, "repeat_calls": 0, "distinct_callers": 0}
    first_time = frame.entered[prep.first]
    # A blind transfer's leg carries the same caller minutes later: not a second call.
    callers = np.where(frame.counted_calls(), frame.caller, -1)
    known = callers >= 0
    order = np.lexsort((first_time, callers))
    sorted_callers = callers[order]
    sorted_times = first_time[order]
    same = np.concatenate(([False], sorted_callers[1:] == sorted_callers[:-1]))
    gap = np.concatenate(([np.inf], np.diff(sorted_times)))
    repeat_sorted = same & (gap <= within_days * 86400.0)
    repeat = np.empty_like(repeat_sorted)
    repeat[order] = repeat_sorted
    in_period = _period_rows(prep, start, end)[prep.first] & known
    return {
        "calls": int(in_period.sum()),
        "repeat_calls": int((repeat & in_period).sum()),
        "distinct_callers": len(np.unique(callers[in_period])),
    }
