"""The outbox never lets one refused message hold back the rest (issue 15, items 1 and 6).

Against the Slack stand-in, on SQLite and PostgreSQL: a card Slack refuses for good, with
the notes that wait for it; errors Slack answers as HTTP 200 ``ok: false`` that go away
(retried) or that mean the token is dead (the workspace's outbox pauses, then resumes and
tells the admins).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.services.actors import CLI
from bot.services.cards import register_card_renderers
from bot.services.history import load_mention
from bot.services.outbox import (
    BACKOFF_CAP_SECONDS,
    CARD_LOST,
    CHANNEL_REFUSED,
    EVENT_TYPE_MENTION,
    KIND_CARD,
    KIND_POST,
    KIND_THREAD,
    KIND_UPDATE_CARD,
    KIND_UPDATE_POST,
    MAX_ATTEMPTS,
    THREAD_NOTE_REFUSED,
    OutboxSender,
    do_enqueue,
)
from bot.services.watches import list_watches
from bot.services.workflow import do_assign, do_simple
from bot.slack.client import build_web_client
from bot.slack.mention_views import build_history
from bot.slack.notifier import SlackNotifier
from storage.db import transaction
from storage.models import (
    AuditEvent,
    Author,
    Member,
    Mention,
    OutboxMessage,
    Role,
    Watch,
    Workspace,
)
from storage.models_base import as_utc
from storage.models_outbox import OutboxPause
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, OTHER_USER_ID, TEAM_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import (
    SLACK_PACE,
    Clock,
    enqueue_posts,
    sender_for,
    statuses,
)

OTHER_CHANNEL = "C07OTHERCH"
OTHER_TEAM = "T07OTHERTM"


def add_mentions(sessions: sessionmaker[Session], workspace_id: int, count: int) -> list[int]:
    """``count`` mentions of one watch alerting in CHANNEL_ID (no card queued yet)."""
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID)
        author = Author(workspace_id=workspace_id, network="mastodon", handle="@ana@m.social")
        session.add_all([watch, author])
        session.flush()
        mentions = [Mention(workspace_id=workspace_id, watch_id=watch.id, author_id=author.id,
                            network="mastodon", external_id=str(n),
                            url=f"https://m.social/@ana/{n}", text=f"mention {n}",
                            published_at=datetime(2026, 11, 21, 8, tzinfo=UTC))
                    for n in range(count)]
        session.add_all(mentions)
        session.flush()
        return [m.id for m in mentions]


def queue_card(sessions: sessionmaker[Session], workspace_id: int, mention_id: int) -> None:
    """The alert card, queued as the ingest does."""
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention_id, dedupe_key=f"card:{mention_id}")


def cards_in(standin: SlackStandIn, channel: str) -> list[int]:
    """The mention ids of the cards posted in ``channel``, in order."""
    return [m["metadata"]["event_payload"]["mention_id"] for m in standin.messages_in(channel)
            if m.get("metadata", {}).get("event_type") == EVENT_TYPE_MENTION]


def thread_of(standin: SlackStandIn, mention_id: int) -> list[str]:
    """The texts posted in the thread of the mention's card."""
    messages = standin.messages_in(CHANNEL_ID)
    (card_ts,) = [m["ts"] for m in messages
                  if m.get("metadata", {}).get("event_type") == EVENT_TYPE_MENTION
                  and m["metadata"]["event_payload"]["mention_id"] == mention_id]
    return [m["text"] for m in messages if m.get("thread_ts") == card_ts and m["ts"] != card_ts]


def history(sessions: sessionmaker[Session], mention_id: int | None = None) -> list[str]:
    with sessions() as session:
        query = select(AuditEvent.action).order_by(AuditEvent.id)
        if mention_id is not None:
            query = query.where(AuditEvent.mention_id == mention_id)
        return list(session.scalars(query))


