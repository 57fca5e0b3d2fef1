"""feed_author_orphans: the byline rows 0055 emptied when it split them over several sites

Revision ID: 0064
Revises: 0063
Create Date: 2026-12-07 15:00:00

0055 split a feed byline seen on several sites ("Admin" of blog.example and of
news.example) into one author per site, but kept the byline's own row only when a single
site took every mention: a byline seen on two sites and nowhere else left its row behind,
with no site, no mention, and its tracking (copied to each site's author) still on it.
Such a row is in every listing of authors (a forget by the byline names it, the tracked
influencers list it once more) and is nobody.

It is removed when nothing can be lost: a feed network's author (not one of the networks
Vigie reads itself), with no site, no mention, at least one ``byline@site`` author of the
same workspace and network (what 0055 made of it), and either untracked or tracked with
every one of those site authors tracked too (0055 copied its tracking to them). A byline
someone tracked before any of its posts came is never removed: its site authors, made
later by ingest, are not tracked. Nothing else refers to an author by id (cases and
audit events name people by handle or by digest); its tracking rows are deleted with it.
Authors are read ``BATCH`` ids at a time. The downgrade leaves the authors as they are.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0064'
down_revision: str | None = '0063'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
OWN_NETWORKS = ("x", "mastodon", "bluesky", "reddit", "hackernews", "webhook")
"""As 0055 names them (a copy: this migration must not change with it): their authors
were never split."""


def upgrade() -> None:
    conn = op.get_bind()
    last = 0
    while True:
        ids = list(conn.execute(sa.text(
            "SELECT id FROM authors WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH}).scalars())
        if not ids:
            break
        candidates = conn.execute(sa.text(
            "SELECT a.id, a.workspace_id, a.network, a.handle FROM authors a "
            "WHERE a.id >= :lo AND a.id <= :hi AND a.site IS NULL "
            "AND a.network NOT IN :own AND NOT EXISTS "
            "(SELECT 1 FROM mentions m WHERE m.author_id = a.id) ORDER BY a.id")
            .bindparams(sa.bindparam("own", expanding=True)),
            {"lo": ids[0], "hi": ids[-1], "own": list(OWN_NETWORKS)}).all()
        last = ids[-1]
        orphans = [author_id for author_id, workspace_id, network, handle in candidates
                   if _emptied(conn, author_id, workspace_id, network, handle)]
        if orphans:
            _remove(conn, orphans)


def _emptied(conn: sa.Connection, author_id: int, workspace_id: int, network: str,
             handle: str) -> bool:
    """Whether ``author_id`` is a byline 0055 moved to its sites (see the module doc)."""
    prefix = f"{handle}@"
    sites = [site_id for site_id, site_handle, site in conn.execute(sa.text(
        "SELECT id, handle, site FROM authors WHERE workspace_id = :ws AND network = :network "
        "AND site IS NOT NULL AND LENGTH(handle) > :n AND SUBSTR(handle, 1, :n) = :prefix"),
        {"ws": workspace_id, "network": network, "n": len(prefix), "prefix": prefix})
        if site_handle == prefix + site]
    if not sites:
        return False
    tracked = set(conn.execute(sa.text(
        "SELECT author_id FROM tracked_influencers WHERE author_id IN :ids")
        .bindparams(sa.bindparam("ids", expanding=True)),
        {"ids": [author_id, *sites]}).scalars())
    return author_id not in tracked or all(site_id in tracked for site_id in sites)


def _remove(conn: sa.Connection, author_ids: list[int]) -> None:
    """Delete the authors (still without a mention) and their tracking."""
    gone = list(conn.execute(sa.text(
        "SELECT a.id FROM authors a WHERE a.id IN :ids AND NOT EXISTS "
        "(SELECT 1 FROM mentions m WHERE m.author_id = a.id)")
        .bindparams(sa.bindparam("ids", expanding=True)), {"ids": author_ids}).scalars())
    if not gone:
        return
    for table, column in (("tracked_influencers", "author_id"), ("authors", "id")):
        conn.execute(sa.text(f"DELETE FROM {table} WHERE {column} IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"ids": gone})


def downgrade() -> None:
    pass  # the rows removed were empty duplicates: nothing to bring back
