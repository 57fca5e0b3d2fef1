"""reddit_feed_authors: a Reddit poster read from a feed is ``u/NAME``, as the API names them

Revision ID: 0061
Revises: 0060
Create Date: 2026-12-07 11:00:00

Reddit's ``rss`` mode stored a poster under the feed's byline on its site,
``/u/NAME@reddit.com`` (``/u/NAME`` before bylines had a site, 0055); it now stores
``u/NAME``, as the API modes do. The history, reach and tracking of everyone seen before
stayed under the old author, and their new posts started a second one.

Each such author of a workspace becomes ``u/NAME``: renamed in place when the workspace has
no ``u/NAME`` (any case, as Reddit names compare), else merged into it: its mentions and
its tracking move there, the counts add up, the earliest first seen and the latest last
seen stay, and the profile (name, address, followers, verified) of whichever was seen last
wins, the other filling what it lacks. What names a poster by handle follows: the cases'
customer and their posts' author (lower case), and the handle older versions wrote in
clear in tracking audit events (so that forgetting ``u/NAME`` replaces it by its digest
as it does the new name's). A case whose thread already has a case of ``u/NAME`` keeps
its old customer (two conversations are not merged; a warning counts them). Handles that
are no Reddit name (``/u/[deleted]@reddit.com``) stay as they are.

What is kept by keyed digest cannot be rewritten without the workspace's key, and need not
be: a forget made under the old name keeps the poster's posts out under the new one
(``bot.services.forgotten._older_names``), and the digests in audit events only name.

Every batch (``AUTHORS`` authors renamed, ``BATCH`` rows moved or re-keyed) and every
merge's last step is its own short transaction on a connection of its own (the
migration's holds nothing meanwhile), so PostgreSQL's row locks on ``mentions`` and
SQLite's write lock are held briefly, and ingest keeps running beside the upgrade.
Interrupted, the upgrade starts again where it stopped: every step finds what is left.
The downgrade changes nothing: which mentions, tracking and cases were the old author's is
not recorded once merged, and the old name is the one Vigie no longer stores.
"""
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker

from alembic import op
from bot.matching.query import handle_key
from bot.matching.text import fold
from storage.db import make_session_factory, transaction

revision: str = '0061'
down_revision: str | None = '0060'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("vigie.migrations")

BATCH = 1000
"""Rows moved or re-keyed per transaction."""
AUTHORS = 200
"""Legacy authors read (and renamed) per transaction: each costs a lookup and an update."""
_LABEL = re.compile(r"[.@]")


def _key(handle: str) -> str:
    """``handle_key`` as this migration was written with (a copy: 0063 keys Reddit authors
    without their ``u/``, and re-keys those this one wrote)."""
    value = fold(handle.strip())
    value = value[1:] if value.startswith("@") else value
    return _LABEL.split(value, maxsplit=1)[0][:200]


LEGACY = re.compile(r"/u/([A-Za-z0-9_-]{1,32})(?:@reddit\.com)?", re.IGNORECASE)
"""The names ``rss`` mode stored (its byline on its site, or alone); a Reddit name is as
``bot.sources.reddit`` reads it (a copy: this migration must not change with it)."""
PROFILE = "https://www.reddit.com/user/"
TRACKING_EVENTS = ("influencer.tracked", "influencer.untracked")
_TIMEOUTS = ("lock_timeout", "statement_timeout")


def _current(handle: str) -> str | None:
    """``u/NAME`` for a legacy handle, None for any other."""
    match = LEGACY.fullmatch(handle)
    return f"u/{match.group(1)}" if match else None


class _Steps:
    """Short transactions on connections of their own, with the migration's timeouts."""

    def __init__(self, bind: sa.Connection) -> None:
        self.sessions: sessionmaker[Session] = make_session_factory(bind.engine)
        self.settings: dict[str, str] = {}
        if bind.dialect.name == "postgresql":
            self.settings = {name: bind.execute(sa.text("SELECT current_setting(:name)"),
                                                {"name": name}).scalar_one()
                             for name in _TIMEOUTS}

    @contextmanager
    def step(self) -> Iterator[sa.Connection]:
        """One committed transaction (BEGIN IMMEDIATE on SQLite, as the app writes)."""
        with transaction(self.sessions) as session:
            conn = session.connection()
            for name, value in self.settings.items():
                conn.execute(sa.text("SELECT set_config(:name, :value, true)"),
                             {"name": name, "value": value})
            yield conn


def upgrade() -> None:
    # The migration's transaction ends here, and its connection holds nothing (not even a
    # snapshot, which SQLite's next write on it would fail on) while the steps commit.
    with op.get_context().autocommit_block():
        _merge_all(_Steps(op.get_bind()))


