"""Entries into a closed service: service_entries.closed, daily_service_stats.closed.

The call flow now records, with each service entry, whether the rules said the service was
closed when the call came in; the indicators count those entries apart ("appels reçus hors
horaires"), never as offered calls. Before this revision the only way an entry was closed was
the routing decision that sent it on with the outcome ``overflow_closed`` (a queue_log import
never has one): the backfill marks exactly those.

Daily aggregates written before this revision keep their figures (their ``offered`` includes
the closed entries, ``closed`` reads 0): the detail they came from is gone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service_entries', schema=None, recreate='never') as batch_op:
        batch_op.add_column(
            sa.Column('closed', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    entries = sa.table('service_entries', sa.column('closed', sa.Boolean()), sa.column('outcome'))
    op.execute(entries.update().where(entries.c.outcome == 'overflow_closed').values(closed=True))
    with op.batch_alter_table('daily_service_stats', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('closed', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    # recreate='never': SQLite drops the columns in place; a table copy of service_entries
    # would cascade to the agent legs (see 0002).
    with op.batch_alter_table('daily_service_stats', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('closed')
    with op.batch_alter_table('service_entries', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('closed')
