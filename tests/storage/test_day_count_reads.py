"""Volumes read as whole UTC days from ``mention_day_counts`` plus edge hours and fringes
equal the same volumes read hour by hour from ``mention_hour_counts``, and a direct count
over the links, on random windows, local days across a DST change and any scope, on SQLite
and PostgreSQL."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, Watch, Workspace
from storage.models_watches import MentionWatch
from storage.reporting_counts import VolumeKey, volume_by_bucket

BASE = datetime(2026, 10, 20, 0, 0, tzinfo=UTC)
SPAN_MINUTES = 10 * 24 * 60
"""Mentions spread over 10 days around the end of summer time in Europe (25 October)."""
NETWORKS = ("mastodon", "rss", "bluesky")
LABELS = ("negative", "neutral", "positive", None)
PARIS = ZoneInfo("Europe/Paris")


def _setup(db_url: str) -> tuple[sessionmaker[Session], int, list[int]]:
    sessions = make_session_factory(make_engine(db_url))
    rng = random.Random(11)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0DAYS01")
        session.add(workspace)
        session.flush()
        watches = [Watch(workspace_id=workspace.id, name=f"w{i}", channel_id="C0DAYS01")
                   for i in range(4)]
        session.add_all(watches)
        session.flush()
        watch_ids = [w.id for w in watches]
        mentions = [Mention(
            workspace_id=workspace.id, watch_id=rng.choice([*watch_ids, None]),
            network=rng.choice(NETWORKS), external_id=f"d{n}", url=f"https://example.com/{n}",
            text=f"mention {n}",
            # Some exactly on an hour or a day, where a read could count twice or miss.
            published_at=BASE + timedelta(minutes=rng.choice(
                [rng.randint(0, SPAN_MINUTES), 60 * rng.randint(0, SPAN_MINUTES // 60),
                 1440 * rng.randint(0, 9)])),
            sentiment_label=rng.choice(LABELS), priority=rng.randint(0, 100),
            created_at=BASE) for n in range(700)]
        session.add_all(mentions)
        session.flush()
        # Posts in several watches, as ingest links them.
        for m in rng.sample(mentions, 150):
            others = [w for w in watch_ids if w != m.watch_id]
            for watch_id in rng.sample(others, rng.randint(1, len(others))):
                session.add(MentionWatch(
                    workspace_id=workspace.id, mention_id=m.id, watch_id=watch_id,
                    network=m.network, sentiment=m.sentiment_label or "unknown",
                    published_at=m.published_at, priority=m.priority))
    # A deleted watch leaves its mentions without a watch (and its count rows at zero).
    with transaction(sessions) as session:
        session.delete(session.get_one(Watch, watch_ids.pop()))
    # Deleted mentions leave count rows at zero behind.
    with transaction(sessions) as session:
        doomed = list(session.scalars(select(Mention.id).where(
            Mention.workspace_id == workspace.id).order_by(Mention.id).limit(40)))
        session.execute(delete(Mention).where(Mention.id.in_(doomed)))
    return sessions, workspace.id, watch_ids


def _direct(session: Session, workspace_id: int, watch_ids: tuple[int, ...] | None,
            edges: list[datetime]) -> list[dict[VolumeKey, int]]:
    """The volumes counted one link at a time (each mention once per scope, with its first
    link when the scope holds it, else with its lowest watch's)."""
    links = list(session.scalars(select(MentionWatch).where(
        MentionWatch.workspace_id == workspace_id)))
    chosen: dict[int, MentionWatch] = {}
    for link in sorted(links, key=lambda k: (not k.is_first, k.watch_id or 0)):
        in_scope = link.is_first if watch_ids is None else link.watch_id in watch_ids
        if in_scope and (link.is_first or link.mention_id not in chosen):
            chosen.setdefault(link.mention_id, link)
    buckets: list[Counter[VolumeKey]] = [Counter() for _ in edges[1:]]
    for link in chosen.values():
        for index, (start, end) in enumerate(itertools.pairwise(edges)):
            if start <= link.published_at < end:
                buckets[index][(link.watch_id, link.network, link.sentiment)] += 1
    return [dict(bucket) for bucket in buckets]


def _random_edges(rng: random.Random) -> list[datetime]:
    start = BASE - timedelta(days=1) + timedelta(minutes=rng.choice(
        [rng.randint(0, 4 * 1440), 60 * rng.randint(0, 96), 1440 * rng.randint(0, 4)]))
    edges = [start]
    for _ in range(rng.randint(1, 4)):
        step = rng.choice([rng.randint(0, 6 * 1440), 60 * rng.randint(1, 100),
                           1440 * rng.randint(1, 4), 1])
        edges.append(edges[-1] + timedelta(minutes=step))
    return edges


def _paris_days(first: date, count: int) -> list[datetime]:
    return [datetime.combine(first + timedelta(days=n), datetime.min.time(), PARIS)
            .astimezone(UTC) for n in range(count + 1)]


def test_day_reads_equal_hour_reads_on_random_windows(db_url: str) -> None:
    sessions, workspace_id, watch_ids = _setup(db_url)
    rng = random.Random(5)
    scopes: list[tuple[int, ...] | None] = [None, (watch_ids[0],), tuple(watch_ids[:2]),
                                            tuple(watch_ids), ()]
    windows = [_random_edges(rng) for _ in range(25)]
    # Local days in Paris, the 25-hour one (25 October) included, a whole month's worth of
    # them and a 30-day window: what the digest, the monthly report and the stats ask.
    windows += [_paris_days(date(2026, 10, 23), 3), _paris_days(date(2026, 10, 18), 12),
                [BASE - timedelta(days=20, minutes=37), BASE + timedelta(days=10, minutes=3)],
                [BASE - timedelta(days=2), BASE, BASE + timedelta(days=3),
                 BASE + timedelta(days=11)]]
    with sessions() as session:
        # Links of the deleted watch, and mentions stored without one, are in the figures.
        assert session.scalar(select(func.count()).select_from(MentionWatch).where(
            MentionWatch.is_first, MentionWatch.watch_id.is_(None))) > 100
        for edges, scope in itertools.product(windows, scopes):
            by_days = volume_by_bucket(session, workspace_id, scope, edges)
            by_hours = volume_by_bucket(session, workspace_id, scope, edges, days=False)
            assert by_days == by_hours, (edges, scope)
            # A scope of several watches takes its doubles off by key, which can leave a
            # key at 0 (in both reads alike): the direct count has no such keys.
            assert [{key: n for key, n in bucket.items() if n} for bucket in by_days] == \
                _direct(session, workspace_id, scope, edges), (edges, scope)
        # The windows read something: a comparison of empty results proves nothing.
        assert sum(sum(bucket.values()) for bucket in volume_by_bucket(
            session, workspace_id, None, windows[-1])) == 660
