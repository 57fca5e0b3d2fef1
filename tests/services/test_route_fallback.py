"""A card a topic route sends to a channel Slack refuses for good goes to the watch's own
channel instead, saying why in its thread, so the work is seen; when no channel takes it,
the mention still counts as open work (it needed an alert). On SQLite and PostgreSQL,
against the Slack stand-in (a private channel the bot is not in: ``channel_not_found``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.ingest import do_ingest
from bot.services.outbox import KIND_CARD, ROUTE_FALLBACK
from bot.services.outbox_admin import do_retry_failed
from bot.services.reporting.digest import preview_digests
from bot.services.topic_routes import do_add_route
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.services.workflow import do_assign, do_mark_replied
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from storage.db import transaction
from storage.models import AuditEvent, Member, Mention, OutboxMessage, Role, Watch
from storage.models_watches import MentionWatch
from tests.harness.constants import USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import SLACK_PACE, Clock, sender_for

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
SOCIAL, BUGS = "C0SOCIAL01", "C0PRODBUG1"


def _outage(sessions: sessionmaker[Session], workspace_id: int, count: int) -> None:
    """acme alerts in #social and routes outages to #product-bugs; ``count`` urgent outage
    complaints arrive."""
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=USER_ID, role=Role.ADMIN.value))
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=SOCIAL)
    do_add_route(sessions, workspace_id, CLI, watch_name="acme", topic="outage",
                 channel_id=BUGS)
    posts = [FetchedMention(
        network="x", external_id=str(i), url=f"https://x.com/u{i}/status/{i}",
        text=f"@acme your app is down again, error 500 when I try to log in {i}",
        author=FetchedAuthor(handle=f"user{i}", followers=300),
        published_at=NOW - timedelta(minutes=i)) for i in range(1, count + 1)]
    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           posts, now=NOW)
    assert report.alerts == count


def _digest(sessions: sessionmaker[Session], workspace_id: int) -> tuple[dict[str, int], int]:
    ((_config, report),) = preview_digests(sessions, workspace_id, now=NOW + timedelta(hours=9),
                                           channel_id=SOCIAL)
    return dict(report.open_by_status), report.overdue_count


def test_a_card_refused_in_its_route_channel_goes_to_the_watch_channel(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    _outage(sessions, workspace_id, 2)
    slack_standin.set_channel(BUGS, is_private=True, is_member=False)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=SLACK_PACE)
    sender.flush(wait=True)
    sender.flush(wait=True)
    refused = slack_standin.calls("chat.postMessage", ok=False)
    assert [call.args["channel"] for call in refused] == [BUGS, BUGS]
    top = [m for m in slack_standin.messages_in(SOCIAL) if m.get("thread_ts", m["ts"]) == m["ts"]]
    notes = [m for m in slack_standin.messages_in(SOCIAL) if m.get("thread_ts", m["ts"]) != m["ts"]]
    assert len(top) == 2 and len(notes) == 2
    assert all(BUGS in m["text"] and "channel_not_found" in m["text"] for m in notes)
    assert {m["thread_ts"] for m in notes} == {m["ts"] for m in top}
    # The admins' DM about the channel still goes.
    dms = [m for m in slack_standin.calls("chat.postMessage", ok=True)
           if m.args["channel"] not in (SOCIAL, BUGS)]
    assert len(dms) == 1 and BUGS in dms[0].args["text"]
    with sessions() as session:
        mentions = session.scalars(select(Mention).order_by(Mention.id)).all()
        assert all(m.alerted and m.slack_channel == SOCIAL for m in mentions)
        links = session.execute(select(MentionWatch.alerted, MentionWatch.slack_channel)).all()
        assert links == [(True, SOCIAL), (True, SOCIAL)]
        assert len(session.scalars(select(AuditEvent).where(
            AuditEvent.action == ROUTE_FALLBACK)).all()) == 2
    assert _digest(sessions, workspace_id) == ({"new": 2}, 2)
    # Later actions on the mention update its card where it lives (#social): the refused
    # route channel is not tried again, and nothing more is written about it.
    with sessions() as session:
        first = session.scalars(select(Mention).order_by(Mention.id)).first()
        assert first is not None
        audits = session.scalar(select(func.count()).select_from(AuditEvent))
    first_ts = first.slack_ts
    slack_standin.clear()
    do_assign(sessions, workspace_id, CLI, first.id, USER_ID)
    sender.flush(wait=True)
    sender.flush(wait=True)
    do_mark_replied(sessions, workspace_id, CLI, first.id)
    sender.flush(wait=True)
    sender.flush(wait=True)
    posts = [c for c in slack_standin.calls("chat.postMessage")
             if c.args["channel"][:1] == "C"]  # not the assignee's DM
    assert [c.args["channel"] for c in posts] == [SOCIAL, SOCIAL]  # the two notes
    assert all(c.args["thread_ts"] == first_ts for c in posts)
    updates = slack_standin.calls("chat.update", ok=True)
    assert [(c.args["channel"], c.args["ts"]) for c in updates] == [(SOCIAL, first_ts)] * 2
    top = [m for m in slack_standin.messages_in(SOCIAL) if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert len(top) == 2
    with sessions() as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.id > 0)
                                  .order_by(AuditEvent.id).offset(audits)).all()
        assert not [a for a in actions if a.startswith("outbox.")], actions
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == BUGS, OutboxMessage.status != "failed")) == 0


def test_a_card_no_channel_takes_still_counts_as_open_work(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    _outage(sessions, workspace_id, 2)
    slack_standin.set_channel(BUGS, is_private=True, is_member=False)
    slack_standin.set_channel(SOCIAL, is_archived=True)
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    sender.flush()
    assert slack_standin.messages_in(SOCIAL) == [] and slack_standin.messages_in(BUGS) == []
    with sessions() as session:
        cards = session.execute(select(OutboxMessage.channel, OutboxMessage.status).where(
            OutboxMessage.kind == KIND_CARD).order_by(OutboxMessage.id)).all()
        assert cards == [(BUGS, "failed"), (BUGS, "failed"),
                         (SOCIAL, "failed"), (SOCIAL, "failed")]
        assert all(m.alerted and m.slack_ts is None for m in session.scalars(select(Mention)))
    # Nothing reached Slack, yet the digest lists them as open, and overdue.
    assert _digest(sessions, workspace_id) == ({"new": 2}, 2)


CARE = "acme-care"


@pytest.mark.parametrize("watch_card", ["posted", "queued"])
def test_a_refused_route_card_whose_watch_channel_holds_the_card_already_stays_there(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    watch_card: str,
) -> None:
    """acme routes outages to #product-bugs; acme-care alerts in #social too, and had the
    outage's card there (``posted``) or on its way (``queued``) when #product-bugs refused
    acme's. The card in #social is the one both watches' work goes to: later actions update
    it, and #product-bugs is not tried again for this mention, as when the fallback posted
    the card itself (above)."""
    _outage(sessions, workspace_id, 1)
    do_add_watch(sessions, workspace_id, CLI, name=CARE, query="acme", channel_id=SOCIAL)
    with sessions() as session:
        post = session.scalars(select(Mention)).one()
        again = [FetchedMention(
            network="x", external_id=post.external_id, url=post.url, text=post.text,
            author=FetchedAuthor(handle="user1", followers=300), published_at=post.published_at)]
    slack_standin.set_channel(BUGS, is_private=True, is_member=False)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=SLACK_PACE)
    with transaction(sessions) as session:
        # acme's card for #product-bugs is queued first, acme-care's for #social after it.
        do_ingest(session, get_watch_by_name(session, workspace_id, CARE), None, again, now=NOW)
    if watch_card == "posted":
        # acme-care's card reaches #social before acme's is tried in #product-bugs.
        with transaction(sessions) as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.channel == BUGS)
                            .values(next_attempt_at=clock.now + timedelta(minutes=1)))
        sender.flush(wait=True)
        assert [m["ts"] for m in slack_standin.messages_in(SOCIAL)]
    clock.now += timedelta(minutes=2)
    sender.flush(wait=True)
    sender.flush(wait=True)
    assert [c.args["channel"] for c in slack_standin.calls("chat.postMessage", ok=False)] \
        == [BUGS]
    top = [m for m in slack_standin.messages_in(SOCIAL) if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert len(top) == 1  # one card per channel: the fallback posts no second one
    card_ts = top[0]["ts"]
    # Its thread says why acme's outage is here rather than in #product-bugs.
    notes = [m for m in slack_standin.messages_in(SOCIAL) if m.get("thread_ts") == card_ts
             and m["ts"] != card_ts]
    assert len(notes) == 1 and BUGS in notes[0]["text"] and "channel_not_found" in notes[0]["text"]
    with sessions() as session:
        mention = session.scalars(select(Mention)).one()
        assert (mention.slack_channel, mention.slack_ts) == (SOCIAL, card_ts)
        # The card in #social is acme's card too, as if it had fallen back there itself.
        links = session.execute(select(Watch.name, MentionWatch.slack_channel,
                                       MentionWatch.slack_ts, MentionWatch.alerted)
                                .join(Watch, Watch.id == MentionWatch.watch_id)
                                .order_by(Watch.name)).all()
        assert links == [("acme", SOCIAL, card_ts, True), (CARE, SOCIAL, card_ts, True)]
        fallbacks = session.execute(select(AuditEvent.mention_id, AuditEvent.reason).where(
            AuditEvent.action == ROUTE_FALLBACK)).all()
        assert fallbacks == [(mention.id, "channel_not_found")]
        bugs_card = session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.channel == BUGS, OutboxMessage.kind == KIND_CARD)).one()
        audits = session.scalar(select(func.count()).select_from(AuditEvent))
    # Later actions update the card where it lives; #product-bugs is not tried again.
    slack_standin.clear()
    do_assign(sessions, workspace_id, CLI, mention.id, USER_ID)
    sender.flush(wait=True)
    sender.flush(wait=True)
    do_mark_replied(sessions, workspace_id, CLI, mention.id)
    sender.flush(wait=True)
    sender.flush(wait=True)
    posts = [c for c in slack_standin.calls("chat.postMessage") if c.args["channel"][:1] == "C"]
    assert [(c.args["channel"], c.args.get("thread_ts")) for c in posts] == [(SOCIAL, card_ts)] * 2
    updates = slack_standin.calls("chat.update", ok=True)
    assert [(c.args["channel"], c.args["ts"]) for c in updates] == [(SOCIAL, card_ts)] * 2
    with sessions() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)
                                  .offset(audits)).all()
        assert not [a for a in actions if a.startswith("outbox.")], actions
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == BUGS, OutboxMessage.status != "failed")) == 0
    # Retrying the refused card by hand leaves it too, as for a card that fell back itself:
    # the mention's card lives in #social.
    result = do_retry_failed(sessions, ids=[bugs_card])
    assert result.requeued == [] and [row for row, _ in result.skipped] == [bugs_card]
