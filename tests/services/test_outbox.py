"""The outbox sender against the Slack stand-in: order, retries, no duplicates after a crash."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.services.cards import register_card_renderers
from bot.services.outbox import (
    EVENT_TYPE_MENTION,
    KIND_CARD,
    KIND_CHART,
    KIND_POST,
    KIND_RECHECK,
    KIND_THREAD,
    KIND_UPLOAD,
    MAX_ATTEMPTS,
    NOT_POSTED,
    RATE_LIMIT_PATIENCE,
    UPLOAD_COMPLETING_AT,
    UPLOADED_FILE_ID,
    OutboxSender,
    do_enqueue,
    uploaded_payload,
)
from bot.slack.client import build_web_client
from bot.slack.notifier import SlackNotifier
from storage.db import transaction
from storage.models import Author, Mention, OutboxMessage, OutboxStatus, Watch
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn

OTHER_CHANNEL = "C07OTHERCH"
SLACK_PACE = 1.0
"""Seconds between two messages to a channel, as production's sender keeps them
(``bot.runtime``): a test that sends a channel more than Slack's burst at one instant sends
at this pace, with ``flush(wait=True)`` sleeping on the test's clock."""


class Clock:
    """A controllable wall clock for next_attempt_at.

    It starts a minute ahead of the real time: rows enqueued during the test (due at the
    real time of enqueueing) are due for it, whatever day the suite runs.
    """

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        """The same time in seconds: for the stand-in's clock and the sender's monotonic."""
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        """A sleep that moves this clock instead of waiting."""
        self.now += timedelta(seconds=seconds)


def sender_for(sessions: sessionmaker[Session], standin: SlackStandIn, clock: Clock,
               **kwargs: object) -> OutboxSender:
    """A sender on ``clock``, shared with the stand-in (Slack's per-channel posting limit
    refills as ``clock`` moves, not as the test runs).

    It sends as fast as it may (``per_channel_interval=0``), unless ``per_channel_interval``
    is given: then its pace and its sleeps (``flush(wait=True)``) are on ``clock`` too.
    """
    standin.clock = clock.seconds
    settings = load_settings(slack_bot_token=BOT_TOKEN, slack_api_url=standin.base_url)
    options: dict[str, object] = {"per_channel_interval": 0, "monotonic": clock.seconds,
                                  "sleep": clock.sleep, **kwargs}
    sender = OutboxSender(sessions, SlackNotifier(build_web_client(settings, for_outbox=True)),
                          clock=clock, **options)  # type: ignore[arg-type]
    register_card_renderers(sender)
    return sender


def enqueue_posts(sessions: sessionmaker[Session], workspace_id: int, channel: str,
                  texts: list[str]) -> list[int]:
    with transaction(sessions) as session:
        return [do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=channel,
                           payload={"text": text}).id for text in texts]  # type: ignore[union-attr]


def add_mention(sessions: sessionmaker[Session], workspace_id: int, text: str = "hello") -> int:
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID)
        author = Author(workspace_id=workspace_id, network="mastodon", handle="@ana@m.social",
                        name="Ana <b>&", followers=48213)
        session.add_all([watch, author])
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, author_id=author.id,
                          network="mastodon", external_id="1", url="https://m.social/@ana/1",
                          text=text, published_at=datetime(2026, 11, 21, 8, tzinfo=UTC),
                          priority=72, priority_reason="complaint · negative · 48k followers",
                          sentiment_label="negative")
        session.add(mention)
        session.flush()
        return mention.id


def statuses(sessions: sessionmaker[Session]) -> list[str]:
    """The statuses of the rows that deliver something, in id order: not the rechecks of
    uncertain retries (``KIND_RECHECK``, see ``rechecks``)."""
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.kind != KIND_RECHECK).order_by(OutboxMessage.id)))


