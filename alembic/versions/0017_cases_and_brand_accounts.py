"""brand accounts, cases and their posts, quiet (backfilled) mentions, source backfills

Revision ID: 0017
Revises: 0023
Create Date: 2026-12-05 08:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete='CASCADE')


def upgrade() -> None:
    op.create_table(
        'brand_accounts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('handle', sa.String(length=200), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _fk('brand_accounts', 'workspace_id', 'workspaces'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_brand_accounts')),
        sa.UniqueConstraint('workspace_id', 'network', 'handle',
                            name=op.f('uq_brand_accounts_workspace_id_network_handle')),
    )
    op.create_table(
        'cases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('thread_key', sa.String(length=500), nullable=False),
        sa.Column('customer', sa.String(length=200), nullable=False),
        sa.Column('root_mention_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('sla_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('follow_ups', sa.Integer(), nullable=False),
        sa.Column('reopened', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        _fk('cases', 'workspace_id', 'workspaces'),
        _fk('cases', 'root_mention_id', 'mentions'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
        sa.UniqueConstraint('root_mention_id', name=op.f('uq_cases_root_mention_id')),
        sa.UniqueConstraint('workspace_id', 'network', 'thread_key', 'customer',
                            name=op.f('uq_cases_workspace_id_network_thread_key_customer')),
    )
    op.create_table(
        'case_posts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('mention_id', sa.Integer(), nullable=True),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('external_id', sa.String(length=500), nullable=False),
        sa.Column('parent_external_id', sa.String(length=500), nullable=True),
        sa.Column('by_brand', sa.Boolean(), nullable=False),
        sa.Column('author', sa.String(length=200), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _fk('case_posts', 'workspace_id', 'workspaces'),
        _fk('case_posts', 'case_id', 'cases'),
        _fk('case_posts', 'mention_id', 'mentions'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_posts')),
        sa.UniqueConstraint('mention_id', name=op.f('uq_case_posts_mention_id')),
        sa.UniqueConstraint('workspace_id', 'network', 'external_id',
                            name=op.f('uq_case_posts_workspace_id_network_external_id')),
    )
    op.create_index(op.f('ix_case_posts_case_id_published_at'), 'case_posts',
                    ['case_id', 'published_at'])
    op.create_index(op.f('ix_case_posts_workspace_id_network_parent_external_id'),
                    'case_posts', ['workspace_id', 'network', 'parent_external_id'])
    op.create_table(
        'quiet_mentions',
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        _fk('quiet_mentions', 'mention_id', 'mentions'),
        sa.PrimaryKeyConstraint('mention_id', name=op.f('pk_quiet_mentions')),
    )
    op.create_table(
        'source_backfills',
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('pending', sa.Boolean(), nullable=False),
        sa.Column('backfilled', sa.Integer(), nullable=False),
        sa.Column('window_hours', sa.Integer(), nullable=True),
        sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True),
        _fk('source_backfills', 'source_id', 'sources'),
        sa.PrimaryKeyConstraint('source_id', name=op.f('pk_source_backfills')),
    )


def downgrade() -> None:
    op.drop_table('source_backfills')
    op.drop_table('quiet_mentions')
    op.drop_index(op.f('ix_case_posts_workspace_id_network_parent_external_id'),
                  table_name='case_posts')
    op.drop_index(op.f('ix_case_posts_case_id_published_at'), table_name='case_posts')
    op.drop_table('case_posts')
    op.drop_table('cases')
    op.drop_table('brand_accounts')
