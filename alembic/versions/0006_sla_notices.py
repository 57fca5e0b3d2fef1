"""sla notices

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 05:45:39.201330
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sla_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'], name=op.f('fk_sla_notices_mention_id_mentions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_notices')),
    sa.UniqueConstraint('mention_id', 'kind', name=op.f('uq_sla_notices_mention_id_kind'))
    )


def downgrade() -> None:
    op.drop_table('sla_notices')
