"""notification states: DMs on or off per member, approval digest window, stale App Homes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 06:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'notification_states',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('dm_enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('digest_owed', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('digest_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('home_stale_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_notification_states_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_states')),
        sa.UniqueConstraint('workspace_id', 'user_id',
                            name=op.f('uq_notification_states_workspace_id_user_id')),
    )


def downgrade() -> None:
    op.drop_table('notification_states')
