"""cases_sla_started: the SLA checks find the cases whose wait restarted lately

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-06 14:30:00

The SLA checks look at mentions received in the last 30 days and, since a reopened case's
clock restarts when the customer writes again, at the first mentions of the cases that
reopened in that time, however old. An index on ``cases.sla_started_at`` finds those.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0040'
down_revision: str | None = '0039'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_cases_sla_started_at', 'cases', ['sla_started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_sla_started_at', table_name='cases')
