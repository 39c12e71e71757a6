"""What is known of a call in progress, kept for closing it after a crash: calls.progress.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no backfill: calls already done need none, and a call left open by a version
    # without it is closed as before (interrupted at its last time seen).
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.Text(), nullable=True))


def downgrade() -> None:
    # recreate='never': see 0002 (batch mode's copy-and-drop would cascade to every child row).
    with op.batch_alter_table('calls', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('progress')
