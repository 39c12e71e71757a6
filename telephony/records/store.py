"""Writing call records to the database, idempotently, and the reads and updates around them.

:meth:`RecordStore.apply` is the single write path (the writer's batches and journal replays):
one transaction per batch; each call row remembers the sequence number of the writer item that
last wrote it (``journal_seq``), and an item whose sequence is not newer is skipped. That is what
makes replaying a journal *exactly once* even if the process died after the database committed
but before the journal was cleared.

The caller number is pseudonymised here, at the last moment before storage; only callback
requests keep a clear number, until the callback is done or expired.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, func, select, update
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)

from telephony.records import schema as t
from telephony.records import touched
from telephony.records.bounds import bounded_item, bounded_record
from telephony.records.codec import (
    Finished,
    Progressed,
    Started,
    Touched,
    WriteItem,
    progress_from_json,
    progress_to_json,
)
from telephony.records.engine import Database
from telephony.records.errors import (
    CallbackNotFound,
    RecordInputError,
    RecordsError,
    StoreUnavailable,
)
from telephony.records.model import (
    AgentLeg,
    CallbackRequest,
    CallOutcome,
    CallRecord,
    EntryOutcome,
    IvrEvent,
    IvrEventKind,
    LegOutcome,
    PendingCallback,
    ServiceEntry,
    SurveyAnswer,
    Transfer,
)
from telephony.records.pseudonym import Pseudonymiser

log = logging.getLogger(__name__)

_IN_CHUNK = 500  # ids per IN (...) list: far below SQLite's and PostgreSQL's parameter limits


class RecordRejected(RecordsError):
    """The database refused these records for what they contain (too long a value, a
    constraint): retrying will not help. The writer sets them aside instead of blocking."""


def translate_db_error(exc: SQLAlchemyError, doing: str) -> RecordsError:
    """Transient (down, locked, disconnected) → :class:`StoreUnavailable`; else rejected."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return StoreUnavailable(f"{doing}: {exc.__class__.__name__}: {_first_line(exc)}")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return StoreUnavailable(f"{doing}: connection lost: {_first_line(exc)}")
    return RecordRejected(f"{doing}: {exc.__class__.__name__}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


@dataclass(slots=True)
class ApplyResult:
    written: int = 0  # calls inserted or rewritten
    skipped: int = 0  # items already applied (replays)
    touched: int = 0


@dataclass(frozen=True, slots=True)
class ImportResult:
    inserted: int
    already_present: int
    rejected: tuple[tuple[str, str], ...] = ()  # (call_id, why) the database refused


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


class RecordStore:
    def __init__(self, database: Database, pseudonymiser: Pseudonymiser) -> None:
        self.database = database
        self._pseudonymiser = pseudonymiser

    # --- the write path -------------------------------------------------------------------

    def apply(self, items: Sequence[WriteItem]) -> ApplyResult:
        """Write a batch of writer items in one transaction, skipping those already applied."""
        items = [bounded_item(item) for item in items]
        try:
            with self.database.engine.begin() as conn:
                return self._apply(conn, items)
        except SQLAlchemyError as exc:
            raise translate_db_error(exc, f"writing {len(items)} call record item(s)") from exc

    def _apply(self, conn: Connection, items: Sequence[WriteItem]) -> ApplyResult:
        result = ApplyResult()
        finishes: dict[str, Finished] = {}
        starts: dict[str, Started] = {}
        touches: dict[str, Touched] = {}
        progresses: dict[str, Progressed] = {}
        for item in items:
            if isinstance(item, Finished):
                previous = finishes.get(item.record.call_id)
                if previous is None or item.seq > previous.seq:
                    finishes[item.record.call_id] = item
            elif isinstance(item, Started):
                if item.start.call_id not in starts:
                    starts[item.start.call_id] = item
            elif isinstance(item, Progressed):
                newest = progresses.get(item.call_id)
                if newest is None or item.seq > newest.seq:
                    progresses[item.call_id] = item
            else:
                seen = touches.get(item.call_id)
                if seen is None or item.at > seen.at:
                    touches[item.call_id] = item
        existing = self._existing_seqs(conn, [*finishes, *starts])

        replace: list[Finished] = []
        for call_id, fin in finishes.items():
            known = existing.get(call_id)
            if known is not None and known >= fin.seq:
                result.skipped += 1
            else:
                replace.append(fin)
        new_starts = [s for cid, s in starts.items() if cid not in existing and cid not in finishes]
        # A start superseded by its finish in the same batch is not a replay: not counted.
        result.skipped += sum(1 for cid in starts if cid in existing)

        _delete_calls(conn, [f.record.call_id for f in replace if f.record.call_id in existing])
        rows = _empty_rows()
        for fin in replace:
            self._record_rows(fin.record, fin.seq, rows)
        for st in new_starts:
            rows["calls"].append(self._start_row(st))
        _insert_rows(conn, rows)
        result.written = len(replace) + len(new_starts)

        # A call's progress (only the newest of the batch): for an open call, and never over a
        # newer item (a replayed journal); a call finished in this batch needs none.
        fresh = [p for cid, p in progresses.items() if cid not in finishes]
        if fresh:
            _update_open_calls(
                conn,
                t.calls.c.journal_seq < _bind("b_seq"),
                {"progress": _bind("b_progress"), "journal_seq": _bind("b_seq")},
                [
                    {
                        "b_call_id": p.call_id,
                        "b_seq": p.seq,
                        "b_progress": json.dumps(
                            progress_to_json(p.progress), ensure_ascii=False, separators=(",", ":")
                        ),
                    }
                    for p in fresh
                ],
            )
            # What the progress tells is also the last time the call was seen.
            for p in fresh:
                seen = touches.get(p.call_id)
                at = p.progress.record.ended_at
                if seen is None or at > seen.at:
                    touches[p.call_id] = Touched(p.seq, p.call_id, at)

        if touches:
            # Only an open call moves its last_seen forward; never backwards.
            _update_open_calls(
                conn,
                t.calls.c.last_seen_at < _bind("b_at"),
                {"last_seen_at": _bind("b_at")},
                [{"b_call_id": cid, "b_at": item.at} for cid, item in touches.items()],
            )
            result.touched = len(touches)
        return result

    def _existing_seqs(self, conn: Connection, call_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(call_ids):
            statement = select(t.calls.c.call_id, t.calls.c.journal_seq).where(
                t.calls.c.call_id.in_(chunk)
            )
            for call_id, seq in conn.execute(statement):
                found[call_id] = seq
        return found

    def _start_row(self, item: Started) -> dict[str, Any]:
        start = item.start
        _require_aware(start.started_at, f"call {start.call_id}: started_at")
        return {
            "call_id": start.call_id,
            "source": "ari",
            "status": "open",
            "started_at": start.started_at,
            "ended_at": None,
            "last_seen_at": start.started_at,
            "dialled": start.dialled,
            "caller_pseudonym": self._pseudonymiser.pseudonym(start.caller_number),
            "outcome": None,
            "duration_s": None,
            "rules_version": None,
            "survey_offered": False,
            "survey_service": None,
            "survey_agent": None,
            # Unknown until the call ends: the finished record rewrites the whole row.
            "transfer_of": None,
            "journal_seq": item.seq,
        }

    def _record_rows(self, r: CallRecord, seq: int, rows: dict[str, list[dict[str, Any]]]) -> None:
        cid = r.call_id
        check_record(r)
        rows["calls"].append(
            {
                "call_id": cid,
                "source": r.source,
                "status": "done",
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "last_seen_at": r.ended_at,
                "dialled": r.dialled,
                "caller_pseudonym": self._pseudonymiser.pseudonym(r.caller_number),
                "outcome": r.outcome.value,
                "duration_s": r.duration_seconds,
                "rules_version": r.rules_version,
                "survey_offered": r.survey_offered,
                "survey_service": r.survey_service,
                "survey_agent": r.survey_agent,
                "transfer_of": r.transfer_of,
                "journal_seq": seq,
            }
        )
        ivr = rows["ivr_events"]
        for pos, ev in enumerate(r.ivr):
            ivr.append(
                {
                    "call_id": cid,
                    "position": pos,
                    "at": ev.at,
                    "menu_id": ev.menu_id,
                    "kind": ev.kind.value,
                    "key": ev.key,
                }
            )
        entries, legs = rows["service_entries"], rows["agent_legs"]
        for pos, e in enumerate(r.entries):
            entries.append(
                {
                    "call_id": cid,
                    "position": pos,
                    "service_id": e.service_id,
                    "entered_at": e.entered_at,
                    "ringing_at": e.ringing_at,
                    "answered_at": e.answered_at,
                    "ended_at": e.ended_at,
                    "outcome": e.outcome.value,
                    "agent": e.agent,
                    "overflow_to": e.overflow_to,
                    "wait_s": e.wait_seconds,
                    "queue_started_at": e.queue_started_at,
                    "queue_ended_at": e.queue_ended_at,
                    "closed": e.closed,
                }
            )
            for leg_pos, leg in enumerate(e.legs):
                legs.append(
                    {
                        "call_id": cid,
                        "entry_position": pos,
                        "position": leg_pos,
                        "endpoint": leg.endpoint,
                        "channel_id": leg.channel_id,
                        "ring_started_at": leg.ring_started_at,
                        "answered_at": leg.answered_at,
                        "ended_at": leg.ended_at,
                        "ring_s": leg.ring_seconds,
                        "outcome": leg.outcome.value,
                        "hangup_cause": leg.hangup_cause,
                    }
                )
        for pos, tr in enumerate(r.transfers):
            rows["transfers"].append(
                {
                    "call_id": cid,
                    "position": pos,
                    "at": tr.at,
                    "from_service": tr.from_service,
                    "to_service": tr.to_service,
                    "destination": tr.destination,
                    "by_agent": tr.by_agent,
                }
            )
        for pos, s in enumerate(r.survey):
            rows["survey_answers"].append(
                {
                    "call_id": cid,
                    "position": pos,
                    "question": s.question,
                    "prompt_id": s.prompt_id,
                    "at": s.at,
                    "score": s.score,
                }
            )
        for pos, cb in enumerate(r.callbacks):
            # No number anyone can dial (bounds.dialable): kept, and closed at once as expired.
            callable_ = bool(cb.number)
            rows["callback_requests"].append(
                {
                    "call_id": cid,
                    "position": pos,
                    "at": cb.at,
                    "service_id": cb.service_id,
                    "kind": cb.kind,
                    "number": cb.number if callable_ else None,
                    "number_pseudonym": self._pseudonymiser.pseudonym(cb.number),
                    "status": "pending" if callable_ else "expired",
                    "closed_at": None if callable_ else cb.at,
                    "done_by": None,
                }
            )

    def ensure_schema(self) -> None:
        """Bring the schema up to date (idempotent; the writer calls it before writing)."""
        from telephony.records.engine import upgrade_schema

        upgrade_schema(self.database.engine)

    # --- crash recovery -------------------------------------------------------------------

    def close_interrupted(self, before_seq: int, seq: int) -> int:
        """Close calls still open from a previous run (``journal_seq < before_seq``) as
        interrupted, ending at their last time seen, with what their progress told (IVR path,
        services, agents: the record as the flow knew it, so the call counts for its services).
        Returns how many were closed."""
        c = t.calls.c
        try:
            with self.database.engine.begin() as conn:
                open_calls = conn.execute(
                    select(
                        c.call_id, c.started_at, c.last_seen_at, c.caller_pseudonym, c.progress
                    ).where(and_(c.status == "open", c.journal_seq < before_seq))
                ).all()
                if not open_calls:
                    return 0
                known: list[tuple[Any, CallRecord]] = []
                bare: list[Any] = []
                for row in open_calls:
                    record = _progress_record(row.call_id, row.progress, row.last_seen_at)
                    if record is None:
                        bare.append(row)
                    else:
                        known.append((row, record))
                if bare:
                    # Closed with no entry: they count in their day's calls received.
                    touched.mark(conn, [row.started_at for row in bare])
                    conn.execute(
                        update(t.calls)
                        .where(c.call_id == _bind("b_call_id"))
                        .values(
                            status="done",
                            outcome=CallOutcome.INTERRUPTED.value,
                            ended_at=_bind("b_ended"),
                            duration_s=_bind("b_duration"),
                            journal_seq=seq,
                        ),
                        [
                            {
                                "b_call_id": row.call_id,
                                "b_ended": row.last_seen_at,
                                "b_duration": max(
                                    0.0, (row.last_seen_at - row.started_at).total_seconds()
                                ),
                            }
                            for row in bare
                        ],
                    )
                _delete_calls(conn, [row.call_id for row, _ in known])
                rows = _empty_rows()
                for row, record in known:
                    self._record_rows(record, seq, rows)
                    # The number was never journaled: the pseudonym made at the call's start.
                    rows["calls"][-1]["caller_pseudonym"] = row.caller_pseudonym
                _insert_rows(conn, rows)
                return len(open_calls)
        except SQLAlchemyError as exc:
            raise translate_db_error(exc, "closing interrupted calls") from exc

    # --- imports --------------------------------------------------------------------------

    def import_records(self, records: Iterable[CallRecord], batch_size: int = 2000) -> ImportResult:
        """Insert records (queue_log imports...) whose call_id is not stored yet.

        Importing the same records again inserts nothing. Imported calls carry sequence 0, so
        a live record of the same call (from the writer) would replace them. A batch the
        database refuses for its content is retried call by call: only the calls refused are
        left out (named in ``rejected``), the rest is imported.
        """
        inserted = present = 0
        rejected: list[tuple[str, str]] = []
        batch: list[CallRecord] = []

        def write(records: list[CallRecord]) -> None:
            nonlocal inserted, present
            try:
                with self.database.engine.begin() as conn:
                    known = self._existing_seqs(conn, [r.call_id for r in records])
                    fresh: dict[str, CallRecord] = {}
                    for r in records:
                        if r.call_id not in known:
                            fresh.setdefault(r.call_id, r)
                    rows = _empty_rows()
                    for r in fresh.values():
                        self._record_rows(r, 0, rows)
                    _insert_rows(conn, rows)
            except SQLAlchemyError as exc:
                raise translate_db_error(exc, "importing call records") from exc
            present += len(records) - len(fresh)
            inserted += len(fresh)

        def flush() -> None:
            try:
                write(batch)
            except (RecordRejected, RecordInputError):
                for record in batch:
                    try:
                        write([record])
                    except (RecordRejected, RecordInputError) as exc:
                        rejected.append((record.call_id, str(exc)))
            batch.clear()

        for record in records:
            batch.append(bounded_record(record))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
        return ImportResult(inserted, present, tuple(rejected))

    # --- reads ----------------------------------------------------------------------------

    def count_calls(self) -> int:
        with self.database.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.calls)).scalar_one())

    def load_call(self, call_id: str) -> CallRecord | None:
        """The stored call as a CallRecord. ``caller_number`` holds the pseudonym (or "")."""
        try:
            with self.database.engine.connect() as conn:
                return _load_call(conn, call_id)
        except SQLAlchemyError as exc:
            raise translate_db_error(exc, f"reading call {call_id}") from exc

    def call_status(self, call_id: str) -> str | None:
        with self.database.engine.connect() as conn:
            row = conn.execute(
                select(t.calls.c.status).where(t.calls.c.call_id == call_id)
            ).one_or_none()
        return None if row is None else str(row[0])

    # --- callbacks ------------------------------------------------------------------------

    def pending_callbacks(self, service_id: str | None = None) -> list[PendingCallback]:
        cb = t.callback_requests
        statement = select(
            cb.c.call_id, cb.c.position, cb.c.at, cb.c.service_id, cb.c.kind, cb.c.number
        ).where(cb.c.status == "pending")
        if service_id is not None:
            statement = statement.where(cb.c.service_id == service_id)
        with self.database.engine.connect() as conn:
            return [
                PendingCallback(row[0], row[1], row[2], row[3], row[4], row[5] or "")
                for row in conn.execute(statement.order_by(cb.c.at))
            ]

    def mark_callback_done(self, call_id: str, position: int, *, by: str, at: datetime) -> None:
        """The agent ``by`` called back: record who and when, and forget the clear number."""
        _require_aware(at, "callback done time")
        cb = t.callback_requests
        with self.database.engine.begin() as conn:
            done = conn.execute(
                update(cb)
                .where(
                    and_(
                        cb.c.call_id == call_id, cb.c.position == position, cb.c.status == "pending"
                    )
                )
                .values(status="done", closed_at=at, done_by=by, number=None)
            )
        if done.rowcount != 1:
            raise CallbackNotFound(f"no pending callback request {call_id}#{position}")

    def expire_callbacks(self, requested_before: datetime, *, at: datetime) -> int:
        """Pending callbacks requested before ``requested_before`` expire; their numbers go."""
        _require_aware(requested_before, "callback expiry limit")
        cb = t.callback_requests
        with self.database.engine.begin() as conn:
            expired = conn.execute(
                update(cb)
                .where(and_(cb.c.status == "pending", cb.c.at < requested_before))
                .values(status="expired", closed_at=at, number=None)
            )
        return int(expired.rowcount)


