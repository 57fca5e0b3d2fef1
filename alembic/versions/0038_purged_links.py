"""purged_links: a purged post of several watches still counts once in their reports

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-06 14:00:00

Retention now keeps purged mentions in the count tables (their links are counted once more
before the delete triggers count them down). A report over several watches sums their
counts and takes off the links of a post it counts twice, read from ``mention_watches``,
which the purge deletes. ``purged_links`` keeps, for each purged mention that belonged to
several watches, its links' watch, first flag and counted columns (no text, author or
card), which the reports read for the same correction.

``workspaces.purged_before`` is the latest cut-off of a purge: a post published before it
is not stored again when a source brings it back (it is still counted, so storing it would
count it twice).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0038'
down_revision: str | None = '0037'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'purged_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=True),
        sa.Column('is_first', sa.Boolean(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('sentiment', sa.String(length=16), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_purged_links_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['watch_id'], ['watches.id'],
                                name=op.f('fk_purged_links_watch_id_watches'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_purged_links')),
    )
    op.create_index('ix_purged_links_watch_id_published_at', 'purged_links',
                    ['watch_id', 'published_at'], unique=False)
    op.create_index('ix_purged_links_mention_id', 'purged_links', ['mention_id'],
                    unique=False)
    op.add_column('workspaces', sa.Column('purged_before', sa.DateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    op.drop_column('workspaces', 'purged_before')
    op.drop_index('ix_purged_links_mention_id', table_name='purged_links')
    op.drop_index('ix_purged_links_watch_id_published_at', table_name='purged_links')
    op.drop_table('purged_links')
