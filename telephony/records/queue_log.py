"""Asterisk ``queue_log`` → call records, so the indicators work on an existing Asterisk.

Format (``/var/log/asterisk/queue_log``), one event a line, pipe-separated::

    epoch|callid|queuename|agent|event|data1|data2|...

Events used (Asterisk ≥ 1.8 field lists; times in seconds unless said):

==================  ==============================  =============================================
event               data                            becomes
==================  ==============================  =============================================
DID                 number dialled                  ``CallRecord.dialled``
ENTERQUEUE          url|callerid|position           a new service entry (service = queue name)
RINGNOANSWER        ringtime (ms)                   an agent leg, ``no_answer``
RINGCANCELED        ringtime (ms)                   an agent leg, ``cancelled``
CONNECT             holdtime|bridged uniqueid|ring  entry answered by ``agent``; answered leg
COMPLETEAGENT/..    holdtime|calltime|origposition  entry ends, ``answered``
CALLER
TRANSFER            extension|context|hold|call|..  entry ends, ``answered``; a Transfer
BLINDTRANSFER       extension|context|hold|call|..  idem
ATTENDEDTRANSFER    method|data...|hold|call|pos    idem (destination ``attended:<method>``)
ABANDON             position|origposition|waittime  entry ends, ``abandoned``
EXITWITHTIMEOUT     position|origposition|waittime  entry ends, ``overflow_timeout``
EXITEMPTY           position|origposition|waittime  entry ends, ``overflow_nobody``
EXITWITHKEY         key|position|origpos|waittime   entry ends, ``message`` (overflow_to
                                                    ``message:key-<key>``): the caller chose to
                                                    leave for another destination
==================  ==============================  =============================================

Agent and queue events (AGENTLOGIN, ADDMEMBER, PAUSE, QUEUESTART, CONFIGRELOAD...), and
JOINEMPTY/JOINUNAVAIL (no ENTERQUEUE is written for them, so they are not offered calls, as in
Asterisk's own statistics), are counted in the report and otherwise ignored.

One call per ``callid``; every ENTERQUEUE of that callid is one entry (an overflow from one
queue to another gives two entries). An entry's wait is the one Asterisk measured: ``CONNECT``'s
holdtime for an answered entry (the answer is dated entry + holdtime), ``ABANDON``/``EXIT*``'s
waittime for the others (the exit is dated entry + waittime). The lines' own epochs are not the
wait: a queue_log kept in a database carries the time each line was inserted, a second or more
after Asterisk measured. Only when the field is missing (empty or absent) is the wait taken from
the timestamps, and the report counts those entries (``waits_from_timestamps``). If the file
begins in the middle of a call (log rotation), an exit event without its ENTERQUEUE rebuilds the
entry from its ``waittime``/``holdtime``.

The parser streams: a call is handed out once it has been quiet for ``idle_close_s`` (all its
entries closed) or ``stale_close_s`` (an entry still open: closed as ``interrupted``), or at the
end of the input. Malformed lines are skipped and counted with their line numbers, never fatal;
so is a line the call records could not hold as it is: a control character (NUL...), or a call
id, queue or agent name longer than its column (an over-long call id, cut, could merge calls).

Lines given as bytes are decoded one by one: UTF-8 if they are valid UTF-8, else Windows-1252
(a superset of latin-1, what Asterisk writes on a system whose locale is not UTF-8), counted in
the report so that the import says so.
Reading the whole file as UTF-8 with replacement characters silently made ``état_civil`` a
service ``�tat_civil``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from routing_rules.messages import counted
from telephony.records.bounds import AGENT_MAX, CALL_ID_MAX, SERVICE_MAX
from telephony.records.model import (
    AgentLeg,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    LegOutcome,
    ServiceEntry,
    Transfer,
)

MAX_DETAILS = 1000  # malformed lines described one by one in the report (all are counted)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class MalformedLine:
    line: int
    reason: str
    text: str


@dataclass(slots=True)
class QueueLogReport:
    lines: int = 0
    calls: int = 0  # call records produced
    malformed: list[MalformedLine] = field(default_factory=list)
    malformed_count: int = 0
    ignored_events: Counter[str] = field(default_factory=Counter)
    rebuilt_entries: int = 0  # exit events whose ENTERQUEUE was not in the input
    unfinished_calls: int = 0  # closed as interrupted (input ended or went quiet mid-call)
    calls_without_queue: int = 0  # callids that never entered a queue (DID only): not calls here
    # Entries whose wait came from the lines' timestamps: the holdtime or waittime was missing.
    waits_from_timestamps: int = 0
    recoded_lines: int = 0  # lines that were not UTF-8, read as Windows-1252
    first_recoded_line: int | None = None

    @property
    def skipped(self) -> int:
        """Malformed lines skipped (what the indicators report as ``skipped_lines``)."""
        return self.malformed_count

    def add_malformed(self, line: int, reason: str, text: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < MAX_DETAILS:
            self.malformed.append(MalformedLine(line, reason, text[:200]))


class _Leg:
    __slots__ = ("answered", "channel", "ended", "endpoint", "outcome", "ring_start")

    def __init__(
        self,
        endpoint: str,
        ring_start: float,
        ended: float | None,
        outcome: LegOutcome,
        answered: float | None = None,
        channel: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.ring_start = ring_start
        self.ended = ended
        self.outcome = outcome
        self.answered = answered
        self.channel = channel


class _Entry:
    __slots__ = ("agent", "answered", "ended", "entered", "legs", "outcome", "overflow_to", "queue")

    def __init__(self, queue: str, entered: float) -> None:
        self.queue = queue
        self.entered = entered
        self.ended: float | None = None
        self.answered: float | None = None
        self.agent: str | None = None
        self.outcome: EntryOutcome | None = None
        self.overflow_to: str | None = None
        self.legs: list[_Leg] = []


class _Call:
    __slots__ = ("caller", "callid", "dialled", "entries", "first", "last", "transfers")

    def __init__(self, callid: str, epoch: float) -> None:
        self.callid = callid
        self.first = epoch
        self.last = epoch
        self.caller = ""
        self.dialled = ""
        self.entries: list[_Entry] = []
        self.transfers: list[tuple[float, str, str, str]] = []  # at, queue, destination, agent

    def open_entry(self, queue: str) -> _Entry | None:
        for entry in reversed(self.entries):
            if entry.queue == queue and entry.ended is None:
                return entry
        return None

    def is_open(self) -> bool:
        return any(entry.ended is None for entry in self.entries)


_EXITS = {
    "ABANDON": (EntryOutcome.ABANDONED, 2),  # outcome, index of waittime in data
    "EXITWITHTIMEOUT": (EntryOutcome.OVERFLOW_TIMEOUT, 2),
    "EXITEMPTY": (EntryOutcome.OVERFLOW_NOBODY, 2),
    "EXITWITHKEY": (EntryOutcome.MESSAGE, 3),
}
_COMPLETES = {"COMPLETEAGENT", "COMPLETECALLER"}
_TRANSFERS = {"TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
_RINGS = {"RINGNOANSWER": LegOutcome.NO_ANSWER, "RINGCANCELED": LegOutcome.CANCELLED}


class _Malformed(Exception):
    pass


def _number(data: list[str], index: int, what: str) -> float:
    try:
        return float(data[index])
    except IndexError:
        raise _Malformed(f"{what} manquant") from None
    except ValueError:
        raise _Malformed(f"{what} n'est pas un nombre : {data[index]!r}") from None


def _measured(data: list[str], index: int, what: str) -> float | None:
    """The duration Asterisk wrote in field ``index``; None when the field is missing or empty
    (a number that is not one is a malformed line)."""
    if index >= len(data) or not data[index].strip():
        return None
    value = _number(data, index, what)
    if value < 0:
        raise _Malformed(f"{what} négatif : {data[index]!r}")
    return value


def _ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class QueueLogParser:
    """Feed lines in order; finished calls come out of :meth:`feed` and :meth:`finish`."""

    def __init__(self, idle_close_s: float = 3600.0, stale_close_s: float = 6 * 3600.0) -> None:
        self.report = QueueLogReport()
        self._calls: dict[str, _Call] = {}
        self._idle = idle_close_s
        self._stale = stale_close_s
        self._last_sweep = 0.0
        self._now = 0.0

    def _decode(self, raw: bytes, number: int) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        report = self.report
        report.recoded_lines += 1
        if report.first_recoded_line is None:
            report.first_recoded_line = number
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
            return raw.decode("latin-1")

    def parse(self, lines: Iterable[str] | Iterable[bytes]) -> Iterator[CallRecord]:
        for line in lines:
            yield from self.feed(line)
        yield from self.finish()

    def feed(self, line: str | bytes) -> list[CallRecord]:
        report = self.report
        report.lines += 1
        number = report.lines
        if isinstance(line, bytes):
            line = self._decode(line, number)
        if number == 1:
            line = line.removeprefix("\ufeff")  # a byte order mark some editors write
        text = line.rstrip("\r\n")
        if not text.strip():
            return []
        control = _CONTROL.search(text)
        if control is not None:
            what = "NUL" if control.group() == "\x00" else f"U+{ord(control.group()):04X}"
            report.add_malformed(number, f"caractère de contrôle {what} dans la ligne", text)
            return []
        fields = text.split("|")
        if len(fields) < 5:
            report.add_malformed(
                number, f"{counted(len(fields), 'champ')}, 5 au moins attendus", text
            )
            return []
        try:
            epoch = float(fields[0])
        except ValueError:
            report.add_malformed(number, f"horodatage illisible : {fields[0]!r}", text)
            return []
        if not 0 < epoch < 1e11:
            report.add_malformed(number, f"horodatage hors limites : {fields[0]!r}", text)
            return []
        callid, queue, agent, event = fields[1], fields[2], fields[3], fields[4]
        for value, most, what in (
            (callid, CALL_ID_MAX, "identifiant d'appel"),
            (queue, SERVICE_MAX, "nom de file"),
            (agent, AGENT_MAX, "nom d'agent"),
        ):
            if len(value) > most:
                reason = f"{what} de {len(value)} caractères ({most} au plus)"
                report.add_malformed(number, reason, text)
                return []
        try:
            self._event(epoch, callid, queue, agent, event, fields[5:])
        except _Malformed as exc:
            report.add_malformed(number, f"{event} : {exc}", text)
            return []
        if epoch > self._now:
            self._now = epoch
        if self._now - self._last_sweep >= 300.0:
            self._last_sweep = self._now
            return self._sweep()
        return []

    def _event(
        self, epoch: float, callid: str, queue: str, agent: str, event: str, data: list[str]
    ) -> None:
        if event == "ENTERQUEUE":
            if not callid or callid == "NONE" or not queue or queue == "NONE":
                raise _Malformed("ni identifiant d'appel ni file")
            call = self._call(callid, epoch)
            if len(data) > 1 and data[1] and not call.caller:
                call.caller = data[1]
            call.entries.append(_Entry(queue, epoch))
            return
        exit_kind = _EXITS.get(event)
        if exit_kind is not None:
            outcome, wait_index = exit_kind
            wait = _measured(data, wait_index, "waittime")
            entry = self._entry(callid, queue, epoch, wait)
            entry.ended = self._waited(entry, wait, epoch)
            entry.outcome = outcome
            if event == "EXITWITHKEY":
                entry.overflow_to = f"message:key-{data[0] if data else ''}"
            self._close_legs(entry, entry.ended)
            return
        if event == "CONNECT":
            hold = _measured(data, 0, "holdtime")
            ring = _number(data, 2, "ringtime") if len(data) > 2 and data[2] else 0.0
            entry = self._entry(callid, queue, epoch, hold)
            answered = self._waited(entry, hold, epoch)
            entry.answered = answered
            entry.agent = agent or None
            channel = data[1] if len(data) > 1 and data[1] else None
            leg = _Leg(agent, answered - ring, None, LegOutcome.ANSWERED, answered, channel)
            entry.legs.append(leg)
            return
        if event in _COMPLETES or event in _TRANSFERS:
            # COMPLETE*: holdtime|calltime|origposition; (BLIND)TRANSFER: extension|context|
            # holdtime|calltime|origposition; ATTENDEDTRANSFER: method|...|holdtime|calltime|
            # origposition (a variable number of fields before the times).
            if event in _COMPLETES:
                hold_at = 0
            elif event == "ATTENDEDTRANSFER":
                hold_at = len(data) - 3
            else:
                hold_at = 2
            if hold_at < 0:
                raise _Malformed("holdtime manquant")
            hold = _measured(data, hold_at, "holdtime")
            talk = _number(data, hold_at + 1, "calltime")
            answered = epoch - talk
            entry = self._entry(callid, queue, answered, hold)
            if entry.answered is None:  # CONNECT not in the input
                answered = self._waited(entry, hold, answered)
                entry.answered = answered
                entry.agent = agent or None
                entry.legs.append(_Leg(agent, answered, None, LegOutcome.ANSWERED, answered))
            entry.ended = epoch
            entry.outcome = EntryOutcome.ANSWERED
            self._close_legs(entry, epoch)
            if event in _TRANSFERS:
                if event == "ATTENDEDTRANSFER":
                    destination = f"attended:{data[0]}"
                else:
                    destination = f"{data[0]}@{data[1]}"
                self._calls[callid].transfers.append((epoch, queue, destination, agent))
            return
        ring_outcome = _RINGS.get(event)
        if ring_outcome is not None:
            ring_ms = _number(data, 0, "ringtime (ms)")
            ringing = self._calls.get(callid)
            open_entry = ringing.open_entry(queue) if ringing is not None else None
            if ringing is None or open_entry is None:
                self.report.ignored_events[f"{event} (no open entry)"] += 1
                return
            ringing.last = max(ringing.last, epoch)
            start = max(open_entry.entered, epoch - ring_ms / 1000.0)
            open_entry.legs.append(_Leg(agent, start, epoch, ring_outcome))
            return
        if event == "DID":
            if callid and callid != "NONE":
                call = self._call(callid, epoch)
                call.dialled = data[0] if data else ""
            return
        self.report.ignored_events[event] += 1

    def _call(self, callid: str, epoch: float) -> _Call:
        call = self._calls.get(callid)
        if call is None:
            call = self._calls[callid] = _Call(callid, epoch)
        elif epoch > call.last:
            call.last = epoch
        return call

    def _waited(self, entry: _Entry, wait: float | None, epoch: float) -> float:
        """When the entry's wait ended: entry + the wait Asterisk measured, or the line's own
        time when the field is missing (counted in the report)."""
        if wait is None:
            self.report.waits_from_timestamps += 1
            return epoch
        return entry.entered + wait

    def _entry(self, callid: str, queue: str, epoch: float, wait: float | None) -> _Entry:
        if not callid or callid == "NONE":
            raise _Malformed("pas d'identifiant d'appel")
        call = self._call(callid, epoch)
        entry = call.open_entry(queue)
        if entry is None:
            if wait is None:
                raise _Malformed(f"ni ENTERQUEUE pour {callid} dans {queue}, ni temps d'attente")
            # The file starts mid-call (rotation): rebuild the entry from Asterisk's wait time.
            entry = _Entry(queue, epoch - wait)
            call.entries.append(entry)
            call.first = min(call.first, entry.entered)
            self.report.rebuilt_entries += 1
        return entry

    @staticmethod
    def _close_legs(entry: _Entry, epoch: float) -> None:
        for leg in entry.legs:
            if leg.ended is None:
                leg.ended = epoch

    def _sweep(self) -> list[CallRecord]:
        done: list[CallRecord] = []
        for callid, call in list(self._calls.items()):
            quiet = self._now - call.last
            if quiet >= self._stale or (quiet >= self._idle and not call.is_open()):
                del self._calls[callid]
                record = self._record(call)
                if record is not None:
                    done.append(record)
        return done

    def finish(self) -> list[CallRecord]:
        """The input is over: hand out every call still held (open ones as interrupted)."""
        done = [r for r in (self._record(c) for c in self._calls.values()) if r is not None]
        self._calls.clear()
        return done

    def _record(self, call: _Call) -> CallRecord | None:
        if not call.entries:
            self.report.calls_without_queue += 1
            return None
        unfinished = False
        entries: list[ServiceEntry] = []
        for e in sorted(call.entries, key=lambda x: x.entered):
            if e.ended is None:
                unfinished = True
                e.ended = call.last
                e.outcome = EntryOutcome.INTERRUPTED
            assert e.outcome is not None
            end = e.ended
            legs = [
                AgentLeg(
                    endpoint=leg.endpoint,
                    ring_started_at=_ts(leg.ring_start),
                    ended_at=_ts(leg.ended if leg.ended is not None else end),
                    outcome=leg.outcome,
                    answered_at=_ts(leg.answered) if leg.answered is not None else None,
                    channel_id=leg.channel,
                )
                for leg in e.legs
            ]
            entries.append(
                ServiceEntry(
                    service_id=e.queue,
                    entered_at=_ts(e.entered),
                    ended_at=_ts(e.ended),
                    outcome=e.outcome,
                    answered_at=_ts(e.answered) if e.answered is not None else None,
                    agent=e.agent,
                    overflow_to=e.overflow_to,
                    legs=legs,
                )
            )
        # An overflow from one queue to the next one entered: name the next service.
        for current, following in pairwise(entries):
            if current.outcome.is_overflow and current.overflow_to is None:
                current.overflow_to = following.service_id
        if unfinished:
            self.report.unfinished_calls += 1
        self.report.calls += 1
        ended = max(call.last, max(e.ended_at.timestamp() for e in entries))
        return CallRecord(
            call_id=call.callid,
            started_at=_ts(min(call.first, entries[0].entered_at.timestamp())),
            ended_at=_ts(ended),
            dialled=call.dialled,
            caller_number=call.caller,
            outcome=_call_outcome(entries[-1].outcome),
            source="queue_log",
            entries=entries,
            transfers=[
                Transfer(_ts(at), queue, None, destination, agent or None)
                for at, queue, destination, agent in call.transfers
            ],
        )


def _call_outcome(last: EntryOutcome) -> CallOutcome:
    if last is EntryOutcome.ANSWERED:
        return CallOutcome.ANSWERED  # transferred after the answer is still answered
    if last is EntryOutcome.ABANDONED:
        return CallOutcome.ABANDONED
    if last is EntryOutcome.INTERRUPTED:
        return CallOutcome.INTERRUPTED
    # Left the last queue without an answer: whatever the dialplan did next (voicemail,
    # message) is not in the queue_log.
    return CallOutcome.MESSAGE


def iter_queue_log(
    lines: Iterable[str] | Iterable[bytes], parser: QueueLogParser | None = None
) -> Iterator[CallRecord]:
    """Stream call records out of queue_log lines; ``parser.report`` fills as it goes."""
    return (parser or QueueLogParser()).parse(lines)


def parse_queue_log(
    lines: Iterable[str] | Iterable[bytes],
) -> tuple[list[CallRecord], QueueLogReport]:
    """Every call record of the lines, and the report (malformed lines with their numbers)."""
    parser = QueueLogParser()
    records = list(parser.parse(lines))
    return records, parser.report
