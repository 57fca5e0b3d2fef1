"""feed_author_sites: a feed entry's author is its byline on its site

Revision ID: 0055
Revises: 0054
Create Date: 2026-12-07 05:00:00

A feed entry's author was keyed by its byline alone, so "Admin" (or "John Smith") of two
sites was one author: their reach, history, influencer listing and forget requests mixed
people who are not the same. The RSS source now writes the byline with its site
(``Admin@blog.example``: the host of the entry's address, without ``www.``), as an instance
ends a Mastodon handle, and ``authors.site`` says which part of the handle is the site (a
forget by the byline alone still finds them).

The authors feed entries were stored under are split here by the site of each of their
mentions from a feed source: one site's author keeps the row (its id, tracking, count),
every other site gets a row of its own with its mentions (tracked too if the row was).
Mentions of no feed source (a webhook's, a deleted source's) stay on the row, and so do
the authors of the networks Vigie reads itself (X, Mastodon...). The downgrade merges
each site's author back into its byline's.
"""
from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

from bot.matching.query import handle_key

revision: str = '0055'
down_revision: str | None = '0054'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
MAX_HANDLE = 200
MAX_SITE = 100
"""As ``bot.sources.rss`` writes them (a copy: this migration must not change with it)."""

OWN_NETWORKS = frozenset({"x", "mastodon", "bluesky", "reddit", "hackernews", "webhook"})
"""Networks Vigie reads through sources of their own: their authors are left as they are,
even with posts a feed labelled so stored before such labels were refused."""

_COPIED = ("workspace_id", "network", "name", "url", "followers", "verified",
           "first_seen_at", "last_seen_at")


