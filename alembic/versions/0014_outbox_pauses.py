"""outbox pauses: workspaces whose bot token Slack refuses; outbox rows by mention

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 06:10:00

While Slack refuses a workspace's token (invalid_auth, token_revoked...) its outbox rows
stay pending instead of failing one by one; this table says which workspaces are paused,
since when, why, and when the next delivery attempt probes the token again.

Outbox rows are looked up by mention (is a card on its way? which notes wait for it? the
cascade when a mention is deleted): an index on (mention_id, kind) spares a scan of every
row ever sent.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_pauses',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('probes', sa.Integer(), nullable=False),
    sa.Column('last_probe_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('next_probe_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_outbox_pauses_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_outbox_pauses'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_mention_id_kind'), ['mention_id', 'kind'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_mention_id_kind'))
    op.drop_table('outbox_pauses')
