"""Columnar form of the call records the indicators are computed from.

Indicators over a year of a large town (or 10 million generated calls in the benchmark) must not
build a Python object per call: the records are loaded once into numpy columns, one row per
service entry, sorted by call then by entry time. Every indicator is then a vectorised pass.
The calls that entered no service (the caller hung up in the voice menu, the line was closed)
have no row: they are kept apart, a few columns per call (``bare_*``), for the calls received.

Times are float epoch seconds (UTC); "not answered" is NaN. Service, agent and caller ids are
small integer codes into the frame's name lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from telephony.records.model import CallOutcome, CallRecord, EntryOutcome

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
Bool = npt.NDArray[np.bool_]


class Outcome(IntEnum):
    """An entry's outcome as the indicators see it."""

    ANSWERED = 0
    ABANDONED = 1
    OVERFLOWED = 2
    OTHER = 3  # interrupted, transferred before answer: counted as offered only
    # Cut by the PBX or the link (docs/indicateurs.md): offered only, like OTHER, and left out
    # of the callers' patience (the caller did not hang up, nor was seen waiting on).
    CUT = 4


_OUTCOME_OF: dict[EntryOutcome, Outcome] = {
    EntryOutcome.ANSWERED: Outcome.ANSWERED,
    EntryOutcome.ABANDONED: Outcome.ABANDONED,
    EntryOutcome.OVERFLOW_TIMEOUT: Outcome.OVERFLOWED,
    EntryOutcome.OVERFLOW_BUSY: Outcome.OVERFLOWED,
    EntryOutcome.OVERFLOW_NOBODY: Outcome.OVERFLOWED,
    EntryOutcome.OVERFLOW_CLOSED: Outcome.OVERFLOWED,
    # Leaving a service for a message or a callback request is leaving it unanswered without
    # hanging up: an overflow (queue_log's EXITWITHKEY / EXITEMPTY are the same).
    EntryOutcome.MESSAGE: Outcome.OVERFLOWED,
    EntryOutcome.CALLBACK: Outcome.OVERFLOWED,
    EntryOutcome.TRANSFERRED: Outcome.OTHER,
    EntryOutcome.INTERRUPTED: Outcome.OTHER,
    EntryOutcome.CUT: Outcome.CUT,
}


def outcome_code(outcome: EntryOutcome) -> Outcome:
    return _OUTCOME_OF[outcome]


class BareCall(IntEnum):
    """How a call that entered no service ended, as the calls received count it."""

    LEFT_IN_MENU = 0  # the caller hung up in the voice menu
    CLOSED = 1  # the entry route's closed message: the line was closed
    OTHER = 2  # a message or a callback request chosen in the menu, an incident


def bare_code(outcome: CallOutcome | None) -> BareCall:
    """The code of a call with no service entry, from its outcome (``None``: still open)."""
    if outcome is CallOutcome.IVR_HANGUP:
        return BareCall.LEFT_IN_MENU
    if outcome is CallOutcome.CLOSED:
        return BareCall.CLOSED
    return BareCall.OTHER


NO_TARGET = -1  # overflow_to codes below zero: not a service
TO_MESSAGE = -2
TO_CALLBACK = -3


