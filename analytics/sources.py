"""Where the indicators' records come from: the call records database, or a queue_log file.

This is the one module of analytics that reads the records' tables (``telephony.records.schema``)
— and nothing upstream of them. :class:`DatabaseSource` gives the entries as columns
(:meth:`~DatabaseSource.load`), the agent legs for staffing, and the details the other figures
need (agents' phones, voice menus, callbacks, survey answers), each already cut to the local
days asked for; the figures themselves are computed elsewhere, from these.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Table,
    and_,
    cast,
    func,
    literal_column,
    select,
    true,
)

if TYPE_CHECKING:
    import pyarrow as pa

from analytics.aggregates import PackedDay
from analytics.api import LoadedFrame
from analytics.details import CallbackItem, IvrRow, LegOutcomeRow
from analytics.figures import TouchedSpan
from analytics.frame import (
    F64,
    EntryFrame,
    bare_code,
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
from telephony.records.model import CallOutcome, EntryOutcome
from telephony.records.schema import (
    agent_legs,
    callback_requests,
    calls,
    daily_figures,
    ivr_events,
    service_entries,
    survey_answers,
)

log = logging.getLogger(__name__)


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

    def load(self, start: date, end: date, *, callers: bool = False) -> LoadedFrame:
        """The entries entered from the day before ``start`` to the day after ``end`` (UTC),
        read as columns; ``callers``: with each call's pseudonymised caller (repeat callers
        only: it reads every call of the period besides its entries)."""
        from telephony.records.columnar import read_columns

        low, high = _bounds(start, end)
        e, c = service_entries.c, calls.c
        entries = read_columns(
            self._database,
            select(
                e.call_id,
                e.position,
                e.service_id,
                e.entered_at,
                e.answered_at,
                e.ended_at,
                e.outcome,
                e.overflow_to,
                e.closed,
            ).where(_between(service_entries, "entered_at", low, high, self._database.dialect)),
        )
        # A call starts before its first entry: its row is looked for a day earlier. Every
        # call is read: its arrival (the total counts a call on the day it arrived, short
        # abandons count from it), and the calls that entered no service (hung up in the
        # menu, line closed) are counted in the total from their row alone.
        of_calls = select(
            c.call_id,
            c.started_at,
            c.outcome,
            c.transfer_of.is_not(None).label("transfer_leg"),
        )
        if callers:
            of_calls = of_calls.add_columns(c.caller_pseudonym)
        per_call = read_columns(
            self._database,
            of_calls.where(
                _between(calls, "started_at", low - timedelta(days=1), high, self._database.dialect)
            ),
        )
        return LoadedFrame(_frame_from_columns(entries, per_call, _seconds_of(low)))

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

    # --- the figures of past days (analytics.figures.DailyStore) --------------------------------

    def stored_days(
        self, first: date, last: date, fingerprint: str, parts: frozenset[str]
    ) -> list[PackedDay]:
        f = daily_figures.c
        optional = [part for part in ("hours", "waits", "flows") if part in parts]
        query = select(f.day, f.groups, f.counts, *(f[part] for part in optional)).where(
            and_(f.day >= first, f.day <= last, f.fingerprint == fingerprint)
        )
        with self._database.engine.connect() as connection:
            rows = connection.execute(query).all()
        at = {part: 3 + optional.index(part) for part in optional}
        hours, waits, flows = (at.get(part) for part in ("hours", "waits", "flows"))
        return [
            PackedDay(
                row[0],
                row[1],
                row[2],
                b"" if hours is None else row[hours],
                b"" if waits is None else row[waits],
                "{}" if flows is None else row[flows],
            )
            for row in rows
        ]

    def touched_days(self, timezone: str) -> list[TouchedSpan]:
        from telephony.records.touched import marks

        zone = ZoneInfo(timezone)
        return [
            TouchedSpan(
                mark.first_at.astimezone(zone).date(), mark.last_at.astimezone(zone).date(), mark
            )
            for mark in marks(self._database)
        ]

    def keep_days(
        self,
        rows: Sequence[PackedDay],
        days: Sequence[date],
        fingerprint: str,
        done: Sequence[TouchedSpan],
    ) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from telephony.records.touched import Mark, clear

        f = daily_figures.c
        now = datetime.now(UTC)
        try:
            with self._database.engine.begin() as connection:
                for low in range(0, len(days), 500):
                    chunk = list(days[low : low + 500])
                    connection.execute(daily_figures.delete().where(f.day.in_(chunk)))
                if rows:
                    connection.execute(
                        daily_figures.insert(),
                        [
                            {
                                "day": row.day,
                                "groups": row.groups,
                                "fingerprint": fingerprint,
                                "counts": row.counts,
                                "hours": row.hours,
                                "waits": row.waits,
                                "flows": row.flows,
                                "computed_at": now,
                            }
                            for row in rows
                        ],
                    )
                clear(connection, [span.token for span in done if isinstance(span.token, Mark)])
        except SQLAlchemyError as exc:
            # Another reader kept the same days at the same time, or the database is read-only
            # or locked: the figures given are right; these days are computed again next time.
            log.warning("daily figures of %d day(s) not kept: %s", len(days), exc)

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

    def surveyed_calls_query(self, start: date, end: date) -> Select[Any]:
        """The calls offered the survey from ``start`` to ``end`` (UTC bounds widened by a day
        each side: the caller keeps the local dates), with their answers. Written so the
        database matches it to the partial index of the surveyed calls (migration 0007)."""
        low, high = _bounds(start, end)
        c, a = calls.c, survey_answers.c
        return (
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
            .where(and_(c.survey_offered == true(), c.started_at >= low, c.started_at < high))
            .order_by(c.started_at, c.call_id, a.position)
        )

    def surveyed_calls(self, start: date, end: date, timezone: str) -> list[SurveyedCall]:
        """Calls offered the survey whose local start date is in ``start``..``end``, oldest
        first, with their answers in question order."""
        zone = ZoneInfo(timezone)
        query = self.surveyed_calls_query(start, end)
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


def _between(
    table: Table, column: str, low: datetime, high: datetime, dialect: str
) -> ColumnElement[bool]:
    """``low <= table.column < high``. On SQLite, also between the first and last row ids of
    those rows: SQLite fetches the rows an index finds one B-tree lookup at a time (a year of
    entries: 10 s), but the rows of a period sit together in the table, written as calls ended,
    and a range of row ids is read straight through (4 s). Rows written out of time order (an
    import of old calls) only widen the range: the condition on the time still holds."""
    window = and_(table.c[column] >= low, table.c[column] < high)
    if dialect != "sqlite":
        return window
    found = table.alias("found")
    within = and_(found.c[column] >= low, found.c[column] < high)
    rowid: ColumnElement[int] = literal_column(f"{table.name}.rowid")
    first = select(func.min(literal_column("found.rowid"))).where(within).scalar_subquery()
    last = select(func.max(literal_column("found.rowid"))).where(within).scalar_subquery()
    return and_(rowid >= first, rowid <= last, window)


def _in_period(moment: datetime, start: date, end: date, zone: ZoneInfo) -> bool:
    return start <= moment.astimezone(zone).date() <= end


def _seconds_of(moment: datetime) -> float:
    return moment.timestamp()


def _bare_calls(per_call: pa.Table, entries: pa.Table, since: float) -> dict[str, Any]:
    """The frame's columns of the calls of ``per_call`` that have no row in ``entries``
    (started from ``since``: an earlier call's entries may be before the entries read)."""
    import pyarrow.compute as pc

    started = _seconds(per_call, "started_at")
    bare = started >= since
    if entries.num_rows:
        has_entries = pc.is_in(per_call.column("call_id"), value_set=entries.column("call_id"))
        bare &= ~has_entries.to_numpy(zero_copy_only=False)
    outcomes_of = pc.dictionary_encode(per_call.column("outcome").combine_chunks())
    kinds = np.asarray(
        [int(bare_code(CallOutcome(o) if o else None)) for o in outcomes_of.dictionary.to_pylist()]
        + [int(bare_code(None))],
        np.int8,
    )
    kind = kinds[outcomes_of.indices.fill_null(len(kinds) - 1).to_numpy()]
    leg = per_call.column("transfer_leg").combine_chunks().to_numpy(zero_copy_only=False)
    return {
        "bare_arrived": started[bare],
        "bare_kind": kind[bare],
        "bare_transfer_leg": np.asarray(leg, np.bool_)[bare],
    }


def _frame_from_columns(entries: pa.Table, per_call: pa.Table, since: float) -> EntryFrame:
    """The frame of entries read as columns (``DatabaseSource.load``), sorted by call then by
    position; ``per_call``: every call (id, ``started_at``, ``outcome``, ``transfer_leg``, and
    ``caller_pseudonym`` when asked), those with no entry kept apart (``bare_*``), from
    ``since``."""
    import pyarrow.compute as pc

    bare = _bare_calls(per_call, entries, since)
    if entries.num_rows == 0:
        empty = EntryFrame.empty()
        return EntryFrame(
            **{name: getattr(empty, name) for name in ("services", "agents", "call", "service")},
            **{name: getattr(empty, name) for name in ("entered", "answered", "ended")},
            **{name: getattr(empty, name) for name in ("outcome", "agent", "overflow_to")},
            **bare,
        )
    calls_of = pc.dictionary_encode(entries.column("call_id").combine_chunks())
    call = calls_of.indices.to_numpy().astype(np.int64)
    position = _numbers(entries, "position").astype(np.int64)
    # Codes follow each call's first row as read; sorted by (call, position) unless the rows
    # already came so (a sequential scan returns each call's entries together, in order).
    key = call * (int(position.max()) + 1) + position
    order = None if bool(np.all(key[1:] > key[:-1])) else np.argsort(key, kind="stable")

    def column(values: Any) -> Any:
        return values if order is None else values[order]

    services_of = pc.dictionary_encode(entries.column("service_id").combine_chunks())
    services: list[str] = services_of.dictionary.to_pylist()
    service_index = {name: code for code, name in enumerate(services)}

    def service_code(name: str) -> int:
        found = service_index.get(name)
        if found is None:
            found = service_index[name] = len(services)
            services.append(name)
        return found

    codes = _outcome_codes()
    outcomes_of = pc.dictionary_encode(entries.column("outcome").combine_chunks())
    outcome_table = np.asarray([codes[o] for o in outcomes_of.dictionary.to_pylist()], np.int8)
    targets_of = pc.dictionary_encode(entries.column("overflow_to").combine_chunks())
    target_table = np.asarray(
        [overflow_code(t, service_code) for t in targets_of.dictionary.to_pylist()] + [-1],
        np.int32,
    )
    # A null target is the extra last code (no target).
    target_index = targets_of.indices.fill_null(len(target_table) - 1).to_numpy()

    call_ids = calls_of.dictionary
    where = pc.index_in(call_ids, value_set=per_call.column("call_id"))
    transfer_leg = (
        pc.take(per_call.column("transfer_leg"), where)
        .fill_null(False)
        .to_numpy(zero_copy_only=False)
    )
    # A call's arrival: its start, never after its first entry (a call whose row was not read
    # arrived at its first entry, as far as the figures know).
    started = pc.take(per_call.column("started_at"), where)
    arrival = _column_seconds(started)
    entered = column(_seconds(entries, "entered_at"))
    call_sorted = column(call)
    first_rows = np.flatnonzero(np.concatenate(([True], call_sorted[1:] != call_sorted[:-1])))
    first_entered = np.empty(len(call_ids))
    first_entered[call_sorted[first_rows]] = entered[first_rows]
    arrived = np.fmin(arrival, first_entered)
    caller = np.zeros(0, np.int64)
    if "caller_pseudonym" in per_call.column_names:
        pseudonyms = pc.take(per_call.column("caller_pseudonym"), where)
        found = pc.dictionary_encode(pseudonyms.combine_chunks()).indices
        caller = found.fill_null(-1).to_numpy().astype(np.int64)
    return EntryFrame(
        services=services,
        agents=[],  # no indicator reads who answered: not loaded (see EntryFrame.agent)
        call=call_sorted,
        service=column(services_of.indices.to_numpy().astype(np.int32)),
        entered=entered,
        answered=column(_seconds(entries, "answered_at")),
        ended=column(_seconds(entries, "ended_at")),
        outcome=column(outcome_table[outcomes_of.indices.to_numpy()]),
        agent=np.full(entries.num_rows, -1, np.int32),
        overflow_to=column(target_table[target_index]),
        caller=caller,
        transfer_leg=np.asarray(transfer_leg, dtype=np.bool_),
        closed=column(
            np.asarray(
                entries.column("closed").combine_chunks().to_numpy(zero_copy_only=False), np.bool_
            )
        ),
        arrived=arrived,
        **bare,
    )


def _numbers(table: pa.Table, name: str) -> Any:
    return table.column(name).combine_chunks().to_numpy()


def _seconds(table: pa.Table, name: str) -> F64:
    """Seconds since 1970 of a time column, NaN where null (exact: microseconds < 2**53)."""
    return _column_seconds(table.column(name))


def _column_seconds(column: Any) -> F64:
    import pyarrow as pa

    micros = column.combine_chunks().cast(pa.int64())
    values = micros.to_numpy(zero_copy_only=False).astype(np.float64)
    seconds: F64 = values / 1e6
    return seconds


class QueueLogSource:
    """Entries read from an Asterisk queue_log file (parsed once, kept in memory)."""

    def __init__(self, path: Path) -> None:
        from telephony.records.queue_log import parse_queue_log

        with path.open("rb") as lines:  # UTF-8, else Windows-1252, line by line
            records, report = parse_queue_log(lines)
        self._loaded = LoadedFrame(
            frame_from_records(records),
            report.malformed_count,
            report.waits_from_timestamps,
            queue_log=True,
        )
        self._legs = legs_from_records(records)

    def load(self, start: date, end: date, *, callers: bool = False) -> LoadedFrame:
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
