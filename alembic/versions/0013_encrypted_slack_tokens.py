"""room for encrypted Slack tokens

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-05 06:30:00

Tokens in slack_sdk's installation tables are stored encrypted when VIGIE_SECRET_KEY is set
(``bot.slack.oauth.EncryptedInstallationStore``); a Fernet token of a long rotating Slack
token does not fit slack_sdk's VARCHAR(200), which PostgreSQL enforces. The columns become
TEXT. Downgrading back to VARCHAR(200) fails on PostgreSQL while longer values are stored:
run it on a database whose tokens are plain (or removed).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BOT_COLUMNS = ("bot_token", "bot_refresh_token")
TABLES = {
    "slack_bots": BOT_COLUMNS,
    "slack_installations": (*BOT_COLUMNS, "user_token", "user_refresh_token",
                            "incoming_webhook_url"),
}


def upgrade() -> None:
    for table, columns in TABLES.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.String(length=200),
                                      type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    for table, columns in TABLES.items():
        with op.batch_alter_table(table) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.Text(),
                                      type_=sa.String(length=200), existing_nullable=True)
