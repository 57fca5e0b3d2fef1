"""mention hour counts kept by triggers; partial indexes for answered and not actionable;
the open-work index covers its own predicate; open work by urgency

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21 10:05:00

The digest and the statistics read volumes from two small count tables instead of scanning
a day of mentions. Triggers keep them equal to the mentions table whatever writes it (the
ingest, the workflow, the retention purge, a bulk load): on SQLite one row trigger per
change; on PostgreSQL statement triggers with transition tables, which add each statement's
changes in one upsert, in key order (concurrent ingests then lock count rows in the same
order and cannot deadlock on them).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WORK_SQL = (
    "status IN ('new', 'assigned', 'drafting', 'awaiting_approval', 'approved') "
    "AND (alerted OR status <> 'new') AND COALESCE(intent, '') <> 'spam'"
)
NOT_ACTIONABLE_SQL = "(status = 'ignored' OR COALESCE(intent, '') = 'spam')"
ANSWERED_SQL = "(first_response_at IS NOT NULL OR replied_at IS NOT NULL)"
COUNTED = ("workspace_id", "watch_id", "created_at", "network", "sentiment_label", "priority",
           "alerted")

HOUR_KEY = ("workspace_id", "watch_id", "hour", "network", "sentiment")
PRIORITY_KEY = ("workspace_id", "watch_id", "hour", "priority", "alerted")


def _hour(row: str, dialect: str) -> str:
    if dialect == "sqlite":
        # Whole seconds only: strftime rounds fractions to the millisecond, which would put
        # a mention stored at HH:59:59.9996 in the next hour, unlike Python's floor.
        return f"CAST(strftime('%s', substr({row}created_at, 1, 19)) AS INTEGER) / 3600"
    return f"floor(extract(epoch FROM {row}created_at) / 3600)::integer"


def _counts(row: str, dialect: str) -> list[tuple[str, tuple[str, ...], list[str]]]:
    """Each count table, its key columns, and the key's values for a mentions row."""
    common = [f"{row}workspace_id", f"COALESCE({row}watch_id, 0)", _hour(row, dialect)]
    return [
        ("mention_hour_counts", HOUR_KEY,
         [*common, f"{row}network", f"COALESCE({row}sentiment_label, 'unknown')"]),
        ("mention_priority_counts", PRIORITY_KEY,
         [*common, f"{row}priority", f"{row}alerted"]),
    ]


def _sqlite_add(row: str) -> str:
    return "".join(
        f"INSERT INTO {table} ({', '.join(key)}, mentions) VALUES ({', '.join(values)}, 1) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET mentions = mentions + 1;\n"
        for table, key, values in _counts(row, "sqlite"))


def _sqlite_remove(row: str) -> str:
    return "".join(
        f"UPDATE {table} SET mentions = mentions - 1 WHERE "
        + " AND ".join(f"{column} = {value}" for column, value in zip(key, values, strict=True))
        + ";\n"
        for table, key, values in _counts(row, "sqlite"))


def _postgres_upsert(table: str, key: tuple[str, ...], changes: list[str]) -> str:
    # ``changes`` select the key's values and d = +1 or -1 from the transition tables.
    columns = ", ".join(key)
    return (f"INSERT INTO {table} AS c ({columns}, mentions) "
            f"SELECT {columns}, sum(d) FROM ({' UNION ALL '.join(changes)}) AS x "
            f"GROUP BY {columns} HAVING sum(d) <> 0 ORDER BY {columns} "
            f"ON CONFLICT ({columns}) DO UPDATE SET mentions = c.mentions + EXCLUDED.mentions;\n")


def _postgres_function() -> str:
    body = []
    for table, key, values in _counts("", "postgresql"):
        named = ", ".join(f"{value} AS {column}" for column, value in zip(key, values, strict=True))
        plus = f"SELECT {named}, 1 AS d FROM new_rows"
        minus = f"SELECT {named}, -1 AS d FROM old_rows"
        body.append("IF TG_OP = 'INSERT' THEN\n" + _postgres_upsert(table, key, [plus])
                    + "ELSIF TG_OP = 'DELETE' THEN\n" + _postgres_upsert(table, key, [minus])
                    + "ELSE\n" + _postgres_upsert(table, key, [minus, plus]) + "END IF;\n")
    return ("CREATE FUNCTION mention_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n" + "".join(body) + "RETURN NULL;\nEND\n$$")


