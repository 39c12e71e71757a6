"""The web app's own tables, beside the call records in the same database: accounts, sessions,
the ledger of generated reports, and the quality lead's records — the action plan, the
management reviews (*revues de direction*) with their revised objectives, and the versions of the
routing rules put in force (what changed during the year).

They have their own metadata and their own Alembic history (``alembic_version_web``), so the
call records' migrations and these never step on each other — and their own column type for
times (:class:`UtcDateTime`, the same storage as the call records'), so that the pages depend on
nothing of the call records but their plain types.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out on every backend (naive UTC text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} (times must be aware UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


VERSION_TABLE = "alembic_version_web"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

web_users = Table(
    "web_users",
    metadata,
    Column("login", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    # Comma-separated service ids an agent works for (empty for other roles).
    Column("services", String(1000), nullable=False, default=""),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    # SHA-256 of the cookie's token: a stolen copy of the table opens no session.
    Column("token_hash", String(64), primary_key=True),
    Column("login", String(64), ForeignKey("web_users.login", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Index("ix_web_sessions_expires_at", "expires_at"),
)

generated_reports = Table(
    "generated_reports",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("period", String(16), nullable=False),
    Column("status", String(8), nullable=False),  # "running" while claimed, then "done"
    Column("claimed_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("files", String(2000), nullable=False, default=""),
    # 1 for the first document of the period, then one more each time it is made again: the
    # version printed on the document beside its reference.
    Column("version", Integer, nullable=False, default=1, server_default="1"),
    PrimaryKeyConstraint("kind", "period"),
)

# --- The quality lead's records ----------------------------------------------------------------

quality_actions = Table(
    "quality_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(500), nullable=False),
    Column("service", String(64), nullable=True),  # None: every service
    Column("indicator", String(64), nullable=True),  # None: no indicator
    Column("owner", String(200), nullable=False),
    Column("due", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("result", Text, nullable=False, default=""),
    Column("origin", String(16), nullable=False),
    # The year of the management review that decided it (origin "review").
    Column("review_year", Integer, nullable=True),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date, nullable=True),  # done or given up on that local day
    Column("created_at", UtcDateTime(), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("updated_by", String(64), nullable=False),
    # Each change adds one: a form sent from an outdated page is refused, never overwrites.
    Column("revision", Integer, nullable=False),
    Index("ix_quality_actions_review_year", "review_year"),
)

management_reviews = Table(
    "management_reviews",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("held_on", Date, nullable=True),
    Column("scope", Text, nullable=False, default=""),
    Column("participants", Text, nullable=False, default=""),  # one « name — role » a line
    Column("conclusions", Text, nullable=False, default=""),
    Column("approved_by", String(200), nullable=True),
    Column("approved_on", Date, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("revision", Integer, nullable=False),
)

revised_objectives = Table(
    "revised_objectives",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "review_year",
        Integer,
        ForeignKey("management_reviews.year", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("service", String(64), nullable=True),  # None: every service
    Column("indicator", String(64), nullable=False),
    Column("target", Float, nullable=False),
    Column("kind", String(3), nullable=False),
    Column("applies_from", Date, nullable=True),
    Column("reason", Text, nullable=False, default=""),
    Index("ix_revised_objectives_review_year", "review_year"),
)

rules_versions = Table(
    "rules_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("in_force_from", UtcDateTime(), nullable=False),
    Column("version", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("by", String(64), nullable=True),
    # What a management review compares between versions (services, hours, agents, overflows),
    # as JSON: the rules file itself may be long gone.
    Column("summary", Text, nullable=False),
    Index("ix_rules_versions_in_force_from", "in_force_from"),
)