def calls_started_between(database: Database, low: datetime, high: datetime) -> list[CallRecord]:
    """The stored calls started in ``low`` ≤ t < ``high`` (UTC), oldest first; reading needs no
    pseudonymiser (``caller_number`` holds the stored pseudonym)."""
    _require_aware(low, "start of the period")
    _require_aware(high, "end of the period")
    c = t.calls.c
    query = select(c.call_id).where(c.started_at >= low, c.started_at < high)
    try:
        with database.engine.connect() as conn:
            ids = [row[0] for row in conn.execute(query.order_by(c.started_at, c.call_id))]
            return [record for i in ids if (record := _load_call(conn, i)) is not None]
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "reading calls") from exc


def _progress_record(call_id: str, text: str | None, last_seen: datetime) -> CallRecord | None:
    """The record an open call's journaled progress gives, interrupted at ``last_seen``; None
    without progress, or with one that cannot be read (logged: the call is then closed bare)."""
    if text is None:
        return None
    try:
        return progress_from_json(json.loads(text)).closed_at(last_seen)
    except (ValueError, KeyError, TypeError, RecordInputError) as exc:
        log.error(
            "call %s: its journaled progress is unreadable (%s); closed without it", call_id, exc
        )
        return None


def _update_open_calls(
    conn: Connection, newer: Any, values: dict[str, Any], params: list[dict[str, Any]]
) -> None:
    """Update the open calls named by ``b_call_id`` in ``params``, only where ``newer`` holds:
    a done call is never touched again, and nothing goes backwards."""
    calls = t.calls.c
    statement = (
        update(t.calls)
        .where(and_(calls.call_id == _bind("b_call_id"), calls.status == "open", newer))
        .values(**values)
    )
    conn.execute(statement, params)


