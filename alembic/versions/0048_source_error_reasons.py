"""source_error_reasons: a source's health error in the reader's language

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-06 20:00:00

`/cm source list` showed a failing source's error in English whatever the reader's
language: ``last_error`` is the English sentence. ``last_error_reasons`` keeps the same
error as catalogue keys and parameters (``[[key, params], ...]``), which Slack words for
each reader; rows failed before it (NULL) keep showing ``last_error``.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0048'
down_revision: str | None = '0047'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('sources', sa.Column(
        'last_error_reasons',
        sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
        nullable=True))


def downgrade() -> None:
    op.drop_column('sources', 'last_error_reasons')