def _merge_all(steps: _Steps) -> None:
    """Every step of the upgrade, each a transaction of its own."""
    workspaces: set[int] = set()
    last = 0
    while True:
        merges: list[tuple[int, int]] = []
        with steps.step() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, workspace_id, handle FROM authors WHERE network = 'reddit' "
                "AND handle LIKE '/u/%' AND id > :last ORDER BY id LIMIT :n"),
                {"last": last, "n": AUTHORS}).all()
            # A batch's renames in one transaction (one row each), its merges after.
            for author_id, workspace_id, handle in rows:
                new = _current(handle)
                if new is None:
                    continue
                workspaces.add(workspace_id)
                into = _author_called(conn, workspace_id, new, author_id)
                if into is None:
                    _rename(conn, author_id, new)
                else:
                    merges.append((author_id, into))
        for author_id, into in merges:
            _merge(steps, author_id, into)
        if not rows:
            break
        last = rows[-1][0]
    _rekey(steps, "case_posts")
    kept = _rekey(steps, "cases")
    if kept:
        log.warning("%d Reddit cases kept their customer's old name: the same thread has "
                    "a case of the new name", kept)
    _rename_in_tracking_events(steps)
    with steps.step() as conn:
        for workspace_id in sorted(workspaces):
            _ranking_changed(conn, workspace_id)


def _rename(conn: sa.Connection, author_id: int, new: str) -> None:
    """Rename the legacy author ``author_id`` to ``new`` (its workspace has no ``new``)."""
    name = new.removeprefix("u/")
    conn.execute(sa.text(
        "UPDATE authors SET handle = :handle, handle_key = :key, site = NULL, "
        "name = CASE WHEN name IS NULL OR name LIKE '/u/%' OR name LIKE 'u/%' "
        "THEN :name ELSE name END, url = COALESCE(url, :url) WHERE id = :id"),
        {"handle": new, "key": _key(new), "name": name, "url": PROFILE + name,
         "id": author_id})


def _merge(steps: _Steps, author_id: int, into: int) -> None:
    """Merge the legacy author ``author_id`` into ``into``, the workspace's author of its
    name now."""
    # Its mentions first, a batch per transaction (the author stays meanwhile).
    while True:
        with steps.step() as conn:
            moved = conn.execute(sa.text(
                "UPDATE mentions SET author_id = :into WHERE id IN (SELECT id FROM mentions "
                "WHERE author_id = :id ORDER BY id LIMIT :n)"),
                {"into": into, "id": author_id, "n": BATCH}).rowcount
        if moved < BATCH:
            break
    with steps.step() as conn:
        legacy = conn.execute(sa.text(
            "SELECT handle, name, url, followers, verified, mention_count FROM authors "
            "WHERE id = :id"), {"id": author_id}).mappings().first()
        if legacy is None:
            return
        # What a poll stored for the old author since the last batch.
        conn.execute(sa.text("UPDATE mentions SET author_id = :into WHERE author_id = :id"),
                     {"into": into, "id": author_id})
        conn.execute(sa.text(
            "UPDATE tracked_influencers SET author_id = :into WHERE author_id = :id "
            "AND NOT EXISTS (SELECT 1 FROM tracked_influencers t WHERE t.author_id = :into)"),
            {"into": into, "id": author_id})
        newer = bool(conn.execute(sa.text(
            "SELECT o.last_seen_at > n.last_seen_at FROM authors o, authors n "
            "WHERE o.id = :id AND n.id = :into"), {"id": author_id, "into": into}).scalar())
        name = legacy["name"]
        if name is None or name.startswith(("/u/", "u/")):
            name = (_current(legacy["handle"]) or "").removeprefix("u/") or None
        profile = {"name": name, "url": legacy["url"], "followers": legacy["followers"],
                   "verified": legacy["verified"]}
        # The newer profile wins; the other fills what it lacks.
        conn.execute(sa.text(
            "UPDATE authors SET "
            "name = CASE WHEN :newer THEN COALESCE(:name, name) ELSE COALESCE(name, :name) END, "
            "url = CASE WHEN :newer THEN COALESCE(:url, url) ELSE COALESCE(url, :url) END, "
            "followers = CASE WHEN :newer THEN COALESCE(:followers, followers) "
            "ELSE COALESCE(followers, :followers) END, "
            "verified = CASE WHEN :newer THEN :verified ELSE verified END, "
            "mention_count = mention_count + :count, "
            "first_seen_at = CASE WHEN (SELECT a.first_seen_at FROM authors a WHERE a.id = :id)"
            " < first_seen_at THEN (SELECT a.first_seen_at FROM authors a WHERE a.id = :id) "
            "ELSE first_seen_at END, "
            "last_seen_at = CASE WHEN (SELECT a.last_seen_at FROM authors a WHERE a.id = :id)"
            " > last_seen_at THEN (SELECT a.last_seen_at FROM authors a WHERE a.id = :id) "
            "ELSE last_seen_at END WHERE id = :into"),
            {**profile, "newer": newer, "count": legacy["mention_count"] or 0,
             "id": author_id, "into": into})
        conn.execute(sa.text("DELETE FROM authors WHERE id = :id"), {"id": author_id})


