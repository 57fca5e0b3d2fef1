"""mention_context: a comment's thread or story title, shown as context, not its title

Revision ID: 0060
Revises: 0059
Create Date: 2026-12-07 07:50:00

A Reddit comment (``t1_`` ids) and a Hacker News comment (a post with a parent) were stored
with their thread's or story's title as their own title, which a watch's query, the
analysis and ``vigie watch test`` read as the comment's words. The title moves to
``context`` (the card shows it as such), and the comment keeps its own words only. The
downgrade puts it back as the title. The moved comments are indexed again by the upgrade.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0060'
down_revision: str | None = '0059'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COMMENTS = ("(network = 'reddit' AND external_id LIKE 't1\\_%' ESCAPE '\\') "
             "OR (network = 'hackernews' AND parent_external_id IS NOT NULL)")


def upgrade() -> None:
    from storage.search_index import index_pending

    op.add_column('mentions', sa.Column('context', sa.Text(), nullable=True))
    op.execute(f"UPDATE mentions SET context = title, title = NULL "
               f"WHERE title IS NOT NULL AND ({_COMMENTS})")
    # The search triggers queued every comment moved: indexed here, as 0023 did, not by
    # the first poll after the upgrade in its own transaction (21 s holding SQLite's write
    # lock for 200,000 comments, clicks and the outbox waiting) with every search taking
    # the queue as candidates until then.
    index_pending(op.get_bind(), aside=False)  # before 0069


def downgrade() -> None:
    op.execute(f"UPDATE mentions SET title = context "
               f"WHERE title IS NULL AND context IS NOT NULL AND ({_COMMENTS})")
    op.drop_column('mentions', 'context')
