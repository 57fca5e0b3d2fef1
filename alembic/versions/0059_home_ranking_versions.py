"""home_ranking_versions: whether App Home's cached influencer ranking still holds

Revision ID: 0059
Revises: 0058
Create Date: 2026-12-07 07:40:00

Each process caches a workspace's ranking for up to 15 minutes; a forget or a watch
change in another process left it listing a forgotten person. The changes now raise the
workspace's version in their transaction and a cached ranking of an older version is
computed again. No row is version 0: nothing to backfill.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0059'
down_revision: str | None = '0058'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'home_ranking_versions',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_home_ranking_versions_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_home_ranking_versions')),
    )


def downgrade() -> None:
    op.drop_table('home_ranking_versions')
