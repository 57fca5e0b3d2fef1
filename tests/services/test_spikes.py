"""Spike detection per watch on real databases: SQL hourly buckets, one alert per spike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import KIND_POST
from bot.services.spikes import check_watch, hourly_buckets, run_spike_checks
from bot.slack.render import render_payload
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.dialect import is_postgresql
from storage.models import Author, Mention, OutboxMessage, Watch, Workspace
from storage.models_spikes import Spike
from tests.harness.blockkit_limits import validate_blocks

NOW = datetime(2026, 11, 20, 14, 20, tzinfo=UTC)


def fill(sessions: sessionmaker[Session], workspace_id: int) -> int:
    """Two calm mentions an hour for 14 days, then a burst of angry ones this hour."""
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME123")
        author = Author(workspace_id=workspace_id, network="x", handle="loud", followers=90_000)
        session.add_all([watch, author])
        session.flush()
        rows = []
        start = NOW.replace(minute=0) - timedelta(days=14)
        for hour in range(14 * 24):
            for n in range(2):
                rows.append({"published_at": start + timedelta(hours=hour, minutes=n * 20),
                             "text": f"acme update {hour} {n}", "sentiment_label": "neutral"})
        for n in range(40):
            rows.append({"published_at": NOW.replace(minute=0) + timedelta(minutes=n % 20),
                         "text": f"acme outage again, refund please {n} #acmedown",
                         "sentiment_label": "negative"})
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watch.id, "author_id": author.id,
             "network": "x", "external_id": str(i), "url": f"https://x.com/loud/status/{i}",
             "priority": 10, "status": "new", **row} for i, row in enumerate(rows)])
        return watch.id


def test_hourly_buckets_from_sql(sessions: sessionmaker[Session], workspace_id: int) -> None:
    watch_id = fill(sessions, workspace_id)
    with sessions() as session:
        buckets = hourly_buckets(session, watch_id, NOW.replace(minute=0) - timedelta(hours=3), NOW)
    assert [b.total for b in buckets] == [2, 2, 2, 40]
    assert buckets[-1].negative == 40 and buckets[-1].start == NOW.replace(minute=0)


def test_hourly_buckets_are_whole_utc_hours_whatever_the_session_zone(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # PostgreSQL's date_trunc cuts in the session's zone: in a half-hour one the buckets
    # started at :30 UTC and the spike check, looking at whole UTC hours, never saw a burst.
    watch_id = fill(sessions, workspace_id)
    hour = NOW.replace(minute=0)
    with sessions() as session:
        if is_postgresql(session):
            session.execute(text("SET LOCAL TIME ZONE 'Asia/Kolkata'"))
        buckets = hourly_buckets(session, watch_id, hour - timedelta(hours=2), NOW)
    assert [(b.start, b.total, b.negative) for b in buckets] == [
        (hour - timedelta(hours=2), 2, 0), (hour - timedelta(hours=1), 2, 0), (hour, 40, 40)]


@pytest.mark.postgres
def test_a_burst_is_detected_on_a_database_in_a_half_hour_zone(
        fresh_postgres_url: str, postgres_admin: Engine) -> None:
    # A server whose host is in India: initdb gave it Asia/Kolkata.
    name = make_url(fresh_postgres_url).database
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Kolkata'")
    migrations.upgrade(fresh_postgres_url)
    engine = make_engine(fresh_postgres_url)
    try:
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            workspace = Workspace(team_id="T0KOLKATA")
            session.add(workspace)
            session.flush()
        report = check_watch(sessions, fill(sessions, workspace.id), NOW)
        assert report is not None and report.decision.total == 40
    finally:
        engine.dispose()


def test_a_burst_is_detected_explained_and_alerted_once(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    watch_id = fill(sessions, workspace_id)
    report = check_watch(sessions, watch_id, NOW)
    assert report is not None and report.decision.volume_spike
    assert report.decision.total == 40
    with sessions() as session:
        alert = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_POST)).one()
        _, blocks = render_payload(alert.payload)
        assert blocks is not None
        assert validate_blocks(blocks, "message") == []
        text = str(blocks)
        assert "40 mentions on 20 Nov, 14:00–14:20 (UTC)" in text
        assert "refund" in text and "loud" in text
    assert check_watch(sessions, watch_id, NOW) is None  # cooldown / unique key
    assert run_spike_checks(sessions, NOW + timedelta(minutes=5)) == []
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Spike)) == 1


def test_calm_watch_has_no_spike(sessions: sessionmaker[Session], workspace_id: int) -> None:
    watch_id = fill(sessions, workspace_id)
    assert check_watch(sessions, watch_id, NOW - timedelta(hours=5)) is None


def test_a_new_watch_takes_no_decision_before_it_has_history(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """Hours before the watch existed (and before its first mention) are not calm hours."""
    hour = NOW.replace(minute=0)
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="kettle", channel_id="C0ACME123",
                      created_at=hour - timedelta(hours=1))
        author = Author(workspace_id=workspace_id, network="x", handle="fan", followers=10)
        session.add_all([watch, author])
        session.flush()
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watch.id, "author_id": author.id,
             "network": "x", "external_id": f"n{i}", "url": f"https://x.com/fan/status/{i}",
             "priority": 10, "status": "new", "text": f"nice kettle {i}",
             "published_at": hour - timedelta(hours=1) + timedelta(minutes=5 * i),
             "sentiment_label": "positive"} for i in range(24)])
        watch_id = watch.id
    assert check_watch(sessions, watch_id, hour + timedelta(minutes=55)) is None
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Spike)) == 0


def test_a_watch_recreated_over_stored_mentions_keeps_their_history(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """Created today, but its mentions go back 14 days: that history is real."""
    watch_id = fill(sessions, workspace_id)
    with transaction(sessions) as session:
        session.get_one(Watch, watch_id).created_at = NOW.replace(minute=0)
    report = check_watch(sessions, watch_id, NOW)
    assert report is not None and report.decision.volume_spike


def add_burst(sessions: sessionmaker[Session], workspace_id: int, watch_id: int, count: int,
              start: datetime) -> None:
    """``count`` more angry mentions from ``start``, three seconds apart."""
    with transaction(sessions) as session:
        author = session.scalars(select(Author.id)).first()
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watch_id, "author_id": author,
             "network": "x", "external_id": f"late{i}", "url": f"https://x.com/loud/late{i}",
             "priority": 10, "status": "new", "published_at": start + timedelta(seconds=3 * i),
             "text": f"acme outage, still down {i}", "sentiment_label": "negative"}
            for i in range(count)])


def test_the_spike_is_counted_until_its_hour_is_over(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """Found at 14:20 with 40 mentions, the hour ends with 440: the stored spike says 440."""
    watch_id = fill(sessions, workspace_id)
    hour = NOW.replace(minute=0)
    assert check_watch(sessions, watch_id, NOW) is not None
    add_burst(sessions, workspace_id, watch_id, 400, hour + timedelta(minutes=25))
    check_watch(sessions, watch_id, hour + timedelta(minutes=65))
    with sessions() as session:
        spike = session.scalars(select(Spike)).one()
        assert (spike.hour_start, spike.total, spike.negative) == (hour, 440, 440)
        assert spike.negative_share == 1.0 and spike.summary.startswith("440 mentions")


def test_the_alert_names_the_hour_in_the_workspaces_zone(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """A 14:00 UTC spike first seen at 15:05 is not "this hour": it is 15:00-16:00 in Paris."""
    with transaction(sessions) as session:
        session.get_one(Workspace, workspace_id).timezone = "Europe/Paris"
    watch_id = fill(sessions, workspace_id)
    report = check_watch(sessions, watch_id, NOW.replace(minute=5) + timedelta(hours=1))
    assert report is not None and report.decision.start == NOW.replace(minute=0)
    with sessions() as session:
        alert = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_POST)).one()
        text, _ = render_payload(alert.payload)
    assert "40 mentions on 20 Nov, 15:00–16:00 (Europe/Paris) vs 2.0 usual" in text
    assert "this hour" not in text


def test_the_loudest_negative_authors_count_the_whole_hour(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    """600 angry mentions from small accounts, then one from a 2M account (last by id): the
    alert names it among the loudest and quotes it, whatever the database's row order."""
    watch_id = fill(sessions, workspace_id)
    hour = NOW.replace(minute=0)
    with transaction(sessions) as session:
        small = [Author(workspace_id=workspace_id, network="x", handle=f"small{n}",
                        followers=50) for n in range(60)]
        big = Author(workspace_id=workspace_id, network="x", handle="bignews",
                     followers=2_000_000)
        session.add_all([*small, big])
        session.flush()
        rows = [(small[i % 60].id, f"acme broke my order again {i}") for i in range(600)]
        rows.append((big.id, "Acme customers report a week-long outage"))
        session.execute(insert(Mention), [
            {"workspace_id": workspace_id, "watch_id": watch_id, "author_id": author_id,
             "network": "x", "external_id": f"wave{i}", "url": f"https://x.com/s/{i}",
             "priority": 10, "status": "new", "published_at": hour + timedelta(seconds=i),
             "text": text, "sentiment_label": "negative"}
            for i, (author_id, text) in enumerate(rows)])
    report = check_watch(sessions, watch_id, NOW)
    assert report is not None and report.decision.total == 641
    with sessions() as session:
        alert = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_POST)).one()
        spike = alert.payload["spike"]
    # loud's 40 mentions at 90k weigh a little more than one post at 2M (reach.influence).
    assert spike["authors"][:2] == [["loud", 90_000], ["bignews", 2_000_000]]
    assert spike["samples"][0][:2] == ["bignews", "Acme customers report a week-long outage"]
