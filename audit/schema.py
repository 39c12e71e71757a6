"""The audit's own tables, beside the call records in the same database (never read by the
indicators, the exports or the reports' figures).

They have their own metadata and Alembic history (``alembic_version_audit``). A run is one row
holding its whole document (:class:`audit.results.AuditRun` as JSON), plus one row per path
tested, so that a failure can be matched with the later run that passed it.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from telephony.records.schema import UtcDateTime

VERSION_TABLE = "alembic_version_audit"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

audit_runs = Table(
    "audit_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("trigger", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("paths", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_audit_runs_started_at", "started_at"),
)

audit_results = Table(
    "audit_results",
    metadata,
    Column("run_id", String(64), ForeignKey("audit_runs.id", ondelete="CASCADE"), nullable=False),
    Column("path_id", String(200), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),  # the run's start
    Column("verdict", String(8), nullable=False),
    PrimaryKeyConstraint("run_id", "path_id"),
    Index("ix_audit_results_path_id", "path_id", "started_at"),
)
