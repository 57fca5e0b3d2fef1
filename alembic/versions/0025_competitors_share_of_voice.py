"""competitors: watch kinds, watch groups, reach in the hourly counts, conquest opportunities

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 11:30:00

A watch is the brand's or a competitor's (``watches.kind``); groups of watches compare the
brand with its competitors (a watch belongs to one group at most). Share of voice needs the
reach of what each watch holds per hour: a mention keeps its author's followers when stored
(``mentions.reach``), its links copy it like the other counted columns, and
``mention_hour_counts.reach`` sums it, kept by the same triggers as 0016 (rebuilt here with
the reach added). Conquest opportunities are competitors' mentions offered to the brand.
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOUR_KEY = ("workspace_id", "watch_id", "hour", "network", "sentiment", "is_first")
PRIORITY_KEY = ("workspace_id", "watch_id", "hour", "priority", "alerted", "is_first")
LINK_COUNTED = ("workspace_id", "watch_id", "network", "sentiment", "published_at",
                "priority", "alerted", "is_first", "reach")
LINK_COLUMNS = ("workspace_id", "mention_id", "watch_id", "is_first", "network", "sentiment",
                "published_at", "priority", "alerted", "slack_channel", "slack_ts",
                "created_at", "reach")
# Copied from a mention to its links: (link column, mention expression), all links or first.
SHARED = (("network", "{r}network"), ("sentiment", "COALESCE({r}sentiment_label, 'unknown')"),
          ("published_at", "{r}published_at"), ("reach", "{r}reach"))
FIRST_ONLY = (("priority", "{r}priority"),)
MENTION_COPIED = ("network", "sentiment_label", "published_at", "priority", "reach")


def _revision_0016() -> ModuleType:
    """Migration 0016, whose link triggers the downgrade restores."""
    path = Path(__file__).with_name("0016_mention_watches.py")
    spec = importlib.util.spec_from_file_location("vigie_migration_0016", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _link_values(row: str, true: str) -> list[str]:
    """The first link's values for a mentions row (``row`` is ``NEW.`` or a table alias)."""
    return [f"{row}workspace_id", f"{row}id", f"{row}watch_id", true, f"{row}network",
            f"COALESCE({row}sentiment_label, 'unknown')", f"{row}published_at",
            f"{row}priority", f"{row}alerted", f"{row}slack_channel", f"{row}slack_ts",
            f"{row}created_at", f"{row}reach"]


def _hour(row: str, dialect: str) -> str:
    if dialect == "sqlite":
        # Whole seconds only (see 0009): strftime would round fractions up into next hour.
        return f"CAST(strftime('%s', substr({row}published_at, 1, 19)) AS INTEGER) / 3600"
    return f"floor(extract(epoch FROM {row}published_at) / 3600)::integer"


def _counts(row: str, dialect: str
            ) -> list[tuple[str, tuple[str, ...], list[str], tuple[tuple[str, str], ...]]]:
    """Each count table, its key, the key's values for a link row, and its summed columns
    (column, value added per link)."""
    common = [f"{row}workspace_id", f"COALESCE({row}watch_id, 0)", _hour(row, dialect)]
    return [
        ("mention_hour_counts", HOUR_KEY,
         [*common, f"{row}network", f"{row}sentiment", f"{row}is_first"],
         (("mentions", "1"), ("reach", f"{row}reach"))),
        ("mention_priority_counts", PRIORITY_KEY,
         [*common, f"{row}priority", f"{row}alerted", f"{row}is_first"],
         (("mentions", "1"),)),
    ]


def _sqlite_add(row: str) -> str:
    out = []
    for table, key, values, sums in _counts(row, "sqlite"):
        names = [c for c, _ in sums]
        out.append(
            f"INSERT INTO {table} ({', '.join(key)}, {', '.join(names)}) "
            f"VALUES ({', '.join(values)}, {', '.join(v for _, v in sums)}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in names) + ";\n")
    return "".join(out)


def _sqlite_remove(row: str) -> str:
    return "".join(
        f"UPDATE {table} SET " + ", ".join(f"{c} = {c} - {v}" for c, v in sums) + " WHERE "
        + " AND ".join(f"{column} = {value}" for column, value in zip(key, values, strict=True))
        + ";\n"
        for table, key, values, sums in _counts(row, "sqlite"))


def _postgres_upsert(table: str, key: tuple[str, ...], sums: tuple[tuple[str, str], ...],
                     changes: list[str]) -> str:
    columns = ", ".join(key)
    names = [c for c, _ in sums]
    return (f"INSERT INTO {table} AS c ({columns}, {', '.join(names)}) "
            f"SELECT {columns}, {', '.join(f'sum(d_{c})' for c in names)} "
            f"FROM ({' UNION ALL '.join(changes)}) AS x "
            f"GROUP BY {columns} HAVING {' OR '.join(f'sum(d_{c}) <> 0' for c in names)} "
            f"ORDER BY {columns} ON CONFLICT ({columns}) DO UPDATE SET "
            + ", ".join(f"{c} = c.{c} + EXCLUDED.{c}" for c in names) + ";\n")


def _postgres_count_function() -> str:
    body = []
    for table, key, values, sums in _counts("", "postgresql"):
        named = ", ".join(f"{value} AS {column}" for column, value in zip(key, values, strict=True))
        plus = f"SELECT {named}, " + ", ".join(f"{v} AS d_{c}" for c, v in sums) \
            + " FROM new_rows"
        minus = f"SELECT {named}, " + ", ".join(f"-({v}) AS d_{c}" for c, v in sums) \
            + " FROM old_rows"
        body.append("IF TG_OP = 'INSERT' THEN\n" + _postgres_upsert(table, key, sums, [plus])
                    + "ELSIF TG_OP = 'DELETE' THEN\n"
                    + _postgres_upsert(table, key, sums, [minus])
                    + "ELSE\n" + _postgres_upsert(table, key, sums, [minus, plus])
                    + "END IF;\n")
    return ("CREATE FUNCTION mention_link_counts_sync() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n" + "".join(body) + "RETURN NULL;\nEND\n$$")


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
        shared = ", ".join(f"{c} = {e.format(r='NEW.')}" for c, e in SHARED)
        first = ", ".join(f"{c} = {e.format(r='NEW.')}" for c, e in FIRST_ONLY)
        op.execute(
            f"CREATE TRIGGER mention_links_update AFTER UPDATE OF {', '.join(MENTION_COPIED)} "
            f"ON mentions WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in MENTION_COPIED)} "
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
    shared = ", ".join(f"{c} = {e.format(r='n.')}" for c, e in SHARED)
    first = ", ".join(f"{c} = {e.format(r='n.')}" for c, e in FIRST_ONLY)
    differs = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}"
                          for c in ("network", "sentiment_label", "published_at", "reach"))
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


