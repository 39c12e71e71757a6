"""Values from the network, made storable the same way on SQLite and PostgreSQL.

A caller chooses their caller id and, on a SIP trunk, much of what they dial; Asterisk passes
both on. PostgreSQL refuses a NUL character, a lone UTF-16 surrogate or a text longer than its
column, where SQLite takes anything: left as they are, such values made the database refuse a
whole call (set aside, the call left ``open`` or missing). Every writer item is bounded here on
its way in (the writer, before its journal; the store, before any SQL), so the same record is
stored on both databases:

- control characters (NUL included) and lone surrogates become U+FFFD, so the text stays
  readable and it shows that something was there;
- free text (dialled number, transfer destination...) is cut to its column's length;
- an identifier (call id, channel id) too long for its column keeps its start and ends with a
  hash of the whole, so the call's start, its end and a transfer leg still name the same call;
- a callback number is kept only if it can be dialled (digits and separators, 32 characters at
  most); otherwise the request is kept without a number (the store closes it: no one can call
  back) — never a truncated, wrong number;
- a Q.850 hang-up cause outside 0–65535 is dropped.

Column lengths are read from :mod:`telephony.records.schema`: one definition of each bound.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from typing import Any

from sqlalchemy import Column, String

from telephony.records import schema as t
from telephony.records.codec import Finished, Progressed, Started, Touched, WriteItem
from telephony.records.model import (
    AgentLeg,
    CallbackRequest,
    CallRecord,
    CallStart,
    IvrEvent,
    ServiceEntry,
    SurveyAnswer,
    Transfer,
)

# Characters a database may refuse or a terminal may act on: C0 controls (NUL included), DEL,
# C1 controls, and UTF-16 surrogates that do not make a character.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_DIALABLE = re.compile(r"\+?[0-9][0-9 .\-()/]*")
# What the caller number keeps for its pseudonym (never stored clear): longer is not a number.
CALLER_NUMBER_MAX = 64
_HASH_CHARS = 16


def _length(column: Column[Any]) -> int:
    kind = column.type
    assert isinstance(kind, String) and kind.length is not None, column
    return kind.length


def clean(value: str) -> str:
    """The text with unsafe characters replaced by U+FFFD."""
    return _UNSAFE.sub("\N{REPLACEMENT CHARACTER}", value)


def fit(value: str, length: int) -> str:
    """Clean text cut to ``length`` characters."""
    return clean(value)[:length]


def fit_id(value: str, length: int) -> str:
    """A clean identifier of at most ``length`` characters; the same input, the same output."""
    cleaned = clean(value)
    if cleaned == value and len(value) <= length:
        return value
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return f"{cleaned[: length - _HASH_CHARS - 1]}~{digest}"


def _opt_fit(value: str | None, length: int) -> str | None:
    return None if value is None else fit(value, length)


def _opt_id(value: str | None, length: int) -> str | None:
    return None if value is None else fit_id(value, length)


def dialable(number: str) -> str:
    """The number as given if someone can dial it, else "" (no number to call back)."""
    stripped = number.strip()
    length = _length(t.callback_requests.c.number)
    if len(stripped) > length or not _DIALABLE.fullmatch(stripped):
        return ""
    return stripped


CALL_ID_MAX = _length(t.calls.c.call_id)
_DIALLED = _length(t.calls.c.dialled)
_SOURCE = _length(t.calls.c.source)
_RULES_VERSION = _length(t.calls.c.rules_version)
SERVICE_MAX = _length(t.service_entries.c.service_id)
AGENT_MAX = _length(t.service_entries.c.agent)
_OVERFLOW_TO = _length(t.service_entries.c.overflow_to)
_MENU = _length(t.ivr_events.c.menu_id)
_KEY = _length(t.ivr_events.c.key)
_ENDPOINT = _length(t.agent_legs.c.endpoint)
_CHANNEL = _length(t.agent_legs.c.channel_id)
_DESTINATION = _length(t.transfers.c.destination)
_PROMPT = _length(t.survey_answers.c.prompt_id)
_KIND = _length(t.callback_requests.c.kind)
_CAUSE_MAX = 65535


def bounded_start(start: CallStart) -> CallStart:
    return CallStart(
        call_id=fit_id(start.call_id, CALL_ID_MAX),
        started_at=start.started_at,
        dialled=fit(start.dialled, _DIALLED),
        caller_number=fit(start.caller_number, CALLER_NUMBER_MAX),
    )


def _leg(leg: AgentLeg) -> AgentLeg:
    cause = leg.hangup_cause
    return dataclasses.replace(
        leg,
        endpoint=fit(leg.endpoint, _ENDPOINT),
        channel_id=_opt_id(leg.channel_id, _CHANNEL),
        hangup_cause=cause if cause is not None and 0 <= cause <= _CAUSE_MAX else None,
    )


def _entry(entry: ServiceEntry) -> ServiceEntry:
    return dataclasses.replace(
        entry,
        service_id=fit(entry.service_id, SERVICE_MAX),
        agent=_opt_fit(entry.agent, AGENT_MAX),
        overflow_to=_opt_fit(entry.overflow_to, _OVERFLOW_TO),
        legs=[_leg(leg) for leg in entry.legs],
    )


def bounded_record(record: CallRecord) -> CallRecord:
    """The record with every text clean and within its column (see the module's docstring)."""
    return dataclasses.replace(
        record,
        call_id=fit_id(record.call_id, CALL_ID_MAX),
        dialled=fit(record.dialled, _DIALLED),
        caller_number=fit(record.caller_number, CALLER_NUMBER_MAX),
        source=fit(record.source, _SOURCE),
        rules_version=_opt_fit(record.rules_version, _RULES_VERSION),
        ivr=[
            IvrEvent(e.at, fit(e.menu_id, _MENU), e.kind, _opt_fit(e.key, _KEY)) for e in record.ivr
        ],
        entries=[_entry(e) for e in record.entries],
        transfers=[
            Transfer(
                x.at,
                _opt_fit(x.from_service, SERVICE_MAX),
                _opt_fit(x.to_service, SERVICE_MAX),
                fit(x.destination, _DESTINATION),
                _opt_fit(x.by_agent, AGENT_MAX),
            )
            for x in record.transfers
        ],
        callbacks=[
            CallbackRequest(
                c.at, fit(c.service_id, SERVICE_MAX), dialable(c.number), fit(c.kind, _KIND)
            )
            for c in record.callbacks
        ],
        survey=[
            SurveyAnswer(s.question, fit(s.prompt_id, _PROMPT), s.at, s.score)
            for s in record.survey
        ],
        survey_service=_opt_fit(record.survey_service, SERVICE_MAX),
        survey_agent=_opt_fit(record.survey_agent, AGENT_MAX),
        transfer_of=_opt_id(record.transfer_of, CALL_ID_MAX),
    )


def bounded_item(item: WriteItem) -> WriteItem:
    """A writer item made storable (idempotent: bounding twice changes nothing)."""
    if isinstance(item, Finished):
        return Finished(item.seq, bounded_record(item.record))
    if isinstance(item, Started):
        return Started(item.seq, bounded_start(item.start))
    if isinstance(item, Progressed):
        progress = dataclasses.replace(item.progress, record=bounded_record(item.progress.record))
        return Progressed(item.seq, progress)
    return Touched(item.seq, fit_id(item.call_id, CALL_ID_MAX), item.at)
