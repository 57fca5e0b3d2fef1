"""A sender that stalls past its hold on a row (``SEND_LEASE``) while another takes the row
over: the row is sent once, and records what the sender holding it sent.

Sender A claims a row and is frozen inside a call to Slack (the stand-in holds the call);
the shared clock moves past A's hold; sender B takes the row over and sends it; then A
resumes. Both senders run in one process on the same database, as two workers would.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import (
    CHANNEL_REFUSED,
    KIND_CARD,
    KIND_POST,
    KIND_UPLOAD,
    SEND_BUDGET,
    SEND_LEASE,
    SHARE_WAIT,
    SLACK_CALL_TIMEOUT,
    UPLOADED_FILE_ID,
    FlushReport,
    OutboxSender,
    do_enqueue,
)
from storage.db import transaction
from storage.models import AuditEvent, Member, Mention, OutboxMessage, OutboxStatus, Role
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import UPLOAD_METHOD, SlackStandIn
from tests.services.test_outbox import Clock, add_mention, sender_for

ADMIN = "U07ADMIN01"


def stall_a_then_b(standin: SlackStandIn, clock: Clock, a: OutboxSender, b: OutboxSender,
                   method: str, past: timedelta, *,
                   before_resume: Callable[[], None] | None = None
                   ) -> tuple[FlushReport, FlushReport]:
    """A flushes and is frozen in its call to ``method``; the clock moves ``past`` its
    claim (beyond its hold); B flushes (its own calls go through); A resumes and ends."""
    held = standin.hold(method)
    reports: dict[str, FlushReport] = {}
    stalled = threading.Thread(target=lambda: reports.setdefault("a", a.flush()))
    stalled.start()
    held.wait_for_arrivals(1)
    standin.hold(method).release()  # B's calls to it go through
    clock.now += past
    reports["b"] = b.flush()
    if before_resume is not None:
        before_resume()
    held.release()
    stalled.join(30)
    assert not stalled.is_alive()
    return reports["a"], reports["b"]


def the_row(sessions: sessionmaker[Session], row_id: int) -> OutboxMessage:
    with sessions() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        return row


def enqueue(sessions: sessionmaker[Session], workspace_id: int, kind: str,
            **fields: object) -> int:
    with transaction(sessions) as session:
        row = do_enqueue(session, workspace_id=workspace_id, kind=kind, channel=CHANNEL_ID,
                         **fields)  # type: ignore[arg-type]
        assert row is not None
        return row.id


def enqueue_chart(sessions: sessionmaker[Session], workspace_id: int) -> int:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    return enqueue(sessions, workspace_id, KIND_UPLOAD,
                   payload={"filename": "digest.png", "title": "Volume",
                            "content_b64": base64.b64encode(png).decode()})


def test_an_upload_whose_sender_stalls_before_slack_answers_is_shared_once(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    row_id = enqueue_chart(sessions, workspace_id)
    clock = Clock()
    a, b = sender_for(sessions, slack_standin, clock), sender_for(sessions, slack_standin, clock)

    report_a, report_b = stall_a_then_b(slack_standin, clock, a, b,
                                        "files.getUploadURLExternal",
                                        SEND_LEASE + timedelta(seconds=30))

    (shared,) = slack_standin.files()
    assert (report_a.sent, report_b.sent) == (0, 1)
    row = the_row(sessions, row_id)
    assert row.status == OutboxStatus.SENT.value
    assert row.payload[UPLOADED_FILE_ID] == shared.file_id
    assert not slack_standin.calls("files.completeUploadExternal", ok=False)


def test_a_file_shared_after_its_sender_lost_the_row_is_deleted(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """A is frozen in the completion of its upload long enough for B (finding nothing
    shared after ``SHARE_WAIT``) to share the file; A's completion then takes effect: A
    deletes its file instead of recording it."""
    row_id = enqueue_chart(sessions, workspace_id)
    clock = Clock()
    a, b = sender_for(sessions, slack_standin, clock), sender_for(sessions, slack_standin, clock)

    report_a, report_b = stall_a_then_b(slack_standin, clock, a, b,
                                        "files.completeUploadExternal",
                                        SHARE_WAIT + timedelta(seconds=30))

    (shared,) = slack_standin.files()
    (late,) = [f for f in slack_standin.files(include_deleted=True)
               if f.file_id != shared.file_id]
    assert [c.args["file"] for c in slack_standin.calls("files.delete")] == [late.file_id]
    assert (report_a.sent, report_b.sent) == (0, 1)
    row = the_row(sessions, row_id)
    assert row.status == OutboxStatus.SENT.value
    assert row.payload[UPLOADED_FILE_ID] == shared.file_id
    clock.now += timedelta(minutes=5)
    b.flush()
    assert [f.file_id for f in slack_standin.files()] == [shared.file_id]


def test_an_upload_past_its_send_budget_stops_before_its_next_step_and_is_retried(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """Slack took so long over the file's place that sending its bytes could end past the
    send's budget: nothing more goes to Slack, and the row is retried, within its hold."""
    row_id = enqueue_chart(sessions, workspace_id)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    held = slack_standin.hold("files.getUploadURLExternal")
    reports: list[FlushReport] = []
    slow = threading.Thread(target=lambda: reports.append(sender.flush()))
    slow.start()
    held.wait_for_arrivals(1)
    clock.now += SEND_BUDGET - SLACK_CALL_TIMEOUT + timedelta(seconds=1)
    assert SEND_BUDGET + timedelta(seconds=1) < SEND_LEASE
    held.release()
    slow.join(30)
    assert not slow.is_alive()

    assert slack_standin.calls(UPLOAD_METHOD) == []  # its bytes were never sent
    assert slack_standin.files() == []
    assert (reports[0].sent, reports[0].deferred) == (0, 1)
    row = the_row(sessions, row_id)
    assert row.status == OutboxStatus.PENDING.value
    assert "budget" in (row.last_error or "")
    clock.now += timedelta(minutes=10)
    assert sender.flush().sent == 1
    assert len(slack_standin.files()) == 1


