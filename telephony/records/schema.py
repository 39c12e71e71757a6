"""The call records tables, shared by SQLite and PostgreSQL.

One row in ``calls`` per call; its IVR path, service entries, agent legs, transfers, survey
answers and callback requests hang off it by ``call_id`` (``ON DELETE CASCADE``), each with a
``position`` giving its order inside the call. Composite keys (call_id, position) let the writer
insert whole batches without reading generated ids back, and make rewriting a call idempotent.

Times are stored in UTC: ``timestamptz`` on PostgreSQL; on SQLite (which has no time zone type)
as naive UTC text with microseconds, which sorts correctly. :class:`UtcDateTime` refuses naive
datetimes on the way in and always hands back aware UTC datetimes.

``daily_service_stats`` keeps, per local day (Europe/Paris) and service, the numerators and
denominators of the indicators, so they survive the purge of detailed records.

``daily_figures`` keeps the figures of each past local day as analytics computed them (opaque
here: see :mod:`analytics.aggregates`), so that a year is read from 365 days of figures instead
of millions of entries; ``touched_days`` says which days the store wrote to since (a late
record, an import), so that analytics computes them again.

They are SQLAlchemy Core tables, not ORM classes: nothing maps rows to objects, and importing
the ORM would cost every command a tenth of a second at start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)

from telephony.records.errors import RecordInputError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise RecordInputError(f"expected a datetime, got {value!r}")
        if value.tzinfo is None:
            raise RecordInputError(f"naive datetime {value.isoformat()} (times must be aware UTC)")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING)


# One call. ``status`` is ``open`` between its start and its end (or its closing as
# interrupted after a crash), then ``done``.
calls = Table(
    "calls",
    metadata,
    Column("call_id", String(80), primary_key=True),
    Column("source", String(16), nullable=False),  # ari | queue_log | whatif
    Column("status", String(8), nullable=False),  # open | done
    Column("started_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime()),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("dialled", String(64), nullable=False),
    # HMAC-SHA256 of the normalised caller number; NULL when the number was withheld.
    Column("caller_pseudonym", String(64)),
    Column("outcome", String(16)),
    Column("duration_s", Float),
    Column("rules_version", String(80)),
    Column("survey_offered", Boolean, default=False, nullable=False),
    Column("survey_service", String(64)),
    Column("survey_agent", String(80)),
    # Set on the leg an agent's blind transfer brought back into decroche: the call_id of the
    # caller's first call, so totals count the caller once. No foreign key: a first call the
    # writer set aside, or one purged before this leg, must not make this row unwritable.
    Column("transfer_of", String(80)),
    # Sequence of the writer's item that last wrote this row: replays skip older or equal ones.
    Column("journal_seq", BigInteger, nullable=False),
    # While the call is open: what is known of it so far (JSON of a CallProgress, without the
    # caller's number), for closing it as interrupted after a crash. NULL once the call is done.
    Column("progress", Text),
    Index("ix_calls_started_at", "started_at"),
    Index("ix_calls_status", "status"),
    # The satisfaction figures read only these (a few calls in a hundred): migration 0007.
    Index(
        "ix_calls_surveyed_started_at",
        "started_at",
        postgresql_where=text("survey_offered = true"),
        sqlite_where=text("survey_offered = 1"),
    ),
)


def _call_fk() -> ForeignKey:
    return ForeignKey("calls.call_id", ondelete="CASCADE")


ivr_events = Table(
    "ivr_events",
    metadata,
    Column("call_id", String(80), _call_fk(), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("menu_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # menu | key | invalid | timeout | hangup | ...
    Column("key", String(8)),
)

service_entries = Table(
    "service_entries",
    metadata,
    Column("call_id", String(80), _call_fk(), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("service_id", String(64), nullable=False),
    Column("entered_at", UtcDateTime(), nullable=False),
    Column("ringing_at", UtcDateTime()),
    Column("answered_at", UtcDateTime()),
    Column("ended_at", UtcDateTime(), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("agent", String(80)),
    Column("overflow_to", String(80)),
    # From entering to the answer, or to leaving unanswered (ServiceEntry.wait_seconds): the
    # time in the service's queue included.
    Column("wait_s", Float, nullable=False),
    # The wait in the service's queue: first start, last end (NULL: never waited in one).
    Column("queue_started_at", UtcDateTime()),
    Column("queue_ended_at", UtcDateTime()),
    # Entered while the service was closed (the routing decision of that moment).
    Column("closed", Boolean, default=False, server_default=false(), nullable=False),
    Index("ix_service_entries_entered_at", "entered_at"),
    Index("ix_service_entries_service_entered", "service_id", "entered_at"),
)

agent_legs = Table(
    "agent_legs",
    metadata,
    Column("call_id", String(80), primary_key=True),
    Column("entry_position", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("endpoint", String(80), nullable=False),
    Column("channel_id", String(80)),
    Column("ring_started_at", UtcDateTime(), nullable=False),
    Column("answered_at", UtcDateTime()),
    Column("ended_at", UtcDateTime(), nullable=False),
    Column("ring_s", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("hangup_cause", Integer),
    ForeignKeyConstraint(
        ["call_id", "entry_position"],
        ["service_entries.call_id", "service_entries.position"],
        ondelete="CASCADE",
    ),
    Index("ix_agent_legs_endpoint", "endpoint"),
)

transfers = Table(
    "transfers",
    metadata,
    Column("call_id", String(80), _call_fk(), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("from_service", String(64)),
    Column("to_service", String(64)),
    Column("destination", String(80), nullable=False),
    Column("by_agent", String(80)),
)

survey_answers = Table(
    "survey_answers",
    metadata,
    Column("call_id", String(80), _call_fk(), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("question", Integer, nullable=False),
    Column("prompt_id", String(64), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("score", Integer),
)

# A callback request. ``number`` is the only clear caller number kept anywhere; it is set
# to NULL as soon as the callback is done or expired (``number_pseudonym`` stays).
callback_requests = Table(
    "callback_requests",
    metadata,
    Column("call_id", String(80), _call_fk(), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("service_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # requested | abandoned | overflowed
    Column("number", String(32)),
    Column("number_pseudonym", String(64)),
    Column("status", String(8), nullable=False),  # pending | done | expired
    Column("closed_at", UtcDateTime()),
    Column("done_by", String(80)),
    Index("ix_callback_requests_status_at", "status", "at"),
)

# Numerators and denominators of one service's indicators over one local day, for one
# answer target. Written before detailed records are purged; never rewritten afterwards.
daily_service_stats = Table(
    "daily_service_stats",
    metadata,
    Column("day", Date, primary_key=True),  # local date, Europe/Paris
    Column("service_id", String(64), primary_key=True),
    Column("target_s", Float, primary_key=True),
    Column("short_abandon_s", Float, nullable=False),
    Column("offered", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("answered_within_target", Integer, nullable=False),
    Column("abandoned", Integer, nullable=False),
    Column("short_abandoned", Integer, nullable=False),
    Column("overflowed", Integer, nullable=False),
    # Entries while the service was closed: apart from ``offered`` (0 on rows written before
    # revision 0003, whose ``offered`` still includes them).
    Column("closed", Integer, default=0, server_default="0", nullable=False),
    Column("wait_answered_sum_s", Float, nullable=False),
    Column("wait_sum_s", Float, nullable=False),
    Column("computed_at", UtcDateTime(), nullable=False),
)

# The figures of one local day, as analytics computed them from the entries under the
# definitions and parameters that ``fingerprint`` names: one row a day, so that a year is 365
# rows. ``groups`` names the services (and the total) the packed figures are about; their
# content is analytics' (:mod:`analytics.aggregates`): the store only keeps and hands them
# back.
daily_figures = Table(
    "daily_figures",
    metadata,
    Column("day", Date, primary_key=True),  # local date
    Column("fingerprint", String(32), nullable=False),
    Column("groups", Text, nullable=False),
    Column("counts", LargeBinary, nullable=False),
    Column("hours", LargeBinary, nullable=False),
    Column("waits", LargeBinary, nullable=False),
    Column("flows", Text, nullable=False),
    Column("computed_at", UtcDateTime(), nullable=False),
)

# A UTC date the store wrote calls or entries to, with the first and last instant it
# wrote that date: the local days they fall on must be computed again. ``generation`` goes
# up at each write, so that a reader that computed the days only clears the mark it saw.
touched_days = Table(
    "touched_days",
    metadata,
    Column("utc_day", Date, primary_key=True),
    Column("first_at", UtcDateTime(), nullable=False),
    Column("last_at", UtcDateTime(), nullable=False),
    Column("generation", BigInteger, nullable=False),
)


# Children of a call, in the order they are deleted before a call is rewritten.
CALL_CHILDREN = (
    agent_legs,
    service_entries,
    ivr_events,
    transfers,
    survey_answers,
    callback_requests,
)
# Every table a call's rows go to, parents before children (insertion order).
CALL_TABLES = (
    calls,
    ivr_events,
    service_entries,
    agent_legs,
    transfers,
    survey_answers,
    callback_requests,
)