def rechecks(sessions: sessionmaker[Session]) -> list[str]:
    """The statuses of the rechecks (``KIND_RECHECK``), in id order."""
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.kind == KIND_RECHECK).order_by(OutboxMessage.id)))


def test_posts_in_order_with_metadata(sessions: sessionmaker[Session], workspace_id: int,
                                      slack_standin: SlackStandIn) -> None:
    ids = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["one", "two", "three"])
    report = sender_for(sessions, slack_standin, Clock()).flush()
    assert report.sent == 3
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["one", "two", "three"]
    call = slack_standin.calls("chat.postMessage")[0]
    assert call.args["metadata"]["event_payload"]["outbox_id"] == ids[0]
    assert statuses(sessions) == ["sent"] * 3


def test_card_is_rendered_from_the_database_and_its_ts_recorded(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    mention_id = add_mention(sessions, workspace_id,
                             "<!channel> look <@U123> <http://evil.example|bank> " + "x" * 40_000)
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD, channel=CHANNEL_ID,
                   mention_id=mention_id, payload={"text": "thread note"})
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention_id, dedupe_key=f"card:{mention_id}")
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    # The thread note (queued first) waits for its card without holding the card back.
    assert statuses(sessions) == ["pending", "sent"]
    sender.flush()
    posted = slack_standin.calls("chat.postMessage", ok=True)
    card, note = posted[0], posted[1]
    assert card.args["metadata"]["event_type"] == EVENT_TYPE_MENTION
    assert validate_blocks(card.args["blocks"], "message") == []
    rendered = str(card.args["blocks"])
    assert "<!channel>" not in rendered and "<@U123>" not in rendered
    assert "&lt;!channel&gt;" in rendered and "Ana &lt;b&gt;&amp;" in rendered
    assert "48k followers" in rendered
    assert note.args["thread_ts"] == card.response["ts"]
    with sessions() as session:
        mention = session.get(Mention, mention_id)
        assert mention is not None and mention.slack_ts == card.response["ts"]


def test_rate_limit_defers_and_keeps_order(sessions: sessionmaker[Session], workspace_id: int,
                                           slack_standin: SlackStandIn,
                                           fast_retries: list[float]) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["a", "b"])
    enqueue_posts(sessions, workspace_id, OTHER_CHANNEL, ["x"])
    slack_standin.set_channel(OTHER_CHANNEL, name="other")
    # The outbox's client does not retry: the 429 reaches the outbox.
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=7, count=1)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    report = sender.flush()
    assert report.sent == 1  # the other channel is not held up
    assert [m["text"] for m in slack_standin.messages_in(OTHER_CHANNEL)] == ["x"]
    assert slack_standin.messages_in(CHANNEL_ID) == []
    assert sender.flush().sent == 0  # not due before Retry-After
    clock.now += timedelta(seconds=8)
    assert sender.flush().sent == 2
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["a", "b"]


def test_a_long_spell_of_429s_spends_no_attempt_and_the_card_is_posted(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """A crisis: Slack answers 429 (Retry-After 1 s) to 40 posts in a row, more than
    MAX_ATTEMPTS. Each refused call did nothing, so none spends an attempt: the message is
    posted once when Slack takes it, instead of failing for good within a minute."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["still here"])
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=1,
                            count=MAX_ATTEMPTS + 10)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    for _ in range(MAX_ATTEMPTS + 11):
        sender.flush()
        clock.sleep(1.0)
    assert statuses(sessions) == ["sent"]
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["still here"]
    assert len(slack_standin.calls("chat.postMessage")) == MAX_ATTEMPTS + 11
    with sessions() as session:
        assert session.scalar(select(OutboxMessage.attempts)) == 1


def test_a_day_of_429s_ends_in_a_failure(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """Past RATE_LIMIT_PATIENCE the refused calls count again: a row Slack never takes
    fails in the end rather than being retried for ever."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["too late"])
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=1, count=1000)
    clock = Clock()
    clock.sleep(RATE_LIMIT_PATIENCE.total_seconds())
    sender = sender_for(sessions, slack_standin, clock)
    for _ in range(MAX_ATTEMPTS + 5):
        sender.flush()
        clock.sleep(1000.0)
    assert statuses(sessions) == ["failed"]


