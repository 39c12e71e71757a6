"""The story of one call, accumulated as the flow runs, turned into a CallRecord at the end.

The flow reports facts with the time of the ARI event that proved them (``at``); this class
only keeps them in order and closes what is still open when the call ends, so that every record
is complete whatever path the call took (hang-up in the IVR, during ringing, a crash...).

While the call runs, every new fact calls ``on_change`` (the router then journals
:meth:`CallStory.snapshot`, the call as it would be if interrupted now): a crash of decroche
leaves the records what was known, not an empty interrupted call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from telephony.records.model import (
    AgentLeg,
    CallbackRequest,
    CallOutcome,
    CallProgress,
    CallRecord,
    EntryOutcome,
    IvrEvent,
    IvrEventKind,
    LegOutcome,
    ServiceEntry,
    SurveyAnswer,
    Transfer,
)


@dataclass(slots=True)
class _OpenLeg:
    endpoint: str
    channel_id: str | None
    ring_started_at: datetime | None = None  # its 180; None while it has not rung
    answered_at: datetime | None = None


@dataclass(slots=True)
class _OpenEntry:
    service_id: str
    entered_at: datetime
    ringing_at: datetime | None = None
    answered_at: datetime | None = None
    agent: str | None = None
    closed: bool = False
    legs: list[AgentLeg] = field(default_factory=list)
    open_legs: dict[str, _OpenLeg] = field(default_factory=dict)
    queue_started_at: datetime | None = None  # first time in the service's queue
    queue_ended_at: datetime | None = None  # last time out of it
    in_queue: bool = False


class CallStory:
    def __init__(
        self,
        call_id: str,
        started_at: datetime,
        dialled: str,
        caller_number: str,
        rules_version: str | None,
    ) -> None:
        self.call_id = call_id
        self.started_at = started_at
        self.dialled = dialled
        self.caller_number = caller_number
        self.rules_version = rules_version
        self.last_seen = started_at
        self._ivr: list[IvrEvent] = []
        self._entries: list[ServiceEntry] = []
        self._current: _OpenEntry | None = None
        self._transfers: list[Transfer] = []
        self._callbacks: list[CallbackRequest] = []
        self._survey: list[SurveyAnswer] = []
        self.survey_offered = False
        self.survey_service: str | None = None
        self.survey_agent: str | None = None
        self.transfer_of: str | None = None  # set by the router on a blind transfer's leg
        self._outcome: CallOutcome | None = None
        # Told of every new fact (the router journals the call's progress; it may defer).
        self.on_change: Callable[[], None] | None = None

    def _seen(self, at: datetime) -> datetime:
        if at > self.last_seen:
            self.last_seen = at
        if self.on_change is not None:
            self.on_change()
        return at

    # --- IVR ---------------------------------------------------------------------------------

    def ivr(self, at: datetime, menu_id: str, kind: IvrEventKind, key: str | None = None) -> None:
        self._ivr.append(IvrEvent(self._seen(at), menu_id, kind, key))

    # --- services ----------------------------------------------------------------------------

    @property
    def current_service(self) -> str | None:
        return self._current.service_id if self._current else None

    @property
    def queue_started_at(self) -> datetime | None:
        """When the call first waited in its current service's queue (None: it did not)."""
        return self._current.queue_started_at if self._current is not None else None

    @property
    def queue_ended_at(self) -> datetime | None:
        """When it last left that queue (None: never, or it waits there now)."""
        return self._current.queue_ended_at if self._current is not None else None

    @property
    def queued_since(self) -> datetime | None:
        """When the call started waiting in its service's queue, while it waits there."""
        current = self._current
        return current.queue_started_at if current is not None and current.in_queue else None

    @property
    def phase(self) -> str:
        """ivr (no service yet), waiting (in a service, not answered) or talking."""
        if self._current is None:
            if self._entries and self._entries[-1].outcome is EntryOutcome.ANSWERED:
                return "talking"
            return "ivr"
        return "talking" if self._current.answered_at is not None else "waiting"

    @property
    def service_entered_at(self) -> datetime | None:
        """When the call entered the service it is in now: its waiting time counts from there,
        as in the call record (the menus and earlier services are not waiting for this one)."""
        return self._current.entered_at if self._current else None

    @property
    def answered_by(self) -> str | None:
        """The endpoint of the agent who answered the last service entry, if any."""
        if self._current is not None:
            return self._current.agent
        for entry in reversed(self._entries):
            if entry.agent:
                return entry.agent
        return None

    def enter(self, at: datetime, service_id: str, *, closed: bool = False) -> None:
        """The call enters a service; ``closed``: the rules said it was closed at that time."""
        if self._current is not None:
            raise RuntimeError(f"entering {service_id} while {self._current.service_id} is open")
        self._current = _OpenEntry(service_id, self._seen(at), closed=closed)

    def ringing(self, at: datetime) -> None:
        """The caller starts hearing ringback for the current service (first time only)."""
        if self._current is not None and self._current.ringing_at is None:
            self._current.ringing_at = self._seen(at)

    def queue_started(self, at: datetime) -> None:
        """The caller waits in the current service's queue (again: the first start is kept)."""
        entry = self._require()
        if entry.queue_started_at is None:
            entry.queue_started_at = at
        entry.in_queue = True
        self._seen(at)

    def queue_ended(self, at: datetime) -> None:
        """The caller is out of the queue: their turn came, or they leave the service."""
        entry = self._require()
        if entry.in_queue:
            entry.in_queue = False
            entry.queue_ended_at = self._seen(at)

    def leg_started(self, endpoint: str, channel_id: str | None) -> None:
        """The agent's phone is called (it rings once it says so: :meth:`leg_ringing`)."""
        entry = self._require()
        key = channel_id or f"{endpoint}#{len(entry.legs) + len(entry.open_legs)}"
        entry.open_legs[key] = _OpenLeg(endpoint, channel_id)

    def leg_ringing(self, at: datetime, channel_id: str) -> None:
        """The phone sent 180: its ring time starts."""
        leg = self._require().open_legs.get(channel_id)
        if leg is not None and leg.ring_started_at is None:
            leg.ring_started_at = self._seen(at)

    def leg_answered(self, at: datetime, channel_id: str) -> None:
        entry = self._require()
        leg = entry.open_legs[channel_id]
        leg.answered_at = self._seen(at)
        if leg.ring_started_at is None:
            leg.ring_started_at = leg.answered_at  # answered without ringing first
        entry.answered_at = leg.answered_at
        entry.agent = leg.endpoint

    def leg_ended(
        self,
        at: datetime,
        channel_id: str,
        outcome: LegOutcome,
        cause: int | None = None,
    ) -> None:
        entry = self._require()
        leg = entry.open_legs.pop(channel_id, None)
        if leg is None:
            return
        ended_at = self._seen(at)
        entry.legs.append(
            AgentLeg(
                endpoint=leg.endpoint,
                # A phone that never rang has no ring time: its ring "starts" at its end.
                ring_started_at=leg.ring_started_at or ended_at,
                ended_at=ended_at,
                outcome=LegOutcome.ANSWERED if leg.answered_at else outcome,
                answered_at=leg.answered_at,
                hangup_cause=cause,
                channel_id=leg.channel_id,
            )
        )

    def leg_failed(self, at: datetime, endpoint: str, outcome: LegOutcome) -> None:
        """A leg that never existed on Asterisk (allocation failed: not registered)."""
        entry = self._require()
        entry.legs.append(
            AgentLeg(endpoint, self._seen(at), at, outcome, None, None, None),
        )

    def leave(self, at: datetime, outcome: EntryOutcome, overflow_to: str | None = None) -> None:
        entry = self._require()
        self._entries.append(_closed(entry, self._seen(at), outcome, overflow_to))
        self._current = None

    def _require(self) -> _OpenEntry:
        if self._current is None:
            raise RuntimeError("no service entry is open")
        return self._current

    # --- after the answer ----------------------------------------------------------------------

    def transfer(self, transfer: Transfer) -> None:
        self._seen(transfer.at)
        self._transfers.append(transfer)

    def callback(self, request: CallbackRequest) -> None:
        self._seen(request.at)
        self._callbacks.append(request)

    def survey_answer(self, answer: SurveyAnswer) -> None:
        self._seen(answer.at)
        self._survey.append(answer)

    def set_outcome(self, outcome: CallOutcome) -> None:
        self._outcome = outcome
        if self.on_change is not None:
            self.on_change()

    # --- the end -------------------------------------------------------------------------------

    def finish(self, at: datetime, *, caller_hung_up: bool, cut: bool = False) -> CallRecord:
        """Close whatever is open and build the record.

        An entry still open when the caller hangs up was abandoned if nobody had answered;
        otherwise the call ended in conversation (answered). A call ``cut`` by the PBX or the
        link (nobody hung up) is ``cut``, as is the entry it was waiting in.
        """
        end = self._seen(at)
        if self._current is not None:
            if self._current.answered_at is not None:
                self.leave(end, EntryOutcome.ANSWERED)
            elif cut:
                self.leave(end, EntryOutcome.CUT)
            elif caller_hung_up:
                self.leave(end, EntryOutcome.ABANDONED)
            else:
                self.leave(end, EntryOutcome.INTERRUPTED)
        if cut:
            return self._record(end, CallOutcome.CUT, self._entries)
        outcome = self._outcome or self._derive_outcome(caller_hung_up)
        return self._record(end, outcome, self._entries)

    def snapshot(self) -> CallProgress:
        """The call as it would be recorded if it were interrupted now (at the last time it was
        seen), and which parts are still open; the story itself is left as it is."""
        entries = list(self._entries)
        open_legs: tuple[int, ...] = ()
        current = self._current
        if current is not None:
            outcome = EntryOutcome.ANSWERED if current.answered_at else EntryOutcome.INTERRUPTED
            entries.append(_closed(current, self.last_seen, outcome, None))
            open_legs = tuple(range(len(current.legs), len(entries[-1].legs)))
        record = self._record(self.last_seen, CallOutcome.INTERRUPTED, entries)
        return CallProgress(
            record,
            open_entry=current is not None,
            open_legs=open_legs,
            open_queue=current is not None and current.in_queue,
        )

    def _record(
        self, end: datetime, outcome: CallOutcome, entries: list[ServiceEntry]
    ) -> CallRecord:
        # Copies: the story goes on after a snapshot, the record must not change with it.
        return CallRecord(
            call_id=self.call_id,
            started_at=self.started_at,
            ended_at=end,
            dialled=self.dialled,
            caller_number=self.caller_number,
            outcome=outcome,
            rules_version=self.rules_version,
            ivr=list(self._ivr),
            entries=list(entries),
            transfers=list(self._transfers),
            callbacks=list(self._callbacks),
            survey=list(self._survey),
            survey_offered=self.survey_offered,
            survey_service=self.survey_service,
            survey_agent=self.survey_agent,
            transfer_of=self.transfer_of,
        )

    def _derive_outcome(self, caller_hung_up: bool) -> CallOutcome:
        if not self._entries:
            return CallOutcome.IVR_HANGUP if caller_hung_up else CallOutcome.INTERRUPTED
        last = self._entries[-1].outcome
        return {
            EntryOutcome.ANSWERED: CallOutcome.ANSWERED,
            EntryOutcome.ABANDONED: CallOutcome.ABANDONED,
            EntryOutcome.MESSAGE: CallOutcome.MESSAGE,
            EntryOutcome.CALLBACK: CallOutcome.CALLBACK,
            EntryOutcome.TRANSFERRED: CallOutcome.TRANSFERRED,
        }.get(last, CallOutcome.MESSAGE if last.is_overflow else CallOutcome.INTERRUPTED)


