"""mention_watches: a mention belongs to every watch it matches; counts per watch link by
published hour; report indexes on the published time

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 08:30:00

Each existing mention gets the link of its current watch (``is_first``). Triggers on
``mentions`` create that first link with the mention and copy the columns the counts use
(network, sentiment label, published time, and the first watch's priority) to its links;
the hourly count tables are rebuilt to count links, by published hour, per watch, with
``is_first`` telling a workspace-wide sum which link stands for the mention. Published
times in the future are brought back to the discovery time (the published time is the time
periods count). Same trigger shapes as 0009: row triggers on SQLite, statement triggers
with transition tables on PostgreSQL, count upserts in key order.
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_WORK_SQL = (
    "status IN ('new', 'assigned', 'drafting', 'awaiting_approval', 'approved') "
    "AND (alerted OR status <> 'new') AND COALESCE(intent, '') <> 'spam'"
)
NOT_ACTIONABLE_SQL = "(status = 'ignored' OR COALESCE(intent, '') = 'spam')"
ANSWERED_SQL = "(first_response_at IS NOT NULL OR replied_at IS NOT NULL)"

HOUR_KEY = ("workspace_id", "watch_id", "hour", "network", "sentiment", "is_first")
PRIORITY_KEY = ("workspace_id", "watch_id", "hour", "priority", "alerted", "is_first")
LINK_COUNTED = ("workspace_id", "watch_id", "network", "sentiment", "published_at",
                "priority", "alerted", "is_first")
LINK_COLUMNS = ("workspace_id", "mention_id", "watch_id", "is_first", "network", "sentiment",
                "published_at", "priority", "alerted", "slack_channel", "slack_ts",
                "created_at")


def _link_values(row: str, true: str) -> list[str]:
    """The first link's values for a mentions row (``row`` is ``NEW.`` or a table alias)."""
    return [f"{row}workspace_id", f"{row}id", f"{row}watch_id", true, f"{row}network",
            f"COALESCE({row}sentiment_label, 'unknown')", f"{row}published_at",
            f"{row}priority", f"{row}alerted", f"{row}slack_channel", f"{row}slack_ts",
            f"{row}created_at"]


def _hour(row: str, dialect: str) -> str:
    if dialect == "sqlite":
        # Whole seconds only (see 0009): strftime would round fractions up into next hour.
        return f"CAST(strftime('%s', substr({row}published_at, 1, 19)) AS INTEGER) / 3600"
    return f"floor(extract(epoch FROM {row}published_at) / 3600)::integer"


