"""mention topics (billing, delivery, account, outage, quality, churn) and topic routes

Existing mentions get their topics in batches of 500 (keyset on id), from the detector
shipped with this revision.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-05 08:55:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from bot.analysis.topics import detect_topics, topic_mask, topics_json

revision: str = '0018'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('mentions') as batch:
        batch.add_column(sa.Column('topics', JSON, server_default='[]', nullable=False))
        batch.add_column(sa.Column('topic_mask', sa.Integer(), server_default='0',
                                   nullable=False))
    op.create_table(
        'topic_routes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=16), nullable=False),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['watch_id'], ['watches.id'],
                                name=op.f('fk_topic_routes_watch_id_watches'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_topic_routes_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_topic_routes')),
        sa.UniqueConstraint('watch_id', 'topic', name=op.f('uq_topic_routes_watch_id_topic')),
    )
    backfill(op.get_bind())


def backfill(connection: sa.Connection) -> int:
    """Detect the topics of every stored mention, ``BATCH`` rows per statement; returns
    how many mentions have a topic."""
    mentions = sa.table('mentions', sa.column('id', sa.Integer()), sa.column('title'),
                        sa.column('text'), sa.column('topics', JSON),
                        sa.column('topic_mask', sa.Integer()))
    last, found = 0, 0
    while True:
        rows = connection.execute(
            sa.select(mentions.c.id, mentions.c.title, mentions.c.text)
            .where(mentions.c.id > last).order_by(mentions.c.id).limit(BATCH)).all()
        if not rows:
            return found
        updates = []
        for mention_id, title, text in rows:
            matches = detect_topics(f"{title}\n{text}" if title else text or "")
            if matches:
                updates.append({"key": mention_id, "topics": topics_json(matches),
                                "mask": topic_mask([m.name for m in matches])})
        if updates:
            connection.execute(
                mentions.update().where(mentions.c.id == sa.bindparam('key'))
                .values(topics=sa.bindparam('topics'), topic_mask=sa.bindparam('mask')),
                updates)
            found += len(updates)
        last = rows[-1][0]


def downgrade() -> None:
    op.drop_table('topic_routes')
    # Not in batch mode: on SQLite that copies the table and loses its triggers (0016's).
    op.drop_column('mentions', 'topic_mask')
    op.drop_column('mentions', 'topics')
