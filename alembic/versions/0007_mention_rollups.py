"""mention rollups

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 05:48:59.133706
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mention_rollups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=True),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('sentiment', sa.String(length=16), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['watch_id'], ['watches.id'], name=op.f('fk_mention_rollups_watch_id_watches'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_mention_rollups_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_rollups')),
    sa.UniqueConstraint('workspace_id', 'watch_id', 'network', 'sentiment', 'day', name=op.f('uq_mention_rollups_workspace_id_watch_id_network_sentiment_day'))
    )


def downgrade() -> None:
    op.drop_table('mention_rollups')