def _site(url: str) -> tuple[str | None, str | None]:
    """(host, site) of a mention's address, as ``bot.sources.rss.entry_site`` says it."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None, None
    if not host:
        return None, None
    site = host.lower().rstrip(".")
    site = site[4:] if site.startswith("www.") else site
    return host, (site if site and "@" not in site and len(site) <= MAX_SITE else None)


def _target(handle: str, url: str) -> tuple[str, str] | None:
    """(handle, site) the RSS source now stores a mention's author under, or None when it
    is the handle stored (no byline to scope: the handle is the host)."""
    host, site = _site(url)
    if site is None or handle.lower() in (host, site):
        return None
    return f"{handle[:MAX_HANDLE - len(site) - 1]}@{site}", site


def upgrade() -> None:
    op.add_column('authors', sa.Column('site', sa.String(length=100), nullable=True))
    conn = op.get_bind()
    feed_mentions = ("FROM mentions m JOIN sources s ON s.id = m.source_id "
                     "WHERE s.kind = 'rss' AND m.author_id IS NOT NULL")
    last = 0
    while True:
        ids = list(conn.execute(sa.text(
            f"SELECT DISTINCT m.author_id {feed_mentions} AND m.author_id > :last "
            "ORDER BY m.author_id LIMIT :n"), {"last": last, "n": BATCH}).scalars())
        if not ids:
            break
        last = ids[-1]
        for author_id in ids:
            _split(conn, author_id, feed_mentions)


def _split(conn: sa.Connection, author_id: int, feed_mentions: str) -> None:
    author = conn.execute(sa.text(
        "SELECT id, workspace_id, network, handle, site, mention_count FROM authors "
        "WHERE id = :id"), {"id": author_id}).mappings().first()
    if author is None or author["site"] is not None or author["network"] in OWN_NETWORKS:
        return
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for mention_id, url in conn.execute(sa.text(
            f"SELECT m.id, m.url {feed_mentions} AND m.author_id = :id ORDER BY m.id"),
            {"id": author_id}):
        target = _target(author["handle"], url or "")
        if target is not None:
            groups[target].append(mention_id)
    if not groups:
        return
    total = conn.execute(sa.text("SELECT COUNT(*) FROM mentions WHERE author_id = :id"),
                         {"id": author_id}).scalar_one()
    moved = 0
    # The site with the most mentions keeps the row when every mention goes to a site
    # (one site or several: the byline alone would be left with none, nobody's).
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    every = sum(len(mention_ids) for _, mention_ids in ordered) == total
    for n, ((handle, site), mention_ids) in enumerate(ordered):
        taken = _author_id(conn, author["workspace_id"], author["network"], handle)
        if n == 0 and taken is None and every:
            conn.execute(sa.text(
                "UPDATE authors SET handle = :handle, handle_key = :key, site = :site "
                "WHERE id = :id"),
                {"handle": handle, "key": handle_key(handle), "site": site, "id": author_id})
            continue  # (its mentions stay on it)
        created = taken is None
        if taken is None:
            conn.execute(sa.text(
                f"INSERT INTO authors (handle, handle_key, site, mention_count, "
                f"{', '.join(_COPIED)}) SELECT :handle, :key, :site, :count, "
                f"{', '.join(_COPIED)} FROM authors WHERE id = :id"),
                {"handle": handle, "key": handle_key(handle), "site": site,
                 "count": len(mention_ids), "id": author_id})
            taken = _author_id(conn, author["workspace_id"], author["network"], handle)
            assert taken is not None
        else:
            conn.execute(sa.text("UPDATE authors SET mention_count = mention_count + :n, "
                                 "site = :site WHERE id = :id"),
                         {"n": len(mention_ids), "site": site, "id": taken})
        for start in range(0, len(mention_ids), BATCH):
            conn.execute(sa.text("UPDATE mentions SET author_id = :to WHERE id IN :ids")
                         .bindparams(sa.bindparam("ids", expanding=True)),
                         {"to": taken, "ids": mention_ids[start:start + BATCH]})
        if created:
            _seen_from_mentions(conn, taken)
        _copy_tracking(conn, author_id, taken)
        moved += len(mention_ids)
    conn.execute(sa.text(
        "UPDATE authors SET mention_count = CASE WHEN mention_count - :moved > :left "
        "THEN mention_count - :moved ELSE :left END WHERE id = :id"),
        {"moved": moved, "left": total - moved, "id": author_id})


def _author_id(conn: sa.Connection, workspace_id: int, network: str, handle: str
               ) -> int | None:
    return conn.execute(sa.text(
        "SELECT id FROM authors WHERE workspace_id = :ws AND network = :network "
        "AND handle = :handle"),
        {"ws": workspace_id, "network": network, "handle": handle}).scalar()


def _seen_from_mentions(conn: sa.Connection, author_id: int) -> None:
    """A split author's first and last times are their own mentions'."""
    conn.execute(sa.text(
        "UPDATE authors SET "
        "first_seen_at = COALESCE((SELECT MIN(created_at) FROM mentions "
        "WHERE author_id = :id), first_seen_at), "
        "last_seen_at = COALESCE((SELECT MAX(created_at) FROM mentions "
        "WHERE author_id = :id), last_seen_at) WHERE id = :id"), {"id": author_id})


def _copy_tracking(conn: sa.Connection, from_id: int, to_id: int) -> None:
    """``to_id`` is tracked when ``from_id`` is (and is not already)."""
    conn.execute(sa.text(
        "INSERT INTO tracked_influencers (workspace_id, author_id, tracked_by, created_at) "
        "SELECT workspace_id, :to, tracked_by, created_at FROM tracked_influencers t "
        "WHERE t.author_id = :from AND NOT EXISTS (SELECT 1 FROM tracked_influencers o "
        "WHERE o.author_id = :to)"), {"from": from_id, "to": to_id})


def downgrade() -> None:
    conn = op.get_bind()
    rows: list[Any] = conn.execute(sa.text(
        "SELECT id, workspace_id, network, handle, site FROM authors "
        "WHERE site IS NOT NULL ORDER BY id")).all()
    for author_id, workspace_id, network, handle, site in rows:
        if not handle.lower().endswith("@" + site.lower()) or len(handle) <= len(site) + 1:
            continue
        byline = handle[:-len(site) - 1]
        into = _author_id(conn, workspace_id, network, byline)
        if into is None:
            conn.execute(sa.text("UPDATE authors SET handle = :handle, handle_key = :key "
                                 "WHERE id = :id"),
                         {"handle": byline, "key": handle_key(byline), "id": author_id})
            continue
        conn.execute(sa.text("UPDATE mentions SET author_id = :to WHERE author_id = :id"),
                     {"to": into, "id": author_id})
        conn.execute(sa.text(
            "UPDATE authors SET mention_count = mention_count + (SELECT mention_count "
            "FROM authors a WHERE a.id = :id), verified = (verified OR (SELECT verified "
            "FROM authors a WHERE a.id = :id)), followers = COALESCE(followers, (SELECT "
            "followers FROM authors a WHERE a.id = :id)) WHERE id = :to"),
            {"to": into, "id": author_id})
        for column, earlier in (("first_seen_at", "<"), ("last_seen_at", ">")):
            conn.execute(sa.text(
                f"UPDATE authors SET {column} = COALESCE((SELECT a.{column} FROM authors a "
                f"WHERE a.id = :id AND a.{column} {earlier} authors.{column}), {column}) "
                "WHERE id = :to"), {"to": into, "id": author_id})
        _copy_tracking(conn, author_id, into)
        conn.execute(sa.text("DELETE FROM authors WHERE id = :id"), {"id": author_id})
    op.drop_column('authors', 'site')
