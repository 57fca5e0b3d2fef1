"""purged_posts: retention keeps out the posts it purged, not every older post

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-06 15:00:00

Since 0038 a purge set ``workspaces.purged_before`` on every workspace, even one it deleted
nothing from, and ingest dropped every new post published before it: a post never stored
(a new source's history, a late feed entry, a backlog after downtime, a webhook push) was
lost when more than the retention days old. ``purged_posts`` keeps a keyed hash (the
workspace's ``forget_keys`` key, as ``forgotten``) of each purged post's network and id;
ingest drops only those. ``purged_before`` is now set only where a purge deleted posts.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0041'
down_revision: str | None = '0040'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'purged_posts',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_purged_posts_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', 'digest', name=op.f('pk_purged_posts')),
    )


def downgrade() -> None:
    op.drop_table('purged_posts')
