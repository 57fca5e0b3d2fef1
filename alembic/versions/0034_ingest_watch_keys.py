"""PostgreSQL: the watch keys of mentions and their links are held by ingest's lock on its
watch instead of checked row by row; deleting a watch unsets them set-based

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-05 21:10:00

``mentions.watch_id`` and ``mention_watches.watch_id`` reference ``watches`` (``ON DELETE SET
NULL``). Their per-row checks cost about 7 ms of the server's CPU per 1,000 new mentions
(the mention and its first link each check the same watch), and they are redundant with
how rows are written: ingest is the only writer of either column, it writes the id of the
watch it ingests for, and on PostgreSQL it first takes that watch's row ``FOR KEY SHARE``
(``storage.bulk.hold_watch``, once per batch), so the watch exists and cannot be deleted
before the batch commits (a batch whose watch is gone stores nothing).

What the keys did on delete is kept by one statement-level trigger on ``watches``: a
deleted watch's mentions and links get ``watch_id`` NULL, in one UPDATE each (the links'
counts move to watch 0 through 0030's triggers, as they did). SQLite keeps its keys (its
checks are cheap look-ups in the same process; dropping one would rebuild the table). The
downgrade drops the trigger, unsets ids of watches that no longer exist, and adds the keys
back. A TRUNCATE fires no delete trigger: truncating watches is refused by the other keys.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, key name)
KEYS = (
    ("mentions", "fk_mentions_watch_id_watches"),
    ("mention_watches", "fk_mention_watches_watch_id_watches"),
)

UP = [
    "CREATE FUNCTION watches_deleted_unset_mentions() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN "
    # workspace_id too: (workspace_id, watch_id, published_at) finds a watch's mentions.
    "UPDATE mentions m SET watch_id = NULL FROM old_rows o "
    "WHERE m.workspace_id = o.workspace_id AND m.watch_id = o.id; "
    "UPDATE mention_watches l SET watch_id = NULL FROM old_rows o WHERE l.watch_id = o.id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER watches_deleted_unset_mentions AFTER DELETE ON watches "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION watches_deleted_unset_mentions()",
]
DOWN = [
    "DROP TRIGGER IF EXISTS watches_deleted_unset_mentions ON watches",
    "DROP FUNCTION IF EXISTS watches_deleted_unset_mentions()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name in KEYS:
        op.drop_constraint(name, table, type_="foreignkey")
    for statement in UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWN:
        op.execute(statement)
    for table, name in KEYS:
        # Rows left pointing at a deleted watch (a TRUNCATE or hand-written SQL skips the
        # trigger) would refuse the key: unset them first, as the key would have.
        op.execute(f"UPDATE {table} SET watch_id = NULL WHERE watch_id IS NOT NULL "
                   "AND NOT EXISTS (SELECT 1 FROM watches w WHERE w.id = watch_id)")
        op.create_foreign_key(name, table, "watches", ["watch_id"], ["id"],
                              ondelete="SET NULL")
