"""mentions: posts waiting for the brand's answer leave the stories they were folded into

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-06 19:40:00

Before 2026-12-06 a post sharing a story's link was folded into the story whatever it
said, so a customer writing to the brand with a complaint or a question (the stored reason
says "waiting for an answer" or "writes again") could sit inside another post's story:
no card of its own, no place in open work, the digest or App Home. Ingest no longer folds
them; this takes the ones folded before out of their stories (``story_id`` cleared), so
they count in open work and the digest again. Nothing is posted to Slack: their story's
card reads its count again at its next update. The downgrade leaves them out (which posts
were folded is not kept; folding a customer into a story again would hide them).
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0047'
down_revision: str | None = '0046'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# bot.analysis.priority's WAITING_REASON and WRITES_AGAIN_REASON, as stored (never
# translated), copied: a migration does not import the application.
WAITING = "%waiting for an answer%"
WRITES_AGAIN = "%writes again%"


def upgrade() -> None:
    op.execute(
        "UPDATE mentions SET story_id = NULL WHERE story_id IS NOT NULL"
        f" AND (priority_reason LIKE '{WAITING}' OR priority_reason LIKE '{WRITES_AGAIN}')")


def downgrade() -> None:
    pass