def test_crash_between_posted_and_recorded_does_not_post_twice(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    fast_retries: list[float],
) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["only once"])
    # Slack posts the message but the answer is lost (three times, past the client retries).
    slack_standin.fail_next("chat.postMessage", status=500, count=1, side_effect=True)
    slack_standin.fail_next("chat.postMessage", status=500, count=2)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=5)
    # A brand-new sender, as after a restart.
    report = sender_for(sessions, slack_standin, clock).flush()
    assert report.sent == 1 and report.recovered == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["only once"]
    assert statuses(sessions) == ["sent"]


def test_permanent_error_fails_the_row(sessions: sessionmaker[Session], workspace_id: int,
                                       slack_standin: SlackStandIn) -> None:
    enqueue_posts(sessions, workspace_id, "C07MISSING", ["lost"])
    slack_standin.error_next("chat.postMessage", "channel_not_found")
    report = sender_for(sessions, slack_standin, Clock()).flush()
    assert report.failed == 1 and "channel_not_found" in report.errors[0]
    assert statuses(sessions) == [OutboxStatus.FAILED.value]


def test_blocks_too_long_fail_the_row_at_once_saying_their_size(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
        caplog: pytest.LogCaptureFixture) -> None:
    """Slack's msg_blocks_too_long (the blocks' text together past its undocumented total,
    here lower than Vigie's budget) refuses the same message every time: failed for good on
    the first refusal, the log and the row saying how large it was, never retried for hours
    nor dropped unsaid."""
    slack_standin.blocks_text_max = 8_000
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2000}}] * 4
    blocks = [*blocks, {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}]
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST, channel=CHANNEL_ID,
                   payload={"text": "digest", "blocks": blocks})
    with caplog.at_level(logging.ERROR):
        report = sender_for(sessions, slack_standin, Clock()).flush()
    assert report.failed == 1 and statuses(sessions) == [OutboxStatus.FAILED.value]
    assert len(slack_standin.calls("chat.postMessage")) == 1
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert "msg_blocks_too_long (8150 characters of block text, budget 10000; 5 blocks" in (
        row.last_error or ""), row.last_error
    assert "8150 characters of block text" in caplog.text


def test_dedupe_key_queues_once(sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        first = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                           channel=CHANNEL_ID, dedupe_key="k")
        second = do_enqueue(session, workspace_id=workspace_id, kind=KIND_POST,
                            channel=CHANNEL_ID, dedupe_key="k")
    assert first is not None and second is None


def test_per_channel_interval(sessions: sessionmaker[Session], workspace_id: int,
                              slack_standin: SlackStandIn) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["1", "2", "3"])
    ticks = iter([0.0, 0.0, 0.2, 0.2, 0.2, 0.2])
    sleeps: list[float] = []
    clock = Clock()

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += timedelta(seconds=seconds)

    sender = sender_for(sessions, slack_standin, clock)
    sender._interval = 1.0
    sender._monotonic = lambda: next(ticks, 5.0)
    assert sender.flush().sent == 1  # the second waits for the next flush
    sender._sleep = sleep
    assert sender.flush(wait=True).sent == 2
    assert sleeps and all(0 < s <= 1.0 for s in sleeps)


def test_upload_shares_the_file(sessions: sessionmaker[Session], workspace_id: int,
                                slack_standin: SlackStandIn) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPLOAD, channel=CHANNEL_ID,
                   payload={"filename": "chart.png", "title": "Volume",
                            "content_b64": base64.b64encode(png).decode(), "comment": "hi"})
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 1
    (uploaded,) = slack_standin.files()
    assert uploaded.data == png and uploaded.filename == "chart.png"
    assert uploaded.completed and uploaded.channels == [CHANNEL_ID]
    assert statuses(sessions) == ["sent"]


