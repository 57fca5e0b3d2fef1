"""spike_events: one bad-buzz event per channel, its spikes and the thread of its alert

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-06 17:00:00

One event raised one alert per overlapping watch, and again every six hours while it
lasted. An event now groups the spikes of a channel's watches while they last: one alert,
follow-ups in its thread, an "over" note at the end. Spikes recorded before keep no event
(the digest counts each of them as its own).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0042'
down_revision: str | None = '0041'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_EVENT_SQL = 'ended_at IS NULL'


def upgrade() -> None:
    op.create_table(
        'spike_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('first_hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_hour', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reported_hour', sa.DateTime(timezone=True), nullable=True),
        sa.Column('alert_outbox_id', sa.Integer(), nullable=True),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_spike_events_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['alert_outbox_id'], ['outbox.id'],
                                name=op.f('fk_spike_events_alert_outbox_id_outbox'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spike_events')),
    )
    op.create_index('ix_spike_events_open', 'spike_events', ['workspace_id', 'channel_id'],
                    unique=True, sqlite_where=sa.text(OPEN_EVENT_SQL),
                    postgresql_where=sa.text(OPEN_EVENT_SQL))
    # No foreign key: SQLite would need the table rebuilt, and an event goes only with its
    # workspace, whose spikes go with it.
    op.add_column('spikes', sa.Column('event_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_spikes_event_id'), 'spikes', ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_spikes_event_id'), table_name='spikes')
    op.drop_column('spikes', 'event_id')
    op.drop_index('ix_spike_events_open', table_name='spike_events')
    op.drop_table('spike_events')
