"""An upload retried after an attempt whose outcome is unknown is looked for before it is
shared again: a file Slack shared but whose answer was lost is not posted twice."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import KIND_POST, KIND_UPLOAD, SHARE_WAIT, UPLOADED_FILE_ID, do_enqueue
from storage.db import transaction
from storage.models import OutboxMessage
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import UPLOAD_METHOD, SlackStandIn
from tests.services.test_outbox import Clock, sender_for, statuses

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100


def enqueue_upload(sessions: sessionmaker[Session], workspace_id: int,
                   **extra: str) -> int:
    with transaction(sessions) as session:
        row = do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPLOAD,
                         channel=CHANNEL_ID,
                         payload={"filename": "export.csv", "title": "export",
                                  "content_b64": base64.b64encode(PNG).decode(), **extra})
        assert row is not None
        return row.id


def shared_in_channel(standin: SlackStandIn) -> list[str]:
    """The ids of the files shared in the channel, one per file_share message."""
    return [f["id"] for m in standin.messages_in(CHANNEL_ID, include_file_shares=True)
            for f in m.get("files") or []]


def test_an_upload_slack_shared_but_whose_answer_was_lost_is_not_shared_again(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    row_id = enqueue_upload(sessions, workspace_id)
    slack_standin.fail_next("files.completeUploadExternal", status=500, side_effect=True)
    clock = Clock()
    assert sender_for(sessions, slack_standin, clock).flush().sent == 0
    clock.now += timedelta(minutes=10)
    report = sender_for(sessions, slack_standin, clock).flush()  # another process, later
    assert (report.sent, report.recovered) == (1, 1)
    assert len(slack_standin.files()) == 1
    assert len(shared_in_channel(slack_standin)) == 1
    assert len(slack_standin.calls("files.getUploadURLExternal")) == 1
    assert statuses(sessions) == ["sent"]
    with sessions() as session:
        row = session.get_one(OutboxMessage, row_id)
        assert row.payload[UPLOADED_FILE_ID] == slack_standin.files()[0].file_id


def test_an_upload_slack_did_not_complete_is_shared_on_the_retry(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    enqueue_upload(sessions, workspace_id)
    slack_standin.fail_next("files.completeUploadExternal", status=500)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=10)
    report = sender.flush()
    assert (report.sent, report.recovered) == (1, 0)
    assert slack_standin.calls("conversations.history")  # it looked first
    (shared,) = shared_in_channel(slack_standin)
    assert [f.file_id for f in slack_standin.files()] == [shared]
    assert statuses(sessions) == ["sent"]


def test_an_upload_slack_refused_with_a_429_is_shared_without_a_look_up(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A 429 proves nothing was shared: the look-up, itself rate-limited, is skipped."""
    enqueue_upload(sessions, workspace_id)
    slack_standin.fail_next("files.completeUploadExternal", status=429, retry_after=1)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=1)
    assert sender.flush().sent == 1
    assert not slack_standin.calls("conversations.history")
    assert len(shared_in_channel(slack_standin)) == 1


def test_an_upload_whose_look_up_fails_waits_and_is_not_shared_twice(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """Unknown is not absent: a look-up Slack cannot answer leaves the row waiting."""
    enqueue_upload(sessions, workspace_id)
    slack_standin.fail_next("files.completeUploadExternal", status=500, side_effect=True)
    slack_standin.fail_next("conversations.history", status=500)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=10)
    assert sender.flush().sent == 0
    assert statuses(sessions) == ["pending"]
    clock.now += timedelta(minutes=10)
    assert sender.flush().recovered == 1
    assert len(shared_in_channel(slack_standin)) == 1
    assert statuses(sessions) == ["sent"]


