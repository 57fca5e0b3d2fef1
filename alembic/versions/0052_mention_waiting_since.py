"""mentions.waiting_since: the SLA clock a story's new first post carries

Revision ID: 0052
Revises: 0051
Create Date: 2026-12-07 01:20:00

When a story's first post is deleted (a forget, the retention purge), the earliest post
left takes the story over (``bot.services.stories``) with its work: assignee, status and
the SLA clock, which started when the story's first post reached Vigie, before the new
first post did. ``waiting_since`` keeps that start (None: the post's own received time).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0052'
down_revision: str | None = '0051'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('mentions', sa.Column('waiting_since', sa.DateTime(timezone=True),
                                        nullable=True))


def downgrade() -> None:
    op.drop_column('mentions', 'waiting_since')