def _fk(table: str, column: str, target: str, ondelete: str = 'CASCADE'
        ) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'),
                                   ondelete=ondelete)


def _recount_hours(dialect: str) -> None:
    """Rebuild the hourly mention counts (with their reach) from the links."""
    op.execute("DELETE FROM mention_hour_counts")
    table, key, values, _sums = _counts("", dialect)[0]
    op.execute(f"INSERT INTO {table} ({', '.join(key)}, mentions, reach) "
               f"SELECT {', '.join(values)}, count(*), sum(reach) FROM mention_watches "
               f"GROUP BY {', '.join(values)}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # Processes still running during a release keep ingesting: no insert may fall
        # between the backfill and the triggers (locks released at commit).
        op.execute("LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE")
        op.execute("LOCK TABLE mention_watches IN SHARE ROW EXCLUSIVE MODE")
    _revision_0016()._drop_link_triggers(dialect)
    op.add_column('watches', sa.Column('kind', sa.String(length=16), nullable=False,
                                       server_default='brand'))
    op.add_column('mentions', sa.Column('reach', sa.Integer(), nullable=False,
                                        server_default='0'))
    op.add_column('mention_watches', sa.Column('reach', sa.Integer(), nullable=False,
                                               server_default='0'))
    op.add_column('mention_hour_counts', sa.Column('reach', sa.BigInteger(), nullable=False,
                                                   server_default='0'))
    op.execute("UPDATE mentions SET reach = COALESCE((SELECT followers FROM authors "
               "WHERE authors.id = mentions.author_id), 0) WHERE author_id IS NOT NULL")
    op.execute("UPDATE mention_watches SET reach = (SELECT reach FROM mentions "
               "WHERE mentions.id = mention_watches.mention_id)")
    _recount_hours(dialect)
    _create_link_triggers(dialect)
    op.create_table(
        'watch_groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('conquest', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=32), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _fk('watch_groups', 'workspace_id', 'workspaces'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_groups')),
        sa.UniqueConstraint('workspace_id', 'name',
                            name=op.f('uq_watch_groups_workspace_id_name')),
    )
    op.create_table(
        'watch_group_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=False),
        _fk('watch_group_members', 'group_id', 'watch_groups'),
        _fk('watch_group_members', 'watch_id', 'watches'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_watch_group_members')),
        sa.UniqueConstraint('watch_id', name=op.f('uq_watch_group_members_watch_id')),
    )
    op.create_index(op.f('ix_watch_group_members_group_id'), 'watch_group_members',
                    ['group_id'], unique=False)
    op.create_table(
        'opportunities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=False),
        sa.Column('competitor_watch_id', sa.Integer(), nullable=True),
        sa.Column('channel_id', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('assignee_user_id', sa.String(length=32), nullable=True),
        sa.Column('draft', sa.Text(), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=32), nullable=True),
        _fk('opportunities', 'workspace_id', 'workspaces'),
        _fk('opportunities', 'mention_id', 'mentions'),
        _fk('opportunities', 'group_id', 'watch_groups'),
        _fk('opportunities', 'competitor_watch_id', 'watches', 'SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities')),
        sa.UniqueConstraint('mention_id', 'group_id',
                            name=op.f('uq_opportunities_mention_id_group_id')),
    )
    op.create_index(op.f('ix_opportunities_workspace_id_published_at'), 'opportunities',
                    ['workspace_id', 'published_at'], unique=False)
    op.create_index(op.f('ix_opportunities_workspace_id_status_id'), 'opportunities',
                    ['workspace_id', 'status', 'id'], unique=False)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_table('opportunities')
    op.drop_index(op.f('ix_watch_group_members_group_id'), table_name='watch_group_members')
    op.drop_table('watch_group_members')
    op.drop_table('watch_groups')
    old = _revision_0016()
    old._drop_link_triggers(dialect)
    op.drop_column('mention_hour_counts', 'reach')
    op.drop_column('mention_watches', 'reach')
    op.drop_column('mentions', 'reach')
    op.drop_column('watches', 'kind')
    old._create_link_triggers(dialect)