def test_an_upload_in_a_thread_is_looked_for_in_the_thread(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    parent = slack_standin.seed_message(CHANNEL_ID, text="the digest")["ts"]
    enqueue_upload(sessions, workspace_id, thread_ts=parent)
    slack_standin.fail_next("files.completeUploadExternal", status=500, side_effect=True)
    clock = Clock()
    assert sender_for(sessions, slack_standin, clock).flush().sent == 0
    clock.now += timedelta(minutes=10)
    assert sender_for(sessions, slack_standin, clock).flush().recovered == 1
    assert len(slack_standin.files()) == 1
    assert slack_standin.calls("conversations.replies")


def test_an_upload_whose_share_slack_has_not_shown_yet_is_not_shared_again(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """Slack shares a completed upload asynchronously: a retry that looks before the share
    shows waits for it (a bounded while) instead of uploading the file again."""
    enqueue_upload(sessions, workspace_id)
    slack_standin.delay_file_shares(60)
    slack_standin.fail_next("files.completeUploadExternal", status=500, side_effect=True)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now += timedelta(seconds=10)  # the retry is due; the share is not shown yet
    assert sender.flush().sent == 0
    assert statuses(sessions) == ["pending"]
    assert len(slack_standin.calls("files.getUploadURLExternal")) == 1
    clock.now += timedelta(minutes=1)
    report = sender.flush()
    assert (report.sent, report.recovered) == (1, 1)
    assert len(slack_standin.files()) == 1
    assert len(shared_in_channel(slack_standin)) == 1


def test_an_upload_whose_share_never_shows_is_shared_again_after_a_while(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """The wait is bounded (``SHARE_WAIT``): a completion Slack never acted on is shared
    again once it has passed, once."""
    enqueue_upload(sessions, workspace_id)
    slack_standin.fail_next("files.completeUploadExternal", status=500)  # not completed
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    started = clock.seconds()
    for _ in range(30):
        clock.now += timedelta(seconds=10)
        if sender.flush().sent:
            break
    assert statuses(sessions) == ["sent"]
    assert clock.seconds() - started >= SHARE_WAIT.total_seconds()
    assert len(shared_in_channel(slack_standin)) == 1
    assert len(slack_standin.calls("files.getUploadURLExternal")) == 2


def test_an_upload_whose_completion_a_clock_since_stepped_back_recorded_waits_no_longer(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """The completion time kept for the share's wait is a wall-clock time that a step back
    (an NTP step, a VM restored) leaves ahead of now: the wait then lasted the whole step
    plus ``SHARE_WAIT`` (3 hours and 364 history reads for a 3-hour step), holding the
    card queued behind the upload. A completion time more than a minute ahead of now is
    one a clock since stepped back wrote: the upload no longer waits for its share."""
    enqueue_upload(sessions, workspace_id)
    slack_standin.fail_next("files.completeUploadExternal", status=500)  # not completed
    mono = [1000.0]  # the monotonic clock only moves forward
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock, monotonic=lambda: mono[0])
    slack_standin.clock = lambda: mono[0]
    assert sender.flush().sent == 0
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=CHANNEL_ID,
                   payload={"text": "a card queued behind the upload"})
    clock.now -= timedelta(hours=3)
    with transaction(sessions) as session:  # what the catch-up does with the measured step
        for row in session.query(OutboxMessage):
            if row.next_attempt_at is not None:
                row.next_attempt_at = min(row.next_attempt_at, clock.now)
    for _ in range(20):  # 10 minutes of flushes, 30 s apart
        clock.now += timedelta(seconds=30)
        mono[0] += 30
        sender.flush()
        if statuses(sessions) == ["sent", "sent"]:
            break
    assert statuses(sessions) == ["sent", "sent"]
    assert len(shared_in_channel(slack_standin)) == 1
    assert len(slack_standin.calls("conversations.history")) <= 4


def test_an_upload_refused_where_the_bot_is_not_is_shared_once_after_the_join(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A public channel the bot is not in refuses the share (not_in_channel); after the
    join the same file is completed again: one place asked for, its bytes sent once, one
    file shared, the row recording that file's id (no orphan uploaded and never shared)."""
    row_id = enqueue_upload(sessions, workspace_id)
    slack_standin.set_channel(CHANNEL_ID, is_member=False)
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 1
    assert len(slack_standin.calls("files.getUploadURLExternal")) == 1
    assert len(slack_standin.calls(UPLOAD_METHOD)) == 1
    assert len(slack_standin.calls("conversations.join", ok=True)) == 1
    assert [c.error for c in slack_standin.calls("files.completeUploadExternal")] \
        == ["not_in_channel", None]
    (shared,) = shared_in_channel(slack_standin)
    assert [f.file_id for f in slack_standin.files(completed=False)] == [shared]
    with sessions() as session:
        assert session.get_one(OutboxMessage, row_id).payload[UPLOADED_FILE_ID] == shared


@pytest.mark.parametrize("status", [429, 503])
def test_an_upload_whose_join_fails_for_now_is_shared_on_the_retry(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        status: int) -> None:
    """The join that would let the bot share the file is rate limited or meets a 5xx: the
    row is retried (not failed as a channel refusal), and the retry, knowing the refused
    file was shared nowhere, shares it at once instead of looking for it and waiting
    SHARE_WAIT for a share that never comes."""
    enqueue_upload(sessions, workspace_id)
    slack_standin.set_channel(CHANNEL_ID, is_member=False)
    slack_standin.fail_next("conversations.join", status=status, retry_after=0)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    assert statuses(sessions) == ["pending"]
    clock.now += timedelta(minutes=1)
    assert sender.flush().sent == 1
    assert not slack_standin.calls("conversations.history")
    assert len(shared_in_channel(slack_standin)) == 1
    assert statuses(sessions) == ["sent"]


def test_an_upload_whose_join_keeps_failing_backs_off_and_spends_its_attempts(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """The join meets 5xx for an hour (a Slack incident on that method): each retry uploads
    the file again, so the retries spend attempts and back off as any failure does (a
    rate-limited call is the one that spends none); before, they came every 5 s with no
    attempt spent, about 720 uploads never shared in the hour."""
    row_id = enqueue_upload(sessions, workspace_id)
    slack_standin.set_channel(CHANNEL_ID, is_member=False)
    slack_standin.fail_next("conversations.join", status=503, retry_after=None, count=10_000)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    start = clock.now
    while clock.now - start < timedelta(hours=1):
        sender.flush()
        with sessions() as session:
            row = session.get_one(OutboxMessage, row_id)
            assert row.status == "pending"
            due = row.next_attempt_at.replace(tzinfo=clock.now.tzinfo)
        clock.now = max(clock.now + timedelta(seconds=1), due)
    with sessions() as session:
        assert session.get_one(OutboxMessage, row_id).attempts >= 5
    assert len(slack_standin.calls("files.getUploadURLExternal")) < 20
