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
they are; sent rows keep the default. On PostgreSQL the index is built concurrently: the
outbox is never held (it was, for as long as the build took: 8 s of stalled sending and
queueing on 3,000,000 rows).
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


INDEX = 'ix_outbox_status_send_rank_id'


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        op.add_column('outbox', sa.Column('send_rank', sa.SmallInteger(), nullable=False,
                                          server_default='400'))
        op.execute(WAITING_RANKS)
        op.create_index(INDEX, 'outbox', ['status', 'send_rank', 'id'])
        return
    # The outbox is read and written by every sender, click and poll, and grows with every
    # message: it must not stay locked while an index of all its rows is built. The column
    # (with a constant default: no rewrite) and the ranks of the few waiting rows commit
    # first; the index is then built CONCURRENTLY, outside a transaction, letting readers
    # and writers through. Run again after a failed build (the column already there, an
    # invalid index left behind), it finishes the job.
    op.execute("ALTER TABLE outbox ADD COLUMN IF NOT EXISTS send_rank smallint NOT NULL "
               "DEFAULT 400")
    op.execute(WAITING_RANKS)
    with op.get_context().autocommit_block():
        invalid = op.get_bind().execute(sa.text(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = :name AND NOT i.indisvalid"), {"name": INDEX}).first()
        if invalid is not None:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
                   "ON outbox (status, send_rank, id)")


def downgrade() -> None:
    op.drop_index(INDEX, table_name='outbox')
    op.drop_column('outbox', 'send_rank')
