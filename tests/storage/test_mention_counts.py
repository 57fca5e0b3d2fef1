"""The hourly count tables stay equal to a GROUP BY over the mention-watch links (by published
hour), and each mention's first link mirrors it, whatever writes them.

Reports read volumes from ``mention_hour_counts``, ``mention_priority_counts`` and
``mention_day_counts`` (the hourly counts per UTC day); database
triggers keep them in step on insert (ORM, bulk upsert, a second watch's link), update of a
counted column, a watch deleted under its mentions, and delete. Checked on SQLite and
PostgreSQL, and through the report helpers on windows that do not fall on whole hours.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, Watch, Workspace
from storage.models_reporting import MentionDayCount, MentionHourCount, MentionPriorityCount
from storage.models_watches import MentionWatch
from storage.reporting_counts import (
    hour_of,
    priority_floor,
    volume_by_bucket,
    waited_by_watch,
)

BASE = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)
NETWORKS = ("mastodon", "rss", "bluesky")
LABELS = ("negative", "neutral", "positive", None)


def _live(session: Session) -> tuple[Counter[tuple], Counter[tuple], Counter[tuple]]:
    """The counts a GROUP BY over the mention-watch links gives, after checking that every
    mention's first link mirrors it."""
    links = list(session.scalars(select(MentionWatch)))
    firsts = {link.mention_id: link for link in links if link.is_first}
    for m in session.scalars(select(Mention)):
        first = firsts.pop(m.id)
        assert (first.watch_id, first.network, first.sentiment, first.published_at,
                first.priority, first.reach) == (m.watch_id, m.network,
                                                 m.sentiment_label or "unknown",
                                                 m.published_at, m.priority, m.reach)
    assert not firsts, "links outlived their mentions"
    hours: Counter[tuple] = Counter()
    reach: Counter[tuple] = Counter()
    priorities: Counter[tuple] = Counter()
    for link in links:
        watch = link.watch_id or 0
        hour = hour_of(link.published_at)
        key = (link.workspace_id, watch, hour, link.network, link.sentiment, link.is_first)
        hours[key] += 1
        reach[key] += link.reach
        priorities[(link.workspace_id, watch, hour, link.priority, bool(link.alerted),
                    link.is_first)] += 1
    return hours, priorities, +reach


def _stored(session: Session) -> tuple[Counter[tuple], Counter[tuple], Counter[tuple]]:
    hours: Counter[tuple] = Counter()
    reach: Counter[tuple] = Counter()
    for r in session.scalars(select(MentionHourCount)):
        key = (r.workspace_id, r.watch_id, r.hour, r.network, r.sentiment, r.is_first)
        if r.mentions:
            hours[key] = r.mentions
        if r.reach:
            reach[key] = r.reach
    priorities: Counter[tuple] = Counter()
    for p in session.scalars(select(MentionPriorityCount)):
        if p.mentions:
            priorities[(p.workspace_id, p.watch_id, p.hour, p.priority, bool(p.alerted),
                        p.is_first)] = p.mentions
    return hours, priorities, reach


