"""The phone indicators per service and in total, computed on an :class:`EntryFrame`.

Pure functions: a frame and a period in, counts out. See :mod:`analytics.definitions` for what
each count means; the code below is that text, vectorised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Literal

import numpy as np

from analytics import waits
from analytics.definitions import EPSILON_S, CallsReceived, Counts, Parameters
from analytics.frame import (
    F64,
    I64,
    TO_CALLBACK,
    TO_MESSAGE,
    BareCall,
    Bool,
    EntryFrame,
    Outcome,
    day_number,
    local_days,
    local_offsets,
)


@dataclass(slots=True)
class _Prepared:
    """Per-row and per-call columns derived once from a frame for a set of parameters."""

    day: I64
    open: Bool  # entered in opening hours (offered); the others are closed
    answered: Bool
    within: Bool
    abandoned: Bool
    short: Bool
    overflowed: Bool
    later: Bool  # overflowed, and an agent took the call at a later entry
    wait_answer: F64
    first: I64  # row index of each call's first entry
    last: I64  # row index of each call's last entry
    first_open: I64  # row index of each call's first entry in opening hours (else: first)
    call_open: Bool  # per call: one of its entries was in opening hours
    arrived: F64  # per call: its arrival
    arrival_day: I64  # per call: local day of its arrival


def _call_bounds(frame: EntryFrame) -> tuple[I64, I64]:
    n = len(frame)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], frame.call[1:] != frame.call[:-1])))
    ends = np.concatenate((starts[1:] - 1, [n - 1])).astype(np.int64)
    return starts.astype(np.int64), ends


def _within(frame: EntryFrame, waits: F64, params: Parameters) -> Bool:
    """Per row: the wait keeps the commitment of the row's service."""
    default = params.commitment
    kept = default.within(waits, params.ring_seconds)
    for code, name in enumerate(frame.services):
        own = params.commitment_for(name)
        if own != default:
            rows = frame.service == code
            kept[rows] = own.within(waits[rows], params.ring_seconds)
    return kept


