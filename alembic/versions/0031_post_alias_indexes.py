"""post_aliases indexes: deleting a mention's aliases and the hourly alias sweep read by index

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-05 18:30:00

Retention and ``forget`` delete the aliases of the mentions they delete, looked up by the
mention's key (workspace, network, external id), 5,000 at a time; the hourly sweep walks
aliases by (created_at, id) from where it stopped. Without these indexes each batch of
either scans the whole table, which grows with every fetched Mastodon status.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0031'
down_revision: str | None = '0030'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_KEY = 'ix_post_aliases_workspace_id_network_external_id'
BY_AGE = 'ix_post_aliases_created_at_id'


def upgrade() -> None:
    op.create_index(BY_KEY, 'post_aliases', ['workspace_id', 'network', 'external_id'])
    op.create_index(BY_AGE, 'post_aliases', ['created_at', 'id'])


def downgrade() -> None:
    op.drop_index(BY_AGE, table_name='post_aliases')
    op.drop_index(BY_KEY, table_name='post_aliases')
