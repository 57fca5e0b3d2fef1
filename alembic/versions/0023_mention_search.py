"""mention search: full-text index of mention texts (FTS5 / tsvector), listing indexes

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-05 08:40:00

The index holds the query language's own tokens (bot.matching.search_terms), computed in
Python: SQLite in an FTS5 table, PostgreSQL in a tsvector column with a GIN index, so no
database extension (unaccent, pg_trgm) is needed. Triggers queue new and edited mentions;
the backfill below indexes every existing mention.

Listing indexes: `/cm mentions` orders by id, newest first; with an equality filter the
(workspace_id, column, id) index reads exactly the page asked for (assignee with no rows:
0.1 ms instead of a scan of the whole table). A watch's listing holds every mention
linked to it (0016's mention_watches): it reads the links by (watch_id, mention_id).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTING_INDEXES = {
    # No equality filter (or a common word): newest first within the workspace.
    'ix_mentions_workspace_id_id': ['workspace_id', 'id'],
    'ix_mentions_workspace_id_assignee_user_id_id': ['workspace_id', 'assignee_user_id', 'id'],
    'ix_mentions_workspace_id_sentiment_label_id': ['workspace_id', 'sentiment_label', 'id'],
    'ix_mentions_workspace_id_network_id': ['workspace_id', 'network', 'id'],
}
LINK_INDEX = 'ix_mention_watches_watch_id_mention_id'


SQLITE_UP = [
    # Terms are separated by spaces; '_+#-' occur inside terms (c++, c#, jean-pierre).
    "CREATE VIRTUAL TABLE mention_search_fts USING fts5(title, body, "
    "tokenize = \"unicode61 remove_diacritics 0 tokenchars '_+#-'\")",
    "CREATE TRIGGER mention_search_insert AFTER INSERT ON mentions BEGIN "
    "INSERT OR IGNORE INTO mention_search_pending (mention_id) VALUES (new.id); END",
    "CREATE TRIGGER mention_search_update AFTER UPDATE OF title, text ON mentions BEGIN "
    "INSERT OR IGNORE INTO mention_search_pending (mention_id) VALUES (new.id); END",
    "CREATE TRIGGER mention_search_delete AFTER DELETE ON mentions BEGIN "
    "DELETE FROM mention_search_fts WHERE rowid = old.id; END",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS mention_search_delete",
    "DROP TRIGGER IF EXISTS mention_search_update",
    "DROP TRIGGER IF EXISTS mention_search_insert",
    "DROP TABLE IF EXISTS mention_search_fts",
]
POSTGRES_UP = [
    "CREATE TABLE mention_search (mention_id integer PRIMARY KEY "
    "REFERENCES mentions (id) ON DELETE CASCADE, doc tsvector)",
    "CREATE INDEX ix_mention_search_unindexed ON mention_search (mention_id) "
    "WHERE doc IS NULL",
    "CREATE FUNCTION mention_search_queue_rows() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO mention_search_pending (mention_id) SELECT id FROM new_rows "
    "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    "CREATE FUNCTION mention_search_queue_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN INSERT INTO mention_search_pending (mention_id) VALUES (NEW.id) "
    "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    # One statement-level trigger per INSERT: batched ingest pays one call, not one per row.
    "CREATE TRIGGER mention_search_insert AFTER INSERT ON mentions "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION mention_search_queue_rows()",
    "CREATE TRIGGER mention_search_update AFTER UPDATE OF title, text ON mentions "
    "FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.text <> NEW.text) "
    "EXECUTE FUNCTION mention_search_queue_row()",
]
# Built once the backfill is in (one bulk build instead of a million insertions).
POSTGRES_AFTER_BACKFILL = ["CREATE INDEX ix_mention_search_doc ON mention_search USING gin (doc)"]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS mention_search_update ON mentions",
    "DROP TRIGGER IF EXISTS mention_search_insert ON mentions",
    "DROP FUNCTION IF EXISTS mention_search_queue_row()",
    "DROP FUNCTION IF EXISTS mention_search_queue_rows()",
    "DROP TABLE IF EXISTS mention_search",
]


def upgrade() -> None:
    from storage.search_index import index_pending

    postgres = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'mention_search_pending',
        sa.Column('mention_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'],
                                name=op.f('fk_mention_search_pending_mention_id_mentions'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mention_id', name=op.f('pk_mention_search_pending')),
    )
    if postgres:
        # Ingest still running during a release: no insert may fall between the
        # backfill's snapshot and the trigger (released at commit).
        op.execute("LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE")
    for statement in POSTGRES_UP if postgres else SQLITE_UP:
        op.execute(statement)
    op.execute("INSERT INTO mention_search_pending (mention_id) SELECT id FROM mentions")
    index_pending(op.get_bind(), aside=False)  # before 0069
    for statement in POSTGRES_AFTER_BACKFILL if postgres else []:
        op.execute(statement)
    op.drop_index('ix_mentions_workspace_id_assignee_user_id_status', table_name='mentions')
    for name, columns in LISTING_INDEXES.items():
        op.create_index(name, 'mentions', columns, unique=False)
    op.create_index(LINK_INDEX, 'mention_watches', ['watch_id', 'mention_id'], unique=False)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.drop_index(LINK_INDEX, table_name='mention_watches')
    for name in LISTING_INDEXES:
        op.drop_index(name, table_name='mentions')
    op.create_index('ix_mentions_workspace_id_assignee_user_id_status', 'mentions',
                    ['workspace_id', 'assignee_user_id', 'status'], unique=False)
    for statement in POSTGRES_DOWN if postgres else SQLITE_DOWN:
        op.execute(statement)
    op.drop_table('mention_search_pending')