@dataclass(slots=True)
class EntryFrame:
    """One row per service entry, sorted by ``call`` then ``entered``."""

    services: list[str]
    agents: list[str]
    call: I64
    service: I32
    entered: F64
    answered: F64
    ended: F64
    outcome: I8
    agent: I32
    overflow_to: I32
    # Per call (indexed by the ``call`` code): pseudonymised caller code, -1 when unknown.
    caller: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # Per call: the leg of a blind transfer (``CallRecord.transfer_of``). Its entries count for
    # their services; the caller is counted once in the totals, on the first call. Empty: none.
    transfer_leg: Bool = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    # Per row: entered while the service was closed (``ServiceEntry.closed``). Empty: none was.
    closed: Bool = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    # Per call: when the call arrived (``CallRecord.started_at``, before any menu). Empty: at its
    # first entry (a queue_log knows nothing before the queue).
    arrived: F64 = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    # The calls that entered no service, one value each: arrival, :class:`BareCall` code, leg of
    # a blind transfer. Empty: none known (a queue_log has only the queues' calls).
    bare_arrived: F64 = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    bare_kind: I8 = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    bare_transfer_leg: Bool = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def __post_init__(self) -> None:
        n = len(self.call)
        if len(self.closed) == 0:
            self.closed = np.zeros(n, dtype=np.bool_)
        for name in (
            "service",
            "entered",
            "answered",
            "ended",
            "outcome",
            "agent",
            "overflow_to",
            "closed",
        ):
            column = getattr(self, name)
            if len(column) != n:
                raise ValueError(f"column {name} has {len(column)} rows, expected {n}")
        if len(self.bare_transfer_leg) == 0:
            self.bare_transfer_leg = np.zeros(len(self.bare_arrived), dtype=np.bool_)
        for name in ("bare_kind", "bare_transfer_leg"):
            if len(getattr(self, name)) != len(self.bare_arrived):
                raise ValueError(f"column {name} does not match bare_arrived")

    def __len__(self) -> int:
        return len(self.call)

    def counted_calls(self) -> Bool:
        """Per call: counted in the totals (every call but the legs of blind transfers)."""
        if len(self.transfer_leg) == 0:
            return np.ones(self.n_calls, dtype=np.bool_)
        counted: Bool = ~self.transfer_leg
        return counted

    @property
    def n_calls(self) -> int:
        """Calls with at least one service entry (the bare calls are apart)."""
        return int(self.call[-1]) + 1 if len(self.call) else 0

    def knows_arrivals(self) -> bool:
        """Whether the source gave each call's arrival (else: its first entry stands for it)."""
        return len(self.arrived) == self.n_calls

    def arrivals(self, first_rows: I64) -> F64:
        """Per call with entries: when it arrived; ``first_rows`` are its first entries' rows
        (the fallback when the source does not know the arrival)."""
        if self.knows_arrivals():
            return self.arrived
        arrived: F64 = self.entered[first_rows]
        return arrived

    @classmethod
    def empty(cls) -> EntryFrame:
        return cls(
            services=[],
            agents=[],
            call=np.zeros(0, np.int64),
            service=np.zeros(0, np.int32),
            entered=np.zeros(0, np.float64),
            answered=np.zeros(0, np.float64),
            ended=np.zeros(0, np.float64),
            outcome=np.zeros(0, np.int8),
            agent=np.zeros(0, np.int32),
            overflow_to=np.zeros(0, np.int32),
        )


class _Codes:
    def __init__(self) -> None:
        self.names: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, name: str) -> int:
        found = self._index.get(name)
        if found is None:
            found = self._index[name] = len(self.names)
            self.names.append(name)
        return found


