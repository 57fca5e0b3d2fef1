"""Migration 0061: the Reddit posters rss mode stored as ``/u/NAME@reddit.com`` (or
``/u/NAME``) become ``u/NAME``, as the API names them, in each workspace: renamed in place,
or merged into the ``u/NAME`` already there (mentions, tracking, counts, first and last
seen, the newer profile), with the cases and tracking audit events naming them; the
downgrade keeps the merge. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from bot.matching.query import handle_key
from bot.matching.text import fold
from storage import migrations
from storage.db import make_engine
from storage.models import AuditEvent, Author, Mention, Watch, Workspace
from storage.models_cases import Case, CasePost
from storage.models_influencers import TrackedInfluencer

NOV, DEC = datetime(2026, 11, 1, 9, 0, tzinfo=UTC), datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LATE, LATER = datetime(2026, 12, 5, 9, 0, tzinfo=UTC), datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
BOB_POSTS = 1201
"""More than one batch of mentions (``BATCH``) move from Bob's old author to his new one."""


def _author(session: Session, workspace_id: int, handle: str, *, network: str = "reddit",
            site: str | None = None, name: str | None = None, url: str | None = None,
            followers: int | None = None, count: int = 0, first: datetime = NOV,
            last: datetime = DEC) -> int:
    # The key releases before 0063 wrote (it keeps a Reddit author's u/).
    key = re.split(r"[.@]", fold(handle).removeprefix("@"), maxsplit=1)[0]
    return int(session.execute(insert(Author).values(
        workspace_id=workspace_id, network=network, handle=handle, handle_key=key, site=site,
        name=name,
        url=url, followers=followers, mention_count=count, first_seen_at=first,
        last_seen_at=last).returning(Author.id)).scalar_one())


def _before_0061(engine: Engine) -> dict[str, Any]:
    """Workspaces, authors, mentions, tracking, cases and audit events as a release
    before 0061 left them; returns ids by name."""
    ids: dict[str, Any] = {}
    with Session(engine) as session:
        one, two = (session.execute(insert(Workspace).values(team_id=team)
                                    .returning(Workspace.id)).scalar_one()
                    for team in ("T0MIG601", "T0MIG602"))
        ids["one"], ids["two"] = one, two
        watch = Watch(workspace_id=one, name="acme", channel_id="C0ACME001")
        session.add(watch)
        session.flush()
        # Ana: rss mode only (renamed in place).
        ids["ana"] = _author(session, one, "/u/Ana@reddit.com", site="reddit.com",
                             name="/u/Ana", count=2)
        # Bob: rss mode before (older, tracked), the API since (newer profile).
        ids["bob_old"] = _author(session, one, "/u/bob@reddit.com", site="reddit.com",
                                 name="/u/bob", url="https://www.reddit.com/user/bob",
                                 count=BOB_POSTS + 1, first=NOV, last=DEC)
        ids["bob"] = _author(session, one, "u/Bob", name="Bob", followers=12,
                             url="https://www.reddit.com/user/Bob", count=1, first=LATE,
                             last=LATER)
        # Carl: both older names, no current one (the first is renamed, the second merged).
        ids["carl_bare"] = _author(session, one, "/u/carl", name="/u/carl", count=1,
                                   first=NOV, last=DEC)
        ids["carl_site"] = _author(session, one, "/u/carl@reddit.com", site="reddit.com",
                                   name="/u/carl", followers=3, count=1, first=LATE,
                                   last=LATER)
        # Bob in the other workspace: his own author there.
        ids["bob_two"] = _author(session, two, "/u/bob@reddit.com", site="reddit.com",
                                 count=1)
        # Left as they are: no Reddit name, another network's, a feed byline.
        ids["deleted"] = _author(session, one, "/u/[deleted]@reddit.com", site="reddit.com")
        ids["feed"] = _author(session, one, "/u/zed@reddit.com", network="rss",
                              site="reddit.com")
        ids["admin"] = _author(session, one, "Admin@blog.example", network="rss",
                               site="blog.example")

        def mention(external_id: str, author_id: int) -> int:
            return int(session.execute(insert(Mention).values(
                workspace_id=one, watch_id=watch.id, network="reddit",
                external_id=external_id, url=f"https://www.reddit.com/{external_id}",
                text="words", author_id=author_id, published_at=DEC)
                .returning(Mention.id)).scalar_one())

        for n in (1, 2):
            mention(f"t3_ana{n}", ids["ana"])
        session.execute(insert(Mention), [dict(
            workspace_id=one, watch_id=watch.id, network="reddit", external_id=f"t3_bob{n}",
            url=f"https://www.reddit.com/t3_bob{n}", text="words", author_id=ids["bob_old"],
            published_at=DEC) for n in range(BOB_POSTS)])
        x_root, y_root = mention("t3_x", ids["bob_old"]), mention("t3_y", ids["bob_old"])
        y_new = mention("t1_y2", ids["bob"])
        mention("t3_carl1", ids["carl_bare"])
        mention("t3_carl2", ids["carl_site"])
        session.execute(insert(TrackedInfluencer), [
            {"workspace_id": one, "author_id": ids["ana"], "tracked_by": "U0ANA",
             "created_at": DEC},
            {"workspace_id": one, "author_id": ids["bob_old"], "tracked_by": "U0BOB",
             "created_at": DEC}])
        # Bob's cases: thread x his old name's only; thread y has one of each name.
        for thread, root, customer in (("x", x_root, "/u/bob@reddit.com"),
                                       ("y", y_root, "/u/bob@reddit.com"),
                                       ("y", y_new, "u/bob")):
            case_id = session.execute(insert(Case).values(
                workspace_id=one, network="reddit", thread_key=thread,
                customer=customer, root_mention_id=root, created_at=DEC, updated_at=DEC)
                .returning(Case.id)).scalar_one()
            session.execute(insert(CasePost).values(
                workspace_id=one, case_id=case_id, mention_id=root, network="reddit",
                external_id=f"post-{root}", by_brand=False, author=customer, text="words",
                published_at=DEC))
        session.execute(insert(AuditEvent), [
            {"workspace_id": one, "actor": "U0BOB", "action": action, "surface": "slash",
             "detail": detail} for action, detail in (
                ("influencer.tracked", {"network": "reddit", "handle": "/u/bob@reddit.com"}),
                ("influencer.untracked", {"network": "reddit", "handle": "/u/Ana"}),
                ("influencer.tracked", {"network": "rss", "handle": "/u/zed@reddit.com"}),
                ("influencer.tracked", {"network": "reddit", "handle_digest": "ab12"}),
                ("mention.assigned", {"network": "reddit", "handle": "/u/bob@reddit.com"}))])
        session.commit()
    return ids


