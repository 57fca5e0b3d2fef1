"""reporting: digest schedules, digest runs, an index for report windows

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:15:27.903121
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copied, not imported: a migration must not change when the models do.
OPEN_WORK_SQL = (
    "status IN ('new', 'assigned', 'drafting', 'awaiting_approval', 'approved') "
    "AND (alerted OR status <> 'new') AND COALESCE(intent, '') <> 'spam'"
)


def upgrade() -> None:
    op.create_table('digest_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mention_count', sa.Integer(), nullable=False),
    sa.Column('posted', sa.Boolean(), nullable=False),
    sa.Column('series', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_digest_runs_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_runs')),
    sa.UniqueConstraint('workspace_id', 'channel_id', 'local_date', name=op.f('uq_digest_runs_workspace_id_channel_id_local_date'))
    )
    with op.batch_alter_table('digest_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_runs_workspace_id_channel_id_id'), ['workspace_id', 'channel_id', 'id'], unique=False)

    op.create_table('digest_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('local_time', sa.String(length=5), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('skip_empty', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_digest_schedules_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_schedules')),
    sa.UniqueConstraint('workspace_id', 'channel_id', name=op.f('uq_digest_schedules_workspace_id_channel_id'))
    )
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index('ix_mentions_open_work', ['workspace_id', 'status', 'watch_id', 'priority', 'created_at'], unique=False, sqlite_where=sa.text(OPEN_WORK_SQL), postgresql_where=sa.text(OPEN_WORK_SQL))
        batch_op.create_index('ix_mentions_reporting', ['workspace_id', 'created_at', 'watch_id', 'network', 'sentiment_label', 'status', 'alerted', 'priority', 'intent', 'first_response_at', 'replied_at'], unique=False)
        batch_op.create_index('ix_mentions_priority', ['workspace_id', 'priority', 'created_at', 'watch_id', 'alerted'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index('ix_mentions_priority')
        batch_op.drop_index('ix_mentions_reporting')
        batch_op.drop_index('ix_mentions_open_work')

    op.drop_table('digest_schedules')
    with op.batch_alter_table('digest_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_runs_workspace_id_channel_id_id'))

    op.drop_table('digest_runs')
