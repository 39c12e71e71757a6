"""The wait in a service's queue: service_entries.queue_started_at and queue_ended_at.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no backfill: entries stored before this revision never waited in a queue.
    with op.batch_alter_table('service_entries', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('queue_started_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('queue_ended_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # recreate='never': see 0002 (batch mode's copy-and-drop would cascade to the agent legs).
    with op.batch_alter_table('service_entries', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('queue_ended_at')
        batch_op.drop_column('queue_started_at')
