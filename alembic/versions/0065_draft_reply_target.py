"""draft_reply_target: the customer's post a draft version was written to answer

Revision ID: 0065
Revises: 0064
Create Date: 2026-12-07 17:40:00

A draft saved before the customer wrote again in its case answered an older post; approving
it sent that text in answer to the newer one. Each version now keeps the post it was written
for (``drafts.target_external_id``, the reply target when it was saved), and approval
refuses it once the customer wrote again since. Drafts saved before have none (NULL, no
backfill: which post their writer saw is not known) and are approved as before.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0065'
down_revision: str | None = '0064'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('drafts', sa.Column('target_external_id', sa.String(length=500),
                                      nullable=True))


def downgrade() -> None:
    op.drop_column('drafts', 'target_external_id')
