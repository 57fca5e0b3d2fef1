"""drop ix_mentions_workspace_id_published_at: the influencer window index covers it

Revision ID: 0027
Revises: 0025
Create Date: 2026-12-05 18:10:00

``ix_mentions_influencer_window`` (0026) starts with the same two columns
(workspace_id, published_at), so every look-up or range scan the narrower index answered,
the wider one answers too (and reads the period's authors, engagement, sentiment and
topics from the index alone). Each index costs every insert: ingest stores a batch of
mentions a statement at a time, and this one was about 2% of the database's time for it.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0027'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = 'ix_mentions_workspace_id_published_at'


def upgrade() -> None:
    op.drop_index(INDEX, table_name='mentions')


def downgrade() -> None:
    op.create_index(INDEX, 'mentions', ['workspace_id', 'published_at'], unique=False)