def test_refused_card_does_not_block_its_channel_and_is_posted_again_on_the_next_action(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    first, second = add_mentions(sessions, workspace_id, 2)
    queue_card(sessions, workspace_id, first)
    sender = sender_for(sessions, slack_standin, Clock(), per_channel_interval=SLACK_PACE)
    slack_standin.error_next("chat.postMessage", "invalid_blocks")
    assert sender.flush(wait=True).failed == 1
    # Someone acts on the mention whose card Slack refused, then a new alert comes.
    do_assign(sessions, workspace_id, CLI, first, OTHER_USER_ID)
    queue_card(sessions, workspace_id, second)
    sender.flush(wait=True)
    sender.flush(wait=True)
    assert cards_in(slack_standin, CHANNEL_ID) == [first, second]
    notes = thread_of(slack_standin, first)
    assert len(notes) == 2 and "refused this card the first time" in notes[0]
    assert "invalid_blocks" in notes[0] and f"<@{OTHER_USER_ID}>" in notes[1]
    assert set(statuses(sessions)) == {"sent"}
    assert history(sessions, first) == ["outbox.card_failed", "mention.assign",
                                        "outbox.card_reposted"]
    with sessions() as session:
        mention = session.get(Mention, first)
        assert mention is not None and mention.slack_ts is not None


def test_rows_waiting_for_a_refused_card_fail_at_once_then_follow_it_when_it_is_reposted(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    (mention_id,) = add_mentions(sessions, workspace_id, 1)
    queue_card(sessions, workspace_id, mention_id)
    # An SLA reminder and a reply's card update queued while the card was on its way.
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD, channel=CHANNEL_ID,
                   mention_id=mention_id, payload={"text": "reminder"})
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_CARD,
                   channel=CHANNEL_ID, mention_id=mention_id)
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["digest"])
    sender = sender_for(sessions, slack_standin, Clock(), per_channel_interval=SLACK_PACE)
    slack_standin.error_next("chat.postMessage", "channel_not_found")
    sender.flush(wait=True)
    sender.flush(wait=True)
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["digest"]
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.status for r in rows] == ["failed", "failed", "failed", "sent"]
        assert all((r.last_error or "").startswith(CARD_LOST) for r in rows[1:3])
    do_simple(sessions, workspace_id, CLI, mention_id, "ignore")
    sender.flush(wait=True)
    sender.flush(wait=True)
    assert cards_in(slack_standin, CHANNEL_ID) == [mention_id]
    notes = thread_of(slack_standin, mention_id)
    assert notes[0] == "reminder" and "channel_not_found" in notes[1]
    assert "ignored" in notes[2] and len(notes) == 3
    assert set(statuses(sessions)) == {"sent"}


def test_card_refused_again_fails_its_notes_and_the_channel_moves_on(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    first, second = add_mentions(sessions, workspace_id, 2)
    queue_card(sessions, workspace_id, first)
    sender = sender_for(sessions, slack_standin, Clock())
    slack_standin.error_next("chat.postMessage", "invalid_blocks", count=2)
    sender.flush()
    do_assign(sessions, workspace_id, CLI, first, OTHER_USER_ID)
    queue_card(sessions, workspace_id, second)
    for _ in range(3):
        sender.flush()
    assert cards_in(slack_standin, CHANNEL_ID) == [second]
    with sessions() as session:
        pending = session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == "pending")).all()
    assert pending == []
    assert history(sessions, first) == ["outbox.card_failed", "mention.assign",
                                        "outbox.card_reposted", "outbox.card_failed"]


@pytest.mark.parametrize("error", ["internal_error", "fatal_error", "service_unavailable",
                                   "request_timeout", "ratelimited"])
def test_transient_ok_false_errors_are_retried_with_backoff(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    error: str,
) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["first", "second"])
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    # internal_error and fatal_error may have acted: here Slack did post the first one.
    slack_standin.error_next("chat.postMessage", error,
                             side_effect=error in ("internal_error", "fatal_error"))
    report = sender.flush()
    assert report.failed == 0 and report.sent == 0
    assert statuses(sessions) == ["pending", "pending"]  # the second waits behind the first
    assert sender.flush().sent == 0  # not before the backoff
    clock.now += timedelta(seconds=10)
    sender.flush()
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["first", "second"]
    assert statuses(sessions) == ["sent", "sent"]


SLACK_DOWN = {"ok": False, "error": "internal_error"}
"""What Slack answers, with HTTP 503, while it is down."""


