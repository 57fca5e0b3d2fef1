"""reply_rate_limited_calls: a rate limit no longer spends a reply's attempts

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-06 17:40:00

A reply the network rate limited kept the attempt its call counted, so a reply held over
several daily caps was failed by its first transient error (``MAX_ATTEMPTS``). Its call is
now given back and counted in ``rate_limited_calls`` instead: withdrawing still sees that
posting has started.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0044'
down_revision: str | None = '0043'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('reply_posts', sa.Column('rate_limited_calls', sa.Integer(),
                                           nullable=False, server_default='0'))


def downgrade() -> None:
    # The old schema tells "posting has started" by an attempt: keep that mark.
    op.execute("UPDATE reply_posts SET attempts = 1 "
               "WHERE attempts = 0 AND rate_limited_calls > 0")
    op.drop_column('reply_posts', 'rate_limited_calls')
