"""The call records tables (SQLAlchemy 2.0 models), shared by SQLite and PostgreSQL.

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
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CallRow(Base):
    """One call. ``status`` is ``open`` between its start and its end (or its closing as
    interrupted after a crash), then ``done``."""

    __tablename__ = "calls"

    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # ari | queue_log | whatif
    status: Mapped[str] = mapped_column(String(8))  # open | done
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    dialled: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of the normalised caller number; NULL when the number was withheld.
    caller_pseudonym: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(16))
    duration_s: Mapped[float | None] = mapped_column(Float)
    rules_version: Mapped[str | None] = mapped_column(String(80))
    survey_offered: Mapped[bool] = mapped_column(Boolean, default=False)
    survey_service: Mapped[str | None] = mapped_column(String(64))
    survey_agent: Mapped[str | None] = mapped_column(String(80))
    # Set on the leg an agent's blind transfer brought back into decroche: the call_id of the
    # caller's first call, so totals count the caller once. No foreign key: a first call the
    # writer set aside, or one purged before this leg, must not make this row unwritable.
    transfer_of: Mapped[str | None] = mapped_column(String(80))
    # Sequence of the writer's item that last wrote this row: replays skip older or equal ones.
    journal_seq: Mapped[int] = mapped_column(BigInteger)
    # While the call is open: what is known of it so far (JSON of a CallProgress, without the
    # caller's number), for closing it as interrupted after a crash. NULL once the call is done.
    progress: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
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


class IvrEventRow(Base):
    __tablename__ = "ivr_events"

    call_id: Mapped[str] = mapped_column(String(80), _call_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    menu_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # menu | key | invalid | timeout | hangup | ...
    key: Mapped[str | None] = mapped_column(String(8))


class ServiceEntryRow(Base):
    __tablename__ = "service_entries"

    call_id: Mapped[str] = mapped_column(String(80), _call_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ringing_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(24))
    agent: Mapped[str | None] = mapped_column(String(80))
    overflow_to: Mapped[str | None] = mapped_column(String(80))
    # From entering to the answer, or to leaving unanswered (ServiceEntry.wait_seconds): the
    # time in the service's queue included.
    wait_s: Mapped[float] = mapped_column(Float)
    # The wait in the service's queue: first start, last end (NULL: never waited in one).
    queue_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    queue_ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Entered while the service was closed (the routing decision of that moment).
    closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        Index("ix_service_entries_entered_at", "entered_at"),
        Index("ix_service_entries_service_entered", "service_id", "entered_at"),
    )


class AgentLegRow(Base):
    __tablename__ = "agent_legs"

    call_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    entry_position: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str | None] = mapped_column(String(80))
    ring_started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ring_s: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        ForeignKeyConstraint(
            ["call_id", "entry_position"],
            ["service_entries.call_id", "service_entries.position"],
            ondelete="CASCADE",
        ),
        Index("ix_agent_legs_endpoint", "endpoint"),
    )


class TransferRow(Base):
    __tablename__ = "transfers"

    call_id: Mapped[str] = mapped_column(String(80), _call_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_service: Mapped[str | None] = mapped_column(String(64))
    to_service: Mapped[str | None] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(80))
    by_agent: Mapped[str | None] = mapped_column(String(80))


class SurveyAnswerRow(Base):
    __tablename__ = "survey_answers"

    call_id: Mapped[str] = mapped_column(String(80), _call_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[int] = mapped_column(Integer)
    prompt_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    score: Mapped[int | None] = mapped_column(Integer)


class CallbackRequestRow(Base):
    """A callback request. ``number`` is the only clear caller number kept anywhere; it is set
    to NULL as soon as the callback is done or expired (``number_pseudonym`` stays)."""

    __tablename__ = "callback_requests"

    call_id: Mapped[str] = mapped_column(String(80), _call_fk(), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    service_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # requested | abandoned | overflowed
    number: Mapped[str | None] = mapped_column(String(32))
    number_pseudonym: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # pending | done | expired
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_by: Mapped[str | None] = mapped_column(String(80))

    __table_args__ = (Index("ix_callback_requests_status_at", "status", "at"),)


class DailyServiceStatsRow(Base):
    """Numerators and denominators of one service's indicators over one local day, for one
    answer target. Written before detailed records are purged; never rewritten afterwards."""

    __tablename__ = "daily_service_stats"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local date, Europe/Paris
    service_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_s: Mapped[float] = mapped_column(Float, primary_key=True)
    short_abandon_s: Mapped[float] = mapped_column(Float)
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    answered_within_target: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    short_abandoned: Mapped[int] = mapped_column(Integer)
    overflowed: Mapped[int] = mapped_column(Integer)
    # Entries while the service was closed: apart from ``offered`` (0 on rows written before
    # revision 0003, whose ``offered`` still includes them).
    closed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    wait_answered_sum_s: Mapped[float] = mapped_column(Float)
    wait_sum_s: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DailyFiguresRow(Base):
    """The figures of one local day, as analytics computed them from the entries under the
    definitions and parameters that ``fingerprint`` names: one row a day, so that a year is 365
    rows. ``groups`` names the services (and the total) the packed figures are about; their
    content is analytics' (:mod:`analytics.aggregates`): the store only keeps and hands them
    back."""

    __tablename__ = "daily_figures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # local date
    fingerprint: Mapped[str] = mapped_column(String(32))
    groups: Mapped[str] = mapped_column(Text)
    counts: Mapped[bytes] = mapped_column(LargeBinary)
    hours: Mapped[bytes] = mapped_column(LargeBinary)
    waits: Mapped[bytes] = mapped_column(LargeBinary)
    flows: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TouchedDayRow(Base):
    """A UTC date the store wrote calls or entries to, with the first and last instant it
    wrote that date: the local days they fall on must be computed again. ``generation`` goes
    up at each write, so that a reader that computed the days only clears the mark it saw."""

    __tablename__ = "touched_days"

    utc_day: Mapped[date] = mapped_column(Date, primary_key=True)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())
    generation: Mapped[int] = mapped_column(BigInteger)


metadata = Base.metadata

calls = cast(Table, CallRow.__table__)
ivr_events = cast(Table, IvrEventRow.__table__)
service_entries = cast(Table, ServiceEntryRow.__table__)
agent_legs = cast(Table, AgentLegRow.__table__)
transfers = cast(Table, TransferRow.__table__)
survey_answers = cast(Table, SurveyAnswerRow.__table__)
callback_requests = cast(Table, CallbackRequestRow.__table__)
daily_service_stats = cast(Table, DailyServiceStatsRow.__table__)
daily_figures = cast(Table, DailyFiguresRow.__table__)
touched_days = cast(Table, TouchedDayRow.__table__)

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
