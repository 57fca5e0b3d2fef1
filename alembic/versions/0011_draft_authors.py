"""draft authors and approvals bound to a draft version

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 06:00:00

Four-eyes asks who wrote the text of the version being approved, not who saved it last:
``draft_authors`` lists, per draft version, every user whose words are in it. Existing
drafts get, conservatively, every user who saved any version of that mention up to and
including it. Approvals record the version they decided on and the SHA-256 of its text.
"""
import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    op.create_table(
        'draft_authors',
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['draft_id'], ['drafts.id'],
                                name=op.f('fk_draft_authors_draft_id_drafts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('draft_id', 'user_id', name=op.f('pk_draft_authors')),
    )
    op.execute(
        "INSERT INTO draft_authors (draft_id, user_id) "
        "SELECT DISTINCT d.id, p.author_user_id FROM drafts d "
        "JOIN drafts p ON p.mention_id = d.mention_id AND p.version <= d.version "
        "WHERE p.author_user_id IS NOT NULL AND p.author_user_id <> ''")
    with op.batch_alter_table('approvals') as batch:
        batch.add_column(sa.Column('draft_version', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('text_hash', sa.String(length=64), nullable=True))
    op.execute("UPDATE approvals SET draft_version = "
               "(SELECT version FROM drafts WHERE drafts.id = approvals.draft_id)")
    _backfill_hashes()


def _backfill_hashes() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(
            "SELECT approvals.id, drafts.text FROM approvals "
            "JOIN drafts ON drafts.id = approvals.draft_id "
            "WHERE approvals.id > :last ORDER BY approvals.id LIMIT :batch"),
            {"last": last, "batch": BATCH}).all()
        if not rows:
            return
        bind.execute(sa.text("UPDATE approvals SET text_hash = :hash WHERE id = :id"),
                     [{"id": row_id, "hash": hashlib.sha256(text.encode()).hexdigest()}
                      for row_id, text in rows])
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('approvals') as batch:
        batch.drop_column('text_hash')
        batch.drop_column('draft_version')
    op.drop_table('draft_authors')
