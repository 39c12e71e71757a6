"""Call records -> Asterisk ``queue_log`` lines, as app_queue writes them.

The inverse of :mod:`telephony.records.queue_log`: it lets a town feed decroche's calls to tools
that read a queue_log, and it lets the tests check that the indicators computed from decroche's
own records and from a queue_log of the same calls are the same figures.

Each service entry becomes ``ENTERQUEUE``, then ``CONNECT`` + ``COMPLETECALLER``/``COMPLETEAGENT``
when answered, ``ABANDON`` when the caller hung up, or an exit line when it overflowed
(``EXITWITHTIMEOUT`` for no answer or all busy, ``EXITEMPTY`` for nobody or closed,
``EXITWITHKEY`` for a message or a callback request). An entry into a service while it was
closed writes nothing: Asterisk's dialplan plays the closed message without queueing the call, so
a queue_log never holds one (its entries all count as in opening hours). ``whole_seconds``
writes integer epochs and durations as Asterisk does; without it, times keep their fractions so
that nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from telephony.records.model import CallRecord, EntryOutcome, ServiceEntry

_EXIT = {
    EntryOutcome.OVERFLOW_TIMEOUT: "EXITWITHTIMEOUT",
    EntryOutcome.OVERFLOW_BUSY: "EXITWITHTIMEOUT",
    EntryOutcome.OVERFLOW_NOBODY: "EXITEMPTY",
    EntryOutcome.OVERFLOW_CLOSED: "EXITEMPTY",
}


def _epoch(moment: datetime, whole: bool) -> str:
    value = moment.timestamp()
    return str(int(value)) if whole else repr(value)


def _span(start: datetime, end: datetime, whole: bool) -> str:
    if whole:
        return str(int(end.timestamp()) - int(start.timestamp()))
    return repr((end - start).total_seconds())


def entry_lines(record: CallRecord, entry: ServiceEntry, whole_seconds: bool) -> Iterator[str]:
    def line(at: datetime, agent: str, event: str, *data: str) -> str:
        fields = [_epoch(at, whole_seconds), record.call_id, entry.service_id, agent, event]
        return "|".join([*fields, *data])

    yield line(entry.entered_at, "NONE", "ENTERQUEUE", "", record.caller_number, "1")
    if entry.outcome is EntryOutcome.ANSWERED and entry.answered_at is not None:
        agent = entry.agent or "NONE"
        ring_start = next(
            (leg.ring_started_at for leg in entry.legs if leg.endpoint == entry.agent),
            entry.entered_at,
        )
        hold = _span(entry.entered_at, entry.answered_at, whole_seconds)
        ring = _span(ring_start, entry.answered_at, whole_seconds)
        yield line(entry.answered_at, agent, "CONNECT", hold, f"{record.call_id}-agent", ring)
        talk = _span(entry.answered_at, entry.ended_at, whole_seconds)
        yield line(entry.ended_at, agent, "COMPLETECALLER", hold, talk, "1")
        return
    wait = _span(entry.entered_at, entry.ended_at, whole_seconds)
    if entry.outcome is EntryOutcome.ABANDONED:
        yield line(entry.ended_at, "NONE", "ABANDON", "1", "1", wait)
    elif entry.outcome in _EXIT:
        yield line(entry.ended_at, "NONE", _EXIT[entry.outcome], "1", "1", wait)
    elif entry.outcome in (EntryOutcome.MESSAGE, EntryOutcome.CALLBACK):
        key = "9" if entry.outcome is EntryOutcome.CALLBACK else "0"
        yield line(entry.ended_at, "NONE", "EXITWITHKEY", key, "1", "1", wait)


def queue_log_lines(records: Iterable[CallRecord], *, whole_seconds: bool = True) -> list[str]:
    """Every line of the records' entries, sorted by time as Asterisk appends them."""
    lines: list[tuple[float, int, str]] = []
    for record in records:
        for entry in record.entries:
            if entry.closed:
                continue
            for line in entry_lines(record, entry, whole_seconds):
                lines.append((float(line.split("|", 1)[0]), len(lines), line))
    return [line for _, _, line in sorted(lines)]
