"""mentions: posts waiting for the brand's answer leave the stories they were folded into

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-06 19:40:00

Before 2026-12-06 a post sharing a story's link was folded into the story whatever it
said, so a customer writing to the brand with a complaint or a question (the stored reason
says "waiting for an answer" or "writes again") could sit inside another post's story:
no card of its own, no place in open work, the digest or App Home. Ingest no longer folds
them; this takes the ones folded before out of their stories (``story_id`` cleared), so
they count in open work and the digest again. A folded post never had its card, so it
was never marked alerted, which open work and the SLA checks need of a post nobody has
touched: the ones whose priority reached their watch's alert threshold are marked alerted
now (as a card Slack refused leaves its post: open work, the digest, App Home and the SLA
see it; the next action on it posts its card). Nothing is posted to Slack here: their
story's card reads its count again at its next update. The downgrade leaves them out
(which posts were folded is not kept; folding a customer into a story again would hide
them).
"""
from collections.abc import Sequence

import sqlalchemy as sa
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
    mentions = sa.table("mentions", sa.column("story_id", sa.Integer()),
                        sa.column("watch_id", sa.Integer()), sa.column("priority", sa.Integer()),
                        sa.column("priority_reason", sa.String()),
                        sa.column("alerted", sa.Boolean()))
    watches = sa.table("watches", sa.column("id", sa.Integer()),
                       sa.column("alert_threshold", sa.Integer()))
    folded = sa.and_(mentions.c.story_id.is_not(None), sa.or_(
        mentions.c.priority_reason.like(WAITING), mentions.c.priority_reason.like(WRITES_AGAIN)))
    threshold = sa.select(watches.c.alert_threshold).where(
        watches.c.id == mentions.c.watch_id).scalar_subquery()
    op.execute(sa.update(mentions).where(folded, mentions.c.priority >= threshold)
               .values(alerted=True))
    op.execute(sa.update(mentions).where(folded).values(story_id=None))


def downgrade() -> None:
    pass
