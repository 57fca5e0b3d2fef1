"""The digest of a channel that receives a topic route covers what is routed there: that
watch's mentions of that topic, not every mention of the workspace. Preview and the daily
run agree. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.competitors import do_set_watch_kind
from bot.services.ingest import do_ingest
from bot.services.reporting.digest import preview_digests
from bot.services.reporting.schedule import digest_channels, do_set_digest_time
from bot.services.topic_routes import do_add_route
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author, FetchedMention
from storage.db import transaction
from storage.models import Workspace

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
SOCIAL, BUGS, VEILLE = "C0SOCIAL01", "C0PRODBUG1", "C0VEILLE01"


def _item(number: int, text: str) -> FetchedMention:
    return FetchedMention(network="x", external_id=str(number),
                          url=f"https://x.com/u{number}/status/{number}", text=text,
                          author=Author(handle=f"user{number}", followers=300),
                          published_at=NOW - timedelta(minutes=30 - number % 30))


def _poll(sessions: sessionmaker[Session], workspace_id: int, name: str,
          items: list[FetchedMention]) -> None:
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, name), None, items,
                  now=NOW)


def _setup(sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL)
    do_add_watch(sessions, workspace_id, CLI, name="rival", query="rival",
                 channel_id=VEILLE, kind="competitor")
    do_add_route(sessions, workspace_id, CLI, watch_name="acme", topic="outage",
                 channel_id=BUGS)
    _poll(sessions, workspace_id, "acme", [
        _item(1, "@acme app is down, error 500 on login"),
        _item(2, "love my acme kettle")])
    _poll(sessions, workspace_id, "rival",
          [_item(10 + n, f"rival kettles are great {n}") for n in range(20)])


def test_a_route_channel_digest_covers_the_routed_topic(sessions: sessionmaker[Session],
                                                        workspace_id: int) -> None:
    _setup(sessions, workspace_id)
    later = NOW + timedelta(hours=8)
    # Previewed before any digest time is set: the routed work, not a refusal.
    ((config, report),) = preview_digests(sessions, workspace_id, now=later, channel_id=BUGS)
    assert report.total.current == 1
    config = do_set_digest_time(sessions, workspace_id, CLI, channel_id=BUGS,
                                local_time="09:00")
    assert config.scope.watch_ids == () and len(config.scope.routes) == 1
    ((config, report),) = preview_digests(sessions, workspace_id, now=later, channel_id=BUGS)
    assert report.total.current == 1  # the outage post, not the workspace's 22
    assert [(name, count.current) for name, count in report.by_network] == [("x", 1)]
    assert [line.text for line in report.top_priority] == [
        "@acme app is down, error 500 on login"]
    assert report.share_of_voice == [] and report.waited == []
    assert sum(sum(day.counts.values()) for day in report.chart) == 1
    # The watch's own channel still covers all of the watch's mentions.
    ((_social, whole),) = preview_digests(sessions, workspace_id, now=later,
                                          channel_id=SOCIAL)
    assert whole.total.current == 2
    # The daily run builds the same scope.
    with sessions() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        daily = {c.channel_id: c for c in digest_channels(session, workspace, "UTC")}
    assert daily[BUGS].scope == config.scope


def test_a_route_of_a_watch_made_a_competitors_leaves_the_route_channel_digest(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # A route added while acme was the brand's, then acme made a competitor's: its
    # mentions are not work for the route channel, which does not fall back to the whole
    # workspace's digest (rival's 20 posts) either.
    _setup(sessions, workspace_id)
    do_set_watch_kind(sessions, workspace_id, CLI, watch_name="acme", kind="competitor")
    later = NOW + timedelta(hours=8)
    ((config, report),) = preview_digests(sessions, workspace_id, now=later, channel_id=BUGS)
    assert config.scope.watch_ids == () and config.scope.routes == ()
    assert report.total.current == 0 and report.top_priority == []
    do_set_digest_time(sessions, workspace_id, CLI, channel_id=BUGS, local_time="09:00")
    with sessions() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        daily = {c.channel_id: c for c in digest_channels(session, workspace, "UTC")}
    assert daily[BUGS].scope.watch_ids == () and daily[BUGS].scope.routes == ()
    # Made the brand's again, the route counts again.
    do_set_watch_kind(sessions, workspace_id, CLI, watch_name="acme", kind="brand")
    ((config, report),) = preview_digests(sessions, workspace_id, now=later, channel_id=BUGS)
    assert report.total.current == 1
