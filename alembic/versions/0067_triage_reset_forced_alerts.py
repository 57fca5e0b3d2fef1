"""triage_reset_at: when an admin last reset a workspace's learned threshold shift, and
which alerts no threshold decided

Revision ID: 0067
Revises: 0066
Create Date: 2026-12-07 17:45:00

A reset zeroed the shift but the next learning run read the same labels and moved it back.
Learning now reads only the labels made after the last reset
(``triage_calibrations.reset_at``). Workspaces never reset have none (NULL, no backfill):
their labels all count, as before.

A tracked author's post alerts whatever its priority, and a story's or a case's first post
gets its card when a later post makes it urgent: the team's actions on those were recorded
as labels of the threshold's decision and pulled every watch's threshold down. Such a link
now says so (``mention_watches.alert_forced``) and gives no label. Links stored before are
not flagged (false, no backfill: which alerts were forced is not recorded).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0067'
down_revision: str | None = '0066'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('triage_calibrations', sa.Column('reset_at', sa.DateTime(timezone=True),
                                                   nullable=True))
    op.add_column('mention_watches', sa.Column('alert_forced', sa.Boolean(), nullable=False,
                                               server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('mention_watches', 'alert_forced')
    op.drop_column('triage_calibrations', 'reset_at')