def _closed(
    entry: _OpenEntry, at: datetime, outcome: EntryOutcome, overflow_to: str | None
) -> ServiceEntry:
    """``entry`` left at ``at``: its legs still ringing are cancelled then, an answered one
    ends then (the entry itself is not changed)."""
    legs = list(entry.legs)
    for leg in entry.open_legs.values():
        legs.append(
            AgentLeg(
                endpoint=leg.endpoint,
                # A phone that never rang has no ring time: its ring "starts" at its end.
                ring_started_at=leg.ring_started_at or at,
                ended_at=at,
                outcome=LegOutcome.ANSWERED if leg.answered_at else LegOutcome.CANCELLED,
                answered_at=leg.answered_at,
                hangup_cause=None,
                channel_id=leg.channel_id,
            )
        )
    return ServiceEntry(
        service_id=entry.service_id,
        entered_at=entry.entered_at,
        ended_at=at,
        outcome=outcome,
        ringing_at=entry.ringing_at,
        answered_at=entry.answered_at,
        agent=entry.agent,
        overflow_to=overflow_to,
        legs=legs,
        queue_started_at=entry.queue_started_at,
        # Still waiting in the queue: the wait there ends with the entry.
        queue_ended_at=at if entry.in_queue else entry.queue_ended_at,
        closed=entry.closed,
    )