def _create_count_tables() -> None:
    op.create_table('mention_hour_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('sentiment', sa.String(length=16), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_mention_hour_counts_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_hour_counts')),
    sa.UniqueConstraint('workspace_id', 'watch_id', 'hour', 'network', 'sentiment', name=op.f('uq_mention_hour_counts_workspace_id_watch_id_hour_network_sentiment'))
    )
    op.create_table('mention_priority_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('watch_id', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('alerted', sa.Boolean(), nullable=False),
    sa.Column('mentions', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_mention_priority_counts_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_priority_counts')),
    sa.UniqueConstraint('workspace_id', 'watch_id', 'hour', 'priority', 'alerted', name=op.f('uq_mention_priority_counts_workspace_id_watch_id_hour_priority_alerted'))
    )


def _create_triggers(dialect: str) -> None:
    if dialect == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED)
        op.execute("CREATE TRIGGER mention_counts_insert AFTER INSERT ON mentions BEGIN\n"
                   + _sqlite_add("NEW.") + "END")
        op.execute("CREATE TRIGGER mention_counts_delete AFTER DELETE ON mentions BEGIN\n"
                   + _sqlite_remove("OLD.") + "END")
        op.execute(f"CREATE TRIGGER mention_counts_update AFTER UPDATE OF {', '.join(COUNTED)} "
                   f"ON mentions WHEN {changed} BEGIN\n"
                   + _sqlite_remove("OLD.") + _sqlite_add("NEW.") + "END")
        return
    op.execute(_postgres_function())
    op.execute("CREATE TRIGGER mention_counts_insert AFTER INSERT ON mentions "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION mention_counts_sync()")
    op.execute("CREATE TRIGGER mention_counts_delete AFTER DELETE ON mentions "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION mention_counts_sync()")
    op.execute("CREATE TRIGGER mention_counts_update AFTER UPDATE ON mentions "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION mention_counts_sync()")


def _backfill(dialect: str) -> None:
    for table, key, values in _counts("", dialect):
        op.execute(f"INSERT INTO {table} ({', '.join(key)}, mentions) "
                   f"SELECT {', '.join(values)}, count(*) FROM mentions "
                   f"GROUP BY {', '.join(values)}")


def _open_work_index(columns: list[str]) -> None:
    op.drop_index('ix_mentions_open_work', table_name='mentions')
    op.create_index('ix_mentions_open_work', 'mentions', columns, unique=False,
                    sqlite_where=sa.text(OPEN_WORK_SQL), postgresql_where=sa.text(OPEN_WORK_SQL))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _create_count_tables()
    if dialect == "postgresql":
        # Processes still running during a release keep ingesting: no insert may fall
        # between the backfill's snapshot and the triggers (released at commit).
        op.execute("LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE")
    _backfill(dialect)
    _create_triggers(dialect)
    op.drop_index('ix_mentions_reporting', table_name='mentions')
    _open_work_index(['workspace_id', 'status', 'watch_id', 'priority', 'created_at',
                      'alerted', 'intent'])
    op.create_index('ix_mentions_not_actionable', 'mentions',
                    ['workspace_id', 'created_at', 'watch_id'], unique=False,
                    sqlite_where=sa.text(NOT_ACTIONABLE_SQL),
                    postgresql_where=sa.text(NOT_ACTIONABLE_SQL))
    op.create_index('ix_mentions_answered', 'mentions',
                    ['workspace_id', 'created_at', 'watch_id', 'status', 'intent',
                     'first_response_at'], unique=False,
                    sqlite_where=sa.text(ANSWERED_SQL), postgresql_where=sa.text(ANSWERED_SQL))
    op.create_index('ix_mentions_open_by_urgency', 'mentions',
                    ['workspace_id', sa.text('priority DESC'), 'created_at', 'id'], unique=False,
                    sqlite_where=sa.text(OPEN_WORK_SQL), postgresql_where=sa.text(OPEN_WORK_SQL))
    op.create_index('ix_mentions_author_id_created_at', 'mentions',
                    ['author_id', 'created_at'], unique=False)
    op.create_index('ix_authors_workspace_id_followers', 'authors',
                    ['workspace_id', 'followers'], unique=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index('ix_authors_workspace_id_followers', table_name='authors')
    op.drop_index('ix_mentions_author_id_created_at', table_name='mentions')
    op.drop_index('ix_mentions_open_by_urgency', table_name='mentions')
    op.drop_index('ix_mentions_answered', table_name='mentions')
    op.drop_index('ix_mentions_not_actionable', table_name='mentions')
    _open_work_index(['workspace_id', 'status', 'watch_id', 'priority', 'created_at'])
    op.create_index('ix_mentions_reporting', 'mentions',
                    ['workspace_id', 'created_at', 'watch_id', 'network', 'sentiment_label',
                     'status', 'alerted', 'priority', 'intent', 'first_response_at',
                     'replied_at'], unique=False)
    for name in ("mention_counts_insert", "mention_counts_delete", "mention_counts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" if dialect == "sqlite"
                   else f"DROP TRIGGER IF EXISTS {name} ON mentions")
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS mention_counts_sync()")
    op.drop_table('mention_priority_counts')
    op.drop_table('mention_hour_counts')
