"""author_handle_key: ``from:`` searches read the authors and mentions indexes

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-06 23:00:00

``/cm mentions from:alice`` and ``vigie mentions --text 'from:alice'`` (one author's posts,
for a data-access request or an influencer check) were refused: the full-text index has
nothing to say about authors. ``authors.handle_key`` holds the folded first label of the
handle (``bot.matching.query.handle_key``: ``@Alice@mastodon.social`` is ``alice``), which
every handle ``from:alice`` matches shares; ``ix_authors_workspace_id_handle_key`` finds
those authors and ``ix_mentions_author_id_id`` their mentions newest first. Existing
authors get their key here, in batches.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from bot.matching.query import handle_key

revision: str = '0050'
down_revision: str | None = '0049'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    op.add_column('authors', sa.Column('handle_key', sa.String(length=200), nullable=True))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, handle FROM authors WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH}).all()
        if not rows:
            break
        conn.execute(sa.text("UPDATE authors SET handle_key = :key WHERE id = :id"),
                     [{"id": row[0], "key": handle_key(row[1])} for row in rows])
        last = rows[-1][0]
    op.create_index('ix_authors_workspace_id_handle_key', 'authors',
                    ['workspace_id', 'handle_key'])
    op.create_index('ix_mentions_author_id_id', 'mentions', ['author_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_mentions_author_id_id', table_name='mentions')
    op.drop_index('ix_authors_workspace_id_handle_key', table_name='authors')
    op.drop_column('authors', 'handle_key')
