"""Initial call records schema: calls and their parts, callbacks, daily aggregates.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calls',
    sa.Column('call_id', sa.String(length=80), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dialled', sa.String(length=64), nullable=False),
    sa.Column('caller_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('rules_version', sa.String(length=80), nullable=True),
    sa.Column('survey_offered', sa.Boolean(), nullable=False),
    sa.Column('survey_service', sa.String(length=64), nullable=True),
    sa.Column('survey_agent', sa.String(length=80), nullable=True),
    sa.Column('journal_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('call_id', name=op.f('pk_calls'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_started_at', ['started_at'], unique=False)
        batch_op.create_index('ix_calls_status', ['status'], unique=False)

    op.create_table('daily_service_stats',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('target_s', sa.Float(), nullable=False),
    sa.Column('short_abandon_s', sa.Float(), nullable=False),
    sa.Column('offered', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('answered_within_target', sa.Integer(), nullable=False),
    sa.Column('abandoned', sa.Integer(), nullable=False),
    sa.Column('short_abandoned', sa.Integer(), nullable=False),
    sa.Column('overflowed', sa.Integer(), nullable=False),
    sa.Column('wait_answered_sum_s', sa.Float(), nullable=False),
    sa.Column('wait_sum_s', sa.Float(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', 'service_id', 'target_s', name=op.f('pk_daily_service_stats'))
    )
    op.create_table('callback_requests',
    sa.Column('call_id', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('number_pseudonym', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], name=op.f('fk_callback_requests_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'position', name=op.f('pk_callback_requests'))
    )
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.create_index('ix_callback_requests_status_at', ['status', 'at'], unique=False)

    op.create_table('ivr_events',
    sa.Column('call_id', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('menu_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], name=op.f('fk_ivr_events_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'position', name=op.f('pk_ivr_events'))
    )
    op.create_table('service_entries',
    sa.Column('call_id', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ringing_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('agent', sa.String(length=80), nullable=True),
    sa.Column('overflow_to', sa.String(length=80), nullable=True),
    sa.Column('wait_s', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], name=op.f('fk_service_entries_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'position', name=op.f('pk_service_entries'))
    )
    with op.batch_alter_table('service_entries', schema=None) as batch_op:
        batch_op.create_index('ix_service_entries_entered_at', ['entered_at'], unique=False)
        batch_op.create_index('ix_service_entries_service_entered', ['service_id', 'entered_at'], unique=False)

    op.create_table('survey_answers',
    sa.Column('call_id', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question', sa.Integer(), nullable=False),
    sa.Column('prompt_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], name=op.f('fk_survey_answers_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'position', name=op.f('pk_survey_answers'))
    )
    op.create_table('transfers',
    sa.Column('call_id', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_service', sa.String(length=64), nullable=True),
    sa.Column('to_service', sa.String(length=64), nullable=True),
    sa.Column('destination', sa.String(length=80), nullable=False),
    sa.Column('by_agent', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], name=op.f('fk_transfers_call_id_calls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'position', name=op.f('pk_transfers'))
    )
    op.create_table('agent_legs',
    sa.Column('call_id', sa.String(length=80), nullable=False),
    sa.Column('entry_position', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('endpoint', sa.String(length=80), nullable=False),
    sa.Column('channel_id', sa.String(length=80), nullable=True),
    sa.Column('ring_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ring_s', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('hangup_cause', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id', 'entry_position'], ['service_entries.call_id', 'service_entries.position'], name=op.f('fk_agent_legs_call_id_service_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'entry_position', 'position', name=op.f('pk_agent_legs'))
    )
    with op.batch_alter_table('agent_legs', schema=None) as batch_op:
        batch_op.create_index('ix_agent_legs_endpoint', ['endpoint'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('agent_legs', schema=None) as batch_op:
        batch_op.drop_index('ix_agent_legs_endpoint')

    op.drop_table('agent_legs')
    op.drop_table('transfers')
    op.drop_table('survey_answers')
    with op.batch_alter_table('service_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_service_entries_service_entered')
        batch_op.drop_index('ix_service_entries_entered_at')

    op.drop_table('service_entries')
    op.drop_table('ivr_events')
    with op.batch_alter_table('callback_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_callback_requests_status_at')

    op.drop_table('callback_requests')
    op.drop_table('daily_service_stats')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_status')
        batch_op.drop_index('ix_calls_started_at')

    op.drop_table('calls')
