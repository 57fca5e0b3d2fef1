"""tracked influencers, monthly report schedules and runs, the influencer window index

Revision ID: 0026
Revises: 0017
Create Date: 2026-12-05 11:30:00

The index (workspace_id, published_at, author_id, engagement, sentiment, topic_mask)
lets the influencers and the topics of a period be counted from the index alone: a
month's entries are read, not the table's rows nor the mentions outside the month.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WINDOW_INDEX = 'ix_mentions_influencer_window'


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete='CASCADE')


def upgrade() -> None:
    op.create_table(
        'tracked_influencers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('tracked_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _fk('tracked_influencers', 'workspace_id', 'workspaces'),
        _fk('tracked_influencers', 'author_id', 'authors'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_influencers')),
        sa.UniqueConstraint('workspace_id', 'author_id',
                            name=op.f('uq_tracked_influencers_workspace_id_author_id')),
    )
    op.create_table(
        'report_schedules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('updated_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        _fk('report_schedules', 'workspace_id', 'workspaces'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_schedules')),
        sa.UniqueConstraint('workspace_id', 'channel_id',
                            name=op.f('uq_report_schedules_workspace_id_channel_id')),
    )
    op.create_table(
        'report_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _fk('report_runs', 'workspace_id', 'workspaces'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_runs')),
        sa.UniqueConstraint('workspace_id', 'channel_id', 'month',
                            name=op.f('uq_report_runs_workspace_id_channel_id_month')),
    )
    op.create_index(WINDOW_INDEX, 'mentions',
                    ['workspace_id', 'published_at', 'author_id', 'engagement', 'sentiment',
                     'topic_mask'])


def downgrade() -> None:
    op.drop_index(WINDOW_INDEX, table_name='mentions')
    op.drop_table('report_runs')
    op.drop_table('report_schedules')
    op.drop_table('tracked_influencers')
