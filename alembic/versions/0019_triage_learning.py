"""triage learning: labels from the team's actions, per-workspace calibration, runs

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 08:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'triage_labels',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=True),
        sa.Column('positive', sa.Boolean(), nullable=False),
        sa.Column('action', sa.String(length=24), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=32), nullable=False),
        sa.Column('surface', sa.String(length=24), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('alerted', sa.Boolean(), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('labelled_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'],
                                name=op.f('fk_triage_labels_mention_id_mentions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['watch_id'], ['watches.id'],
                                name=op.f('fk_triage_labels_watch_id_watches'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_triage_labels_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_labels')),
        sa.UniqueConstraint('mention_id', name=op.f('uq_triage_labels_mention_id')),
    )
    op.create_index(op.f('ix_triage_labels_workspace_id_decided_at_id'), 'triage_labels',
                    ['workspace_id', 'decided_at', 'id'])
    op.create_table(
        'triage_calibrations',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('offset', sa.Integer(), server_default='0', nullable=False),
        sa.Column('updated_by', sa.String(length=32), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_triage_calibrations_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_triage_calibrations')),
    )
    op.create_table(
        'triage_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('run_key', sa.String(length=40), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=32), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('applied', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('offset_before', sa.Integer(), nullable=False),
        sa.Column('offset_after', sa.Integer(), nullable=False),
        sa.Column('proposed', sa.Integer(), nullable=True),
        sa.Column('figures', sa.JSON().with_variant(
            postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_triage_runs_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_runs')),
        sa.UniqueConstraint('workspace_id', 'run_key',
                            name=op.f('uq_triage_runs_workspace_id_run_key')),
    )
    op.create_index(op.f('ix_triage_runs_workspace_id_id'), 'triage_runs',
                    ['workspace_id', 'id'])


def downgrade() -> None:
    op.drop_table('triage_runs')
    op.drop_table('triage_calibrations')
    op.drop_table('triage_labels')
