"""CallRecord / CallStart to and from plain JSON values (the journal's line format).

Explicit field by field rather than ``dataclasses.asdict``: the journal outlives a process, so
its format must not change silently when a field is added to the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telephony.records.errors import RecordInputError
from telephony.records.model import (
    AgentLeg,
    CallbackRequest,
    CallOutcome,
    CallProgress,
    CallRecord,
    CallStart,
    EntryOutcome,
    IvrEvent,
    IvrEventKind,
    LegOutcome,
    ServiceEntry,
    SurveyAnswer,
    Transfer,
)


def _t(value: datetime) -> str:
    return value.isoformat()


def _ot(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _pt(value: Any) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise RecordInputError(f"naive time {value!r} in a journal line")
    return parsed


def _opt(value: Any) -> datetime | None:
    return None if value is None else _pt(value)


def start_to_json(start: CallStart) -> dict[str, Any]:
    return {
        "call_id": start.call_id,
        "started_at": _t(start.started_at),
        "dialled": start.dialled,
        "caller_number": start.caller_number,
    }


def start_from_json(data: dict[str, Any]) -> CallStart:
    return CallStart(
        call_id=data["call_id"],
        started_at=_pt(data["started_at"]),
        dialled=data["dialled"],
        caller_number=data["caller_number"],
    )


def record_to_json(record: CallRecord) -> dict[str, Any]:
    return {
        "call_id": record.call_id,
        "started_at": _t(record.started_at),
        "ended_at": _t(record.ended_at),
        "dialled": record.dialled,
        "caller_number": record.caller_number,
        "outcome": record.outcome.value,
        "source": record.source,
        "rules_version": record.rules_version,
        "ivr": [[_t(e.at), e.menu_id, e.kind.value, e.key] for e in record.ivr],
        "entries": [
            {
                "service_id": e.service_id,
                "entered_at": _t(e.entered_at),
                "ended_at": _t(e.ended_at),
                "outcome": e.outcome.value,
                "ringing_at": _ot(e.ringing_at),
                "answered_at": _ot(e.answered_at),
                "agent": e.agent,
                "overflow_to": e.overflow_to,
                "queue_started_at": _ot(e.queue_started_at),
                "queue_ended_at": _ot(e.queue_ended_at),
                "closed": e.closed,
                "legs": [
                    [
                        leg.endpoint,
                        _t(leg.ring_started_at),
                        _t(leg.ended_at),
                        leg.outcome.value,
                        _ot(leg.answered_at),
                        leg.hangup_cause,
                        leg.channel_id,
                    ]
                    for leg in e.legs
                ],
            }
            for e in record.entries
        ],
        "transfers": [
            [_t(t.at), t.from_service, t.to_service, t.destination, t.by_agent]
            for t in record.transfers
        ],
        "callbacks": [[_t(c.at), c.service_id, c.number, c.kind] for c in record.callbacks],
        "survey": [[s.question, s.prompt_id, _t(s.at), s.score] for s in record.survey],
        "survey_offered": record.survey_offered,
        "survey_service": record.survey_service,
        "survey_agent": record.survey_agent,
        "transfer_of": record.transfer_of,
    }


def record_from_json(data: dict[str, Any]) -> CallRecord:
    return CallRecord(
        call_id=data["call_id"],
        started_at=_pt(data["started_at"]),
        ended_at=_pt(data["ended_at"]),
        dialled=data["dialled"],
        caller_number=data["caller_number"],
        outcome=CallOutcome(data["outcome"]),
        source=data["source"],
        rules_version=data["rules_version"],
        ivr=[
            IvrEvent(_pt(at), menu, IvrEventKind(kind), key) for at, menu, kind, key in data["ivr"]
        ],
        entries=[
            ServiceEntry(
                service_id=e["service_id"],
                entered_at=_pt(e["entered_at"]),
                ended_at=_pt(e["ended_at"]),
                outcome=EntryOutcome(e["outcome"]),
                ringing_at=_opt(e["ringing_at"]),
                answered_at=_opt(e["answered_at"]),
                agent=e["agent"],
                overflow_to=e["overflow_to"],
                # Absent from lines journaled by a version without queues.
                queue_started_at=_opt(e.get("queue_started_at")),
                queue_ended_at=_opt(e.get("queue_ended_at")),
                legs=[
                    AgentLeg(
                        endpoint=endpoint,
                        ring_started_at=_pt(ring),
                        ended_at=_pt(ended),
                        outcome=LegOutcome(outcome),
                        answered_at=_opt(answered),
                        hangup_cause=cause,
                        channel_id=channel,
                    )
                    for endpoint, ring, ended, outcome, answered, cause, channel in e["legs"]
                ],
                # Absent from lines journaled before entries carried it: the outcome said it.
                closed=e.get("closed", e["outcome"] == EntryOutcome.OVERFLOW_CLOSED.value),
            )
            for e in data["entries"]
        ],
        transfers=[
            Transfer(_pt(at), fr, to, dest, by) for at, fr, to, dest, by in data["transfers"]
        ],
        callbacks=[
            CallbackRequest(_pt(at), service, number, kind)
            for at, service, number, kind in data["callbacks"]
        ],
        survey=[SurveyAnswer(q, prompt, _pt(at), score) for q, prompt, at, score in data["survey"]],
        survey_offered=data["survey_offered"],
        survey_service=data["survey_service"],
        survey_agent=data["survey_agent"],
        # Absent from lines journaled by a version without the field, which marked no legs.
        transfer_of=data.get("transfer_of"),
    )


def progress_to_json(progress: CallProgress) -> dict[str, Any]:
    """A call's progress without the caller's number: the store keeps only its pseudonym, made
    when the call started (callback numbers stay: the callback list needs them)."""
    record = record_to_json(progress.record)
    record["caller_number"] = ""
    return {
        "record": record,
        "open_entry": progress.open_entry,
        "open_legs": list(progress.open_legs),
        "open_queue": progress.open_queue,
    }


def progress_from_json(data: dict[str, Any]) -> CallProgress:
    return CallProgress(
        record_from_json(data["record"]),
        open_entry=bool(data["open_entry"]),
        open_legs=tuple(int(i) for i in data["open_legs"]),
        open_queue=bool(data.get("open_queue", False)),
    )


# --- writer items: what goes through the writer's queue and the journal ----------------------


@dataclass(frozen=True, slots=True)
class Started:
    seq: int
    start: CallStart

    @property
    def call_id(self) -> str:
        return self.start.call_id


@dataclass(frozen=True, slots=True)
class Finished:
    seq: int
    record: CallRecord

    @property
    def call_id(self) -> str:
        return self.record.call_id


@dataclass(frozen=True, slots=True)
class Touched:
    seq: int
    call_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Progressed:
    """What is known of a call in progress (replaces the previous progress of that call)."""

    seq: int
    progress: CallProgress

    @property
    def call_id(self) -> str:
        return self.progress.record.call_id


WriteItem = Started | Finished | Touched | Progressed


def item_to_json(item: WriteItem) -> dict[str, Any]:
    if isinstance(item, Started):
        return {"seq": item.seq, "kind": "start", "data": start_to_json(item.start)}
    if isinstance(item, Finished):
        return {"seq": item.seq, "kind": "finish", "data": record_to_json(item.record)}
    if isinstance(item, Progressed):
        return {"seq": item.seq, "kind": "progress", "data": progress_to_json(item.progress)}
    return {"seq": item.seq, "kind": "touch", "data": {"call_id": item.call_id, "at": _t(item.at)}}


def item_from_json(data: dict[str, Any]) -> WriteItem:
    """Decode one journal line; raises :class:`RecordInputError` naming what is wrong."""
    try:
        seq = int(data["seq"])
        kind = data["kind"]
        payload = data["data"]
        if kind == "start":
            return Started(seq, start_from_json(payload))
        if kind == "finish":
            return Finished(seq, record_from_json(payload))
        if kind == "touch":
            return Touched(seq, payload["call_id"], _pt(payload["at"]))
        if kind == "progress":
            return Progressed(seq, progress_from_json(payload))
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordInputError(f"bad journal item: {exc!r}") from exc
    raise RecordInputError(f"bad journal item: unknown kind {kind!r}")
