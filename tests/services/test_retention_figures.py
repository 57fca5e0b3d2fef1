"""Retention keeps the figures of the days it purges (found in an operator review: the
daily aggregates the docs promise were deleted with the mentions, so stats, digests, share of
voice and the monthly report of purged days showed nothing). Twelve posts published ten
days ago and found then are purged at five days; every report reads the same volumes,
sentiments, networks and reach for those days before and after. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.competitors import do_create_group
from bot.services.ingest import do_ingest
from bot.services.privacy import do_forget, purge_older_than
from bot.services.reporting.digest_sections import build_digest_report
from bot.services.reporting.monthly import get_monthly_report
from bot.services.reporting.queries import Scope
from bot.services.reporting.schedule import DigestChannel
from bot.services.reporting.share_of_voice import get_share_of_voice
from bot.services.reporting.stats import get_stats
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, Workspace
from storage.models_reporting import MentionDayCount, MentionHourCount
from tests.harness.constants import CHANNEL_ID

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
PUBLISHED = datetime(2026, 11, 11, 10, 0, tzinfo=UTC)
RIVAL_CHANNEL = "C07RIVALS"
SENTIMENTS = ("negative", "neutral", "positive")


def post(external_id: str, text: str, published: datetime, handle: str) -> FetchedMention:
    return FetchedMention(network="rss", external_id=external_id,
                          url=f"https://news.example/{external_id}", text=text,
                          author=FetchedAuthor(handle=handle, followers=1_000),
                          published_at=published)


def found_ten_days_ago(sessions: sessionmaker[Session], workspace_id: int) -> None:
    """12 acme posts (4 negative, 4 neutral, 4 positive) and 3 rival ones, published ten
    days ago at 10:00-12:45 UTC and found an hour later."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="rival", query="rival",
                 channel_id=RIVAL_CHANNEL, alert_threshold=0, kind="competitor")
    do_create_group(sessions, workspace_id, CLI, name="market", watch_names=["acme", "rival"])
    acme = [post(f"a{n}", f"Acme bikes, post {n}", PUBLISHED + timedelta(minutes=15 * n),
                 f"writer{n}") for n in range(12)]
    rival = [post(f"r{n}", f"Rival bikes, post {n}", PUBLISHED + timedelta(minutes=20 * n),
                  "rivalfan") for n in range(3)]
    with transaction(sessions) as session:
        for name, items in (("acme", acme), ("rival", rival)):
            do_ingest(session, get_watch_by_name(session, workspace_id, name), None, items,
                      now=PUBLISHED + timedelta(hours=4))
    with transaction(sessions) as session:
        for n in range(12):
            session.execute(update(Mention).where(Mention.external_id == f"a{n}")
                            .values(sentiment_label=SENTIMENTS[n % 3]))
        for mention in session.scalars(select(Mention)):
            mention.created_at = mention.published_at + timedelta(hours=1)


def figures(sessions: sessionmaker[Session], workspace_id: int) -> dict[str, Any]:
    """What every report shows of the purged days, through the services."""
    stats = get_stats(sessions, workspace_id, CLI, period="30d", now=NOW)
    _days, _zone, sov = get_share_of_voice(sessions, workspace_id, CLI, period="30d", now=NOW)
    monthly, _spec = get_monthly_report(sessions, workspace_id, CLI, month="2026-11", now=NOW)
    with sessions() as session:
        acme = get_watch_by_name(session, workspace_id, "acme").id
        config = DigestChannel(workspace_id, CHANNEL_ID, time(8, 0), ZoneInfo("UTC"), False,
                               True, Scope(workspace_id, (acme,)), "en", None)
        digest = build_digest_report(session, config, end=datetime(2026, 11, 12, tzinfo=UTC),
                                     now=NOW)
    return {
        "stats": (stats.total, stats.by_sentiment, stats.by_network, stats.buckets,
                  stats.trend, stats.hours),
        "sov": [(report.members, report.by_network) for report in sov],
        "monthly": (monthly.total, monthly.by_sentiment, monthly.by_network, monthly.days,
                    monthly.share_of_voice),
        "digest": (digest.total, digest.by_network, digest.by_sentiment, digest.chart,
                   [(group.watch_name, group.count) for group in digest.waited],
                   [(report.members, report.by_network) for report in digest.share_of_voice]),
    }


