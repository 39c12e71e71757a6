"""The call record: what the call flow hands to storage when a call ends.

These are plain typed values, independent of SQLAlchemy: the call flow fills them, the store
writes them (pseudonymising the caller), analytics and the queue_log importer produce or read
them. All times are timezone-aware UTC with sub-second precision, taken from the ARI events'
own ``timestamp`` fields (or from queue_log's epoch seconds), never from when they were received.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

# Routing decides with these words and the records keep them: one definition, in routing_rules.
from routing_rules.outcomes import EntryOutcome, LegOutcome

__all__ = [
    "AgentLeg",
    "CallOutcome",
    "CallProgress",
    "CallRecord",
    "CallStart",
    "CallbackRequest",
    "EntryOutcome",
    "IvrEvent",
    "IvrEventKind",
    "LegOutcome",
    "ServiceEntry",
    "SurveyAnswer",
    "Transfer",
]


class CallOutcome(StrEnum):
    """How a call ended, as a whole (the outcome of its last service entry, or of the IVR)."""

    ANSWERED = "answered"  # connected to an agent
    ABANDONED = "abandoned"  # caller hung up while waiting or ringing for a service
    IVR_HANGUP = "ivr_hangup"  # caller hung up in the voice menu, before reaching a service
    MESSAGE = "message"  # ended on a message (closed, nobody available...)
    # Ended on the entry route's closed message: the line itself was closed, no service was
    # entered (a service closed at the time is an entry with ``closed`` set instead).
    CLOSED = "closed"
    CALLBACK = "callback"  # a callback request was taken
    TRANSFERRED = "transferred"  # handed to a destination outside decroche (blind transfer out)
    INTERRUPTED = "interrupted"  # the service stopped or crashed while the call was in progress
    # Cut by the PBX or the link to it (Asterisk restarted, the link failed): not a caller who
    # gave up, and not owed a callback unless the rules say so.
    CUT = "cut"
    FAILED = "failed"  # could not be handled (error); the caller went back to the dialplan


class IvrEventKind(StrEnum):
    MENU = "menu"  # a menu's prompt started
    KEY = "key"  # a valid key was pressed
    INVALID = "invalid"  # an invalid key was pressed
    TIMEOUT = "timeout"  # no key within the timeout
    HANGUP = "hangup"  # the caller hung up in this menu
    FALLBACK = "fallback"  # retries exhausted, fallback taken


@dataclass(slots=True)
class IvrEvent:
    at: datetime
    menu_id: str
    kind: IvrEventKind
    key: str | None = None


@dataclass(slots=True)
class AgentLeg:
    endpoint: str  # e.g. PJSIP/1042
    ring_started_at: datetime
    ended_at: datetime
    outcome: LegOutcome
    answered_at: datetime | None = None
    hangup_cause: int | None = None  # Q.850 cause from ChannelDestroyed / HangupRequest
    channel_id: str | None = None

    @property
    def ring_seconds(self) -> float:
        end = self.answered_at or self.ended_at
        return max(0.0, (end - self.ring_started_at).total_seconds())


@dataclass(slots=True)
class ServiceEntry:
    service_id: str
    entered_at: datetime
    ended_at: datetime
    outcome: EntryOutcome
    ringing_at: datetime | None = None  # the caller starts hearing ringback for this service
    answered_at: datetime | None = None
    agent: str | None = None  # endpoint of the agent who answered
    overflow_to: str | None = None  # next service id, "message:<id>" or "callback"
    legs: list[AgentLeg] = field(default_factory=list)
    # The service's queue: when the caller started waiting in it (every present agent busy) and
    # when they last left it (their turn to ring an agent, the maximum wait, a hang-up). None:
    # never waited in a queue. Part of the entry's wait, which counts from ``entered_at``.
    queue_started_at: datetime | None = None
    queue_ended_at: datetime | None = None
    # Entered while the service was closed, per the rules in force then (the routing decision
    # that sent the call on): counted apart by the indicators, never as a failure.
    closed: bool = False

    @property
    def wait_seconds(self) -> float:
        """Time from entering the service to the answer, or to leaving it unanswered (the time
        in its queue included)."""
        end = self.answered_at or self.ended_at
        return max(0.0, (end - self.entered_at).total_seconds())

    @property
    def queue_seconds(self) -> float | None:
        """Time from the start of the wait in the queue to its end (None: no queue)."""
        if self.queue_started_at is None:
            return None
        end = self.queue_ended_at or self.ended_at
        return max(0.0, (end - self.queue_started_at).total_seconds())


@dataclass(slots=True)
class Transfer:
    at: datetime
    from_service: str | None
    to_service: str | None  # None: transferred outside decroche
    destination: str  # the exten / service the agent transferred to
    by_agent: str | None = None


@dataclass(slots=True)
class CallbackRequest:
    at: datetime
    service_id: str
    number: str  # clear number, kept only until the callback is done or expired
    kind: str = "requested"  # requested | abandoned | overflowed


@dataclass(frozen=True, slots=True)
class PendingCallback:
    """A callback still to make, as the agents' page lists it (the store reads them)."""

    call_id: str
    position: int
    at: datetime
    service_id: str
    kind: str
    number: str