def _counts(row: str, dialect: str) -> list[tuple[str, tuple[str, ...], list[str]]]:
    """Each count table, its key columns, and the key's values for a mention_watches row."""
    common = [f"{row}workspace_id", f"COALESCE({row}watch_id, 0)", _hour(row, dialect)]
    return [
        ("mention_hour_counts", HOUR_KEY,
         [*common, f"{row}network", f"{row}sentiment", f"{row}is_first"]),
        ("mention_priority_counts", PRIORITY_KEY,
         [*common, f"{row}priority", f"{row}alerted", f"{row}is_first"]),
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
    columns = ", ".join(key)
    return (f"INSERT INTO {table} AS c ({columns}, mentions) "
            f"SELECT {columns}, sum(d) FROM ({' UNION ALL '.join(changes)}) AS x "
            f"GROUP BY {columns} HAVING sum(d) <> 0 ORDER BY {columns} "
            f"ON CONFLICT ({columns}) DO UPDATE SET mentions = c.mentions + EXCLUDED.mentions;\n")


def _postgres_count_function() -> str:
    body = []
    for table, key, values in _counts("", "postgresql"):
        named = ", ".join(f"{value} AS {column}" for column, value in zip(key, values, strict=True))
        plus = f"SELECT {named}, 1 AS d FROM new_rows"
        minus = f"SELECT {named}, -1 AS d FROM old_rows"
        body.append("IF TG_OP = 'INSERT' THEN\n" + _postgres_upsert(table, key, [plus])
                    + "ELSIF TG_OP = 'DELETE' THEN\n" + _postgres_upsert(table, key, [minus])
                    + "ELSE\n" + _postgres_upsert(table, key, [minus, plus]) + "END IF;\n")
    return ("CREATE FUNCTION mention_link_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n" + "".join(body) + "RETURN NULL;\nEND\n$$")


# Copied from a mention to its links: (link column, mention expression), all links or first.
SHARED = (("network", "network"), ("sentiment", "COALESCE({r}sentiment_label, 'unknown')"),
          ("published_at", "published_at"))
FIRST_ONLY = (("priority", "priority"),)


def _value(expression: str, row: str) -> str:
    return expression.format(r=row) if "{r}" in expression else f"{row}{expression}"


def _create_link_triggers(dialect: str) -> None:
    columns = ", ".join(LINK_COLUMNS)
    if dialect == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in LINK_COUNTED)
        op.execute("CREATE TRIGGER mention_link_counts_insert AFTER INSERT ON mention_watches "
                   "BEGIN\n" + _sqlite_add("NEW.") + "END")
        op.execute("CREATE TRIGGER mention_link_counts_delete AFTER DELETE ON mention_watches "
                   "BEGIN\n" + _sqlite_remove("OLD.") + "END")
        op.execute(f"CREATE TRIGGER mention_link_counts_update AFTER UPDATE OF "
                   f"{', '.join(LINK_COUNTED)} ON mention_watches WHEN {changed} BEGIN\n"
                   + _sqlite_remove("OLD.") + _sqlite_add("NEW.") + "END")
        op.execute(f"CREATE TRIGGER mention_first_link AFTER INSERT ON mentions BEGIN\n"
                   f"INSERT INTO mention_watches ({columns}) "
                   f"VALUES ({', '.join(_link_values('NEW.', '1'))});\nEND")
        shared = ", ".join(f"{c} = {_value(e, 'NEW.')}" for c, e in SHARED)
        first = ", ".join(f"{c} = {_value(e, 'NEW.')}" for c, e in FIRST_ONLY)
        mention_columns = ("network", "sentiment_label", "published_at", "priority")
        op.execute(
            f"CREATE TRIGGER mention_links_update AFTER UPDATE OF {', '.join(mention_columns)} "
            f"ON mentions WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in mention_columns)} "
            f"BEGIN\nUPDATE mention_watches SET {shared} WHERE mention_id = NEW.id;\n"
            f"UPDATE mention_watches SET {first} WHERE mention_id = NEW.id AND is_first;\nEND")
        return
    op.execute(_postgres_count_function())
    for name, event, refs in (
            ("insert", "INSERT", "NEW TABLE AS new_rows"),
            ("delete", "DELETE", "OLD TABLE AS old_rows"),
            ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
        op.execute(f"CREATE TRIGGER mention_link_counts_{name} AFTER {event} ON mention_watches "
                   f"REFERENCING {refs} FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION mention_link_counts_sync()")
    shared = ", ".join(f"{c} = {_value(e, 'n.')}" for c, e in SHARED)
    first = ", ".join(f"{c} = {_value(e, 'n.')}" for c, e in FIRST_ONLY)
    differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}"
                          for c in ("network", "sentiment_label", "published_at"))
    op.execute(
        "CREATE FUNCTION mention_links_sync() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
        "IF TG_OP = 'INSERT' THEN\n"
        f"INSERT INTO mention_watches ({columns}) "
        f"SELECT {', '.join(_link_values('n.', 'true'))} FROM new_rows n ORDER BY n.id;\n"
        "ELSE\n"
        f"UPDATE mention_watches l SET {shared} FROM new_rows n JOIN old_rows o ON o.id = n.id "
        f"WHERE l.mention_id = n.id AND ({differs});\n"
        f"UPDATE mention_watches l SET {first} FROM new_rows n JOIN old_rows o ON o.id = n.id "
        f"WHERE l.mention_id = n.id AND l.is_first AND o.priority IS DISTINCT FROM n.priority;\n"
        "END IF;\nRETURN NULL;\nEND\n$$")
    op.execute("CREATE TRIGGER mention_first_link AFTER INSERT ON mentions "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION mention_links_sync()")
    op.execute("CREATE TRIGGER mention_links_update AFTER UPDATE ON mentions "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
               "EXECUTE FUNCTION mention_links_sync()")


def _drop_link_triggers(dialect: str) -> None:
    for name, table in (("mention_first_link", "mentions"), ("mention_links_update", "mentions"),
                        ("mention_link_counts_insert", "mention_watches"),
                        ("mention_link_counts_delete", "mention_watches"),
                        ("mention_link_counts_update", "mention_watches")):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" if dialect == "sqlite"
                   else f"DROP TRIGGER IF EXISTS {name} ON {table}")
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS mention_links_sync()")
        op.execute("DROP FUNCTION IF EXISTS mention_link_counts_sync()")


