"""removed competitor watches: their links stay the competitor's in the counts

Revision ID: 0068
Revises: 0067
Create Date: 2026-12-07 20:40:00

A removed watch's links lose their watch (``watch_id`` NULL) and were all counted under
watch 0, the brand's placeholder: with a competitor's watch removed, its past mentions
became the brand's volume (once no competitor's watch was left, the brand's figures are
the whole workspace's), and a removed brand watch's left the brand's figures. A link now
keeps its side when its watch is removed (``competitor``, set with the removal by
``storage.reporting_counts.release_watch``, also on ``purged_links``), and the link
triggers of 0030 count a competitor's removed links under watch -1 instead of 0.

Links removed before this revision were counted as the brand's placeholder and stay so
(false: which side their watch was on is not recorded). No count moves at the upgrade. The
downgrade adds the counts of watch -1 to watch 0 (what 0030's triggers count them under)
and restores 0030's triggers.
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = '0068'
down_revision: str | None = '0067'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_COMPETITOR_WATCH = -1
# (table, key, summed columns)
COUNT_TABLES = (
    ("mention_hour_counts",
     ("workspace_id", "watch_id", "hour", "network", "sentiment", "is_first"),
     ("mentions", "reach")),
    ("mention_day_counts",
     ("workspace_id", "watch_id", "day", "network", "sentiment", "is_first"),
     ("mentions", "reach")),
    ("mention_priority_counts",
     ("workspace_id", "watch_id", "hour", "priority", "alerted", "is_first"),
     ("mentions",)),
)


def _load(name: str, alias: str) -> ModuleType:
    """A private copy of an earlier migration module (its trigger builders)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(alias, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _revision_0030() -> ModuleType:
    return _load("0030_mention_day_counts.py", "vigie_migration_0030_for_0068")


def _with_sides() -> ModuleType:
    """0030's trigger builders, counting a link without a watch under its side's
    placeholder: a private copy whose counted tables key such a link by watch -1 when it
    is a competitor's, and whose SQLite update trigger also follows ``competitor``."""
    module = _revision_0030()._with_days()
    by_day = module._counts

    def counts(row: str, dialect: str
               ) -> list[tuple[str, tuple[str, ...], list[str], tuple[tuple[str, str], ...]]]:
        unset = f"COALESCE({row}watch_id, 0)"
        placeholder = (f"COALESCE({row}watch_id, CASE WHEN {row}competitor "
                       f"THEN {NO_COMPETITOR_WATCH} ELSE 0 END)")
        return [(table, key, [placeholder if value == unset else value for value in values],
                 sums)
                for table, key, values, sums in by_day(row, dialect)]

    module._counts = counts
    module.LINK_COUNTED = (*module.LINK_COUNTED, "competitor")
    return module


def _drop_link_triggers(dialect: str) -> None:
    _load("0016_mention_watches.py", "vigie_migration_0016_for_0068")._drop_link_triggers(
        dialect)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # No link may change between the old triggers and the new ones (released at commit).
        op.execute("LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE")
        op.execute("LOCK TABLE mention_watches IN SHARE ROW EXCLUSIVE MODE")
    _drop_link_triggers(dialect)
    op.add_column('mention_watches', sa.Column('competitor', sa.Boolean(), nullable=False,
                                               server_default=sa.false()))
    op.add_column('purged_links', sa.Column('competitor', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))
    _with_sides()._create_link_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE")
        op.execute("LOCK TABLE mention_watches IN SHARE ROW EXCLUSIVE MODE")
    _drop_link_triggers(dialect)
    for table, key, sums in COUNT_TABLES:
        rest = [column for column in key if column != "watch_id"]
        chosen = ", ".join("0" if column == "watch_id" else column for column in key)
        op.execute(
            f"INSERT INTO {table} ({', '.join(key)}, {', '.join(sums)}) "
            f"SELECT {chosen}, {', '.join(f'sum({c})' for c in sums)} FROM {table} "
            f"WHERE watch_id = {NO_COMPETITOR_WATCH} GROUP BY {', '.join(rest)} "
            f"ORDER BY {', '.join(rest)} "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
            + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums))
        op.execute(f"DELETE FROM {table} WHERE watch_id = {NO_COMPETITOR_WATCH}")
    op.drop_column('purged_links', 'competitor')
    op.drop_column('mention_watches', 'competitor')
    _revision_0030()._with_days()._create_link_triggers(dialect)
