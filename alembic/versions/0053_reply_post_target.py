"""reply_post_target: the post a reply answers is kept from its first attempt

Revision ID: 0053
Revises: 0052
Create Date: 2026-12-07 02:00:00

A reply answers the customer's newest post in its case, which was looked up again at every
attempt: when the customer wrote again between a lost answer and the retry, the retry
looked for the reply under the new post (not found: posted a second time on X, refused on
Bluesky). The post chosen at the first attempt is kept on the row and reused. Rows queued
before keep NULL until their next attempt chooses it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0053'
down_revision: str | None = '0052'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('reply_posts', sa.Column('target_external_id', sa.String(length=500),
                                           nullable=True))
    op.add_column('reply_posts', sa.Column('target_url', sa.Text(), nullable=True))
    op.add_column('reply_posts', sa.Column('target_language', sa.String(length=8),
                                           nullable=True))


def downgrade() -> None:
    op.drop_column('reply_posts', 'target_language')
    op.drop_column('reply_posts', 'target_url')
    op.drop_column('reply_posts', 'target_external_id')
