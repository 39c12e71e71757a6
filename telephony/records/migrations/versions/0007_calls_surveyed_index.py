"""The calls offered the survey, indexed by start: ix_calls_surveyed_started_at.

The satisfaction figures read the calls offered the survey in a period. Through
ix_calls_started_at that is every call of the period, tested one by one (2.4 s for a year of a
million calls on SQLite, on each page and report); a partial index holds only the few calls
offered the survey (a few in a hundred) and reads them straight away.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    surveyed = sa.column('survey_offered', sa.Boolean()) == sa.true()
    op.create_index(
        'ix_calls_surveyed_started_at',
        'calls',
        ['started_at'],
        postgresql_where=surveyed,
        sqlite_where=surveyed,
    )


def downgrade() -> None:
    op.drop_index('ix_calls_surveyed_started_at', table_name='calls')
