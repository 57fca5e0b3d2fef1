"""mentions and links: the digest's open-work, answered and waiting indexes hold every column it reads

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-06 19:40:00

The digest counts open work by status, overdue and by topic in one pass over
``ix_mentions_open_work``, lists the most urgent overdue mentions through
``ix_mentions_open_by_urgency``, and reads the day's answered share and response times
through ``ix_mentions_answered``. Each condition read columns those indexes did not hold
(the received time ``created_at`` the SLA counts from, ``topic_mask``, the watch,
``alerted``, ``replied_at``), so every open or answered mention's row was visited: some
48,000 open mentions at a million stored. The three indexes are rebuilt with them
(before the predicate's own columns, which come last so SQLite answers from the index).
``ix_mention_watches_waiting`` holds a watch's links that did not alert, by published time
and priority: the digest's examples of what waited are read from it alone.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0049'
down_revision: str | None = '0048'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WORK_SQL = ("status IN ('new', 'assigned', 'drafting', 'awaiting_approval', 'approved') "
                 "AND (alerted OR status <> 'new') AND COALESCE(intent, '') <> 'spam'")
ANSWERED_SQL = "(first_response_at IS NOT NULL OR replied_at IS NOT NULL)"

# (name, predicate, columns before, columns after)
INDEXES = (
    ('ix_mentions_open_work', OPEN_WORK_SQL,
     ['workspace_id', 'status', 'watch_id', 'priority', 'published_at', 'alerted', 'intent'],
     ['workspace_id', 'status', 'watch_id', 'priority', 'published_at', 'created_at',
      'topic_mask', 'id', 'alerted', 'intent']),
    ('ix_mentions_open_by_urgency', OPEN_WORK_SQL,
     ['workspace_id', 'priority DESC', 'published_at', 'id'],
     ['workspace_id', 'priority DESC', 'published_at', 'id', 'watch_id', 'created_at',
      'status', 'alerted', 'intent']),
    ('ix_mentions_answered', ANSWERED_SQL,
     ['workspace_id', 'published_at', 'watch_id', 'status', 'intent', 'first_response_at'],
     ['workspace_id', 'published_at', 'watch_id', 'status', 'intent', 'first_response_at',
      'alerted', 'created_at', 'id', 'replied_at']),
)


def _rebuild(after: bool) -> None:
    for name, where, before_columns, after_columns in INDEXES:
        op.drop_index(name, table_name='mentions')
        columns = after_columns if after else before_columns
        op.create_index(name, 'mentions', [sa.text(c) if " " in c else c for c in columns],
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    _rebuild(after=True)
    op.create_index('ix_mention_watches_waiting', 'mention_watches',
                    ['watch_id', 'published_at', 'priority', 'mention_id', 'alerted'],
                    sqlite_where=sa.text('NOT alerted'), postgresql_where=sa.text('NOT alerted'))


def downgrade() -> None:
    op.drop_index('ix_mention_watches_waiting', table_name='mention_watches')
    _rebuild(after=False)
