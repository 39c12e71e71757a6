"""Calls brought back by an agent's blind transfer: calls.transfer_of.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no backfill: calls stored before this revision were never marked as legs.
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transfer_of', sa.String(length=80), nullable=True))


def downgrade() -> None:
    # recreate='never': SQLite drops the column in place (ALTER TABLE ... DROP COLUMN, SQLite
    # 3.35+). Batch mode's default would copy `calls` and drop the original, and with foreign
    # keys on that DROP TABLE cascades: every call's entries, legs, IVR path... would be deleted.
    with op.batch_alter_table('calls', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('transfer_of')
