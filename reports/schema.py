"""The web app's own tables, beside the call records in the same database.

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
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
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
    PrimaryKeyConstraint("kind", "period"),
)
