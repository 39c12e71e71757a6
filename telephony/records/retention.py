"""Retention (CNIL): detailed records go after the retention period, the indicators stay.

This module only stores and deletes. What to keep of the calls about to go — per local day and
service, the numerators and denominators of the indicators — is computed by analytics, with the
indicators' own definitions (:mod:`analytics.aggregates`); the service's daily maintenance
(:class:`decroche.jobs.Maintenance`) asks analytics, hands the rows to :func:`write_daily_stats`,
then deletes with :func:`delete_calls_before`.

An aggregate row, once written, is never rewritten by a purge: the day it counts may since have
lost part of its detail. Callback requests lose their clear number when done (see the store) or
when they expire (:func:`expire_callbacks`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from telephony.records import schema as t
from telephony.records.engine import Database
from telephony.records.errors import RecordInputError
from telephony.records.store import translate_db_error

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DailyStats:
    """One row of ``daily_service_stats``: a service on a local day, under one target."""

    day: date
    service_id: str
    target_s: float
    short_abandon_s: float
    offered: int
    answered: int
    answered_within_target: int
    abandoned: int
    short_abandoned: int
    overflowed: int
    wait_answered_sum_s: float
    wait_sum_s: float
    closed: int = 0  # entries while the service was closed (not in ``offered``)


def local_midnight(day: date, timezone: str) -> datetime:
    """The UTC instant at which ``day`` starts in ``timezone``."""
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


def retention_cutoff(today: date, months: int) -> date:
    """The first day kept: ``today`` minus ``months`` months (day clamped to the month's end)."""
    if months < 1:
        raise RecordInputError(f"retention must be at least one month, got {months}")
    index = today.year * 12 + (today.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(today.day, 0, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable: day 1 always exists")


def entries_span_before(database: Database, cutoff: datetime) -> tuple[datetime, datetime] | None:
    """The first and last entry into a service of the calls started before ``cutoff`` (UTC):
    the days whose aggregates must be kept before the purge (None: nothing to purge)."""
    c, e = t.calls.c, t.service_entries.c
    try:
        with database.engine.connect() as conn:
            low, high = conn.execute(
                select(func.min(e.entered_at), func.max(e.entered_at))
                .select_from(t.service_entries.join(t.calls, e.call_id == c.call_id))
                .where(c.started_at < cutoff)
            ).one()
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "finding the days to purge") from exc
    if low is None or high is None:
        return None
    return low, high


def write_daily_stats(database: Database, rows: Sequence[DailyStats], *, now: datetime) -> int:
    """Write the rows whose (day, service, target) is not written yet. Returns rows added."""
    if not rows:
        return 0
    d = t.daily_service_stats.c
    first, last = min(r.day for r in rows), max(r.day for r in rows)
    try:
        with database.engine.begin() as conn:
            existing = {
                (day, service, target)
                for day, service, target in conn.execute(
                    select(d.day, d.service_id, d.target_s).where(
                        and_(d.day >= first, d.day <= last)
                    )
                )
            }
            new = [
                {
                    "day": r.day,
                    "service_id": r.service_id,
                    "target_s": r.target_s,
                    "short_abandon_s": r.short_abandon_s,
                    "offered": r.offered,
                    "answered": r.answered,
                    "answered_within_target": r.answered_within_target,
                    "abandoned": r.abandoned,
                    "short_abandoned": r.short_abandoned,
                    "overflowed": r.overflowed,
                    "wait_answered_sum_s": r.wait_answered_sum_s,
                    "wait_sum_s": r.wait_sum_s,
                    "closed": r.closed,
                    "computed_at": now,
                }
                for r in rows
                if (r.day, r.service_id, r.target_s) not in existing
            ]
            if new:
                conn.execute(t.daily_service_stats.insert(), new)
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "writing daily aggregates") from exc
    return len(new)


def delete_calls_before(database: Database, cutoff: datetime) -> int:
    """Delete the detailed records of the calls started before ``cutoff`` (UTC)."""
    c = t.calls.c
    try:
        with database.engine.begin() as conn:
            # Children first: this does not rely on the backend's ON DELETE CASCADE.
            doomed = select(c.call_id).where(c.started_at < cutoff).scalar_subquery()
            for table in t.CALL_CHILDREN:
                conn.execute(delete(table).where(table.c.call_id.in_(doomed)))
            deleted = conn.execute(delete(t.calls).where(c.started_at < cutoff))
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "purging detailed records") from exc
    count = int(deleted.rowcount)
    log.info("purge: %d call(s) started before %s deleted", count, cutoff.isoformat())
    return count


def expire_callbacks(database: Database, requested_before: datetime, *, now: datetime) -> int:
    """Pending callback requests made before ``requested_before`` expire: their clear numbers
    go."""
    if now.tzinfo is None or requested_before.tzinfo is None:
        raise RecordInputError("expire_callbacks needs aware times")
    cb = t.callback_requests.c
    try:
        with database.engine.begin() as conn:
            expired = conn.execute(
                t.callback_requests.update()
                .where(and_(cb.status == "pending", cb.at < requested_before))
                .values(status="expired", closed_at=now, number=None)
            )
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "expiring callback requests") from exc
    return int(expired.rowcount)
