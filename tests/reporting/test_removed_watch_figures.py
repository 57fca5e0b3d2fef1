"""Removing a watch leaves the brand's past figures as they were: with beta a competitor's
watch, October's monthly report, `/cm stats` over 90 days and the brand's volume over
windows cut inside hours are the same before beta is removed, after, and after a brand
watch (other) is removed too. A removed watch's links keep their side (brand or
competitor), counted under the placeholder of that side. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import competitors, watches
from bot.services.actors import Actor
from bot.services.reporting import monthly, stats
from bot.services.reporting.queries import brand_scope, scope_volume
from storage.db import transaction
from storage.models import Mention
from storage.models_watches import MentionWatch
from storage.reporting_counts import keep_counts_of
from tests.reporting.dataset import Dataset, utc

CLI = Actor(None, "cli")
NOW = datetime(2026, 12, 5, 10, tzinfo=UTC)
# Windows starting and ending inside hours: their fringes are read from the links.
EDGES = [utc(10, 23, 6, 30), utc(10, 24, 9, 30), utc(10, 24, 14, 30), utc(10, 25, 7, 45),
         utc(10, 26, 0, 0)]


def _link(session: Session, data: Dataset, mention: str, watch: str) -> None:
    row = session.get_one(Mention, data.mentions[mention])
    session.add(MentionWatch(workspace_id=data.workspace_id, mention_id=row.id,
                             watch_id=data.watches[watch], network=row.network,
                             sentiment=row.sentiment_label or "unknown",
                             published_at=row.published_at, priority=row.priority))


def _figures(sessions: sessionmaker[Session], data: Dataset) -> dict[str, Any]:
    report, _spec = monthly.get_monthly_report(sessions, data.workspace_id, CLI,
                                               month="2026-10", now=NOW)
    counted = stats.get_stats(sessions, data.workspace_id, CLI, period="90d", now=NOW)
    with sessions() as session:
        volume = scope_volume(session, brand_scope(session, data.workspace_id), EDGES)
    return {
        "total": report.total, "sentiment": report.by_sentiment,
        "networks": report.by_network, "days": report.days, "topics": report.topics,
        "influencers": sorted(i.handle for i in report.influencers),
        "stats": (counted.total, counted.by_sentiment, counted.by_network, counted.hours,
                  [a.handle for a in counted.top_authors]),
        # Keyed without the watch: a removed watch's links have none.
        "volume": [sorted((network, sentiment, count)
                          for (_watch, network, sentiment), count in bucket.items())
                   for bucket in volume],
    }


def _merged(figures: dict[str, Any]) -> dict[str, Any]:
    """``volume`` with the counts of one (network, sentiment) summed over watches."""
    merged = dict(figures)
    buckets = []
    for bucket in figures["volume"]:
        sums: dict[tuple[str, str], int] = {}
        for network, sentiment, count in bucket:
            sums[(network, sentiment)] = sums.get((network, sentiment), 0) + count
        buckets.append(sorted(sums.items()))
    merged["volume"] = buckets
    return merged


def _setup(sessions: sessionmaker[Session], data: Dataset) -> None:
    competitors.do_set_watch_kind(sessions, data.workspace_id, CLI, watch_name="beta",
                                  kind="competitor")
    with transaction(sessions) as session:
        session.get_one(Mention, data.mentions["m13"]).topic_mask = 0b1  # billing
        session.get_one(Mention, data.mentions["m1"]).topic_mask = 0b1000  # outage
        _link(session, data, "m2", "beta")  # the brand's (acme) and a competitor's
        _link(session, data, "m13", "other")  # a competitor's first, the brand's too
        _link(session, data, "m3", "other")  # two brand watches
        _link(session, data, "m15", "acme")  # other's first, acme's too


def test_removing_watches_keeps_the_brands_past_figures(sessions: sessionmaker[Session],
                                                        dataset: Dataset) -> None:
    _setup(sessions, dataset)
    before = _merged(_figures(sessions, dataset))
    assert before["total"] == 13  # 16, less beta's m4, m5, m7 (m13 is other's too)
    assert before["topics"] == [("billing", 1), ("outage", 1)]
    assert "@carl" not in before["influencers"]  # carl posted on beta only

    watches.do_remove_watch(sessions, dataset.workspace_id, CLI, "beta")
    assert _merged(_figures(sessions, dataset)) == before

    watches.do_remove_watch(sessions, dataset.workspace_id, CLI, "other")
    assert _merged(_figures(sessions, dataset)) == before


def test_removing_the_brand_watch_first_keeps_them_too(sessions: sessionmaker[Session],
                                                       dataset: Dataset) -> None:
    """A brand watch removed while the competitor's stays, then the competitor's."""
    _setup(sessions, dataset)
    before = _merged(_figures(sessions, dataset))
    watches.do_remove_watch(sessions, dataset.workspace_id, CLI, "other")
    assert _merged(_figures(sessions, dataset)) == before
    watches.do_remove_watch(sessions, dataset.workspace_id, CLI, "beta")
    assert _merged(_figures(sessions, dataset)) == before


def test_purged_mentions_of_a_removed_watch_stay_counted(sessions: sessionmaker[Session],
                                                         dataset: Dataset) -> None:
    """Mentions retention deleted stay in the counts under their watch; removing that watch
    moves those counts to its side's placeholder, so the brand's whole hours keep them."""
    _setup(sessions, dataset)
    purged = [dataset.mentions[name] for name in ("m4", "m13", "m15", "m3")]
    with transaction(sessions) as session:
        keep_counts_of(session, purged)
        for row in session.scalars(select(Mention).where(Mention.id.in_(purged))):
            session.delete(row)
    # Whole hours only: the fringes of purged mentions went with them.
    edges = [utc(10, 23, 0), utc(10, 24, 12), utc(10, 26, 0)]

    def volume() -> list[int]:
        with sessions() as session:
            return [sum(bucket.values()) for bucket in scope_volume(
                session, brand_scope(session, dataset.workspace_id), edges)]

    before = volume()
    # m14, m13 (other's too), m10, m1, m11, m12; m15, m2, m3, m6, m16, m8, m9
    assert before == [6, 7]
    watches.do_remove_watch(sessions, dataset.workspace_id, CLI, "beta")
    assert volume() == before
    watches.do_remove_watch(sessions, dataset.workspace_id, CLI, "other")
    assert volume() == before
