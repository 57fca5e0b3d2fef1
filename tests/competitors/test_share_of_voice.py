"""Share of voice equals a direct count over the mention-watch links (mentions, reach,
positive, negative, per network and overall, this period and the previous one), on any
window, on SQLite and PostgreSQL; a post in two watches of the group counts in both."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import competitors
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.reporting.share_of_voice import (
    METRICS,
    SovFigures,
    get_share_of_voice,
    share_of_voice_between,
)
from bot.services.watches import do_add_watch
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, Workspace
from storage.models_watches import MentionWatch

BASE = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
NETWORKS = ("mastodon", "rss", "bluesky")
LABELS = ("negative", "neutral", "positive", None)


def _setup(db_url: str) -> tuple[sessionmaker[Session], int, dict[str, int]]:
    sessions = make_session_factory(make_engine(db_url))
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0SOV0001")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    ids = {}
    for name, kind in (("acme", "brand"), ("rival-a", "competitor"), ("rival-b", "competitor"),
                       ("other", "brand")):
        ids[name] = do_add_watch(sessions, workspace_id, CLI, name=name, query="",
                                 channel_id="C0SOV0001", kind=kind).id
    competitors.do_create_group(sessions, workspace_id, CLI, name="acme-vs",
                                watch_names=["acme", "rival-a", "rival-b"])
    rng = random.Random(18)
    with transaction(sessions) as session:
        mentions = [Mention(
            workspace_id=workspace_id, watch_id=rng.choice(list(ids.values())),
            network=rng.choice(NETWORKS), external_id=f"m{n}", url="u", text="t",
            published_at=BASE + timedelta(minutes=rng.randint(0, 14 * 24 * 60)),
            sentiment_label=rng.choice(LABELS), reach=rng.choice([0, 10, 5000, 10**9]),
            created_at=BASE + timedelta(days=20)) for n in range(600)]
        session.add_all(mentions)
        session.flush()
        # Posts in the brand's watch and a competitor's: counted in both.
        session.add_all([MentionWatch(
            workspace_id=workspace_id, mention_id=m.id, watch_id=ids["rival-a"],
            network=m.network, sentiment=m.sentiment_label or "unknown",
            published_at=m.published_at, reach=m.reach)
            for m in mentions[:200] if m.watch_id == ids["acme"]])
    return sessions, workspace_id, ids


def _direct(sessions: sessionmaker[Session], ids: dict[str, int], start: datetime,
            end: datetime, network: str | None = None) -> dict[str, SovFigures]:
    out = {}
    with sessions() as session:
        links = session.scalars(select(MentionWatch)).all()
    for name in ("acme", "rival-a", "rival-b"):
        chosen = [link for link in links if link.watch_id == ids[name]
                  and start <= link.published_at < end
                  and (network is None or link.network == network)]
        out[name] = SovFigures(len(chosen), sum(link.reach for link in chosen),
                               sum(link.sentiment == "positive" for link in chosen),
                               sum(link.sentiment == "negative" for link in chosen))
    return out


@pytest.mark.parametrize("start,end", [
    (BASE + timedelta(days=7), BASE + timedelta(days=14)),
    (BASE + timedelta(days=7, minutes=17), BASE + timedelta(days=13, hours=5, minutes=41)),
])
def test_share_of_voice_matches_a_direct_count(db_url: str, start: datetime,
                                               end: datetime) -> None:
    sessions, workspace_id, ids = _setup(db_url)
    with sessions() as session:
        (report,) = share_of_voice_between(session, workspace_id, start, end)
    assert report.group == "acme-vs"
    assert [m.watch for m in report.members] == ["acme", "rival-a", "rival-b"]  # brand first
    previous_start = start - (end - start)
    now, before = _direct(sessions, ids, start, end), _direct(sessions, ids, previous_start,
                                                             start)
    for member in report.members:
        assert member.current == now[member.watch]
        assert member.previous == before[member.watch]
    for metric in METRICS:
        total = sum(getattr(f, metric) for f in now.values())
        assert sum(m.share[metric] or 0 for m in report.members) == pytest.approx(1.0)
        for member in report.members:
            assert member.share[metric] == pytest.approx(
                getattr(now[member.watch], metric) / total)
            old = sum(getattr(f, metric) for f in before.values())
            assert member.trend(metric) == pytest.approx(round(
                (getattr(now[member.watch], metric) / total
                 - getattr(before[member.watch], metric) / old) * 100, 1))
    for network in NETWORKS:
        by_network = _direct(sessions, ids, start, end, network)
        assert {m.watch: m.current for m in report.by_network[network]} == by_network
    assert report.total.reach > 2**31  # sums beyond 32 bits stay exact


def test_share_of_voice_by_period_and_bad_inputs(db_url: str) -> None:
    sessions, workspace_id, _ids = _setup(db_url)
    now = BASE + timedelta(days=14, hours=3)
    days, zone, reports = get_share_of_voice(sessions, workspace_id, CLI, period="7d",
                                             now=now)
    assert (days, zone, len(reports)) == (7, "UTC", 1)
    assert reports[0].start == BASE + timedelta(days=8)
    assert reports[0].previous_start == BASE + timedelta(days=1)
    with pytest.raises(ServiceError) as err:
        get_share_of_voice(sessions, workspace_id, CLI, period="7days", now=now)
    assert err.value.key == "sov.bad_period"
    with pytest.raises(ServiceError) as err:
        get_share_of_voice(sessions, workspace_id, CLI, period="7d", group="nope", now=now)
    assert err.value.key == "compete.group_not_found"
