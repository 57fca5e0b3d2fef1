"""exact figures over several watches: an index of the links beyond a mention's first,
retention rollups per watch link; post aliases (Mastodon instance-local status ids)

Revision ID: 0024
Revises: 0026
Create Date: 2026-12-05 11:45:00

``ix_mention_watches_doubles`` holds only the links other than a mention's first (posts in
several watches): a report over several watches reads them to count each post once, and
the overdue count finds there the few mentions whose SLA several watches decide.
``mention_rollups`` gets ``is_first``: retention folds every link of a purged mention into
its watch's rollup, and a workspace-wide sum reads the first links only. Existing rollups
were folded from first watches: they keep ``is_first`` true. ``post_aliases`` maps the
instance-local id of a Mastodon status (what replies fetched through that instance name
their parent by) to its URI.
"""
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = '0024'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOUBLES_SQL = "NOT is_first"
OLD_KEY = ['workspace_id', 'watch_id', 'network', 'sentiment', 'day']
NEW_KEY = [*OLD_KEY, 'is_first']


def _name(key: list[str]) -> str:
    # The new key's conventional name is longer than PostgreSQL's 63 characters.
    return 'uq_mention_rollups_key' if key == NEW_KEY else 'uq_mention_rollups_' + '_'.join(key)


def upgrade() -> None:
    op.create_table(
        'post_aliases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('alias', sa.String(length=500), nullable=False),
        sa.Column('external_id', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_post_aliases_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_post_aliases')),
        sa.UniqueConstraint('workspace_id', 'network', 'alias',
                            name=op.f('uq_post_aliases_workspace_id_network_alias')),
    )
    op.create_index('ix_mention_watches_doubles', 'mention_watches',
                    ['watch_id', 'published_at', 'mention_id'], unique=False,
                    sqlite_where=sa.text(DOUBLES_SQL), postgresql_where=sa.text(DOUBLES_SQL))
    with op.batch_alter_table('mention_rollups') as batch:
        batch.add_column(sa.Column('is_first', sa.Boolean(), server_default=sa.true(),
                                   nullable=False))
        batch.drop_constraint(_name(OLD_KEY), type_='unique')
        batch.create_unique_constraint(_name(NEW_KEY), NEW_KEY)


def downgrade() -> None:
    # The rollups of links beyond a mention's first cannot be kept under the old key.
    op.execute("DELETE FROM mention_rollups WHERE NOT is_first")
    with op.batch_alter_table('mention_rollups') as batch:
        batch.drop_constraint(_name(NEW_KEY), type_='unique')
        batch.create_unique_constraint(_name(OLD_KEY), OLD_KEY)
        batch.drop_column('is_first')
    op.drop_index('ix_mention_watches_doubles', table_name='mention_watches')
    op.drop_table('post_aliases')
