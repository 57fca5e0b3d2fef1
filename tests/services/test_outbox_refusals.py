"""Slack refusing messages for good for a reason other than their channel, through the
outbox and the Slack stand-in: a token that may not post (``missing_scope``) pauses its
workspace until a message goes through again; a card Slack refuses for its content tells
the workspace's admins, once a day per reason."""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.outbox import health_lines
from bot.services.installs import do_reinstalled
from bot.services.outbox import KIND_UPLOAD, do_enqueue
from bot.services.outbox_admin import outbox_health
from storage.db import transaction
from storage.models import Member, OutboxMessage, Role
from storage.models_outbox import OutboxPause
from tests.bot.test_cli import vigie
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID, TEAM_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import Clock, enqueue_posts, sender_for, statuses
from tests.services.test_outbox_health import (
    OTHER_CHANNEL,
    add_mentions,
    cards_in,
    history,
    queue_card,
)


def admins(sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Two admins of the workspace, whom the outbox DMs."""
    with transaction(sessions) as session:
        session.add_all([Member(workspace_id=workspace_id, user_id=user, role=Role.ADMIN.value)
                         for user in (USER_ID, OTHER_USER_ID)])


def dms(standin: SlackStandIn, user_id: str) -> list[str]:
    return [m["text"] for m in standin.messages_in(user_id)]


def test_a_token_that_may_not_post_pauses_its_workspace_until_the_scope_is_back(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    db_url: str, tmp_path: Path,
) -> None:
    """The app reinstalled without ``chat:write``: Slack takes the token (``auth.test``)
    but answers every chat.postMessage ``missing_scope`` with ``needed: chat:write``.
    Nothing could reach Slack, not even a DM to the admins: the cards wait, none fails, and
    the operator is shown the scope. Once the app is installed with it again, the probe
    posts them, each once."""
    admins(sessions, workspace_id)
    first, second = add_mentions(sessions, workspace_id, 2)
    queue_card(sessions, workspace_id, first)
    queue_card(sessions, workspace_id, second)
    granted = set(slack_standin.scopes)
    slack_standin.set_scopes(granted - {"chat:write"})
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    for _ in range(6):
        report = sender.flush()
        assert report.failed == 0 and report.sent == 0
        clock.sleep(20)
    # One refusal, then one probe after the first minute of backoff, not one per card.
    assert len(slack_standin.calls("chat.postMessage", ok=False)) == 2
    assert statuses(sessions) == ["pending", "pending"]
    assert history(sessions) == ["outbox.paused"]
    with sessions() as session:
        pause = session.get(OutboxPause, workspace_id)
        assert pause is not None and pause.error == "missing_scope"
        assert "chat:write" in (pause.detail or "")
    (line,) = [line for line in health_lines(outbox_health(sessions), clock.now)
               if line.startswith("PAUSED")]
    assert "missing_scope (needed: chat:write)" in line and "manifest.yml" in line
    doctor = vigie(tmp_path, "doctor", VIGIE_DATABASE_URL=db_url)
    (paused,) = [line for line in doctor.stdout.splitlines() if line.startswith("outbox paused")]
    assert "FAIL" in paused and "needed: chat:write" in paused and "2 messages wait" in paused
    # An admin installs the app again with the manifest's scopes: its outbox is tried at
    # its next flush, well before the probe's backoff (next at 3 minutes) is out.
    slack_standin.set_scopes(granted)
    assert not do_reinstalled(sessions, TEAM_ID, now=clock.now)  # it was never uninstalled
    sender.flush()
    sender.flush()
    assert cards_in(slack_standin, CHANNEL_ID) == [first, second]
    assert set(statuses(sessions)) == {"sent"}
    assert history(sessions) == ["outbox.paused", "outbox.resumed"]
    for admin in (USER_ID, OTHER_USER_ID):
        (dm,) = dms(slack_standin, admin)
        assert "did not let its bot post messages (missing_scope)" in dm
    with sessions() as session:
        assert session.get(OutboxPause, workspace_id) is None


def test_a_file_shared_while_the_bot_may_not_post_does_not_end_the_pause(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """The probe of a pause on ``missing_scope`` must post a message: an upload due first
    (it waited for its retry when the pause began) goes through with ``files:write``, which
    says nothing of ``chat:write``. The pause holds; the message after it probes."""
    admins(sessions, workspace_id)
    slack_standin.set_channel(OTHER_CHANNEL, name="other")
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPLOAD, channel=CHANNEL_ID,
                   payload={"filename": "export.csv", "title": "Export",
                            "content_b64": base64.b64encode(b"a,b\n").decode()})
    enqueue_posts(sessions, workspace_id, OTHER_CHANNEL, ["held"])
    granted = set(slack_standin.scopes)
    slack_standin.set_scopes(granted - {"chat:write"})
    slack_standin.fail_next("files.getUploadURLExternal", status=429, retry_after=30)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().paused == 1
    clock.sleep(61)
    sender.flush()  # the upload, due first, goes through
    assert statuses(sessions) == ["sent", "pending"]
    with sessions() as session:
        assert session.get(OutboxPause, workspace_id) is not None
    assert history(sessions) == ["outbox.paused"]
    assert sender.flush().paused == 1  # the message probes at once: still refused
    assert len(slack_standin.calls("chat.postMessage", ok=False)) == 2
    slack_standin.set_scopes(granted)
    clock.sleep(15 * 60)
    assert sender.flush().sent == 1
    assert [m["text"] for m in slack_standin.messages_in(OTHER_CHANNEL)] == ["held"]
    assert history(sessions) == ["outbox.paused", "outbox.resumed"]


def test_a_card_slack_refuses_for_its_content_tells_the_admins(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """``msg_too_long`` fails the card for good: its channel is fine, so the admins are
    told Slack's reason (as when a card's retries run out), and its history says so."""
    admins(sessions, workspace_id)
    (mention_id,) = add_mentions(sessions, workspace_id, 1)
    queue_card(sessions, workspace_id, mention_id)
    slack_standin.error_next("chat.postMessage", "msg_too_long")
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().failed == 1
    sender.flush()
    assert cards_in(slack_standin, CHANNEL_ID) == []
    assert history(sessions, mention_id) == ["outbox.card_failed"]
    for admin in (USER_ID, OTHER_USER_ID):
        (dm,) = dms(slack_standin, admin)
        assert "Slack refused it for good (msg_too_long)" in dm
        assert f"<#{CHANNEL_ID}>" in dm and "vigie outbox --status failed" in dm


def test_many_refused_cards_make_one_dm_per_reason_and_day(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """A renderer Slack refuses refuses every card: twelve cards refused for two reasons
    make two DMs per admin that day, not twelve; the next day's refusal is told again."""
    admins(sessions, workspace_id)
    mentions = add_mentions(sessions, workspace_id, 13)
    for mention_id in mentions[:12]:
        queue_card(sessions, workspace_id, mention_id)
    slack_standin.error_next("chat.postMessage", "invalid_blocks", count=6)
    slack_standin.error_next("chat.postMessage", "msg_too_long", count=6)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    sender.flush()
    sender.flush()
    with sessions() as session:
        failed = session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status == "failed")).all()
    assert len(failed) == 12
    for admin in (USER_ID, OTHER_USER_ID):
        told = dms(slack_standin, admin)
        assert len(told) == 2
        assert "(invalid_blocks)" in told[0] and "(msg_too_long)" in told[1]
    clock.sleep(24 * 3600)
    queue_card(sessions, workspace_id, mentions[12])
    slack_standin.error_next("chat.postMessage", "msg_too_long")
    sender.flush()
    sender.flush()
    for admin in (USER_ID, OTHER_USER_ID):
        assert len(dms(slack_standin, admin)) == 3


def test_a_card_refused_for_its_channel_is_told_once_not_twice(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """A refused channel has its own DM (what to do about the channel): the refused
    card's is not added to it."""
    admins(sessions, workspace_id)
    (mention_id,) = add_mentions(sessions, workspace_id, 1)
    queue_card(sessions, workspace_id, mention_id)
    slack_standin.error_next("chat.postMessage", "not_in_channel")
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    sender.flush()
    (dm,) = dms(slack_standin, USER_ID)
    assert "refused it for good" not in dm and "(not_in_channel)" in dm
