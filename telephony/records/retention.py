"""Retention (CNIL): detailed records go after the retention period, the indicators stay.

Before detailed records are deleted, :func:`aggregate_days` writes, per local day (Europe/Paris)
and service, the numerators and denominators of the indicators into ``daily_service_stats``,
with the same definitions as ``docs/indicateurs.md``:

- ``offered``: entries into the service that day (by the entry's local date);
- ``answered``: entries answered by an agent; ``answered_within_target``: of those, the ones
  whose wait (entering → answer) is ≤ ``target_s`` (5 rings × 5 s = 25 s by default);
- ``abandoned``: the caller hung up while waiting; ``short_abandoned``: of those, waits under
  ``short_abandon_s`` (5 s);
- ``overflowed``: left unanswered without hanging up (no answer in time, all busy, nobody,
  closed, message, callback request);
- ``wait_answered_sum_s`` and ``wait_sum_s``: sums of waits, for mean waits.

An aggregate row, once written, is never rewritten by a purge: the day it counts may since have
lost part of its detail. Callback requests lose their clear number when done (see the store) or
when they expire (:func:`daily_maintenance`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from telephony.records import schema as t
from telephony.records.engine import Database
from telephony.records.errors import RecordInputError
from telephony.records.model import EntryOutcome
from telephony.records.store import translate_db_error

log = logging.getLogger(__name__)

_OVERFLOWED = {o.value for o in EntryOutcome if o.is_overflow} | {
    EntryOutcome.MESSAGE.value,
    EntryOutcome.CALLBACK.value,
}


@dataclass(frozen=True, slots=True)
class AggregateParameters:
    target_s: float = 25.0  # answered "within target": wait ≤ this (5 rings of 5 s)
    short_abandon_s: float = 5.0  # abandons with a shorter wait are dialling mistakes
    timezone: str = "Europe/Paris"


@dataclass(slots=True)
class DayStats:
    offered: int = 0
    answered: int = 0
    answered_within_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    wait_answered_sum_s: float = 0.0
    wait_sum_s: float = 0.0


@dataclass(slots=True)
class PurgeResult:
    cutoff: datetime  # detailed calls started before this instant (UTC) were deleted
    aggregate_rows: int = 0
    calls_deleted: int = 0
    days: list[date] = field(default_factory=list)


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


def compute_day_stats(
    database: Database, start_day: date, end_day: date, params: AggregateParameters
) -> dict[tuple[date, str], DayStats]:
    """The stats of every (local day, service) with entries between the two days, inclusive."""
    zone = ZoneInfo(params.timezone)
    low = local_midnight(start_day, params.timezone)
    high = local_midnight(end_day + timedelta(days=1), params.timezone)
    e = t.service_entries.c
    statement = select(e.service_id, e.entered_at, e.outcome, e.wait_s).where(
        and_(e.entered_at >= low, e.entered_at < high)
    )
    stats: dict[tuple[date, str], DayStats] = {}
    with database.engine.connect() as conn:
        for service_id, entered_at, outcome, wait in conn.execute(statement):
            key = (entered_at.astimezone(zone).date(), service_id)
            s = stats.get(key)
            if s is None:
                s = stats[key] = DayStats()
            s.offered += 1
            s.wait_sum_s += wait
            if outcome == EntryOutcome.ANSWERED.value:
                s.answered += 1
                s.wait_answered_sum_s += wait
                if wait <= params.target_s:
                    s.answered_within_target += 1
            elif outcome == EntryOutcome.ABANDONED.value:
                s.abandoned += 1
                if wait < params.short_abandon_s:
                    s.short_abandoned += 1
            elif outcome in _OVERFLOWED:
                s.overflowed += 1
    return stats


def aggregate_days(
    database: Database,
    start_day: date,
    end_day: date,
    params: AggregateParameters,
    *,
    now: datetime,
) -> int:
    """Write the daily aggregates of those days that are not written yet. Returns rows added."""
    stats = compute_day_stats(database, start_day, end_day, params)
    if not stats:
        return 0
    d = t.daily_service_stats.c
    try:
        with database.engine.begin() as conn:
            existing = {
                (day, service)
                for day, service in conn.execute(
                    select(d.day, d.service_id).where(
                        and_(d.day >= start_day, d.day <= end_day, d.target_s == params.target_s)
                    )
                )
            }
            rows = [
                {
                    "day": day,
                    "service_id": service,
                    "target_s": params.target_s,
                    "short_abandon_s": params.short_abandon_s,
                    "offered": s.offered,
                    "answered": s.answered,
                    "answered_within_target": s.answered_within_target,
                    "abandoned": s.abandoned,
                    "short_abandoned": s.short_abandoned,
                    "overflowed": s.overflowed,
                    "wait_answered_sum_s": s.wait_answered_sum_s,
                    "wait_sum_s": s.wait_sum_s,
                    "computed_at": now,
                }
                for (day, service), s in sorted(stats.items())
                if (day, service) not in existing
            ]
            if rows:
                conn.execute(t.daily_service_stats.insert(), rows)
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "writing daily aggregates") from exc
    return len(rows)


def purge(
    database: Database,
    before: date,
    *,
    now: datetime,
    params: AggregateParameters | None = None,
) -> PurgeResult:
    """Delete detailed records of calls started before local midnight of ``before``, after
    writing the daily aggregates of every day they cover."""
    params = params or AggregateParameters()
    cutoff = local_midnight(before, params.timezone)
    if cutoff > now:
        raise RecordInputError(
            f"purge date {before.isoformat()} is in the future: records of calls not yet "
            "over would be deleted"
        )
    result = PurgeResult(cutoff=cutoff)
    c, e = t.calls.c, t.service_entries.c
    zone = ZoneInfo(params.timezone)
    try:
        with database.engine.connect() as conn:
            low, high = conn.execute(
                select(func.min(e.entered_at), func.max(e.entered_at))
                .select_from(t.service_entries.join(t.calls, e.call_id == c.call_id))
                .where(c.started_at < cutoff)
            ).one()
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "finding the days to purge") from exc
    if low is not None and high is not None:
        first, last = low.astimezone(zone).date(), high.astimezone(zone).date()
        result.aggregate_rows = aggregate_days(database, first, last, params, now=now)
        result.days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    try:
        with database.engine.begin() as conn:
            # Children first: this does not rely on the backend's ON DELETE CASCADE.
            doomed = select(c.call_id).where(c.started_at < cutoff).scalar_subquery()
            for table in t.CALL_CHILDREN:
                conn.execute(delete(table).where(table.c.call_id.in_(doomed)))
            deleted = conn.execute(delete(t.calls).where(c.started_at < cutoff))
            result.calls_deleted = int(deleted.rowcount)
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "purging detailed records") from exc
    log.info(
        "purge: %d call(s) started before %s deleted, %d aggregate row(s) written",
        result.calls_deleted,
        cutoff.isoformat(),
        result.aggregate_rows,
    )
    return result


@dataclass(slots=True)
class MaintenanceResult:
    callbacks_expired: int
    purge: PurgeResult


def daily_maintenance(
    database: Database,
    *,
    now: datetime,
    retention_months: int = 12,
    callback_ttl: timedelta = timedelta(days=30),
    params: AggregateParameters | None = None,
) -> MaintenanceResult:
    """What the scheduler runs once a day: expire old callback requests (their clear numbers
    go), then purge detailed records past the retention period."""
    if now.tzinfo is None:
        raise RecordInputError("daily_maintenance needs an aware 'now'")
    params = params or AggregateParameters()
    cb = t.callback_requests.c
    try:
        with database.engine.begin() as conn:
            expired = conn.execute(
                t.callback_requests.update()
                .where(and_(cb.status == "pending", cb.at < now - callback_ttl))
                .values(status="expired", closed_at=now, number=None)
            )
    except SQLAlchemyError as exc:
        raise translate_db_error(exc, "expiring callback requests") from exc
    today = now.astimezone(ZoneInfo(params.timezone)).date()
    purged = purge(database, retention_cutoff(today, retention_months), now=now, params=params)
    return MaintenanceResult(callbacks_expired=int(expired.rowcount), purge=purged)
