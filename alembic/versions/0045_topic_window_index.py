"""mentions: an index of the mentions carrying a topic, by mask and published time

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-06 18:00:00

The digest of a topic route's channel (that watch's mentions of that topic) counted its
volumes, chart and top priorities from every mention of the window, testing
``topic_mask & bit``, which no index answers. This partial index holds the mentions with a
topic, by (workspace, mask, published time), with the columns those reports read: a route
reads the masks holding its topics (``topic_mask IN (...)``) over the window from the index
alone.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0045'
down_revision: str | None = '0044'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = 'topic_mask <> 0'


def upgrade() -> None:
    op.create_index('ix_mentions_topic_window', 'mentions',
                    ['workspace_id', 'topic_mask', 'published_at', 'network',
                     'sentiment_label', 'priority', 'status', 'id'],
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade() -> None:
    op.drop_index('ix_mentions_topic_window', table_name='mentions')
