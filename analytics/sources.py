"""Where the indicators' records come from: the call records database, or a queue_log file.

This is the one module of analytics that reads the records' tables (``telephony.records.schema``)
— and nothing upstream of them. :class:`DatabaseSource` gives the entries as columns
(:meth:`~DatabaseSource.load`), the agent legs for staffing, and the details the other figures
need (agents' phones, voice menus, callbacks, survey answers), each already cut to the local
days asked for; the figures themselves are computed elsewhere, from these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import ColumnElement, Float, and_, cast, func, select

from analytics.api import LoadedFrame
from analytics.details import CallbackItem, IvrRow, LegOutcomeRow
from analytics.frame import (
    EntryFrame,
    frame_from_records,
    outcome_code,
    overflow_code,
)
from analytics.satisfaction import Answer, SurveyedCall
from analytics.staffing.legs import (
    PRESENT_OUTCOMES,
    LegFrame,
    LegRow,
    legs_from_records,
    legs_from_rows,
)
from telephony.records.engine import Database, open_store
from telephony.records.model import EntryOutcome
from telephony.records.schema import (
    agent_legs,
    callback_requests,
    calls,
    ivr_events,
    service_entries,
    survey_answers,
)


def _outcome_codes() -> dict[str, int]:
    """EntryOutcome value -> analytics outcome code, for the raw column values read from SQL."""
    return {outcome.value: int(outcome_code(outcome)) for outcome in EntryOutcome}


def _epoch(column: Any, dialect: str) -> ColumnElement[float]:
    """Seconds since 1970 of a stored UTC time, computed by the database (no per-row Python)."""
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC): whole seconds from strftime, the
        # fraction from the text itself, exact to the microsecond (julianday is not).
        whole = cast(func.strftime("%s", column), Float)
        return whole + func.coalesce(cast(func.substr(column, 20), Float), 0.0)
    return cast(func.extract("epoch", column), Float)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC bounds covering the local dates start..end anywhere on Earth (offsets < 1 day)."""
    return (
        datetime.combine(start - timedelta(days=1), time.min, UTC),
        datetime.combine(end + timedelta(days=2), time.min, UTC),
    )


class DatabaseSource:
    """Entries read from the call records database (SQLite or PostgreSQL)."""

    def __init__(self, url_or_database: str | Database) -> None:
        if isinstance(url_or_database, Database):
            self._database = url_or_database
        else:
            self._database = open_store(url_or_database)

    def load(self, start: date, end: date) -> LoadedFrame:
        dialect = self._database.dialect
        low, high = _bounds(start, end)
        e = service_entries.c
        query = (
            select(
                e.call_id,
                e.service_id,
                _epoch(e.entered_at, dialect),
                _epoch(e.answered_at, dialect),
                _epoch(e.ended_at, dialect),
                e.outcome,
                e.agent,
                e.overflow_to,
                calls.c.caller_pseudonym,
                calls.c.transfer_of,
            )
            .select_from(service_entries.join(calls, calls.c.call_id == e.call_id))
            .where(and_(e.entered_at >= low, e.entered_at < high))
            .order_by(e.call_id, e.position)
        )
        with self._database.engine.connect() as connection:
            rows = connection.execute(query).all()
        return LoadedFrame(_frame_from_rows(rows))

    def load_legs(self, start: date, end: date) -> LegFrame:
        """The agent legs of the entries entered in the period (bounds widened as ``load``)."""
        dialect = self._database.dialect
        low, high = _bounds(start, end)
        e, g = service_entries.c, agent_legs.c
        query = (
            select(
                g.call_id,
                g.entry_position,
                e.service_id,
                _epoch(e.entered_at, dialect),
                _epoch(e.ended_at, dialect),
                e.outcome,
                _epoch(g.ring_started_at, dialect),
                _epoch(g.answered_at, dialect),
                g.endpoint,
                g.outcome,
            )
            .select_from(
                agent_legs.join(
                    service_entries,
                    and_(e.call_id == g.call_id, e.position == g.entry_position),
                )
            )
            .where(and_(e.entered_at >= low, e.entered_at < high))
            .order_by(g.call_id, g.entry_position, g.position)
        )
        with self._database.engine.connect() as connection:
            rows = connection.execute(query).all()
        return legs_from_rows(_leg_rows(rows))

    # --- details: agents' phones, voice menus, callbacks, survey answers -----------------------

    def agent_leg_outcomes(self, start: date, end: date, timezone: str) -> list[LegOutcomeRow]:
        """Each time a phone rang for a call on the local days ``start``..``end``."""
        zone = ZoneInfo(timezone)
        low, high = _bounds(start, end)
        legs = agent_legs.c
        query = select(legs.endpoint, legs.ring_started_at, legs.ring_s, legs.outcome).where(
            and_(legs.ring_started_at >= low, legs.ring_started_at < high)
        )
        with self._database.engine.connect() as connection:
            return [
                (endpoint, ring_s, outcome)
                for endpoint, started, ring_s, outcome in connection.execute(query)
                if _in_period(started, start, end, zone)
            ]

    def ivr_events(self, start: date, end: date, timezone: str) -> list[IvrRow]:
        """The voice-menu events of the calls that started on the local days asked for."""
        zone = ZoneInfo(timezone)
        low, high = _bounds(start, end)
        c, i = calls.c, ivr_events.c
        query = (
            select(c.call_id, c.started_at, c.outcome, i.menu_id, i.kind, i.key)
            .select_from(calls.join(ivr_events, i.call_id == c.call_id))
            .where(and_(c.started_at >= low, c.started_at < high))
        )
        with self._database.engine.connect() as connection:
            return [
                (call_id, outcome, menu, kind, key)
                for call_id, started, outcome, menu, kind, key in connection.execute(query)
                if _in_period(started, start, end, zone)
            ]

    def callback_requests(self, start: date, end: date, timezone: str) -> list[CallbackItem]:
        """The callbacks owed (requested, or abandoned and overflowed calls with a number) on
        the local days asked for, oldest first."""
        zone = ZoneInfo(timezone)
        low, high = _bounds(start, end)
        cb = callback_requests.c
        query = (
            select(
                cb.call_id,
                cb.position,
                cb.at,
                cb.service_id,
                cb.kind,
                cb.status,
                cb.number,
                cb.done_by,
                cb.closed_at,
            )
            .where(and_(cb.at >= low, cb.at < high))
            .order_by(cb.at)
        )
        with self._database.engine.connect() as connection:
            return [
                CallbackItem(*row)
                for row in connection.execute(query)
                if _in_period(row[2], start, end, zone)
            ]

    def surveyed_calls(self, start: date, end: date, timezone: str) -> list[SurveyedCall]:
        """Calls offered the survey whose local start date is in ``start``..``end``, oldest
        first, with their answers in question order."""
        zone = ZoneInfo(timezone)
        low, high = _bounds(start, end)
        c, a = calls.c, survey_answers.c
        query = (
            select(
                c.call_id,
                c.started_at,
                c.survey_service,
                c.survey_agent,
                a.question,
                a.prompt_id,
                a.at,
                a.score,
            )
            .select_from(calls.outerjoin(survey_answers, a.call_id == c.call_id))
            .where(and_(c.survey_offered.is_(True), c.started_at >= low, c.started_at < high))
            .order_by(c.started_at, c.call_id, a.position)
        )
        found: dict[str, SurveyedCall] = {}
        with self._database.engine.connect() as connection:
            for row in connection.execute(query):
                call_id, started, service, agent, question, prompt, at, score = row
                if not _in_period(started, start, end, zone):
                    continue
                call = found.get(call_id)
                if call is None:
                    call = found[call_id] = SurveyedCall(call_id, started, service, agent)
                if question is not None:
                    call.answers.append(Answer(question, prompt, at, score))
        return list(found.values())


