"""reddit_handle_keys: a Reddit author's ``from:`` key is their name, without ``u/``

Revision ID: 0063
Revises: 0062
Create Date: 2026-12-07 14:30:00

``from:NAME`` and ``from:u/NAME`` now select the Reddit author stored as ``u/NAME``
(``bot.matching.query.handle_key`` drops ``u/`` and ``/u/``), whose ``authors.handle_key``
was ``u/name``: listings looked them up under ``name`` and found nobody, and a Reddit
customer writing again was not found among the open cases. The authors whose handle starts
with ``u/`` or ``/u/`` get their key again, ``BATCH`` at a time. The downgrade gives them
back the key releases before this one compute (the whole folded handle's first label).
"""
import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from bot.matching.query import handle_key
from bot.matching.text import fold

revision: str = '0063'
down_revision: str | None = '0062'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
_LABEL = re.compile(r"[.@]")


def _key_before(handle: str) -> str:
    """``handle_key`` as releases before 0063 computed it (a copy: it must not change)."""
    value = fold(handle.strip())
    value = value[1:] if value.startswith("@") else value
    return _LABEL.split(value, maxsplit=1)[0][:200]


def _rekey(key: Callable[[str], str]) -> None:
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, handle, handle_key FROM authors WHERE id > :last "
            "AND (lower(handle) LIKE 'u/%' OR lower(handle) LIKE '/u/%') "
            "ORDER BY id LIMIT :n"), {"last": last, "n": BATCH}).all()
        if not rows:
            break
        last = rows[-1][0]
        changed = [{"id": row_id, "key": new} for row_id, handle, old in rows
                   if (new := key(handle)) != old]
        if changed:
            conn.execute(sa.text("UPDATE authors SET handle_key = :key WHERE id = :id"),
                         changed)


def upgrade() -> None:
    _rekey(handle_key)


def downgrade() -> None:
    _rekey(_key_before)