def card_row(sessions: sessionmaker[Session], mention_id: int) -> OutboxMessage:
    with sessions() as session:
        row = session.scalar(select(OutboxMessage).where(
            OutboxMessage.mention_id == mention_id, OutboxMessage.kind == KIND_CARD))
        assert row is not None
        return row


def test_a_slack_outage_backs_off_for_hours_before_the_card_fails_and_the_admins_are_told(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """Slack answers HTTP 503 ``internal_error`` to every call (the card's post and the
    look-up for an earlier attempt): "a transient issue on our end", each method's Errors
    table. The retries back off exponentially up to BACKOFF_CAP_SECONDS, so the card is
    still on its way after minutes of outage and fails only after MAX_ATTEMPTS, hours
    later; then the workspace's admins get a DM."""
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=USER_ID, role=Role.ADMIN.value))
    (mention_id,) = add_mentions(sessions, workspace_id, 1)
    queue_card(sessions, workspace_id, mention_id)
    slack_standin.fail_next("*", status=503, body=SLACK_DOWN, count=10_000)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    start = clock.now
    # Three minutes of outage, flushed every 5 seconds as the worker does at worst.
    while clock.now < start + timedelta(minutes=3):
        sender.flush()
        clock.now += timedelta(seconds=5)
    row = card_row(sessions, mention_id)
    assert row.status == "pending" and row.attempts == 6
    # Then each retry as soon as it is due: the waits the sender scheduled double up to
    # the cap, and the card fails for good only at MAX_ATTEMPTS.
    clock.now = as_utc(row.next_attempt_at)
    waits: list[float] = []
    while (row := card_row(sessions, mention_id)).status == "pending":
        assert sender.flush().sent == 0
        row = card_row(sessions, mention_id)
        if row.status == "pending":
            waits.append((as_utc(row.next_attempt_at) - clock.now).total_seconds())
            clock.now = as_utc(row.next_attempt_at)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert "internal_error" in (row.last_error or "")
    assert waits[:3] == [320.0, 640.0, BACKOFF_CAP_SECONDS]
    assert set(waits[2:]) == {BACKOFF_CAP_SECONDS}
    assert clock.now - start > timedelta(hours=5)
    # Slack is back: the admins learn that the alert card was lost.
    slack_standin.clear_faults()
    clock.now += timedelta(seconds=1)
    sender.flush()
    (dm,) = slack_standin.messages_in(USER_ID)
    assert "internal_error" in dm["text"] and "vigie outbox" in dm["text"]
    assert cards_in(slack_standin, CHANNEL_ID) == []


@pytest.mark.parametrize("method", ["chat.update", "conversations.open"])
def test_card_updates_and_dms_back_off_too_while_slack_is_down(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    method: str,
) -> None:
    """An update of a posted message (``chat.update``, no look-up) and a DM (its
    ``conversations.open``) answered HTTP 503 ``internal_error``: each retry waits twice
    as long as the one before, then the message goes once Slack is back."""
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    if method == "chat.update":
        enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["old"])
        sender.flush()
        (posted,) = slack_standin.messages_in(CHANNEL_ID)
        with transaction(sessions) as session:
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_POST,
                       channel=CHANNEL_ID, payload={"ts": posted["ts"], "text": "new"})
    else:
        enqueue_posts(sessions, workspace_id, USER_ID, ["new"])
    slack_standin.fail_next(method, status=503, body=SLACK_DOWN, count=8)
    waits: list[float] = []
    for _ in range(8):
        assert sender.flush().sent == 0
        with sessions() as session:
            due = as_utc(session.scalar(select(func.max(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == "pending")))
        waits.append((due - clock.now).total_seconds())
        clock.now = due
    assert waits == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0]
    assert sender.flush().sent == 1
    assert set(statuses(sessions)) == {"sent"}
    shown = slack_standin.messages_in(CHANNEL_ID if method == "chat.update" else USER_ID)
    assert [m["text"] for m in shown] == ["new"]


