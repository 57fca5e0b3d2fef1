"""forget_keys, forgotten: what `forget` erased is never stored again

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-06 12:00:00

``forget`` deleted an author's mentions, but the next poll of a source still serving their
posts (another source on the same feed, a cursor reset, a search) stored them again and
alerted again. ``forgotten`` keeps, per workspace, a keyed hash (BLAKE2b keyed with the
workspace's ``forget_keys`` key) of each forgotten handle and of each deleted post's
network and id; ingest drops the posts they match. No handle, name or text is stored.
The key is stored like a source token (encrypted when VIGIE_SECRET_KEY is set).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0037'
down_revision: str | None = '0036'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'forget_keys',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_forget_keys_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_forget_keys')),
    )
    op.create_table(
        'forgotten',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_forgotten_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_forgotten')),
        sa.UniqueConstraint('workspace_id', 'digest', name='uq_forgotten_workspace_id_digest'),
    )
    op.create_index('ix_forgotten_workspace_id_subject', 'forgotten',
                    ['workspace_id', 'subject'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_forgotten_workspace_id_subject', table_name='forgotten')
    op.drop_table('forgotten')
    op.drop_table('forget_keys')