def test_a_purge_keeps_the_figures_of_the_days_it_purges(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    found_ten_days_ago(sessions, workspace_id)
    before = figures(sessions, workspace_id)
    # Statistics and the monthly report count the brand's watches (12); the rival's 3
    # posts are in the share of voice only.
    assert before["stats"][0] == 12
    assert before["stats"][1]["negative"] == 4
    assert before["monthly"][0] == 12
    assert before["digest"][0].current == 12
    assert purge_older_than(sessions, 5, NOW).mentions == 15
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 0
    after = figures(sessions, workspace_id)
    for report in before:
        assert after[report] == before[report], report
    # No answer can be read for purged mentions: no answered share rather than 0 %.
    stats = get_stats(sessions, workspace_id, CLI, period="30d", now=NOW)
    assert (stats.responses.actionable, stats.responses.answered_share) == (0, None)
    monthly, _spec = get_monthly_report(sessions, workspace_id, CLI, month="2026-11", now=NOW)
    assert monthly.responses.actionable == 0


def test_a_forget_takes_the_persons_posts_out_of_the_figures_a_purge_keeps(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Forget removes a person's stored posts from every figure (their rows are deleted,
    the triggers count them down); what a purge already folded into the counts stays, as
    it names no one."""
    found_ten_days_ago(sessions, workspace_id)
    do_forget(sessions, workspace_id, CLI, "rivalfan")
    assert figures(sessions, workspace_id)["stats"][0] == 12
    assert purge_older_than(sessions, 5, NOW).mentions == 12
    assert figures(sessions, workspace_id)["stats"][0] == 12
    with sessions() as session:
        hours = session.scalar(select(func.sum(MentionHourCount.mentions))
                               .where(MentionHourCount.is_first.is_(True)))
        days = session.scalar(select(func.sum(MentionDayCount.mentions))
                              .where(MentionDayCount.is_first.is_(True)))
        empty = session.scalar(select(func.count()).select_from(MentionHourCount)
                               .where(MentionHourCount.mentions == 0))
    assert (hours, days, empty) == (12, 12, 0)


def test_a_digest_lists_what_is_stored_of_a_partly_purged_day(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The top priorities and the examples of what waited skip priorities below a floor the
    counts give; the counts still hold purged mentions, so that floor could be above
    everything stored and the lists came out empty."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=90)
    early = [post(f"e{n}", f"Acme post {n}", PUBLISHED + timedelta(minutes=10 * n), f"e{n}")
             for n in range(6)]
    late = [post(f"l{n}", f"Acme late post {n}", PUBLISHED + timedelta(hours=4, minutes=n),
                 f"l{n}") for n in range(2)]
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                  early + late, now=PUBLISHED + timedelta(hours=5))
    with transaction(sessions) as session:
        for mention in session.scalars(select(Mention)):
            purged = mention.external_id.startswith("e")
            mention.priority = 80 if purged else 20
            mention.created_at = (mention.published_at + timedelta(hours=1) if purged
                                  else NOW - timedelta(days=1))  # found late
    assert purge_older_than(sessions, 5, NOW).mentions == 6
    with sessions() as session:
        acme = get_watch_by_name(session, workspace_id, "acme").id
        config = DigestChannel(workspace_id, CHANNEL_ID, time(8, 0), ZoneInfo("UTC"), False,
                               True, Scope(workspace_id, (acme,)), "en", None)
        report = build_digest_report(session, config, end=datetime(2026, 11, 12, tzinfo=UTC),
                                     now=NOW)
    assert report.total.current == 8
    assert len(report.top_priority) == 2
    assert [(group.count, len(group.examples)) for group in report.waited] == [(8, 2)]


def test_a_purge_keeps_a_post_of_two_watches_counted_once_in_their_channel(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """A channel with two watches counts a post both hold once: the doubles it takes off
    are read from the links, which the purge deletes; what it keeps of them still counts."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="recall", query="recall",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    posts = [post("1", "Acme recall: brakes fail", PUBLISHED, "one"),
             post("2", "Acme bikes look great", PUBLISHED + timedelta(minutes=5), "two"),
             post("3", "A recall of scooters", PUBLISHED + timedelta(hours=2), "three")]
    with transaction(sessions) as session:
        for name in ("acme", "recall"):
            do_ingest(session, get_watch_by_name(session, workspace_id, name), None, posts,
                      now=PUBLISHED + timedelta(hours=4))
    with transaction(sessions) as session:
        for mention in session.scalars(select(Mention)):
            mention.created_at = mention.published_at + timedelta(hours=3)

    def digest() -> tuple[Any, ...]:
        with sessions() as session:
            both = tuple(sorted(get_watch_by_name(session, workspace_id, name).id
                                for name in ("acme", "recall")))
            config = DigestChannel(workspace_id, CHANNEL_ID, time(8, 0), ZoneInfo("UTC"),
                                   False, True, Scope(workspace_id, both), "en", None)
            report = build_digest_report(session, config,
                                         end=datetime(2026, 11, 12, tzinfo=UTC), now=NOW)
            return report.total, report.by_network, report.by_sentiment, report.chart

    before = digest()
    assert before[0].current == 3
    assert purge_older_than(sessions, 5, NOW).mentions == 3
    assert digest() == before