def _prepare(frame: EntryFrame, params: Parameters) -> _Prepared:
    outcome = frame.outcome
    wait_answer = frame.answered - frame.entered
    open_ = ~frame.closed
    answered = (outcome == Outcome.ANSWERED) & open_
    abandoned = (outcome == Outcome.ABANDONED) & open_
    overflowed = (outcome == Outcome.OVERFLOWED) & open_
    first, last = _call_bounds(frame)
    arrived = frame.arrivals(first)
    n = len(frame)
    last_of_row = np.repeat(last, last - first + 1) if n else np.zeros(0, np.int64)
    # Short abandons are misdials: hung up within the threshold of the call's arrival.
    since_arrival = frame.ended - np.repeat(arrived, last - first + 1) if n else frame.ended
    if frame.closed.any():
        marked = np.where(open_, np.arange(n, dtype=np.int64), n)
        first_open = np.minimum.reduceat(marked, first) if n else np.zeros(0, np.int64)
        call_open = first_open < n
        first_open = np.where(call_open, first_open, first).astype(np.int64)
    else:  # every entry in opening hours (a queue_log, most days): no pass needed
        first_open, call_open = first, np.ones(len(first), np.bool_)
    entry_days = local_days(frame.entered, params.timezone)
    if frame.knows_arrivals():
        arrival_day = local_days(arrived, params.timezone)
    else:
        arrival_day = entry_days[first]
    return _Prepared(
        day=entry_days,
        open=open_,
        answered=answered,
        within=answered & _within(frame, wait_answer, params),
        abandoned=abandoned,
        short=abandoned & (since_arrival < params.short_abandon_s - EPSILON_S),
        overflowed=overflowed,
        later=overflowed
        & (outcome[last_of_row] == Outcome.ANSWERED)
        & (np.arange(n) < last_of_row),
        wait_answer=np.where(answered, wait_answer, 0.0),
        first=first,
        last=last,
        first_open=first_open,
        call_open=call_open,
        arrived=arrived,
        arrival_day=arrival_day,
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


def _grouped_matrix(group: I64, n_groups: int, flags: Mapping[str, Bool | None], wait: F64) -> F64:
    """The counts of each group, one row per group, one column per :data:`COUNT_NAMES`:
    ``flags`` per count (None: every row counts; absent: none does), ``wait`` the answered
    rows' waits."""

    def count(name: str) -> F64:
        if name not in flags:
            return np.zeros(n_groups)
        flagged = flags[name]
        counted: F64 = np.bincount(group, weights=flagged, minlength=n_groups).astype(np.float64)
        return counted

    answered = flags["answered"]
    assert answered is not None  # the waits are the answered rows'
    columns: list[Any] = [
        np.bincount(group, weights=np.where(answered, wait, 0.0), minlength=n_groups)
        if name == "wait_answered_sum_s"
        else count(name)
        for name in COUNT_NAMES
    ]
    matrix: F64 = np.asarray(np.column_stack(columns), np.float64).reshape(
        n_groups, len(COUNT_NAMES)
    )
    return matrix


def _grouped_counts(*args: Any) -> list[Counts]:
    return counts_rows(_grouped_matrix(*args))


def _entry_matrix(frame: EntryFrame, prep: _Prepared, rows: Bool, group: I64, n_groups: int) -> F64:
    closed = ~prep.open[rows]
    return _grouped_matrix(
        group[rows],
        n_groups,
        {
            "offered": None if not closed.any() else prep.open[rows],
            "closed": closed,
            "answered": prep.answered[rows],
            "answered_within_target": prep.within[rows],
            "abandoned": prep.abandoned[rows],
            "short_abandoned": prep.short[rows],
            "overflowed": prep.overflowed[rows],
            "answered_later": prep.later[rows],
        },
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
    """Counts where each call counts once: offered if one of its entries was in opening hours
    (last entry's outcome, wait from its first entry in opening hours), otherwise closed."""
    offered = prep.call_open[calls]
    first = prep.first_open[calls]
    last = prep.last[calls]
    outcome = frame.outcome[last]
    answered = (outcome == Outcome.ANSWERED) & offered
    abandoned = (outcome == Outcome.ABANDONED) & offered
    end = np.where(answered, frame.answered[last], frame.ended[last])
    wait = end - frame.entered[first]
    since_arrival = end - prep.arrived[calls]
    all_open = bool(offered.all())
    within = answered & params.commitment.within(wait, params.ring_seconds)
    return _grouped_matrix(
        group,
        n_groups,
        {
            "offered": None if all_open else offered,
            "closed": ~offered,
            "answered": answered,
            "answered_within_target": within,
            "abandoned": abandoned,
            "short_abandoned": abandoned & (since_arrival < params.short_abandon_s - EPSILON_S),
            "overflowed": (outcome == Outcome.OVERFLOWED) & offered,
        },
        wait,
    )


_BARE_COUNT = {
    BareCall.LEFT_IN_MENU: "left_in_menu",
    BareCall.CLOSED: "closed",
    BareCall.OTHER: "other_calls",
}


def _bare_matrix(frame: EntryFrame, bare: Bool, group: I64, n_groups: int) -> F64:
    """The total's counts of the calls that entered no service (``bare``: those counted)."""
    kind = frame.bare_kind[bare]
    flags: dict[str, Bool | None] = {name: kind == code for code, name in _BARE_COUNT.items()}
    flags["answered"] = np.zeros(len(kind), np.bool_)
    return _grouped_matrix(group, n_groups, flags, np.zeros(len(kind)))


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

    waits_from_timestamps: int = 0  # queue_log: holdtime/waittime missing, timestamps used
    queue_log: bool = False  # computed from a queue_log: no menu, every entry in opening hours

    @property
    def received(self) -> CallsReceived:
        return CallsReceived.of(self.total)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "parameters": self.parameters.as_dict(),
            "services": {name: counts.as_dict() for name, counts in self.services.items()},
            "total": {**self.total.as_dict(), **self.received.as_dict()},
            "skipped_lines": self.skipped_lines,
            "waits_from_timestamps": self.waits_from_timestamps,
        }
        document.update(self.extra)
        return document


def _in_days(days: I64, start: date, end: date) -> Bool:
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    rows: Bool = (days >= day_number(start)) & (days <= day_number(end))
    return rows


def _period_rows(prep: _Prepared, start: date, end: date) -> Bool:
    return _in_days(prep.day, start, end)


def _period_calls(frame: EntryFrame, prep: _Prepared, start: date, end: date) -> Bool:
    """Per call with entries: counted in the total of the period (arrived in it, not the leg
    of a blind transfer)."""
    counted: Bool = _in_days(prep.arrival_day, start, end) & frame.counted_calls()
    return counted


def _bare_days(frame: EntryFrame, params: Parameters) -> I64:
    return local_days(frame.bare_arrived, params.timezone)


def _bare_calls(frame: EntryFrame, bare_days: I64, start: date, end: date) -> Bool:
    """The calls with no entry counted in the total of the period."""
    counted: Bool = _in_days(bare_days, start, end) & ~frame.bare_transfer_leg
    return counted


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
    calls = _period_calls(frame, prep, start, end)
    total_matrix = _call_matrix(frame, prep, params, calls, np.zeros(int(calls.sum()), np.int64), 1)
    bare = _bare_calls(frame, _bare_days(frame, params), start, end)
    total_matrix += _bare_matrix(frame, bare, np.zeros(int(bare.sum()), np.int64), 1)
    (total,) = counts_rows(total_matrix)
    services = dict(zip(frame.services, per_service, strict=True))
    return report_of(start, end, params, services, total, skipped_lines)


def shown(counts: Counts) -> bool:
    """Whether a service appears in a report or a breakdown key with these counts (received
    while closed only: shown, its closed calls are evidence for its opening hours)."""
    return counts.offered > 0 or counts.closed > 0


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


def _period_keys(epochs: F64, days: I64, by: Granularity, params: Parameters) -> I64:
    """The key of each instant (``days``: their local days) for a breakdown ``by``."""
    if by == "day":
        return days
    if by in ("hour", "dayhour"):
        local = epochs + local_offsets(epochs, params.timezone)
        hours: I64 = (np.floor(local / 3600.0).astype(np.int64)) % 24
        return hours if by == "hour" else days * 24 + hours
    if by == "month":
        months: I64 = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return months
    # ISO week: the Monday that starts it (1970-01-01 was a Thursday).
    mondays: I64 = days - ((days + 3) % 7)
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
    arrival (a call that entered no service included). Keys are labelled ``2026-10-14``,
    ``2026-W42``, ``2026-10``, ``09h``.
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
    calls = _period_calls(frame, prep, start, end)
    keys = _period_keys(frame.entered, prep.day, by, params)
    if frame.knows_arrivals():
        call_keys = _period_keys(prep.arrived, prep.arrival_day, by, params)
    else:  # arrival = first entry: the same keys
        call_keys = keys[prep.first]
    bare_days = _bare_days(frame, params)
    bare = _bare_calls(frame, bare_days, start, end)
    bare_keys = _period_keys(frame.bare_arrived, bare_days, by, params)[bare]
    unique = np.unique(np.concatenate((keys[rows], call_keys[calls], bare_keys)))
    key_index: I64 = np.searchsorted(unique, keys).astype(np.int64)
    n_services = max(1, len(frame.services))
    group = key_index * n_services + frame.service.astype(np.int64)
    per = _entry_matrix(frame, prep, rows, np.where(rows, group, 0), len(unique) * n_services)
    call_index: I64 = np.searchsorted(unique, call_keys[calls]).astype(np.int64)
    totals = _call_matrix(frame, prep, params, calls, call_index, len(unique))
    if len(bare_keys):
        bare_index: I64 = np.searchsorted(unique, bare_keys).astype(np.int64)
        totals += _bare_matrix(frame, bare, bare_index, len(unique))
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
    (day number, service, destination: a service, ``message``, ``rappel`` or ``inconnu``), in
    opening hours: where a closed service sends its callers is no overflow."""
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


@dataclass(slots=True)
class Unanswered:
    """What became of a service's offered entries that it did not answer: hung up (abandons),
    or sent on (overflows, by destination: another service's id, ``message``, ``rappel``), and
    how many of the calls sent on an agent finally took, at a later entry."""

    abandoned: int = 0
    overflowed: int = 0
    destinations: dict[str, int] = field(default_factory=dict)
    answered_later: int = 0

    @classmethod
    def of(cls, counts: Counts, destinations: Mapping[str, int]) -> Unanswered:
        return cls(
            counts.abandoned, counts.overflowed, dict(sorted(destinations.items())),
            counts.answered_later,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "abandoned": self.abandoned,
            "overflowed": self.overflowed,
            "destinations": dict(self.destinations),
            "answered_later": self.answered_later,
        }


def unanswered_of(
    report: IndicatorReport, flows: Mapping[tuple[str, str], int]
) -> dict[str, Unanswered]:
    """Per service of ``report``: where its unanswered calls went (``flows``: the period's
    overflows by service and destination), and how many of them an agent finally took."""
    destinations: dict[str, dict[str, int]] = {}
    for (source, destination), n in flows.items():
        destinations.setdefault(source, {})[destination] = n
    return {
        name: Unanswered.of(counts, destinations.get(name, {}))
        for name, counts in report.services.items()
        if counts.offered  # a service only closed has no unanswered call
    }
