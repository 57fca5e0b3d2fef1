"""story and reply indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 05:45:08.528891
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentions_story_id'), ['story_id'], unique=False)

    with op.batch_alter_table('reply_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_posts_mention_id'), ['mention_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reply_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_posts_mention_id'))

    with op.batch_alter_table('mentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentions_story_id'))

