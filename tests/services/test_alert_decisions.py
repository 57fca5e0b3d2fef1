"""Each watch of a mention decides its own alert, and only the watches that decided to alert
give the mention its SLA and are named on the card: a watch that only holds the post, in the
same channel, never shortens the deadline (README, "A mention in several watches has one
SLA"). On SQLite and PostgreSQL, against the Slack stand-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.cards import load_card_view
from bot.services.ingest import do_ingest
from bot.services.sla import do_set_targets, due_at, received_at, sla_targets
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import Mention, Watch
from storage.models_watches import MentionWatch
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, sender_for

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
POST = FetchedMention(network="x", external_id="1", url="https://x.com/u1/status/1",
                      text="@acme where is my kettle order? it is 3 weeks late",
                      author=FetchedAuthor(handle="user1", followers=300),
                      published_at=NOW - timedelta(minutes=5))


def _two_watches(sessions: sessionmaker[Session], workspace_id: int,
                 press_threshold: int) -> None:
    """acme (threshold 50, 240 minutes) and press (10 minutes) share one channel; both
    poll the post, acme first."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=50)
    do_add_watch(sessions, workspace_id, CLI, name="press", query="kettle",
                 channel_id=CHANNEL_ID, alert_threshold=press_threshold)
    do_set_targets(sessions, workspace_id, CLI, "acme", {"urgent": 240, "high": 240,
                                                         "normal": 240})
    do_set_targets(sessions, workspace_id, CLI, "press", {"urgent": 10, "high": 10,
                                                          "normal": 10})
    for name in ("acme", "press"):
        with transaction(sessions) as session:
            do_ingest(session, get_watch_by_name(session, workspace_id, name), None, [POST],
                      now=NOW)


def _state(sessions: sessionmaker[Session]) -> tuple[int, dict[str, tuple[bool, bool]],
                                                     str, str | None, int]:
    """The mention's priority, each watch's (alerted, has the card), its SLA watch, the
    watches its card names, and its SLA in minutes as the card shows it."""
    with sessions() as session:
        mention = session.scalars(select(Mention)).one()
        links = {name: (alerted, ts is not None) for name, alerted, ts in session.execute(
            select(Watch.name, MentionWatch.alerted, MentionWatch.slack_ts)
            .join(Watch, Watch.id == MentionWatch.watch_id))}
        target = sla_targets(session, [mention.id])[mention.id]
        view = load_card_view(session, mention.id, CHANNEL_ID)
        assert view is not None
        due, start = due_at(session, mention), received_at(mention)
        assert due is not None
        return (mention.priority, links, target.watch_name, view.watch_name,
                round((due - start).total_seconds() / 60))


def test_a_watch_that_only_holds_the_mention_gives_no_sla_and_is_not_named(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    _two_watches(sessions, workspace_id, press_threshold=100)
    priority, links, sla_watch, named, minutes = _state(sessions)
    assert 50 <= priority < 100
    # Queued: acme decided to alert, press did not; the SLA is acme's from the start.
    assert links == {"acme": (True, False), "press": (False, False)}
    assert (sla_watch, named, minutes) == ("acme", "acme", 240)
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 1
    (card,) = slack_standin.messages_in(CHANNEL_ID)
    assert "watch acme" in json.dumps(card["blocks"])
    assert "watch acme, press" not in json.dumps(card["blocks"])
    priority, links, sla_watch, named, minutes = _state(sessions)
    assert links == {"acme": (True, True), "press": (False, False)}
    assert (sla_watch, named, minutes) == ("acme", "acme", 240)


def test_two_watches_that_alert_share_the_card_and_the_strictest_sla(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    _two_watches(sessions, workspace_id, press_threshold=50)
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 1
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 1
    _priority, links, sla_watch, named, minutes = _state(sessions)
    assert links == {"acme": (True, True), "press": (True, True)}
    assert (sla_watch, named, minutes) == ("press", "acme, press", 10)
