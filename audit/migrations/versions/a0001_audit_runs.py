"""Audit calls: runs and the verdict of each path.

Revision ID: a0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from telephony.records.schema import UtcDateTime

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paths", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_runs"),
    )
    op.create_index("ix_audit_runs_started_at", "audit_runs", ["started_at"])
    op.create_table(
        "audit_results",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("path_id", sa.String(200), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["audit_runs.id"],
            name="fk_audit_results_run_id_audit_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "path_id", name="pk_audit_results"),
    )
    op.create_index("ix_audit_results_path_id", "audit_results", ["path_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_results_path_id", table_name="audit_results")
    op.drop_table("audit_results")
    op.drop_index("ix_audit_runs_started_at", table_name="audit_runs")
    op.drop_table("audit_runs")