def test_a_sent_upload_keeps_its_name_and_size_not_its_file(
        sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn) -> None:
    """An export's CSV is in its upload row (up to 10,000 rows, megabytes): once Slack has
    the file the row keeps its name, title, comment, size and Slack's id for it, not the
    file. Until then
    (a retry) it keeps the file."""
    csv_bytes = "\ufeffid,text\n".encode() + b"".join(
        f"{n},where is my parcel {n}?\n".encode() for n in range(500))
    payload = {"filename": "vigie-mentions-all-7d.csv", "title": "vigie-mentions-all-7d.csv",
               "content_b64": base64.b64encode(csv_bytes).decode(), "comment": "500 rows"}
    with transaction(sessions) as session:
        row_id = do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPLOAD,
                            channel=CHANNEL_ID, payload=payload).id

    def stored() -> OutboxMessage:
        with sessions() as session:
            return session.get_one(OutboxMessage, row_id)

    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    slack_standin.error_next("files.getUploadURLExternal", "internal_error")
    assert sender.flush().sent == 0
    assert (stored().status, stored().payload) == ("pending", payload)  # the retry needs it
    clock.sleep(3600)
    assert sender.flush().sent == 1
    (uploaded,) = slack_standin.files()
    assert uploaded.data == csv_bytes and uploaded.completed
    row = stored()
    assert row.status == "sent"
    assert row.payload == {"filename": "vigie-mentions-all-7d.csv",
                           "title": "vigie-mentions-all-7d.csv", "comment": "500 rows",
                           "size_bytes": len(csv_bytes), UPLOADED_FILE_ID: uploaded.file_id,
                           UPLOAD_COMPLETING_AT: clock.now.isoformat()}


@pytest.mark.parametrize("size", range(5))
def test_an_uploaded_payload_says_the_size_of_its_file(size: int) -> None:
    content = base64.b64encode(b"x" * size).decode()
    assert uploaded_payload({"filename": "f", "content_b64": content}) == {
        "filename": "f", "size_bytes": size}


CHART = {"labels": ["20 Nov", "21 Nov"], "series": {"negative": [1, 2], "neutral": [3, 0]},
         "title": "Mentions", "xlabel": "Day", "ylabel": "Mentions",
         "legend": {"negative": "Negative", "neutral": "Neutral"}}


def test_chart_is_drawn_by_a_sender_that_draws_charts_and_keeps_its_channel_order(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CHART, channel=CHANNEL_ID,
                   payload={"filename": "chart.png", "title": "Volume", "chart": CHART})
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["after the chart"])
    enqueue_posts(sessions, workspace_id, OTHER_CHANNEL, ["elsewhere"])
    # A web process's sender leaves the chart, and what follows it in its channel, alone.
    web = sender_for(sessions, slack_standin, Clock(), draws_charts=False)
    assert web.flush().sent == 1
    assert slack_standin.files() == [] and slack_standin.messages_in(CHANNEL_ID) == []
    assert statuses(sessions) == ["pending", "pending", "sent"]
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 2
    (uploaded,) = slack_standin.files()
    assert uploaded.data.startswith(b"\x89PNG\r\n\x1a\n") and uploaded.completed
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["after the chart"]


def test_chart_that_cannot_be_drawn_fails_with_its_reason(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CHART, channel=CHANNEL_ID,
                   payload={"filename": "chart.png", "chart": {"labels": ["x"]}})
    assert sender_for(sessions, slack_standin, Clock()).flush().sent == 0
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.status == "failed" and "could not be drawn" in (row.last_error or "")
    assert slack_standin.files() == []


