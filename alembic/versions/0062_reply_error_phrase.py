"""reply_error_phrase: why a reply failed, as a phrase, beside its English words

Revision ID: 0062
Revises: 0061
Create Date: 2026-12-07 11:00:00

``reply_posts.error`` held a failed reply's reason as a phrase (JSON) since replies tell it
in the workspace's language, and a release before that, drawing the card meanwhile (two
releases run side by side during a deploy), showed the JSON, escaped, on the card. The
phrase moves to ``error_phrase``; ``error`` holds its English words again (after
``rate limited: `` while the reply waits), which every release reads. Moved ``BATCH`` rows at
a time. The downgrade drops the phrase and keeps the words, which the releases before this
one all show (in English).
"""
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0062'
down_revision: str | None = '0061'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
RATE_LIMITED = "rate limited: "
"""As ``bot.services.reply_queue`` writes it (a copy: this migration must not change with
it)."""
_PHRASE = '{"phrase"'


def moved(row_id: int, error: str) -> dict[str, Any] | None:
    """The words and phrase ``error`` (a phrase as JSON, with its English ``text``) moves
    to; None when it holds words already."""
    prefix = RATE_LIMITED if error.startswith(RATE_LIMITED) else ""
    stored = error[len(prefix):]
    if not stored.startswith(_PHRASE):
        return None  # SQLite's LIKE ignores case
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    return {"id": row_id, "words": prefix + data["text"], "phrase": stored}


def upgrade() -> None:
    op.add_column('reply_posts', sa.Column('error_phrase', sa.Text(), nullable=True))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, error FROM reply_posts WHERE id > :last "
            "AND (error LIKE :phrase OR error LIKE :waiting) ORDER BY id LIMIT :n"),
            {"last": last, "phrase": _PHRASE + "%", "waiting": RATE_LIMITED + _PHRASE + "%",
             "n": BATCH}).all()
        if not rows:
            break
        last = rows[-1][0]
        updates = [row for row in (moved(row_id, error) for row_id, error in rows) if row]
        if updates:
            conn.execute(sa.text("UPDATE reply_posts SET error = :words, "
                                 "error_phrase = :phrase WHERE id = :id"), updates)


def downgrade() -> None:
    op.drop_column('reply_posts', 'error_phrase')
