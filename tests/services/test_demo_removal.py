"""`vigie demo --remove`: the demo watch goes with the fictional mentions only it holds, and
the counts forget them; a post another watch holds too stays for it. SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.demo import DEMO_WATCH, do_remove_demo
from bot.services.errors import NotFound, ServiceError
from bot.services.influencers import home_influencers
from bot.services.ingest import do_ingest
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch, get_watch_by_name, list_watches
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Author, Mention, Watch
from storage.reporting_counts import volume_by_bucket

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def _item(external_id: str, text: str, author: str) -> FetchedMention:
    return FetchedMention(network="rss", external_id=external_id,
                          url=f"https://example.com/demo/{external_id}", text=text,
                          author=FetchedAuthor(handle=author),
                          published_at=NOW - timedelta(hours=1))


FEED = [_item("1", "Acme Cloud is down again, refund me", "ana_lopez"),
        _item("2", "Acme Cloud status page says all good", "asso_velo"),
        _item("3", "Acme Cloud and the recall of bikes", "shared_author")]


def _poll(sessions: sessionmaker[Session], workspace_id: int, name: str,
          items: list[FetchedMention]) -> None:
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, name), None, items,
                  now=NOW)


def _demo_and_recall(sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The demo's watch, and a real one of the team's ("recall")."""
    do_add_watch(sessions, workspace_id, CLI, name=DEMO_WATCH, query="acme",
                 channel_id="C0VIGIEDEMO", alert_threshold=40)
    do_add_watch(sessions, workspace_id, CLI, name="recall", query="recall",
                 channel_id="C0RECALL01", alert_threshold=50)


def test_removing_the_demo_deletes_its_own_mentions_and_keeps_shared_ones(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _demo_and_recall(sessions, workspace_id)
    _poll(sessions, workspace_id, DEMO_WATCH, FEED)
    _poll(sessions, workspace_id, "recall",
          [FEED[2], _item("4", "A recall of scooters", "shared_author")])

    removed = do_remove_demo(sessions, workspace_id)

    assert (removed.mentions, removed.authors, removed.kept) == (2, 2, 1)
    with sessions() as session:
        assert sorted(session.scalars(select(Mention.external_id))) == ["3", "4"]
        assert sorted(session.scalars(select(Author.handle))) == ["shared_author"]
        assert session.scalar(select(func.count()).select_from(Watch)
                              .where(Watch.name == DEMO_WATCH)) == 0
        # The workspace's counts forget the fictional posts (the count triggers follow).
        day = datetime(2026, 11, 21, tzinfo=UTC)
        for edges in ([day, day + timedelta(days=1)],  # the daily counts
                      [NOW - timedelta(hours=2), NOW]):  # the hourly counts and links
            counts = volume_by_bucket(session, workspace_id, None, edges)[0]
            assert sum(counts.values()) == 2, edges
    assert {w.name: w.mention_count for w in list_watches(sessions, workspace_id)} == {
        "recall": 2}
    with pytest.raises(NotFound):
        do_remove_demo(sessions, workspace_id)


def test_a_demo_watch_turned_real_is_not_emptied(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # A watch called demo with a source or real posts (the start-up hint once suggested
    # feeding it a real feed) lost them all as "fictional".
    do_add_watch(sessions, workspace_id, CLI, name=DEMO_WATCH, query="acme",
                 channel_id="C0VIGIEDEMO", alert_threshold=40)
    real = FetchedMention(network="rss", external_id="r1", url="https://forum.example/r1",
                          text="Acme lost my parcel", author=FetchedAuthor(handle="ann"),
                          published_at=NOW - timedelta(hours=1))
    _poll(sessions, workspace_id, DEMO_WATCH, [*FEED[:1], real])
    with pytest.raises(ServiceError) as refused:
        do_remove_demo(sessions, workspace_id)
    assert refused.value.key == "demo.real_watch"
    assert "1 mention(s) that are not the sample feed's" in refused.value.message(plain=True)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 2
        watch = get_watch_by_name(session, workspace_id, DEMO_WATCH)
        assert watch is not None

    with transaction(sessions) as session:  # only the sample's posts, but a source of its own
        session.execute(delete(Mention).where(Mention.external_id == "r1"))
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=DEMO_WATCH,
                  values={"url": "https://forum.example/feed.xml"})
    with pytest.raises(ServiceError):
        do_remove_demo(sessions, workspace_id)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 1


def test_the_demo_never_shares_a_story_with_real_posts(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # A story's posts are all stored by one watch (ingest links a post to the first post
    # its own watch stored), and the demo watch stores only the sample feed's posts (its
    # removal refuses otherwise): removing the demo leaves no real story without its first
    # post, so it hands no story over (bot.services.stories). Even real posts sharing the
    # sample's very link make a story of their own.
    sample = "https://example.com/demo/1"
    do_add_watch(sessions, workspace_id, CLI, name=DEMO_WATCH, query="acme",
                 channel_id="C0VIGIEDEMO", alert_threshold=40)
    do_add_watch(sessions, workspace_id, CLI, name="news", query="kettles",
                 channel_id="C0NEWS0001", alert_threshold=40)
    demo = [replace(_item(n, f"Acme recalls its scooters, read this #{n}", f"demo{n}"),
                    url=sample) for n in ("1", "2")]
    real = [FetchedMention(network="x", external_id=f"r{n}", url=f"https://x.com/u{n}/status/{n}",
                           text=f"Kettles recalled after fires, read this #r{n}",
                           author=FetchedAuthor(handle=f"reader{n}"), links=(sample,),
                           published_at=NOW - timedelta(minutes=30)) for n in (1, 2)]
    _poll(sessions, workspace_id, DEMO_WATCH, demo)
    _poll(sessions, workspace_id, "news", real)
    with sessions() as session:
        ids = dict(session.execute(select(Mention.external_id, Mention.id)).tuples().all())
        keys = set(session.scalars(select(Mention.story_key)))
        stories = dict(session.execute(select(Mention.external_id, Mention.story_id))
                       .tuples().all())
    assert len(keys) == 1  # one link, four posts
    assert stories == {"1": None, "2": ids["1"], "r1": None, "r2": ids["r1"]}
    assert do_remove_demo(sessions, workspace_id).mentions == 2
    with sessions() as session:
        assert dict(session.execute(select(Mention.external_id, Mention.story_id))
                    .tuples().all()) == {"r1": None, "r2": ids["r1"]}


def test_removing_the_demo_leaves_home_s_influencers(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """App Home ranked the fictional authors for up to 15 minutes after their removal."""
    _demo_and_recall(sessions, workspace_id)
    _poll(sessions, workspace_id, DEMO_WATCH, FEED)
    _poll(sessions, workspace_id, "recall", [FEED[2]])
    before = home_influencers(sessions, workspace_id, now=NOW)
    assert sorted(i.handle for i in before) == ["ana_lopez", "asso_velo", "shared_author"]
    do_remove_demo(sessions, workspace_id)
    after = home_influencers(sessions, workspace_id, now=NOW + timedelta(minutes=1))
    assert [i.handle for i in after] == ["shared_author"]
