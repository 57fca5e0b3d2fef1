"""workspace_uninstalled_at: when Slack told Vigie it was uninstalled from a workspace

Revision ID: 0058
Revises: 0057
Create Date: 2026-12-07 05:10:00

Slack's ``app_uninstalled`` (and ``tokens_revoked`` for the bot token) now marks the
workspace: its sources are no longer polled and its outbox is paused until a reinstall
clears the mark. Existing workspaces are installed: the column starts NULL, no backfill.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0058'
down_revision: str | None = '0057'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('workspaces', sa.Column('uninstalled_at', sa.DateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    op.drop_column('workspaces', 'uninstalled_at')