def _in_period(moment: datetime, start: date, end: date, zone: ZoneInfo) -> bool:
    return start <= moment.astimezone(zone).date() <= end


def _frame_from_rows(rows: Sequence[Any]) -> EntryFrame:
    codes = _outcome_codes()
    services: dict[str, int] = {}
    agents: dict[str, int] = {}
    callers: dict[str, int] = {}
    n = len(rows)
    call = np.empty(n, np.int64)
    service = np.empty(n, np.int32)
    entered = np.empty(n, np.float64)
    answered = np.empty(n, np.float64)
    ended = np.empty(n, np.float64)
    outcome = np.empty(n, np.int8)
    agent = np.empty(n, np.int32)
    overflow_to = np.empty(n, np.int32)
    per_call_caller: list[int] = []
    per_call_leg: list[bool] = []
    previous_call: str | None = None
    index = -1
    for i, row in enumerate(rows):
        call_id, service_id, t_in, t_answer, t_end, out, who, target, caller, leg_of = row
        if call_id != previous_call:
            previous_call = call_id
            index += 1
            per_call_caller.append(
                callers.setdefault(caller, len(callers)) if caller is not None else -1
            )
            per_call_leg.append(leg_of is not None)
        call[i] = index
        service[i] = services.setdefault(service_id, len(services))
        entered[i] = t_in
        answered[i] = np.nan if t_answer is None else t_answer
        ended[i] = t_end
        outcome[i] = codes[out]
        agent[i] = agents.setdefault(who, len(agents)) if who else -1
        overflow_to[i] = overflow_code(
            target, lambda name: services.setdefault(name, len(services))
        )
    return EntryFrame(
        services=list(services),
        agents=list(agents),
        call=call,
        service=service,
        entered=entered,
        answered=answered,
        ended=ended,
        outcome=outcome,
        agent=agent,
        overflow_to=overflow_to,
        caller=np.asarray(per_call_caller, dtype=np.int64),
        transfer_leg=np.asarray(per_call_leg, dtype=np.bool_),
    )


class QueueLogSource:
    """Entries read from an Asterisk queue_log file (parsed once, kept in memory)."""

    def __init__(self, path: Path) -> None:
        from telephony.records.queue_log import parse_queue_log

        with path.open("rb") as lines:  # UTF-8, else Windows-1252, line by line
            records, report = parse_queue_log(lines)
        self._loaded = LoadedFrame(frame_from_records(records), report.malformed_count)
        self._legs = legs_from_records(records)

    def load(self, start: date, end: date) -> LoadedFrame:
        return self._loaded

    def load_legs(self, start: date, end: date) -> LegFrame:
        return self._legs


def _leg_rows(rows: Sequence[Any]) -> list[LegRow]:
    codes = _outcome_codes()
    present = {outcome.value for outcome in PRESENT_OUTCOMES}
    result: list[LegRow] = []
    entry = -1
    previous: tuple[str, int] | None = None
    for call_id, position, service, entered, ended, out, ring, answered, endpoint, leg in rows:
        if (call_id, position) != previous:
            previous = (call_id, position)
            entry += 1
        result.append(
            (
                entry,
                service,
                entered,
                ended,
                codes[out],
                ring,
                np.nan if answered is None else answered,
                endpoint,
                leg in present,
            )
        )
    return result
