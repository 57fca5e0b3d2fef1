"""daily mention counts: the hourly counts rolled up per UTC day, kept by the same triggers

Revision ID: 0030
Revises: 0027
Create Date: 2026-12-05 17:50:00

Share of voice over 30 days read about 60,000 hourly count rows per period at 1,000,000
mentions (tens of milliseconds on PostgreSQL). ``mention_day_counts`` holds the same sums per
UTC day (``day`` = days since 1970-01-01 UTC, the hour's day), so a period reads its whole
days there and only the hours at its edges from ``mention_hour_counts``. The link triggers
of 0025 are rebuilt with the day table as a third counted table: one more upsert per link
change. The downgrade restores 0025's triggers.
"""
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = '0030'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY_KEY = ("workspace_id", "watch_id", "day", "network", "sentiment", "is_first")


def _load(name: str, alias: str) -> ModuleType:
    """A private copy of an earlier migration module (its trigger builders)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(alias, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _day(row: str, dialect: str) -> str:
    if dialect == "sqlite":
        # Whole seconds only, as the hour (0009): the day of the hour the link counts in.
        return f"CAST(strftime('%s', substr({row}published_at, 1, 19)) AS INTEGER) / 86400"
    return f"floor(extract(epoch FROM {row}published_at) / 86400)::integer"


def _with_days() -> ModuleType:
    """0025's trigger builders, counting into the day table too: a private copy of 0025
    whose list of counted tables gains ``mention_day_counts``."""
    module = _load("0025_competitors_share_of_voice.py", "vigie_migration_0025_days")
    hourly = module._counts

    def counts(row: str, dialect: str
               ) -> list[tuple[str, tuple[str, ...], list[str], tuple[tuple[str, str], ...]]]:
        tables = hourly(row, dialect)
        values = [f"{row}workspace_id", f"COALESCE({row}watch_id, 0)", _day(row, dialect),
                  f"{row}network", f"{row}sentiment", f"{row}is_first"]
        return [*tables, ("mention_day_counts", DAY_KEY, values,
                          (("mentions", "1"), ("reach", f"{row}reach")))]

    module._counts = counts
    return module


def _drop_link_triggers(dialect: str) -> None:
    _load("0016_mention_watches.py", "vigie_migration_0016_drop")._drop_link_triggers(dialect)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        # No link may change between the backfill and the new triggers (released at commit).
        op.execute("LOCK TABLE mentions IN SHARE ROW EXCLUSIVE MODE")
        op.execute("LOCK TABLE mention_watches IN SHARE ROW EXCLUSIVE MODE")
    op.create_table(
        'mention_day_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('watch_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('sentiment', sa.String(length=16), nullable=False),
        sa.Column('is_first', sa.Boolean(), nullable=False),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.Column('reach', sa.BigInteger(), nullable=False, server_default='0'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_mention_day_counts_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mention_day_counts')),
        sa.UniqueConstraint(*DAY_KEY, name=op.f(
            'uq_mention_day_counts_workspace_id_watch_id_day_network_sentiment_is_first')),
    )
    _drop_link_triggers(dialect)
    op.execute(f"INSERT INTO mention_day_counts ({', '.join(DAY_KEY)}, mentions, reach) "
               "SELECT workspace_id, watch_id, hour / 24, network, sentiment, is_first, "
               "sum(mentions), sum(reach) FROM mention_hour_counts "
               "GROUP BY workspace_id, watch_id, hour / 24, network, sentiment, is_first")
    _with_days()._create_link_triggers(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_link_triggers(dialect)
    _load("0025_competitors_share_of_voice.py",
          "vigie_migration_0025_restore")._create_link_triggers(dialect)
    op.drop_table('mention_day_counts')