@pytest.mark.parametrize("kind", [KIND_POST, KIND_CARD])
def test_a_message_whose_sender_stalls_is_shown_once_and_recorded_as_shown(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        kind: str) -> None:
    """A's post reaches Slack after B posted the row: A deletes its own copy, and the row
    (and a card's mention) keeps B's message, the one that stays, through B's later
    recheck for copies too."""
    if kind == KIND_CARD:
        mention_id = add_mention(sessions, workspace_id)
        row_id = enqueue(sessions, workspace_id, KIND_CARD, mention_id=mention_id,
                         dedupe_key=f"card:{mention_id}")
    else:
        row_id = enqueue(sessions, workspace_id, KIND_POST, payload={"text": "spike alert"})
    clock = Clock()
    a, b = sender_for(sessions, slack_standin, clock), sender_for(sessions, slack_standin, clock)

    report_a, report_b = stall_a_then_b(slack_standin, clock, a, b, "chat.postMessage",
                                        SEND_LEASE + timedelta(seconds=30))
    clock.now += timedelta(minutes=3)  # B's recheck for late copies runs
    b.flush()
    a.flush()

    (shown,) = [m["ts"] for m in slack_standin.messages_in(CHANNEL_ID)]
    assert len(slack_standin.calls("chat.postMessage", ok=True)) == 2
    assert (report_a.sent, report_b.sent) == (0, 1)
    row = the_row(sessions, row_id)
    assert (row.status, row.result_ts) == (OutboxStatus.SENT.value, shown)
    if kind == KIND_CARD:
        with sessions() as session:
            mention = session.get(Mention, mention_id)
            assert mention is not None and mention.slack_ts == shown


def test_a_failure_after_the_sender_lost_the_row_is_not_recorded_over_its_sending(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    """A's post comes back refused (the channel) after B sent the row: the row stays sent
    as B sent it, and neither the audit trail nor the admins hear of a refusal."""
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=ADMIN, role=Role.ADMIN.value))
    row_id = enqueue(sessions, workspace_id, KIND_POST, payload={"text": "weekly digest"})
    clock = Clock()
    a, b = sender_for(sessions, slack_standin, clock), sender_for(sessions, slack_standin, clock)

    report_a, report_b = stall_a_then_b(
        slack_standin, clock, a, b, "chat.postMessage", SEND_LEASE + timedelta(seconds=30),
        before_resume=lambda: slack_standin.error_next("chat.postMessage", "is_archived"))

    (shown,) = [m["ts"] for m in slack_standin.messages_in(CHANNEL_ID)]
    assert [c.error for c in slack_standin.calls("chat.postMessage", ok=False)] == [
        "is_archived"]
    assert (report_a.failed, report_b.sent) == (0, 1)
    row = the_row(sessions, row_id)
    assert (row.status, row.result_ts, row.last_error) == (OutboxStatus.SENT.value, shown,
                                                           None)
    with sessions() as session:
        assert session.scalars(select(OutboxMessage.channel).where(
            OutboxMessage.channel == ADMIN)).all() == []
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == CHANNEL_REFUSED)).all() == []