def test_a_purged_post_a_source_brings_back_is_not_counted_twice(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The counts keep a purged post; storing it again when a source serves it again (a
    new source on the same feed, a reset cursor, a webhook) counted it twice. Posts
    published before the purge's cut-off are dropped; later ones are stored as ever."""
    found_ten_days_ago(sessions, workspace_id)
    before = figures(sessions, workspace_id)
    assert purge_older_than(sessions, 5, NOW).mentions == 15
    again = [post(f"a{n}", f"Acme bikes, post {n}", PUBLISHED + timedelta(minutes=15 * n),
                  f"writer{n}") for n in range(12)]
    fresh = post("new", "Acme bikes, a new post", NOW - timedelta(hours=3), "writer99")
    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           [*again, fresh], now=NOW)
    assert (report.expired, report.stored) == (12, 1)
    after = figures(sessions, workspace_id)
    assert after["monthly"][0] == before["monthly"][0] + 1
    assert after["digest"] == before["digest"]


def test_only_purged_posts_are_kept_out_not_every_older_one(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The cut-off dropped every post published before it, stored or not: a new source's
    history, a late feed entry or a backlog older than the retention days was lost. A
    purge that deletes nothing sets no cut-off; after one that does, a post published
    before it that was never stored is stored, the purged ones still are not."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    assert purge_older_than(sessions, 5, NOW).mentions == 0
    with sessions() as session:
        assert session.get(Workspace, workspace_id).purged_before is None
    old = post("old", "Acme bikes, an old review", PUBLISHED, "reviewer")
    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           [old], now=NOW)
    assert (report.expired, report.stored) == (0, 1)

    with transaction(sessions) as session:
        session.execute(update(Mention).values(created_at=PUBLISHED + timedelta(hours=1)))
    assert purge_older_than(sessions, 5, NOW).mentions == 1
    with sessions() as session:
        assert session.get(Workspace, workspace_id).purged_before == NOW - timedelta(days=5)
    never = post("never", "Acme bikes, a backlog post", PUBLISHED - timedelta(days=3), "late")
    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           [old, never], now=NOW + timedelta(hours=1))
    assert (report.expired, report.stored) == (1, 1)
    with sessions() as session:
        assert session.scalars(select(Mention.external_id)).all() == ["never"]