def _assert_in_step(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        live_hours, live_priorities, live_reach = _live(session)
        stored_hours, stored_priorities, stored_reach = _stored(session)
    assert stored_hours == live_hours
    assert stored_priorities == live_priorities
    assert stored_reach == live_reach
    # The day counts are the hour counts summed per UTC day (migration 0030).
    with sessions() as session:
        days: Counter[tuple] = Counter()
        day_reach: Counter[tuple] = Counter()
        for r in session.scalars(select(MentionDayCount)):
            key = (r.workspace_id, r.watch_id, r.day, r.network, r.sentiment, r.is_first)
            days[key] = r.mentions
            day_reach[key] = r.reach
    live_days: Counter[tuple] = Counter()
    live_day_reach: Counter[tuple] = Counter()
    for (workspace, watch, hour, network, sentiment, first), count in live_hours.items():
        key = (workspace, watch, hour // 24, network, sentiment, first)
        live_days[key] += count
        live_day_reach[key] += live_reach.get((workspace, watch, hour, network, sentiment,
                                               first), 0)
    assert +days == live_days
    assert +day_reach == +live_day_reach


def _mention(workspace_id: int, watch_id: int | None, n: int, rng: random.Random) -> Mention:
    return Mention(
        workspace_id=workspace_id, watch_id=watch_id, network=rng.choice(NETWORKS),
        external_id=f"m{n}", url=f"https://example.com/{n}", text=f"mention {n}",
        published_at=BASE + timedelta(minutes=rng.randint(0, 6 * 60)),
        sentiment_label=rng.choice(LABELS), priority=rng.randint(0, 100),
        reach=rng.choice([0, 12, 5_000, 2_000_000_000]),
        alerted=rng.random() < 0.3, created_at=BASE + timedelta(hours=7))


def _setup(db_url: str) -> tuple[sessionmaker[Session], int, list[int]]:
    sessions = make_session_factory(make_engine(db_url))
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0COUNTS1")
        session.add(workspace)
        session.flush()
        watches = [Watch(workspace_id=workspace.id, name=f"w{i}", channel_id="C0COUNTS1",
                         alert_threshold=threshold) for i, threshold in enumerate((40, 70))]
        session.add_all(watches)
        session.flush()
        return sessions, workspace.id, [w.id for w in watches]


def test_counts_follow_inserts_updates_and_deletes(db_url: str) -> None:
    sessions, workspace_id, watch_ids = _setup(db_url)
    rng = random.Random(3)
    with transaction(sessions) as session:
        session.add_all([_mention(workspace_id, rng.choice([*watch_ids, None]), n, rng)
                         for n in range(120)])
    _assert_in_step(sessions)

    # A bulk upsert the way ingest stores a batch, with rows that conflict and are skipped.
    rows = [{"workspace_id": workspace_id, "watch_id": watch_ids[0], "network": "rss",
             "external_id": f"m{n}", "url": "https://example.com/b", "text": "bulk",
             "published_at": BASE + timedelta(hours=2, minutes=n),
             "sentiment_label": "negative", "priority": 55,
             "created_at": BASE + timedelta(hours=7)} for n in range(100, 160)]
    with transaction(sessions) as session:
        insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
                  else sqlite.insert)
        session.execute(insert(Mention).on_conflict_do_nothing(
            index_elements=["workspace_id", "network", "external_id"]), rows)
    _assert_in_step(sessions)

    # Second watches' links, the way ingest links a stored post to another watch.
    with transaction(sessions) as session:
        ids = list(session.scalars(select(Mention.id).order_by(Mention.id)))
        session.add_all([MentionWatch(
            workspace_id=workspace_id, mention_id=m.id, watch_id=watch_ids[1],
            network=m.network, sentiment=m.sentiment_label or "unknown",
            published_at=m.published_at, priority=rng.randint(0, 100), reach=m.reach,
            alerted=rng.random() < 0.3) for m in session.scalars(select(Mention).where(
                Mention.id.in_(ids[::2]), Mention.watch_id.is_distinct_from(watch_ids[1])))])
    _assert_in_step(sessions)

    with transaction(sessions) as session:
        session.execute(update(Mention).where(Mention.id.in_(ids[:30]))
                        .values(sentiment_label="positive"))
        session.execute(update(Mention).where(Mention.id.in_(ids[30:50]))
                        .values(published_at=BASE - timedelta(days=1)))
        session.execute(update(MentionWatch).where(MentionWatch.mention_id.in_(ids[40:60]))
                        .values(alerted=True))
        session.execute(update(Mention).where(Mention.id.in_(ids[50:80]))
                        .values(alerted=True, priority=99))
        # The author's reach, copied to every link of the mention (several watches).
        session.execute(update(Mention).where(Mention.id.in_(ids[::4]))
                        .values(reach=777))
        # Not a counted column: nothing moves.
        session.execute(update(Mention).where(Mention.id.in_(ids[80:100]))
                        .values(status="replied"))
    _assert_in_step(sessions)

    with transaction(sessions) as session:
        session.execute(delete(Watch).where(Watch.id == watch_ids[1]))
        if session.get_bind().dialect.name == "sqlite":
            # SQLite enforces ON DELETE SET NULL only with foreign keys on, as Vigie runs.
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    _assert_in_step(sessions)

    with transaction(sessions) as session:
        session.execute(delete(Mention).where(Mention.id.in_(ids[::3])))
    _assert_in_step(sessions)


def test_report_helpers_match_a_direct_count_on_any_window(db_url: str) -> None:
    sessions, workspace_id, watch_ids = _setup(db_url)
    rng = random.Random(11)
    with transaction(sessions) as session:
        session.add_all([_mention(workspace_id, rng.choice(watch_ids), n, rng)
                         for n in range(400)])
    thresholds = {watch_ids[0]: 40, watch_ids[1]: 70}
    with sessions() as session:
        mentions = list(session.scalars(select(Mention)))
        # Edges on whole hours, inside hours, and a bucket shorter than an hour.
        edges = [BASE + timedelta(minutes=m) for m in (0, 37, 95, 110, 240, 301, 361)]
        buckets = volume_by_bucket(session, workspace_id, (watch_ids[0],), edges)
        for (start, end), bucket in zip(itertools.pairwise(edges), buckets,
                                        strict=True):
            expected = Counter((m.watch_id, m.network, m.sentiment_label or "unknown")
                               for m in mentions if start <= m.published_at < end
                               and m.watch_id == watch_ids[0])
            assert bucket == dict(expected)
        start, end = BASE + timedelta(minutes=45), BASE + timedelta(hours=5, minutes=15)
        expected_waited = Counter(
            m.watch_id for m in mentions if start <= m.published_at < end and not m.alerted
            and m.priority < thresholds[m.watch_id])
        assert waited_by_watch(session, workspace_id, thresholds, start, end) == dict(
            expected_waited)
        floor = priority_floor(session, workspace_id, None, start, end, 5)
        in_window = sorted((m.priority for m in mentions if start <= m.published_at < end),
                           reverse=True)
        assert floor is not None and floor <= in_window[4]
        assert priority_floor(session, workspace_id, None, start, start + timedelta(
            minutes=30), 5) is None  # no whole hour: no floor, the caller reads everything


def test_upgrade_backfills_counts_for_existing_mentions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    migrations.upgrade(url, "0008")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (team_id, locale, timezone, "
                          "allow_self_approval, settings, created_at) "
                          "VALUES ('T0BACK01', 'en', 'UTC', 0, '{}', '2026-03-28 20:00:00')"))
        for n in range(50):
            conn.execute(text(
                "INSERT INTO mentions (workspace_id, network, external_id, url, text, "
                "published_at, engagement, intent_flags, priority, status, alerted, version, "
                "created_at, updated_at, sentiment_label) VALUES (1, :network, :eid, 'u', "
                "'t', '2026-03-28 20:00:00', 0, '[]', :priority, 'new', 0, 1, :created, "
                ":created, :label)"),
                {"network": NETWORKS[n % 3], "eid": f"e{n}", "priority": n,
                 "created": f"2026-03-28 {20 + n % 4}:{n:02d}:00", "label": LABELS[n % 4]})
    engine.dispose()
    migrations.upgrade(url)
    _assert_in_step(make_session_factory(make_engine(url)))


def test_a_network_whose_mentions_were_all_deleted_is_not_reported(db_url: str) -> None:
    sessions, workspace_id, watch_ids = _setup(db_url)
    rng = random.Random(5)
    with transaction(sessions) as session:
        session.add_all([_mention(workspace_id, watch_ids[0], n, rng) for n in range(60)])
    with transaction(sessions) as session:
        session.execute(delete(Mention).where(Mention.network == "bluesky"))
    with sessions() as session:
        (volume,) = volume_by_bucket(session, workspace_id, None,
                                     [BASE, BASE + timedelta(hours=7)])
    assert volume and {network for _watch, network, _label in volume} == {"mastodon", "rss"}
