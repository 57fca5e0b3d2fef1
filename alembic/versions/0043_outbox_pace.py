"""outbox_pace: the per-channel pace of the outbox, shared by every sender

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-06 17:30:00

Each process (every worker of ``vigie web``, ``vigie worker``) paced its channels in its
own memory, so two senders together went past Slack's one message per second per channel.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0043'
down_revision: str | None = '0042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'outbox_pace',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('next_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_outbox_pace_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', 'channel', name=op.f('pk_outbox_pace')),
    )


def downgrade() -> None:
    op.drop_table('outbox_pace')