def _empty_rows() -> dict[str, list[dict[str, Any]]]:
    return {table.name: [] for table in t.CALL_TABLES}


def _insert_rows(conn: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the rows of whole calls (``_record_rows``, ``_start_row``), parents first, and
    mark the days they count in (:mod:`telephony.records.touched`)."""
    for table in t.CALL_TABLES:
        if rows[table.name]:
            conn.execute(table.insert(), rows[table.name])
    touched.mark(
        conn,
        [
            *(row["started_at"] for row in rows["calls"]),
            *(row["entered_at"] for row in rows["service_entries"]),
        ],
    )


def _delete_calls(conn: Connection, call_ids: Sequence[str]) -> None:
    """Delete stored calls about to be written again, children first, marking the days they
    counted in (the new version may count in other days)."""
    for chunk in _chunks(call_ids):
        c, e = t.calls.c, t.service_entries.c
        instants = [
            *conn.execute(select(c.started_at).where(c.call_id.in_(chunk))).scalars(),
            *conn.execute(select(e.entered_at).where(e.call_id.in_(chunk))).scalars(),
        ]
        touched.mark(conn, instants)
        for table in (*t.CALL_CHILDREN, t.calls):
            conn.execute(delete(table).where(table.c.call_id.in_(chunk)))


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def check_record(r: CallRecord) -> None:
    """Every time of the record must be aware; the error names the first one that is not."""
    where = f"call {r.call_id}"
    _require_aware(r.started_at, f"{where}: started_at")
    _require_aware(r.ended_at, f"{where}: ended_at")
    for i, ev in enumerate(r.ivr):
        _require_aware(ev.at, f"{where}: ivr[{i}].at")
    for i, e in enumerate(r.entries):
        for name in (
            "entered_at",
            "ended_at",
            "ringing_at",
            "answered_at",
            "queue_started_at",
            "queue_ended_at",
        ):
            value = getattr(e, name)
            if value is not None:
                _require_aware(value, f"{where}: entries[{i}].{name}")
        for j, leg in enumerate(e.legs):
            for name in ("ring_started_at", "ended_at", "answered_at"):
                value = getattr(leg, name)
                if value is not None:
                    _require_aware(value, f"{where}: entries[{i}].legs[{j}].{name}")
    timed: list[tuple[str, list[datetime]]] = [
        ("transfers", [x.at for x in r.transfers]),
        ("callbacks", [x.at for x in r.callbacks]),
        ("survey", [x.at for x in r.survey]),
    ]
    for label, times in timed:
        for i, at in enumerate(times):
            _require_aware(at, f"{where}: {label}[{i}].at")


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None:
        raise RecordInputError(f"{what} is a naive datetime ({value.isoformat()}); use aware UTC")


def _load_call(conn: Connection, call_id: str) -> CallRecord | None:
    c = t.calls.c
    row = conn.execute(select(t.calls).where(c.call_id == call_id)).mappings().one_or_none()
    if row is None:
        return None

    def children(table: Table) -> list[Any]:
        return list(
            conn.execute(
                select(table).where(table.c.call_id == call_id).order_by(table.c.position)
            ).mappings()
        )

    legs_by_entry: dict[int, list[AgentLeg]] = {}
    for leg in conn.execute(
        select(t.agent_legs)
        .where(t.agent_legs.c.call_id == call_id)
        .order_by(t.agent_legs.c.entry_position, t.agent_legs.c.position)
    ).mappings():
        legs_by_entry.setdefault(leg["entry_position"], []).append(
            AgentLeg(
                endpoint=leg["endpoint"],
                ring_started_at=leg["ring_started_at"],
                ended_at=leg["ended_at"],
                outcome=LegOutcome(leg["outcome"]),
                answered_at=leg["answered_at"],
                hangup_cause=leg["hangup_cause"],
                channel_id=leg["channel_id"],
            )
        )
    return CallRecord(
        call_id=row["call_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"] or row["last_seen_at"],
        dialled=row["dialled"],
        caller_number=row["caller_pseudonym"] or "",
        outcome=CallOutcome(row["outcome"]) if row["outcome"] else CallOutcome.INTERRUPTED,
        source=row["source"],
        rules_version=row["rules_version"],
        ivr=[
            IvrEvent(e["at"], e["menu_id"], IvrEventKind(e["kind"]), e["key"])
            for e in children(t.ivr_events)
        ],
        entries=[
            ServiceEntry(
                service_id=e["service_id"],
                entered_at=e["entered_at"],
                ended_at=e["ended_at"],
                outcome=EntryOutcome(e["outcome"]),
                ringing_at=e["ringing_at"],
                answered_at=e["answered_at"],
                agent=e["agent"],
                overflow_to=e["overflow_to"],
                legs=legs_by_entry.get(e["position"], []),
                queue_started_at=e["queue_started_at"],
                queue_ended_at=e["queue_ended_at"],
                closed=e["closed"],
            )
            for e in children(t.service_entries)
        ],
        transfers=[
            Transfer(x["at"], x["from_service"], x["to_service"], x["destination"], x["by_agent"])
            for x in children(t.transfers)
        ],
        callbacks=[
            CallbackRequest(x["at"], x["service_id"], x["number"] or "", x["kind"])
            for x in children(t.callback_requests)
        ],
        survey=[
            SurveyAnswer(x["question"], x["prompt_id"], x["at"], x["score"])
            for x in children(t.survey_answers)
        ],
        survey_offered=row["survey_offered"],
        survey_service=row["survey_service"],
        survey_agent=row["survey_agent"],
        transfer_of=row["transfer_of"],
    )
