"""mentions: a mention whose card is queued is alerted (open work, with an SLA) already

Revision ID: 0057
Revises: 0056
Create Date: 2026-12-07 05:05:00

Before 2026-12-07 a mention was marked ``alerted`` only once Slack accepted its card (or
refused it for good), so while its card waited in the outbox (a backlog, a stretch of
429s, a paused workspace) it was neither open work nor subject to the SLA: a crisis's
complaints left the digest, App Home and the SLA checks until the outbox drained. The
decision to alert (the card queued) now marks it (``bot.services.watch_links``); this
marks the mentions whose card is queued at the upgrade, as the decision would have. The
partial indexes' predicates are unchanged. The downgrade leaves them marked (their cards
are on their way, and the card going out marks them alerted anyway).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0057'
down_revision: str | None = '0056'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# bot.services.outbox's KIND_CARD and OutboxStatus.PENDING, as stored, copied: a migration
# does not import the application.
CARD = "card"
PENDING = "pending"


def upgrade() -> None:
    mentions = sa.table("mentions", sa.column("id", sa.Integer()),
                        sa.column("alerted", sa.Boolean()))
    outbox = sa.table("outbox", sa.column("mention_id", sa.Integer()),
                      sa.column("kind", sa.String()), sa.column("status", sa.String()))
    queued = sa.select(outbox.c.mention_id).where(
        outbox.c.kind == CARD, outbox.c.status == PENDING, outbox.c.mention_id.is_not(None))
    op.execute(sa.update(mentions).where(mentions.c.alerted.is_(False),
                                         mentions.c.id.in_(queued)).values(alerted=True))


def downgrade() -> None:
    pass