def two_workspaces(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """The test's workspace (admins alice and bobby) and another one."""
    with transaction(sessions) as session:
        first, other = Workspace(team_id=TEAM_ID), Workspace(team_id=OTHER_TEAM)
        session.add_all([first, other])
        session.flush()
        session.add_all([Member(workspace_id=first.id, user_id=USER_ID, role=Role.ADMIN.value),
                         Member(workspace_id=first.id, user_id=OTHER_USER_ID,
                                role=Role.ADMIN.value),
                         Member(workspace_id=first.id, user_id="U07AGENT01",
                                role=Role.AGENT.value)])
        return first.id, other.id


def multi_workspace_sender(sessions: sessionmaker[Session], standin: SlackStandIn,
                           clock: Clock, tokens: dict[str, str]) -> OutboxSender:
    """A sender as an OAuth install builds it: one bot token per team, looked up per call."""
    standin.valid_tokens = None  # any xox... token not revoked: each install has its own
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_api_url=standin.base_url)
    notifier = SlackNotifier(build_web_client(settings, for_outbox=True), tokens.get)
    sender = OutboxSender(sessions, notifier, per_channel_interval=0, clock=clock)
    register_card_renderers(sender)
    return sender


def test_refused_token_pauses_its_workspace_then_resumes_and_tells_the_admins(
    sessions: sessionmaker[Session], slack_standin: SlackStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, other = two_workspaces(sessions)
    slack_standin.set_channel(OTHER_CHANNEL, name="other")
    enqueue_posts(sessions, first, CHANNEL_ID, ["a1", "a2"])
    enqueue_posts(sessions, first, OTHER_CHANNEL, ["b1"])
    enqueue_posts(sessions, other, OTHER_CHANNEL, ["elsewhere"])
    tokens = {TEAM_ID: "xoxb-old", OTHER_TEAM: "xoxb-other"}
    slack_standin.revoke_token("xoxb-old")
    clock = Clock()
    sender = multi_workspace_sender(sessions, slack_standin, clock, tokens)
    with caplog.at_level(logging.INFO, logger="bot.services.outbox"):
        report = sender.flush()
        for _ in range(3):
            assert sender.flush().sent == 0
    # One refused call, not one per row; the other workspace is not held up.
    assert len(slack_standin.calls("chat.postMessage", ok=False)) == 1
    assert report.failed == 0 and report.paused == 3 and report.sent == 1
    assert [m["text"] for m in slack_standin.messages_in(OTHER_CHANNEL)] == ["elsewhere"]
    assert statuses(sessions) == ["pending", "pending", "pending", "sent"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "token_revoked" in errors[0].getMessage()
    assert "xoxb-" not in caplog.text
    with sessions() as session:
        pause = session.get(OutboxPause, first)
        assert pause is not None and pause.error == "token_revoked"
        paused_at = pause.paused_at
    # After the backoff the first due row probes the token: still refused.
    clock.now += timedelta(seconds=61)
    assert sender.flush().paused == 3
    assert len(slack_standin.calls("chat.postMessage", ok=False)) == 2
    with sessions() as session:
        pause = session.get(OutboxPause, first)
        assert pause is not None and pause.probes == 1
        assert pause.next_probe_at == clock.now + timedelta(seconds=120)
    # The app is reinstalled: a new token. The next probe goes through and everything flows.
    tokens[TEAM_ID] = "xoxb-new"
    clock.now += timedelta(seconds=121)
    sender.flush()
    sender.flush()
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["a1", "a2"]
    assert [m["text"] for m in slack_standin.messages_in(OTHER_CHANNEL)] == [
        "elsewhere", "b1"]
    for admin in (USER_ID, OTHER_USER_ID):
        (dm,) = slack_standin.messages_in(admin)
        assert "refused the bot token (token_revoked)" in dm["text"]
        assert f"<!date^{int(paused_at.timestamp())}^" in dm["text"]
    assert slack_standin.messages_in("U07AGENT01") == []
    assert set(statuses(sessions)) == {"sent"}
    with sessions() as session:
        assert session.get(OutboxPause, first) is None
    assert history(sessions) == ["outbox.paused", "outbox.resumed"]


def test_restarted_sender_probes_a_paused_workspace_at_once(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["held"])
    slack_standin.error_next("chat.postMessage", "invalid_auth")
    clock = Clock()
    assert sender_for(sessions, slack_standin, clock).flush().paused == 1
    # The operator sets a new token and restarts: no need to wait for the probe's backoff.
    assert sender_for(sessions, slack_standin, clock).flush().sent == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["held"]
    with sessions() as session:
        assert session.scalars(select(OutboxPause)).all() == []


def test_workspace_without_a_stored_token_is_paused_not_failed(
    sessions: sessionmaker[Session], slack_standin: SlackStandIn
) -> None:
    first, _ = two_workspaces(sessions)
    enqueue_posts(sessions, first, CHANNEL_ID, ["held"])
    tokens: dict[str, str] = {}
    clock = Clock()
    sender = multi_workspace_sender(sessions, slack_standin, clock, tokens)
    assert sender.flush().paused == 1
    assert slack_standin.calls("chat.postMessage") == []
    with sessions() as session:
        pause = session.get(OutboxPause, first)
        assert pause is not None and pause.error == "not_installed"
    tokens[TEAM_ID] = "xoxb-installed"
    clock.now += timedelta(minutes=2)
    assert sender.flush().sent == 1
    assert sender.flush().sent == 2  # a DM to each admin, queued when the pause ended
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["held"]
    assert "(not_installed)" in slack_standin.messages_in(USER_ID)[0]["text"]
    with sessions() as session:
        kinds = list(session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))
    assert kinds == [KIND_POST, KIND_POST, KIND_POST]


def test_a_channel_waiting_for_a_retry_does_not_fill_the_flush_window(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    fast_retries: list[float],
) -> None:
    """A flush reads a bounded number of rows: a long channel behind a row waiting for its
    retry must not take them all and starve the other channels."""
    slack_standin.set_channel(OTHER_CHANNEL, name="other")
    enqueue_posts(sessions, workspace_id, OTHER_CHANNEL, [f"busy {n}" for n in range(6)])
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["quiet"])
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=SLACK_PACE)
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=7)
    sender.flush(limit=4, wait=True)
    sender.flush(limit=4, wait=True)
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["quiet"]
    assert slack_standin.messages_in(OTHER_CHANNEL) == []
    clock.now += timedelta(seconds=8)
    sender.flush(limit=4, wait=True)
    sender.flush(limit=4, wait=True)
    assert [m["text"] for m in slack_standin.messages_in(OTHER_CHANNEL)] == [
        f"busy {n}" for n in range(6)]


