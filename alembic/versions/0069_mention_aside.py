"""mentions.aside: the words outside a post's text that its network's search reads

Revision ID: 0069
Revises: 0068
Create Date: 2026-12-08 01:10:00

A Mastodon status found by its image description or a poll option keeps those lines out
of its text (the fingerprint, brand addressing, cases and drafts read the author's words
only), and the watch's query matched them at ingest. They were not stored, so the query
trial and the mention search, which match the stored text, could not find the mention
again. ``aside`` keeps them (one a line, NULL for most mentions); the full-text index
reads them with the text. Mentions stored before this revision have none.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0069'
down_revision: str | None = '0068'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('mentions', sa.Column('aside', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('mentions', 'aside')
