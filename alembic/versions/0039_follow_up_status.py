"""mentions: follow-ups stored before the follow_up status get it

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-06 14:30:00

Since the ``follow_up`` status, a customer's post that joins a case becomes ``follow_up``
when it joins (``bot.services.cases._join``): its case's first mention carries the work, so
listings, the Home, SLA checks and the digest leave it out. Follow-ups stored before kept
``new`` and stayed there as phantom open work nobody could clear (the workflow acts on the
case's first mention for their id). This gives them the status ``_join`` gives today:

- a follow-up is a mention filed in a case (``case_posts.case_id``) that is not that case's
  first mention (``cases.root_mention_id``), as ``bot.services.cases.follow_ups_among``
  reads it; a mention that is the first mention of some case is never one (it carries
  that case's work, whatever an older race left in ``case_posts``);
- only those still ``new`` change, as ``_join`` changes only a ``new`` one: a follow-up
  someone assigned, drafted, answered, closed or ignored shows work a person did on it
  and keeps its status.

The status column is VARCHAR(24) on both engines (0001, never altered; no enum type or
check constraint), so ``follow_up`` needs no schema change. The version goes up with the
status, as in every status change: a Vigie still running the old code, holding the old
version, cannot then move the mention on a stale read. Nothing else is written (no audit
event, no note: the posts joined their cases long ago).

Rows are changed a bounded chunk at a time: the case posts are walked by mention id
(their unique index), ``BATCH`` at a time, one UPDATE per chunk. The downgrade gives every
``follow_up`` mention back ``new`` (the only status it can come from; the old code knows
no other), walking mentions by id the same way.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0039'
down_revision: str | None = '0038'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW = 'new'
FOLLOW_UP = 'follow_up'
BATCH = 5000
"""Case posts (upgrade) or mentions (downgrade) one UPDATE covers at most."""

_NEXT_CASE_POSTS = sa.text(
    'SELECT mention_id FROM case_posts WHERE mention_id > :after '
    'ORDER BY mention_id LIMIT 1 OFFSET :skip')
_MARK = (
    "UPDATE mentions SET status = :follow_up, version = version + 1 "
    "WHERE status = :new AND id IN ("
    "SELECT p.mention_id FROM case_posts p JOIN cases c ON c.id = p.case_id "
    "WHERE p.mention_id > :after{upto} AND p.mention_id <> c.root_mention_id "
    "AND NOT EXISTS (SELECT 1 FROM cases r WHERE r.root_mention_id = p.mention_id))")
_NEXT_MENTIONS = sa.text(
    'SELECT id FROM mentions WHERE id > :after AND status = :follow_up '
    'ORDER BY id LIMIT 1 OFFSET :skip')
_UNMARK = ("UPDATE mentions SET status = :new, version = version + 1 "
           "WHERE status = :follow_up AND id > :after{upto}")


def _chunks(conn: sa.Connection, walk: sa.TextClause, batch: int,
            **params: object) -> list[tuple[int, int | None]]:
    """(after, up to) id ranges of at most ``batch`` rows each of ``walk``'s rows; None:
    the last range, open ended. Read before any UPDATE, so an UPDATE cannot move them."""
    ranges: list[tuple[int, int | None]] = []
    after = 0
    while True:
        upto = conn.execute(walk, {'after': after, 'skip': batch - 1, **params}).scalar()
        if upto is None:
            ranges.append((after, None))
            return ranges
        ranges.append((after, int(upto)))
        after = int(upto)


def _run(conn: sa.Connection, statement: str, ranges: list[tuple[int, int | None]],
         column: str) -> int:
    changed = 0
    for after, upto in ranges:
        bounded = statement.format(upto='' if upto is None else f' AND {column} <= :upto')
        result = conn.execute(sa.text(bounded), {
            'new': NEW, 'follow_up': FOLLOW_UP, 'after': after, 'upto': upto})
        changed += result.rowcount
    return changed


def mark_follow_ups(conn: sa.Connection, batch: int = BATCH) -> int:
    """Give ``follow_up`` to the follow-ups still ``new``; how many changed."""
    return _run(conn, _MARK, _chunks(conn, _NEXT_CASE_POSTS, batch), 'p.mention_id')


def unmark_follow_ups(conn: sa.Connection, batch: int = BATCH) -> int:
    """Give every ``follow_up`` mention back ``new``; how many changed."""
    return _run(conn, _UNMARK, _chunks(conn, _NEXT_MENTIONS, batch, follow_up=FOLLOW_UP),
                'id')


def upgrade() -> None:
    mark_follow_ups(op.get_bind())


def downgrade() -> None:
    unmark_follow_ups(op.get_bind())
