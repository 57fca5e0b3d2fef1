"""PostgreSQL: three foreign keys whose per-row checks ingest paid for nothing, kept by
statement-level triggers instead

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-05 21:15:00

A foreign key checks every inserted row with a query of its own (``SELECT 1 ... FOR KEY
SHARE`` on the referenced row): for a batch of 1,000 new mentions, these three cost about
10 ms of the server's CPU (of about 85 ms for the batch's INSERT with its triggers, the
backend's CPU time measured over repeated rolled-back batches), and none of them can fail
for the rows ingest writes:

- ``mentions.author_id -> authors``: the only writer of ``author_id`` is ingest, which takes
  the ids from the batch's author upsert (``storage.bulk.upsert_authors``) in the same
  transaction. That upsert has just inserted or updated (so locked until commit) every
  author a mention names: it exists, and no other transaction can delete it first.
- ``mention_watches.workspace_id -> workspaces``: a link's workspace is always its
  mention's (the first link is copied from the mention by 0030's trigger, the others are
  made for mentions read in the watch's workspace), and the mention's own key checks it.
  Its ``ON DELETE CASCADE`` is kept by the mention's: a workspace's mentions go with it
  (``mentions.workspace_id``), and their links with them (``mention_watches.mention_id``).
- ``mention_search_pending.mention_id -> mentions``: queued only by 0023's triggers, from
  the mentions rows their statement has just inserted or updated.

What the keys did on delete is kept, set-based, by statement-level triggers with a
transition table: deleting authors sets their mentions' ``author_id`` to NULL (the key's
``ON DELETE SET NULL``), deleting mentions removes their queued search rows (``ON DELETE
CASCADE``). The other keys of these tables stay here (``mention_watches.mention_id``
guards links made for mentions read earlier in the transaction, which another one may
delete meanwhile; the watch keys are migration 0034's). SQLite keeps its keys: its checks are
cheap look-ups in the same process, and dropping one would mean rebuilding the table.
The downgrade drops the triggers, does what the keys would have done to rows a TRUNCATE
left behind, and adds the keys back.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0033'
down_revision: str | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, key name, column, referenced table, ON DELETE)
KEYS = (
    ("mentions", "fk_mentions_author_id_authors", "author_id", "authors", "SET NULL"),
    ("mention_watches", "fk_mention_watches_workspace_id_workspaces", "workspace_id",
     "workspaces", "CASCADE"),
    ("mention_search_pending", "fk_mention_search_pending_mention_id_mentions", "mention_id",
     "mentions", "CASCADE"),
)

UP = [
    "CREATE FUNCTION authors_deleted_unset_mentions() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE mentions m SET author_id = NULL FROM old_rows o WHERE m.author_id = o.id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER authors_deleted_unset_mentions AFTER DELETE ON authors "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION authors_deleted_unset_mentions()",
    "CREATE FUNCTION mentions_deleted_unqueue_search() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN DELETE FROM mention_search_pending p USING old_rows o WHERE p.mention_id = o.id; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER mentions_deleted_unqueue_search AFTER DELETE ON mentions "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION mentions_deleted_unqueue_search()",
]
DOWN = [
    "DROP TRIGGER IF EXISTS mentions_deleted_unqueue_search ON mentions",
    "DROP FUNCTION IF EXISTS mentions_deleted_unqueue_search()",
    "DROP TRIGGER IF EXISTS authors_deleted_unset_mentions ON authors",
    "DROP FUNCTION IF EXISTS authors_deleted_unset_mentions()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name, _column, _target, _action in KEYS:
        op.drop_constraint(name, table, type_="foreignkey")
    for statement in UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWN:
        op.execute(statement)
    for table, name, column, target, action in KEYS:
        # Rows left pointing at a deleted row (a TRUNCATE or hand-written SQL skips the
        # triggers) would refuse the key: do first what the key would have done.
        orphan = (f"{column} IS NOT NULL AND NOT EXISTS "
                  f"(SELECT 1 FROM {target} t WHERE t.id = {table}.{column})")
        if action == "SET NULL":
            op.execute(f"UPDATE {table} SET {column} = NULL WHERE {orphan}")
        else:
            op.execute(f"DELETE FROM {table} WHERE {orphan}")
        op.create_foreign_key(name, table, target, [column], ["id"], ondelete=action)