def _state(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        authors = {row.id: (row.workspace_id, row.handle, row.handle_key, row.site, row.name,
                            row.url, row.followers, row.mention_count)
                   for row in conn.execute(text(
                       "SELECT id, workspace_id, handle, handle_key, site, name, url, "
                       "followers, mention_count FROM authors"))}
        seen = {row[0]: (row[1], row[2]) for row in conn.execute(text(
            "SELECT id, first_seen_at, last_seen_at FROM authors"))}
        posts = dict(conn.execute(text(
            "SELECT author_id, count(*) FROM mentions GROUP BY author_id")).tuples().all())
        tracked = sorted(conn.execute(text(
            "SELECT author_id, tracked_by FROM tracked_influencers")).tuples().all())
        cases = sorted(conn.execute(text(
            "SELECT c.thread_key, c.customer, p.author FROM cases c "
            "JOIN case_posts p ON p.case_id = c.id")).tuples().all())
        events = [row[0] for row in conn.execute(text(
            "SELECT detail FROM audit_events ORDER BY id"))]
        versions = dict(conn.execute(text(
            "SELECT workspace_id, version FROM home_ranking_versions")).tuples().all())
    return {"authors": authors, "seen": seen, "posts": posts, "tracked": tracked,
            "cases": cases, "events": [e if isinstance(e, dict) else json.loads(e)
                                       for e in events],
            "versions": versions}


def _day(value: Any) -> str:
    return str(value)[:10]


def _merge(url: str) -> None:
    migrations.upgrade(url, "0060")
    engine = make_engine(url)
    try:
        ids = _before_0061(engine)
        before = _state(engine)
        migrations.upgrade(url, "0061")
        after = _state(engine)
    finally:
        engine.dispose()
    one, two = ids["one"], ids["two"]
    profile = "https://www.reddit.com/user/"
    assert after["authors"] == {
        ids["ana"]: (one, "u/Ana", "u/ana", None, "Ana", profile + "Ana", None, 2),
        ids["bob"]: (one, "u/Bob", "u/bob", None, "Bob", profile + "Bob", 12,
                     BOB_POSTS + 2),
        ids["carl_bare"]: (one, "u/carl", "u/carl", None, "carl", profile + "carl", 3, 2),
        ids["bob_two"]: (two, "u/bob", "u/bob", None, "bob", profile + "bob", None, 1),
        **{ids[name]: before["authors"][ids[name]] for name in ("deleted", "feed", "admin")},
    }
    # Earliest first seen, latest last seen.
    assert {name: tuple(map(_day, after["seen"][ids[name]])) for name in ("bob", "carl_bare")
            } == {"bob": ("2026-11-01", "2026-12-06"), "carl_bare": ("2026-11-01", "2026-12-06")}
    assert after["posts"] == {ids["ana"]: 2, ids["bob"]: BOB_POSTS + 3, ids["carl_bare"]: 2}
    assert after["tracked"] == [(ids["ana"], "U0ANA"), (ids["bob"], "U0BOB")]
    assert after["cases"] == [("x", "u/bob", "u/bob"),
                              # The thread has a case of the new name: two conversations.
                              ("y", "/u/bob@reddit.com", "u/bob"),
                              ("y", "u/bob", "u/bob")]
    assert after["events"] == [
        {"network": "reddit", "handle": "u/bob"},
        {"network": "reddit", "handle": "u/Ana"},
        *before["events"][2:]]
    assert after["versions"] == {one: 1, two: 1}

    # Nothing to undo the merge with: the downgrade keeps it, and upgrading again finds
    # nothing left to merge.
    migrations.downgrade(url, "0060")
    engine = make_engine(url)
    try:
        assert _state(engine) == after
    finally:
        engine.dispose()
    migrations.upgrade(url)
    engine = make_engine(url)
    try:
        head = _state(engine)["authors"]
    finally:
        engine.dispose()
    # The same authors; 0063 keys the Reddit names without their u/.
    assert {i: a[:2] + a[3:] for i, a in head.items()} == {
        i: a[:2] + a[3:] for i, a in after["authors"].items()}
    assert all(a[2] == handle_key(a[1]) for a in head.values())


def test_sqlite_reddit_feed_authors_become_their_api_name(tmp_path: Path) -> None:
    _merge(f"sqlite:///{tmp_path / 'm61.db'}")


@pytest.mark.postgres
def test_postgres_reddit_feed_authors_become_their_api_name(fresh_postgres_url: str) -> None:
    _merge(fresh_postgres_url)