def frame_from_records(records: Iterable[CallRecord], caller_ids: Sequence[str] = ()) -> EntryFrame:
    """Build a frame from call records (queue_log imports, tests, what-if replays).

    Calls without any service entry (hung up in the IVR) have no row: they are not offered to
    any service. Caller numbers are coded as given (the store hands pseudonyms already).
    """
    services, agents, callers = _Codes(), _Codes(), _Codes()
    for caller in caller_ids:
        callers.code(caller)
    call: list[int] = []
    service: list[int] = []
    entered: list[float] = []
    answered: list[float] = []
    ended: list[float] = []
    outcome: list[int] = []
    agent: list[int] = []
    overflow_to: list[int] = []
    closed: list[bool] = []
    per_call_caller: list[int] = []
    per_call_leg: list[bool] = []
    per_call_arrived: list[float] = []
    bare_arrived: list[float] = []
    bare_kind: list[int] = []
    bare_leg: list[bool] = []
    index = 0
    for record in records:
        if not record.entries:
            bare_arrived.append(record.started_at.timestamp())
            bare_kind.append(int(bare_code(record.outcome)))
            bare_leg.append(record.transfer_of is not None)
            continue
        per_call_caller.append(callers.code(record.caller_number) if record.caller_number else -1)
        per_call_leg.append(record.transfer_of is not None)
        entries = sorted(record.entries, key=lambda e: e.entered_at)
        per_call_arrived.append(min(record.started_at, entries[0].entered_at).timestamp())
        for entry in entries:
            call.append(index)
            service.append(services.code(entry.service_id))
            entered.append(entry.entered_at.timestamp())
            answered.append(entry.answered_at.timestamp() if entry.answered_at else np.nan)
            ended.append(entry.ended_at.timestamp())
            outcome.append(int(outcome_code(entry.outcome)))
            agent.append(agents.code(entry.agent) if entry.agent else -1)
            overflow_to.append(overflow_code(entry.overflow_to, services.code))
            closed.append(entry.closed)
        index += 1
    return EntryFrame(
        services=services.names,
        agents=agents.names,
        call=np.asarray(call, dtype=np.int64),
        service=np.asarray(service, dtype=np.int32),
        entered=np.asarray(entered, dtype=np.float64),
        answered=np.asarray(answered, dtype=np.float64),
        ended=np.asarray(ended, dtype=np.float64),
        outcome=np.asarray(outcome, dtype=np.int8),
        agent=np.asarray(agent, dtype=np.int32),
        overflow_to=np.asarray(overflow_to, dtype=np.int32),
        caller=np.asarray(per_call_caller, dtype=np.int64),
        transfer_leg=np.asarray(per_call_leg, dtype=np.bool_),
        closed=np.asarray(closed, dtype=np.bool_),
        arrived=np.asarray(per_call_arrived, dtype=np.float64),
        bare_arrived=np.asarray(bare_arrived, dtype=np.float64),
        bare_kind=np.asarray(bare_kind, dtype=np.int8),
        bare_transfer_leg=np.asarray(bare_leg, dtype=np.bool_),
    )


def overflow_code(target: str | None, service_code: Callable[[str], int]) -> int:
    """The code of an entry's ``overflow_to``: a service's code, or a negative marker."""
    if not target:
        return NO_TARGET
    if target.startswith("message"):
        return TO_MESSAGE
    if target.startswith("callback"):
        return TO_CALLBACK
    return service_code(target.removeprefix("service:"))


# --- local dates ------------------------------------------------------------------------------

_BUCKET_S = 900  # every time zone's offset changes on a quarter-hour boundary


def local_offsets(epochs: F64, timezone: str) -> F64:
    """UTC offset in seconds at each instant, for ``timezone`` (DST included).

    Looks the offset up once per quarter hour of the covered range instead of once per row, and
    only on the days it changes: each day's offset is probed at its first and last quarter hour,
    and a day whose two agree (all but one or two a year; no zone changes its offset twice in a
    day) takes that one offset throughout.
    """
    if len(epochs) == 0:
        return np.zeros(0, dtype=np.float64)
    zone = ZoneInfo(timezone)
    first = int(np.floor(np.nanmin(epochs) / _BUCKET_S))
    last = int(np.floor(np.nanmax(epochs) / _BUCKET_S))
    table = np.empty(last - first + 1, dtype=np.float64)
    per_day = 86400 // _BUCKET_S
    for low in range(0, len(table), per_day):
        high = min(low + per_day, len(table)) - 1
        start, end = _offset(first + low, zone), _offset(first + high, zone)
        if start == end:
            table[low : high + 1] = start
        else:  # the offset changes this day: each quarter hour on its own
            for i in range(low, high + 1):
                table[i] = _offset(first + i, zone)
    buckets = (np.floor(epochs / _BUCKET_S) - first).astype(np.int64)
    result: F64 = table[buckets]
    return result


def _offset(bucket: int, zone: ZoneInfo) -> float:
    offset = datetime.fromtimestamp(bucket * _BUCKET_S, UTC).astimezone(zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


_EPOCH_DAY = date(1970, 1, 1)


def local_days(epochs: F64, timezone: str) -> I64:
    """Local calendar day of each instant, as days since 1970-01-01."""
    local = epochs + local_offsets(epochs, timezone)
    days: I64 = np.floor(local / 86400.0).astype(np.int64)
    return days


def day_number(day: date) -> int:
    return (day - _EPOCH_DAY).days


def day_of(number: int) -> date:
    return _EPOCH_DAY + timedelta(days=number)
