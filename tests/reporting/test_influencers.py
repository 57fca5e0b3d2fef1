"""Influencers: the ranking (reach × engagement × frequency), the sentiment trend, tracking,
and the index the ranking reads (SQLite and PostgreSQL)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.services import influencers
from bot.services.actors import Actor
from bot.services.errors import Forbidden, NotFound, ServiceError
from storage.db import transaction
from storage.models import Author, Member, Mention, Workspace
from tests.reporting.dataset import Dataset

CLI = Actor(None, "cli")
OCTOBER = (datetime(2026, 9, 30, 22, tzinfo=UTC), datetime(2026, 10, 31, 23, tzinfo=UTC))


def test_ranking_is_reach_times_engagement_times_frequency(
        sessions: sessionmaker[Session], dataset: Dataset) -> None:
    with sessions() as session:
        ranked = influencers.rank_influencers(session, dataset.workspace_id, *OCTOBER)
    assert [(i.handle, i.mentions) for i in ranked] == [
        ("@ana", 3), ("@bob", 2), ("@dan", 1), ("@carl", 2)]
    assert ranked[0].score == round(math.log10(10 + 48213) * 1 * 3, 3)
    assert ranked[2].score == round(math.log10(10 + 900000), 3)
    assert ranked[3].score == 2.0 and ranked[3].followers is None  # unknown reach counts 1
    # Last posts: newest first, at most three, inside the period.
    assert [p.text for p in ranked[0].last_posts] == ["text of m3", "text of m12",
                                                     "text of m1"]
    with sessions() as session:
        assert influencers.rank_influencers(session, dataset.workspace_id, *OCTOBER,
                                            limit=2)[1].handle == "@bob"
        empty = influencers.rank_influencers(
            session, dataset.workspace_id, datetime(2026, 8, 1, tzinfo=UTC),
            datetime(2026, 9, 1, tzinfo=UTC))
    assert empty == []


def test_engagement_and_the_sentiment_trend(sessions: sessionmaker[Session]) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T07TREND01")
        session.add(workspace)
        session.flush()
        loud = Author(workspace_id=workspace.id, network="x", handle="@loud", followers=100)
        calm = Author(workspace_id=workspace.id, network="x", handle="@calm", followers=100)
        session.add_all([loud, calm])
        session.flush()
        rows = [(loud, 1, -0.8, 900), (loud, 20, 0.6, 100), (calm, 2, 0.5, 0),
                (calm, 3, 0.4, 0), (calm, 25, -0.5, 0)]
        for index, (author, day, sentiment, engagement) in enumerate(rows):
            session.add(Mention(workspace_id=workspace.id, author_id=author.id, network="x",
                                external_id=str(index), url=f"https://x.example/{index}",
                                text=f"post {index}", published_at=start + timedelta(days=day),
                                sentiment=sentiment, engagement=engagement))
        workspace_id = workspace.id
    with sessions() as session:
        ranked = influencers.rank_influencers(session, workspace_id, start,
                                              start + timedelta(days=30))
    by_handle = {i.handle: i for i in ranked}
    assert [i.handle for i in ranked] == ["@loud", "@calm"]
    assert by_handle["@loud"].engagement == 1000
    assert by_handle["@loud"].score == round(math.log10(110) * math.log10(10 + 500) * 2, 3)
    assert by_handle["@loud"].trend == "improving"  # -0.8, then 0.6
    assert by_handle["@calm"].sentiment_before == pytest.approx(0.45)
    assert by_handle["@calm"].trend == "worsening"


def test_track_untrack_and_bad_inputs(sessions: sessionmaker[Session],
                                      dataset: Dataset) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    workspace_id = dataset.workspace_id
    # A handle typed without its "@" (or its instance) finds the one author stored with it.
    assert influencers.do_track(sessions, workspace_id, CLI, handle="ana", network="Mastodon",
                                now=now) == ("@ana", True)
    assert influencers.do_track(sessions, workspace_id, CLI, handle="@ana",
                                network="mastodon", now=now) == ("@ana", False)
    # Someone never seen is created, so their first post alerts too.
    assert influencers.do_track(sessions, workspace_id, CLI, handle="@newcomer.bsky.social",
                                network="bluesky", now=now) == ("@newcomer.bsky.social", True)
    with sessions() as session:
        assert influencers.tracked_list(session, workspace_id) == [
            ("bluesky", "@newcomer.bsky.social"), ("mastodon", "@ana")]
        ranked = influencers.rank_influencers(session, workspace_id, *OCTOBER)
    assert ranked[0].tracked and not ranked[1].tracked
    assert influencers.do_untrack(sessions, workspace_id, CLI, handle="@ana",
                                  network="mastodon") == "@ana"
    with pytest.raises(NotFound):
        influencers.do_untrack(sessions, workspace_id, CLI, handle="@ana", network="mastodon")
    for handle, network, key in [("", "x", "influencers.bad_handle"),
                                 ("<!channel>", "x", "influencers.bad_handle"),
                                 ("a" * 201, "x", "influencers.bad_handle"),
                                 ("@ana", "not a network", "influencers.bad_network"),
                                 ("@ana", "", "influencers.bad_network")]:
        with pytest.raises(ServiceError) as caught:
            influencers.do_track(sessions, workspace_id, CLI, handle=handle, network=network,
                                 now=now)
        assert caught.value.key == key
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id="U07VIEWER1", role="viewer",
                           granted_by="U07ADMIN01"))
    with pytest.raises(Forbidden):
        influencers.do_track(sessions, workspace_id, Actor("U07VIEWER1", "slash_command"),
                             handle="@bob", network="bluesky", now=now)
    with pytest.raises(ServiceError) as caught:
        influencers.parse_period("2d")
    assert caught.value.key == "influencers.bad_period"


def test_tracked_lookup_is_one_query_for_a_batch(sessions: sessionmaker[Session],
                                                  dataset: Dataset) -> None:
    influencers.do_track(sessions, dataset.workspace_id, CLI, handle="@dan", network="x",
                         now=datetime(2026, 11, 1, tzinfo=UTC))
    with sessions() as session:
        dan = session.scalar(select(Author.id).where(Author.handle == "@dan"))
        authors = {mention_id: (dan if mention_id % 3 == 0 else mention_id + 10_000)
                   for mention_id in range(1, 500)}
        authors[999] = None
        statements: list[str] = []
        from sqlalchemy import event

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(session.get_bind(), "before_cursor_execute", count)
        try:
            loud = influencers.tracked_posts(session, dataset.workspace_id, authors)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", count)
    assert loud == {m for m in range(1, 500) if m % 3 == 0}
    assert len(statements) == 1 and "tracked_influencers" in statements[0]


def test_the_ranking_reads_the_window_index(sessions: sessionmaker[Session],
                                            dataset: Dataset) -> None:
    """The period's GROUP BY is answered from ix_mentions_influencer_window, not by
    reading the mentions table (bench/bench_monthly_report.py times it at 1M mentions)."""
    with sessions() as session:
        name = session.get_bind().dialect.name
        query = ("SELECT author_id + 0, count(*), sum(engagement) FROM mentions "
                 "WHERE workspace_id = :w AND published_at >= :a AND published_at < :b "
                 "AND author_id IS NOT NULL GROUP BY author_id + 0")
        params = {"w": dataset.workspace_id, "a": OCTOBER[0], "b": OCTOBER[1]}
        if name != "sqlite":
            # A handful of rows gives PostgreSQL's planner nothing to choose by: the bench
            # prints its plan at 1M mentions (an index-only scan of this index).
            pytest.skip("plan checked by bench/bench_monthly_report.py on PostgreSQL")
        params = {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v
                  for k, v in params.items()}
        plan = " ".join(str(row[-1]) for row in session.execute(
            text(f"EXPLAIN QUERY PLAN {query}"), params))
    assert "COVERING INDEX ix_mentions_influencer_window" in plan, plan