@dataclass(slots=True)
class SurveyAnswer:
    question: int  # 1-based
    prompt_id: str
    at: datetime
    score: int | None  # None: no answer (timeout or hang-up)


@dataclass(slots=True)
class CallRecord:
    call_id: str  # stable id (the inbound channel id for ARI calls)
    started_at: datetime
    ended_at: datetime
    dialled: str  # the number the caller dialled (Stasis args[0])
    caller_number: str  # clear; the store keeps only a keyed hash of it
    outcome: CallOutcome
    source: str = "ari"  # ari | queue_log | whatif
    rules_version: str | None = None
    ivr: list[IvrEvent] = field(default_factory=list)
    entries: list[ServiceEntry] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    callbacks: list[CallbackRequest] = field(default_factory=list)
    survey: list[SurveyAnswer] = field(default_factory=list)
    survey_offered: bool = False
    survey_service: str | None = None
    survey_agent: str | None = None
    # This call is the leg an agent's blind transfer brought back into decroche; the id is the
    # call the caller first made. Its service entries count for their services, but the caller
    # is counted once in the totals: on the first call.
    transfer_of: str | None = None

    @property
    def duration_seconds(self) -> float:
        return max(0.0, (self.ended_at - self.started_at).total_seconds())


@dataclass(slots=True)
class CallStart:
    """Sent when a call enters the service, so a crash leaves a trace to close as interrupted."""

    call_id: str
    started_at: datetime
    dialled: str
    caller_number: str


@dataclass(slots=True)
class CallProgress:
    """What is known of a call in progress, journaled as it happens so that a crash keeps it.

    ``record`` is the call as if it had been interrupted at ``record.ended_at`` (the last moment
    it was known alive): its IVR path, the services entered, the legs rung and answered, with
    outcome ``interrupted``. ``open_entry`` says its last service entry was still open and
    ``open_legs`` which legs of that entry were (positions in its ``legs``), ``open_queue``
    that the caller was waiting in its queue: their ends are the call's, moved on by
    :meth:`closed_at` when the call was seen alive later.
    """

    record: CallRecord
    open_entry: bool = False
    open_legs: tuple[int, ...] = ()
    open_queue: bool = False

    def closed_at(self, at: datetime) -> CallRecord:
        """The call's record, interrupted at ``at`` (never before what was journaled)."""
        end = max(at, self.record.ended_at)
        entries = list(self.record.entries)
        if self.open_entry and entries:
            last = entries[-1]
            legs = [
                replace(leg, ended_at=end) if i in self.open_legs else leg
                for i, leg in enumerate(last.legs)
            ]
            queue_end = end if self.open_queue else last.queue_ended_at
            entries[-1] = replace(last, ended_at=end, legs=legs, queue_ended_at=queue_end)
        return replace(self.record, ended_at=end, entries=entries)