def test_a_paused_backlog_does_not_fill_the_flush_window(
    sessions: sessionmaker[Session], slack_standin: SlackStandIn
) -> None:
    first, other = two_workspaces(sessions)
    slack_standin.set_channel(OTHER_CHANNEL, name="other")
    enqueue_posts(sessions, first, CHANNEL_ID, [f"held {n}" for n in range(6)])
    enqueue_posts(sessions, other, OTHER_CHANNEL, ["elsewhere"])
    slack_standin.revoke_token("xoxb-old")
    clock = Clock()
    sender = multi_workspace_sender(sessions, slack_standin, clock,
                                    {TEAM_ID: "xoxb-old", OTHER_TEAM: "xoxb-other"})
    report = sender.flush(limit=4)  # fewer than the rows held
    assert (report.paused, report.sent) == (4, 1)  # held 0 refused, 1-3 passed over
    assert sender.flush(limit=4).paused == 0  # not even read until the next probe
    assert [m["text"] for m in slack_standin.messages_in(OTHER_CHANNEL)] == ["elsewhere"]
    assert len(slack_standin.calls("chat.postMessage", ok=False)) == 1


def test_a_channel_refusing_only_thread_notes_is_not_reported_as_losing_its_alerts(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Threads are turned off in the alert channel: the cards go out, only the notes in
    their threads are refused. The admins are not told the watch's alerts are lost, and
    `watch list` does not flag it; the note fails (kept, logged) like any refused note."""
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=USER_ID, role=Role.ADMIN.value))
    (mention_id,) = add_mentions(sessions, workspace_id, 1)
    queue_card(sessions, workspace_id, mention_id)
    slack_standin.set_channel(CHANNEL_ID, non_threadable=True)
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    do_assign(sessions, workspace_id, CLI, mention_id, OTHER_USER_ID)
    with caplog.at_level(logging.INFO, logger="bot.services.outbox"):
        sender.flush()
        sender.flush()
    assert cards_in(slack_standin, CHANNEL_ID) == [mention_id]
    with sessions() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    notes = [r for r in rows if r.kind == KIND_THREAD]
    assert notes and all(r.status == "failed" for r in notes)
    assert all("restricted_action_non_threadable_channel" in (r.last_error or "")
               for r in notes)
    assert {r.status for r in rows if r.kind != KIND_THREAD} == {"sent"}
    assert "failed for good" in caplog.text
    assert slack_standin.messages_in(USER_ID) == []  # no "your alerts are lost" DM
    assert CHANNEL_REFUSED not in history(sessions)
    (watch,) = list_watches(sessions, workspace_id)
    assert watch.refused is None


def test_a_thread_note_slack_refuses_is_in_the_mention_history_once_per_note(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """Threads are turned off in the alert channel: each note Slack refuses in the card's
    thread is written once in the mention's history (`/cm show`), in English and French,
    so the team learns it was not delivered; the channel is still not flagged."""
    mention_id, other_id = add_mentions(sessions, workspace_id, 2)
    queue_card(sessions, workspace_id, mention_id)
    queue_card(sessions, workspace_id, other_id)
    slack_standin.set_channel(CHANNEL_ID, non_threadable=True)
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    do_assign(sessions, workspace_id, CLI, mention_id, OTHER_USER_ID)
    sender.flush()
    sender.flush()
    assert history(sessions, mention_id).count(THREAD_NOTE_REFUSED) == 1
    do_simple(sessions, workspace_id, CLI, mention_id, "ignore")
    sender.flush()
    sender.flush()
    assert history(sessions, mention_id) == [
        "mention.assign", THREAD_NOTE_REFUSED, "mention.ignore", THREAD_NOTE_REFUSED]
    refused = slack_standin.calls("chat.postMessage", ok=False)
    assert len(refused) == 2 and all(c.args.get("thread_ts") for c in refused)
    assert THREAD_NOTE_REFUSED not in history(sessions, other_id)  # no note of its own
    assert CHANNEL_REFUSED not in history(sessions)
    (watch,) = list_watches(sessions, workspace_id)
    assert watch.refused is None
    _view, entries = load_mention(sessions, workspace_id, mention_id)
    english = build_history(entries, "en")[0]["text"]["text"]
    assert english.count("did not deliver a note in the card's thread: Slack refuses thread "
                         "replies in that channel (threads are turned off), so nobody saw "
                         "it: restricted_action_non_threadable_channel") == 2
    french = build_history(entries, "fr")[0]["text"]["text"]
    assert french.count("n'a pas remis une note dans le fil de la carte : Slack refuse les "
                        "réponses en fil dans ce canal (fils désactivés), personne ne l'a "
                        "donc vue") == 2


def test_a_thread_note_refused_for_another_reason_adds_no_such_history_line(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """Only Slack's "threads are off" answer is this line: a note refused because the
    channel itself is (now) archived is the channel's problem, told to the admins."""
    (mention_id,) = add_mentions(sessions, workspace_id, 1)
    queue_card(sessions, workspace_id, mention_id)
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    slack_standin.set_channel(CHANNEL_ID, is_archived=True)
    do_assign(sessions, workspace_id, CLI, mention_id, OTHER_USER_ID)
    sender.flush()
    sender.flush()
    assert THREAD_NOTE_REFUSED not in history(sessions, mention_id)
    assert CHANNEL_REFUSED in history(sessions)


def test_the_token_state_follows_what_the_outbox_is_answered(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    """With one bot token, what /readyz reports of it (``SlackTokenState``) follows the
    outbox's calls: a refusal names Slack's error, the next delivery that goes through
    clears it."""
    from bot.slack.token_state import SlackTokenState

    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    token = SlackTokenState()
    sender.token_watch = token
    slack_standin.revoke_token(BOT_TOKEN, "invalid_auth")
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["held"])
    assert sender.flush().paused == 1
    assert token.current() == "invalid_auth"
    slack_standin.restore_token(BOT_TOKEN)
    clock.now += timedelta(seconds=61)
    assert sender.flush().sent == 1
    assert token.current() is None
