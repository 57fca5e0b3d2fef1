"""The other names of Mastodon statuses (``post_aliases``) live as long as the post they
name, on SQLite and PostgreSQL: a reply weeks later still joins its case; the names of
statuses Vigie did not keep expire; retention and forget take them with their mention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.privacy import ALIAS_GRACE, AliasSweep, do_forget, purge_older_than
from bot.services.watches import do_add_watch
from storage.db import transaction
from storage.models import Author, Mention, Watch, Workspace
from storage.models_cases import Case, CasePost, PostAlias
from tests.harness.constants import CHANNEL_ID
from tests.services.test_mastodon_cases import (
    ANA,
    INSTANCE,
    NOW,
    fetched,
    ingest,
    status,
)

BOB = {"id": "109000000000000077", "username": "bob", "acct": "bob@other.social",
       "url": "https://other.social/@bob", "uri": "https://other.social/users/bob"}
ROOT = "https://other.social/users/ana/statuses/777"


@pytest.fixture
def template(shared_data: Path) -> dict[str, Any]:
    """The real mastodon.social status the conversations are made of."""
    return json.loads((shared_data / "api/mastodon/mastodonpy_status_plain.json").read_text())


def posts(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Ana's complaint (kept), Bob's unrelated status (fetched, not kept), and Ana's
    follow-up weeks later, which says nothing of the brand."""
    return {
        "root": status(template, "9001", ANA, ROOT, "@acme my order 5512 never arrived", 0),
        "other": status(template, "9100", BOB, "https://other.social/users/bob/statuses/1",
                        "lovely weather on the coast today", 5),
        "later": status(template, "9400", ANA, "https://other.social/users/ana/statuses/901",
                        "three weeks later and still nothing", 40,
                        reply_to=("9001", ANA["id"])),
    }


def brand_watch(sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)


def aliases(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(PostAlias.alias).order_by(PostAlias.alias)))


def test_a_reply_weeks_later_joins_its_case_and_names_of_posts_not_kept_expire(
        sessions: sessionmaker[Session], workspace_id: int, template: dict[str, Any]) -> None:
    brand_watch(sessions, workspace_id)
    raw = posts(template)
    assert ingest(sessions, workspace_id, fetched(raw["root"]), fetched(raw["other"])
                  ).stored == 1
    assert aliases(sessions) == [f"{INSTANCE}/statuses/9001", f"{INSTANCE}/statuses/9100"]

    sweep = AliasSweep()
    now = datetime.now(UTC)
    assert sweep.run(sessions, now + ALIAS_GRACE - timedelta(minutes=1)) == 0  # too young
    assert aliases(sessions) == [f"{INSTANCE}/statuses/9001", f"{INSTANCE}/statuses/9100"]
    assert sweep.run(sessions, now + timedelta(days=21)) == 1
    assert aliases(sessions) == [f"{INSTANCE}/statuses/9001"]
    settled = sweep.after
    assert sweep.run(sessions, now + timedelta(days=22)) == 0 and sweep.after == settled

    # Three weeks later, Ana writes again under her complaint: it joins the case.
    report = ingest(sessions, workspace_id, fetched(raw["later"]))
    assert (report.stored, report.follow_ups) == (1, 1)
    with sessions() as session:
        later = session.scalars(select(Mention).where(Mention.external_id.like("%/901"))).one()
        assert later.parent_external_id == ROOT
    # The new name is read once, on a later run, and kept (its post is kept).
    assert sweep.run(sessions, now + timedelta(days=30)) == 0
    assert sweep.after is not None and settled is not None and sweep.after > settled
    assert aliases(sessions) == [f"{INSTANCE}/statuses/9001", f"{INSTANCE}/statuses/9400"]


def test_retention_takes_the_names_of_purged_mentions_only(
        sessions: sessionmaker[Session], workspace_id: int, template: dict[str, Any]) -> None:
    """A status first fetched long ago and kept only recently (its name is older than the
    retention, its mention is not) keeps its name."""
    brand_watch(sessions, workspace_id)
    raw = posts(template)
    bob_kept = {**raw["other"], "content": "<p>@acme lovely bikes</p>"}
    ingest(sessions, workspace_id, fetched(raw["root"]), fetched(bob_kept))
    with transaction(sessions) as session:
        session.execute(update(Mention).where(Mention.external_id == ROOT)
                        .values(created_at=NOW - timedelta(days=40)))
        session.execute(update(PostAlias).values(created_at=NOW - timedelta(days=40)))
    assert purge_older_than(sessions, 30, NOW).mentions == 1
    assert aliases(sessions) == [f"{INSTANCE}/statuses/9100"]


def test_forget_takes_the_names_of_the_authors_mentions(
        sessions: sessionmaker[Session], workspace_id: int, template: dict[str, Any]) -> None:
    """A status URI names its author: forgetting them removes it from the aliases too."""
    brand_watch(sessions, workspace_id)
    raw = posts(template)
    bob_kept = {**raw["other"], "content": "<p>@acme lovely bikes</p>"}
    ingest(sessions, workspace_id, fetched(raw["root"]), fetched(bob_kept))
    with sessions() as session:
        handle = session.scalars(select(Author.handle).where(
            Author.handle.like("%ana%"))).one()
    assert do_forget(sessions, workspace_id, CLI, handle).mentions == 1
    assert aliases(sessions) == [f"{INSTANCE}/statuses/9100"]
    with sessions() as session:
        assert session.scalars(select(PostAlias.external_id)).all() == [
            "https://other.social/users/bob/statuses/1"]


ALIAS_NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_retention_takes_the_names_of_the_brand_replies_of_purged_cases(
        sessions: sessionmaker[Session]) -> None:
    """A brand reply's alias is kept by its case post when the sweep reads it; retention
    then deletes the case (root mention purged, case and case posts cascade): the reply's
    alias goes with it (no later sweep reads it again). Found in review."""
    old = ALIAS_NOW - timedelta(days=100)
    with transaction(sessions) as session:
        ws = Workspace(team_id="T0PROBE02")
        session.add(ws)
        session.flush()
        watch = Watch(workspace_id=ws.id, name="w", channel_id="C0PROBE1", alert_threshold=40)
        session.add(watch)
        session.flush()
        root = Mention(workspace_id=ws.id, watch_id=watch.id, network="mastodon",
                       external_id="https://x.social/users/ana/statuses/1", url="https://x",
                       text="x", published_at=old, priority=10, created_at=old)
        session.add(root)
        session.flush()
        case = Case(workspace_id=ws.id, network="mastodon", thread_key=root.external_id,
                    customer="ana", root_mention_id=root.id)
        session.add(case)
        session.flush()
        session.add(CasePost(workspace_id=ws.id, case_id=case.id, network="mastodon",
                             external_id="https://x.social/users/acme/statuses/2",
                             by_brand=True, author="acme", text="sorry", published_at=old))
        session.add(PostAlias(workspace_id=ws.id, network="mastodon",
                              alias="https://m.social/statuses/2",
                              external_id="https://x.social/users/acme/statuses/2",
                              created_at=old))
    sweep = AliasSweep()
    assert sweep.run(sessions, ALIAS_NOW) == 0  # kept by its case post
    assert purge_older_than(sessions, 30, ALIAS_NOW).mentions == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CasePost)) == 0
    sweep.run(sessions, ALIAS_NOW + timedelta(hours=1))
    sweep.run(sessions, ALIAS_NOW + timedelta(days=30))
    with sessions() as session:
        left = session.scalar(select(func.count()).select_from(PostAlias))
    assert left == 0, "the brand reply's alias outlived its case post"