def _revision_0009() -> ModuleType:
    """Migration 0009, whose mention-count tables and triggers the downgrade restores."""
    path = Path(__file__).with_name("0009_mention_hour_counts.py")
    spec = importlib.util.spec_from_file_location("vigie_migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _drop_mention_count_triggers(dialect: str) -> None:
    for name in ("mention_counts_insert", "mention_counts_delete", "mention_counts_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}" if dialect == "sqlite"
                   else f"DROP TRIGGER IF EXISTS {name} ON mentions")
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS mention_counts_sync()")


def _create_link_table() -> None:
    op.create_table(
        'mention_watches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=True),
        sa.Column('is_first', sa.Boolean(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('sentiment', sa.String(length=16), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('alerted', sa.Boolean(), nullable=False),
        sa.Column('slack_channel', sa.String(length=32), nullable=True),
        sa.Column('slack_ts', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'],
                                name=op.f('fk_mention_watches_mention_id_mentions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['watch_id'], ['watches.id'],
                                name=op.f('fk_mention_watches_watch_id_watches'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_mention_watches_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_watches')),
        sa.UniqueConstraint('mention_id', 'watch_id',
                            name=op.f('uq_mention_watches_mention_id_watch_id')),
    )
    op.create_index(op.f('ix_mention_watches_watch_id_published_at'), 'mention_watches',
                    ['watch_id', 'published_at'], unique=False)


def _create_count_tables(first: bool) -> None:
    """The count tables, with ``is_first`` in their key when ``first`` (0016) or not (0009)."""
    extra = [sa.Column('is_first', sa.Boolean(), nullable=False)] if first else []
    key = ['is_first'] if first else []
    hour_key = ['workspace_id', 'watch_id', 'hour', 'network', 'sentiment', *key]
    priority_key = ['workspace_id', 'watch_id', 'hour', 'priority', 'alerted', *key]
    op.create_table(
        'mention_hour_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('sentiment', sa.String(length=16), nullable=False),
        *extra,
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_mention_hour_counts_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_hour_counts')),
        sa.UniqueConstraint(*hour_key,
                            name=op.f('uq_mention_hour_counts_' + '_'.join(hour_key))),
    )
    op.create_table(
        'mention_priority_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('alerted', sa.Boolean(), nullable=False),
        *(sa.Column('is_first', sa.Boolean(), nullable=False) for _ in key),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_mention_priority_counts_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_priority_counts')),
        sa.UniqueConstraint(*priority_key,
                            name=op.f('uq_mention_priority_counts_' + '_'.join(priority_key))),
    )


# (name, columns with the time column as {t}, partial predicate or None)
REPORT_INDEXES = (
    ('ix_mentions_open_work', ['workspace_id', 'status', 'watch_id', 'priority', '{t}',
                               'alerted', 'intent'], OPEN_WORK_SQL),
    ('ix_mentions_not_actionable', ['workspace_id', '{t}', 'watch_id'], NOT_ACTIONABLE_SQL),
    ('ix_mentions_answered', ['workspace_id', '{t}', 'watch_id', 'status', 'intent',
                              'first_response_at'], ANSWERED_SQL),
    ('ix_mentions_open_by_urgency', ['workspace_id', 'priority DESC', '{t}', 'id'],
     OPEN_WORK_SQL),
    ('ix_mentions_priority', ['workspace_id', 'priority', '{t}', 'watch_id', 'alerted'], None),
)


def _report_indexes(time_column: str) -> None:
    for name, columns, where in REPORT_INDEXES:
        op.drop_index(name, table_name='mentions')
        spelled: list[str | sa.TextClause] = [
            sa.text(c) if " " in c else c.format(t=time_column) for c in columns]
        kwargs = ({} if where is None else
                  {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)})
        op.create_index(name, 'mentions', spelled, unique=False, **kwargs)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Processes still running during a release keep ingesting: no insert may fall
        # between the backfill's snapshot and the triggers (released at commit).
        op.execute("LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE")
    _drop_mention_count_triggers(dialect)
    op.drop_table('mention_priority_counts')
    op.drop_table('mention_hour_counts')
    # A published time in the future (a wrong clock, a bad feed) counts from discovery.
    op.execute("UPDATE mentions SET published_at = created_at WHERE published_at > created_at")
    _create_link_table()
    op.execute(f"INSERT INTO mention_watches ({', '.join(LINK_COLUMNS)}) "
               f"SELECT {', '.join(_link_values('m.', 'true' if dialect != 'sqlite' else '1'))}"
               f" FROM mentions m ORDER BY m.id")
    _create_count_tables(first=True)
    for table, key, values in _counts("", dialect):
        op.execute(f"INSERT INTO {table} ({', '.join(key)}, mentions) "
                   f"SELECT {', '.join(values)}, count(*) FROM mention_watches "
                   f"GROUP BY {', '.join(values)}")
    _create_link_triggers(dialect)
    _report_indexes('published_at')
    op.drop_index('ix_mentions_author_id_created_at', table_name='mentions')
    op.create_index('ix_mentions_author_id_published_at', 'mentions',
                    ['author_id', 'published_at'], unique=False)
    op.create_index(op.f('ix_mentions_workspace_id_published_at'), 'mentions',
                    ['workspace_id', 'published_at'], unique=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    old = _revision_0009()
    op.drop_index(op.f('ix_mentions_workspace_id_published_at'), table_name='mentions')
    op.drop_index('ix_mentions_author_id_published_at', table_name='mentions')
    op.create_index('ix_mentions_author_id_created_at', 'mentions',
                    ['author_id', 'created_at'], unique=False)
    _report_indexes('created_at')
    _drop_link_triggers(dialect)
    op.drop_table('mention_priority_counts')
    op.drop_table('mention_hour_counts')
    # Mentions keep their first watch; links to other watches cannot be kept.
    op.drop_table('mention_watches')
    _create_count_tables(first=False)
    old._backfill(dialect)
    old._create_triggers(dialect)