def _author_called(conn: sa.Connection, workspace_id: int, handle: str, other: int
                   ) -> int | None:
    """The workspace's Reddit author ``handle`` (any case), other than ``other``."""
    return conn.execute(sa.text(
        "SELECT id FROM authors WHERE workspace_id = :ws AND handle_key IN (:key, :live) "
        "AND network = 'reddit' AND lower(handle) = :handle AND id <> :other "
        "ORDER BY id LIMIT 1"),
        # Keyed by this migration's key, or by this release's (an author written since).
        {"ws": workspace_id, "key": _key(handle), "live": handle_key(handle),
         "handle": handle.lower(), "other": other}).scalar()


_REKEYED = {
    "case_posts": (
        "SELECT id, author FROM case_posts WHERE network = 'reddit' AND author LIKE '/u/%' "
        "AND id > :last ORDER BY id LIMIT :n",
        "UPDATE case_posts SET author = :new WHERE id = :id"),
    # Unique per workspace, network, thread and customer: a thread with a case of the new
    # name keeps the old one's as it is.
    "cases": (
        "SELECT id, customer FROM cases WHERE network = 'reddit' AND customer LIKE '/u/%' "
        "AND id > :last ORDER BY id LIMIT :n",
        "UPDATE cases SET customer = :new WHERE id = :id AND NOT EXISTS (SELECT 1 FROM "
        "cases c WHERE c.workspace_id = cases.workspace_id AND c.network = cases.network "
        "AND c.thread_key = cases.thread_key AND c.customer = :new)"),
}
"""(read, rename) of the tables naming a poster by lower-case handle."""


def _rekey(steps: _Steps, table: str) -> int:
    """Give the Reddit rows of ``table`` naming a poster by a legacy name (lower case) the
    current one, a batch per transaction; how many kept theirs (a case whose thread has
    a case of the new name)."""
    read, rename = _REKEYED[table]
    kept = 0
    last = 0
    while True:
        with steps.step() as conn:
            rows = conn.execute(sa.text(read), {"last": last, "n": BATCH}).all()
            for row_id, value in rows:
                new = _current(value)
                if new is not None:
                    kept += 1 - conn.execute(sa.text(rename),
                                             {"new": new.lower(), "id": row_id}).rowcount
        if not rows:
            return kept
        last = rows[-1][0]


def _rename_in_tracking_events(steps: _Steps) -> None:
    """The legacy handles older versions audited in clear for a tracking become the
    current name, which a forget of the person finds."""
    events = sa.table("audit_events", sa.column("id", sa.Integer),
                      sa.column("detail", sa.JSON().with_variant(
                          postgresql.JSONB(), "postgresql")))
    last = 0
    while True:
        with steps.step() as conn:
            rows: Sequence[Any] = conn.execute(
                sa.select(events.c.id, events.c.detail)
                .where(events.c.id > last, sa.text("action IN :actions").bindparams(
                    sa.bindparam("actions", TRACKING_EVENTS, expanding=True)))
                .order_by(events.c.id).limit(BATCH)).all()
            for event_id, detail in rows:
                handle = (detail or {}).get("handle")
                new = _current(handle) if isinstance(handle, str) else None
                if new is None or detail.get("network") != "reddit":
                    continue
                conn.execute(events.update().where(events.c.id == event_id)
                             .values(detail={**detail, "handle": new}))
        if not rows:
            return
        last = rows[-1][0]


def _ranking_changed(conn: sa.Connection, workspace_id: int) -> None:
    """App Home ranks the workspace's influencers again in every process (0059)."""
    bumped = conn.execute(sa.text(
        "UPDATE home_ranking_versions SET version = version + 1 WHERE workspace_id = :ws"),
        {"ws": workspace_id}).rowcount
    if not bumped:
        conn.execute(sa.text("INSERT INTO home_ranking_versions (workspace_id, version) "
                             "VALUES (:ws, 1)"), {"ws": workspace_id})


def downgrade() -> None:
    """Nothing: a merged author's mentions, tracking and cases are not told apart from the
    ones ``u/NAME`` had, so the merge cannot be undone, and the old name is one Vigie no
    longer stores (a poster renamed back would start a second author again)."""
