"""outbox_send_rank: a channel's waiting messages go by rank, then in id order

Revision ID: 0056
Revises: 0055
Create Date: 2026-12-07 05:00:00

During a surge, the spike alert and a card's update after a click waited behind every card
queued before them in their channel, at one message a second. ``outbox.send_rank`` orders
a channel's queue (``bot.services.outbox.send_rank``): updates of posted messages and the
team's thread notes first, then "bad buzz" alerts, then new cards by their mention's
priority, then the rest (digests, reports, files). ``ix_outbox_status_send_rank_id`` lets
the sender read the waiting rows in that order from the index. The rows waiting now, and
the failed ones (``vigie outbox retry``, a lost card posted again), are ranked from what
they are; sent rows keep the default.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0056'
down_revision: str | None = '0055'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING_RANKS = """
UPDATE outbox SET send_rank = CASE
    WHEN kind IN ('update_card', 'update_post', 'update_opportunity', 'redact', 'thread')
        THEN 0
    WHEN id IN (SELECT alert_outbox_id FROM spike_events WHERE alert_outbox_id IS NOT NULL)
        THEN 100
    WHEN kind = 'card' THEN 300 - COALESCE((
        SELECT CASE WHEN m.priority > 100 THEN 100 WHEN m.priority < 0 THEN 0
                    ELSE m.priority END
        FROM mentions m WHERE m.id = outbox.mention_id), 0)
    WHEN kind = 'opportunity' THEN 300
    ELSE 400 END
WHERE status <> 'sent'
"""


def upgrade() -> None:
    op.add_column('outbox', sa.Column('send_rank', sa.SmallInteger(), nullable=False,
                                      server_default='400'))
    op.execute(WAITING_RANKS)
    op.create_index('ix_outbox_status_send_rank_id', 'outbox', ['status', 'send_rank', 'id'])


def downgrade() -> None:
    op.drop_index('ix_outbox_status_send_rank_id', table_name='outbox')
    op.drop_column('outbox', 'send_rank')
