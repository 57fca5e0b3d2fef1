"""mention_rollups: dropped, written by retention and read by nothing

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-06 19:30:00

Retention folded every purged mention into ``mention_rollups`` (per watch, network,
sentiment and UTC day found: mentions and how many were replied to), but no report, command
or export read it: the count tables (``mention_hour_counts``, ``mention_day_counts``,
``mention_priority_counts``, with ``purged_links``) keep every figure the reports show for
purged days, exactly and by published time. Its one figure of its own, ``replied``, cannot
stand in for the reports' answered share either: it is keyed by the day a post was found,
counts ``replied_at`` only (not the first response) and every post (not the actionable
ones). The rows go with the table; the downgrade brings the table back empty.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0046'
down_revision: str | None = '0045'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table('mention_rollups')


def downgrade() -> None:
    op.create_table(
        'mention_rollups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=True),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('sentiment', sa.String(length=16), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.Column('replied', sa.Integer(), nullable=False),
        sa.Column('is_first', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(['watch_id'], ['watches.id'],
                                name=op.f('fk_mention_rollups_watch_id_watches'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_mention_rollups_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_rollups')),
        sa.UniqueConstraint('workspace_id', 'watch_id', 'network', 'sentiment', 'day',
                            'is_first', name='uq_mention_rollups_key'),
    )
