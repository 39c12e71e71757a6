"""Web app: the quality lead's records (action plan, management reviews and their revised
objectives, the routing rules' versions put in force) and the version of each generated report.

Revision ID: w0002
Revises: w0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from reports.schema import UtcDateTime

revision = "w0002"
down_revision = "w0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "generated_reports",
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.create_table(
        "quality_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("indicator", sa.String(64), nullable=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("review_year", sa.Integer(), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quality_actions"),
    )
    op.create_index("ix_quality_actions_review_year", "quality_actions", ["review_year"])
    op.create_table(
        "management_reviews",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("participants", sa.Text(), nullable=False),
        sa.Column("conclusions", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_management_reviews"),
    )
    op.create_table(
        "revised_objectives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("review_year", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("indicator", sa.String(64), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("applies_from", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_year"],
            ["management_reviews.year"],
            name="fk_revised_objectives_review_year_management_reviews",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_revised_objectives"),
    )
    op.create_index("ix_revised_objectives_review_year", "revised_objectives", ["review_year"])
    op.create_table(
        "rules_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("in_force_from", UtcDateTime(), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("by", sa.String(64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rules_versions"),
    )
    op.create_index("ix_rules_versions_in_force_from", "rules_versions", ["in_force_from"])


def downgrade() -> None:
    op.drop_index("ix_rules_versions_in_force_from", "rules_versions")
    op.drop_table("rules_versions")
    op.drop_index("ix_revised_objectives_review_year", "revised_objectives")
    op.drop_table("revised_objectives")
    op.drop_table("management_reviews")
    op.drop_index("ix_quality_actions_review_year", "quality_actions")
    op.drop_table("quality_actions")
    with op.batch_alter_table("generated_reports") as batch:
        batch.drop_column("version")
