"""A tracked influencer's new posts alert whatever their priority; the lookup is one query
per ingest batch (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from bot.services import influencers, sla
from bot.services.actors import CLI
from bot.services.ingest import do_ingest
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, OutboxMessage, Workspace

NOW = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def _post(number: int, handle: str) -> FetchedMention:
    return FetchedMention(network="mastodon", external_id=str(number),
                          url=f"https://m.example/{number}",
                          text=f"Acme release notes number {number}, nothing urgent",
                          author=FetchedAuthor(handle=handle, followers=10),
                          published_at=NOW - timedelta(minutes=number))


def test_tracked_authors_posts_alert_below_the_threshold(db_url: str) -> None:
    sessions = make_session_factory(make_engine(db_url))
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0TRACK01")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    # Threshold 100: nothing alerts on its priority alone.
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id="C0TRACK01",
                 alert_threshold=100)
    influencers.do_track(sessions, workspace_id, CLI, handle="@star@m.example", network="mastodon",
                         now=NOW)
    batch = [_post(n, "@star@m.example" if n in (2, 7) else f"@fan{n}") for n in range(1, 21)]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        event.listen(session.get_bind(), "before_cursor_execute", count)
        try:
            report = do_ingest(session, watch, None, batch, now=NOW)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", count)
    assert report.stored == 20 and report.alerts == 2
    assert sum("tracked_influencers" in sql for sql in statements) == 1
    with sessions() as session:
        carded = set(session.scalars(select(Mention.external_id).join(
            OutboxMessage, OutboxMessage.mention_id == Mention.id)
            .where(OutboxMessage.kind == "card")))
        priorities = set(session.scalars(select(Mention.priority)))
    assert carded == {"2", "7"} and max(priorities) < 100
    # Untracked: the next post waits for the digest like the others.
    influencers.do_untrack(sessions, workspace_id, CLI, handle="@star@m.example",
                           network="mastodon")
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        again = do_ingest(session, watch, None, [_post(30, "@star@m.example")], now=NOW)
    assert again.stored == 1 and again.alerts == 0


def test_a_tracked_authors_post_about_a_competitor_alerts_without_an_sla(db_url: str) -> None:
    """Competitors' watches never alert on priority, but tracking is an explicit choice:
    the tracked author's post gets a card in the competitor watch's channel, and no SLA."""
    sessions = make_session_factory(make_engine(db_url))
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0TRACK02")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="rival", query="", channel_id="C0RIVAL01",
                 alert_threshold=0, kind="competitor")
    influencers.do_track(sessions, workspace_id, CLI, handle="@star@m.example",
                         network="mastodon", now=NOW)
    batch = [_post(1, "@star@m.example"), _post(2, "@fan2")]
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "rival")
        report = do_ingest(session, watch, None, batch, now=NOW)
    assert report.stored == 2 and report.alerts == 1
    with sessions() as session:
        cards = session.execute(select(Mention.external_id, OutboxMessage.channel).join(
            OutboxMessage, OutboxMessage.mention_id == Mention.id)
            .where(OutboxMessage.kind == "card")).all()
        assert [tuple(c) for c in cards] == [("1", "C0RIVAL01")]
        tracked = session.scalars(select(Mention).where(Mention.external_id == "1")).one()
        assert sla.due_at(session, tracked) is None
