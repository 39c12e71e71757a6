"""The indicators' figures of past days, and the days the store touched since: daily_figures,
touched_days.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty at first: analytics computes each past day from its entries the first time a period
    # covering it is asked (or at the nightly maintenance), then reads it from here.
    op.create_table('daily_figures',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('groups', sa.Text(), nullable=False),
    sa.Column('counts', sa.LargeBinary(), nullable=False),
    sa.Column('hours', sa.LargeBinary(), nullable=False),
    sa.Column('waits', sa.LargeBinary(), nullable=False),
    sa.Column('flows', sa.Text(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_daily_figures'))
    )
    op.create_table('touched_days',
    sa.Column('utc_day', sa.Date(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('utc_day', name=op.f('pk_touched_days'))
    )


def downgrade() -> None:
    op.drop_table('touched_days')
    op.drop_table('daily_figures')
