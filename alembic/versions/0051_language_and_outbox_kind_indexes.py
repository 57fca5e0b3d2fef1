"""language_and_outbox_kind_indexes: ``lang:`` searches and a forget's outbox scan read an index

Revision ID: 0051
Revises: 0050
Create Date: 2026-12-07 01:30:00

``/cm mentions lang:de`` (the ``lang:`` field alone) walked the workspace's newest mentions
checking each one's language: a rare language read every mention.
``ix_mentions_workspace_id_language_id`` holds a language's mentions newest first (ingest
stores ``bot.analysis.language`` codes, so ``lang:de`` is ``language = 'de'``).

``/cm forget`` looks in the outbox for the messages quoting the person (spike alerts,
digests, notes, DMs) since their first mention: sent rows are kept, so it read every row
of the outbox. ``ix_outbox_workspace_id_kind_created_at`` reads only the kinds it checks,
from that time on. Both indexes are built from the rows already stored: no backfill.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0051'
down_revision: str | None = '0050'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_mentions_workspace_id_language_id', 'mentions',
                    ['workspace_id', 'language', 'id'])
    op.create_index('ix_outbox_workspace_id_kind_created_at', 'outbox',
                    ['workspace_id', 'kind', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_outbox_workspace_id_kind_created_at', table_name='outbox')
    op.drop_index('ix_mentions_workspace_id_language_id', table_name='mentions')