def test_server_error_after_slack_posted_is_not_posted_again(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    mention_id = add_mention(sessions, workspace_id)
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_CARD, channel=CHANNEL_ID,
                   mention_id=mention_id)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    # Slack stores the card, then answers 500: no blind retry may post it again.
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    assert sender.flush().sent == 0
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 1
    clock.now += timedelta(minutes=2)
    assert sender.flush().recovered == 1
    # A thread note hits the same failure: it is found in the thread, not posted twice.
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD, channel=CHANNEL_ID,
                   mention_id=mention_id, payload={"text": "a note"})
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    assert sender.flush().sent == 0
    clock.now += timedelta(minutes=2)
    assert sender.flush().recovered == 1
    assert statuses(sessions) == ["sent", "sent"]
    card_ts = slack_standin.messages_in(CHANNEL_ID)[0]["ts"]
    replies = slack_client_for(slack_standin).conversations_replies(
        channel=CHANNEL_ID, ts=card_ts)["messages"]
    assert [m["text"] for m in replies[1:]] == ["a note"]
    top_level = [m for m in slack_standin.messages_in(CHANNEL_ID)
                 if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert len(top_level) == 1


def test_failed_lookup_is_not_taken_for_absent(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["once"])
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    sender.flush()
    clock.now += timedelta(minutes=2)
    slack_standin.error_next("conversations.history", "internal_error")
    assert sender.flush().sent == 0  # the lookup failed: try later, do not post
    clock.now += timedelta(minutes=2)
    assert sender.flush().recovered == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["once"]


def test_rate_limited_lookup_is_not_taken_for_not_posted(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    fast_retries: list[float],
) -> None:
    """A 429 on the look-up proves only that the look-up did nothing: Slack may have posted
    the earlier attempt, so the next attempt looks again instead of posting blindly."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["once"])
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    sender.flush()
    clock.now += timedelta(minutes=2)
    slack_standin.fail_next("conversations.history", status=429, retry_after=60)
    assert sender.flush().sent == 0
    with sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert not (row.last_error or "").startswith(NOT_POSTED)
    clock.now += timedelta(minutes=5)
    assert sender.flush().recovered == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["once"]
    assert statuses(sessions) == ["sent"]


def slack_client_for(standin: SlackStandIn) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=standin.base_url)


def test_retry_after_a_429_posts_without_looking_in_the_channel(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    fast_retries: list[float],
) -> None:
    """Slack refuses a rate-limited call before acting on it: HTTP 429 with Retry-After
    (https://docs.slack.dev/apis/web-api/rate-limits), and the stand-in posts nothing on an
    injected 429. So the retry needs no ``conversations.history`` look-up, which the 2025
    limits for non-Marketplace apps make a one-call-a-minute method: a look-up that is
    itself rate-limited (Retry-After 60) would hold the channel's queue for a minute."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["a", "b"])
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=2, count=1)
    slack_standin.fail_next("conversations.history", status=429, retry_after=60, count=1)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().deferred == 1
    clock.now += timedelta(seconds=3)
    report = sender.flush()
    assert report.sent == 2 and report.recovered == 0
    assert slack_standin.calls("conversations.history") == []
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["a", "b"]
    with sessions() as session:
        assert [row.last_error for row in session.scalars(select(OutboxMessage))] == [None, None]


def test_an_attempt_cut_short_after_a_429_is_looked_for_again(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
    fast_retries: list[float],
) -> None:
    """The 429 proves only its own attempt was not posted: when the next attempt dies
    between Slack posting and the outbox recording (a crash), the one after looks first."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["once"])
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=2, count=1)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    sender.flush()
    clock.now += timedelta(seconds=3)

    class Crash(BaseException):
        pass

    def post_then_crash(message: object) -> str:
        real_post(message)
        raise Crash

    notifier = sender._notifier
    real_post = notifier.post
    notifier.post = post_then_crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        sender.flush()
    notifier.post = real_post  # type: ignore[method-assign]
    clock.now += timedelta(minutes=2)  # past the crashed attempt's lease
    report = sender_for(sessions, slack_standin, clock).flush()
    assert report.recovered == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["once"]
