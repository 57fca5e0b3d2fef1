"""A wall clock stepped back (an NTP step, a VM restored from a snapshot) holds no source,
message or paused workspace for the length of the step: what the old clock scheduled is
made due again, once the step is seen (ClockWatch) and at start. Real databases, real HTTP
(a local feed, the Slack stand-in); the clocks are the tests'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.config import load_settings
from bot.net.http import HttpClient
from bot.runtime import build_runtime
from bot.scheduler import ClockWatch, build_scheduler
from bot.services import notifications as notes
from bot.services import workflow
from bot.services.actors import CLI
from bot.services.clock_steps import CaughtUp, catch_up_clock_step
from bot.services.outbox import SEND_LEASE
from bot.services.polling import CLAIM_LEASE, claim_due_sources, run_poll_tick
from bot.services.replies import LEASE as REPLY_LEASE
from bot.services.replies import _claim_next, flush_replies
from bot.services.reply_queue import RATE_LIMITED
from bot.services.sources_admin import do_add_source
from storage.db import transaction
from storage.models import OutboxMessage, SourceRow
from storage.models_base import as_utc
from storage.models_replies import ReplyPost
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn
from tests.publishers.fakes import FakeX
from tests.services.test_notifications import AGENT, _mention, _setup
from tests.services.test_notifications import T0 as NOTE_T0
from tests.services.test_outbox import Clock, enqueue_posts, sender_for
from tests.services.test_polling import serve_feed, trusted_client
from tests.services.test_reply_lease import T0, _approved_replies

STEP = timedelta(hours=3)


def _rss_source(sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
                httpserver: HTTPServer, shared_data: Path) -> None:
    url = serve_feed(httpserver, shared_data, "rssparser__reddit.rss", "/reddit")
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": url})


def test_sources_polled_by_a_clock_since_stepped_back_are_due_again(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """A real poll, then the clock three hours back: no source was polled for 175 minutes."""
    _rss_source(sessions, workspace_id, watch_name, httpserver, shared_data)
    before = datetime.now(UTC)
    assert len(run_poll_tick(sessions, trusted_client, now=before).outcomes) == 1
    # Worker clocks a few seconds apart release nothing.
    assert catch_up_clock_step(sessions, before - timedelta(seconds=20),
                               step=None) == CaughtUp()
    after = before - STEP + timedelta(minutes=1)
    assert run_poll_tick(sessions, trusted_client, now=after).outcomes == []
    assert catch_up_clock_step(sessions, after, step=None) == CaughtUp(sources=1)
    assert len(run_poll_tick(sessions, trusted_client, now=after).outcomes) == 1
    # Polled by the new clock: scheduled by it, and made due only once.
    assert catch_up_clock_step(sessions, after, step=None) == CaughtUp()
    assert run_poll_tick(sessions, trusted_client, now=after).outcomes == []


def test_a_message_told_to_retry_in_seconds_does_not_wait_the_step(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """A 429 asking 7 s, then the clock three hours back: the channel was held three hours."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["a", "b"])
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=7, count=1)
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().sent == 0
    clock.now -= STEP
    assert sender.flush().sent == 0
    # The row queued after it, by the old clock too; the first keeps its 7 s.
    assert catch_up_clock_step(sessions, clock.now, step=STEP) == CaughtUp(messages=2)
    assert sender.flush().sent == 0
    clock.now += timedelta(seconds=7)
    assert sender.flush().sent == 2
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["a", "b"]


def test_a_short_step_releases_messages_only_when_seen(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """A stored retry says not when it was set: at start, only one due later than any
    retry waits is known to come from a clock since stepped back."""
    short, long = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["short", "long"])
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        session.get(OutboxMessage, short).next_attempt_at = now + timedelta(minutes=10)  # type: ignore[union-attr]
        session.get(OutboxMessage, long).next_attempt_at = now + STEP  # type: ignore[union-attr]
    assert catch_up_clock_step(sessions, now, step=None) == CaughtUp(messages=1)
    assert catch_up_clock_step(sessions, now, step=STEP) == CaughtUp(messages=1)
    with sessions() as session:
        assert set(session.scalars(select(OutboxMessage.next_attempt_at))) == {now}


def test_a_message_another_sender_holds_is_left_to_it(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """A sender holds its row for SEND_LEASE, taken by the clock before a 5-minute step
    back: it keeps what is left of it, and a start (step unknown) leaves it alone."""
    (row_id,) = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["held"])
    before = datetime.now(UTC)
    with transaction(sessions) as session:
        session.get(OutboxMessage, row_id).next_attempt_at = before + SEND_LEASE  # type: ignore[union-attr]
    now = before - timedelta(minutes=5)
    assert catch_up_clock_step(sessions, before, step=None) == CaughtUp()
    assert catch_up_clock_step(sessions, now, step=timedelta(minutes=5)) == CaughtUp(
        messages=1)
    with sessions() as session:
        held = session.get(OutboxMessage, row_id)
        assert held is not None and as_utc(held.next_attempt_at) == now + SEND_LEASE


def test_a_paused_workspace_is_probed_again_after_the_step(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """A refused token pauses the workspace, its probe a minute on: the clock three hours
    back, the probe waited three hours (a new token unused all that time)."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["held"])
    slack_standin.error_next("chat.postMessage", "invalid_auth")
    clock = Clock()
    sender = sender_for(sessions, slack_standin, clock)
    assert sender.flush().paused == 1
    clock.now += timedelta(seconds=30) - STEP
    assert sender.flush().sent == 0
    # Its message, held by the pause, was set to go by the old clock too.
    assert catch_up_clock_step(sessions, clock.now, step=None) == CaughtUp(
        pauses=1, messages=1)
    assert sender.flush().sent == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["held"]


def test_the_clock_watch_catches_up_the_stored_schedules_once_it_sees_a_step() -> None:
    """Measured by the monotonic clock; a step under STORED_STEP_MIN is left alone."""
    seen: list[tuple[datetime, timedelta]] = []
    wall = [datetime.now(UTC)]
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(lambda: None, IntervalTrigger(seconds=1), id="outbox_flush")
    scheduler.start(paused=True)
    try:
        watch = ClockWatch(scheduler, wall=lambda: wall[0], monotonic=lambda: 100.0,
                           on_step_back=lambda now, step: seen.append((now, step)))
        assert watch.check() == [] and seen == []
        wall[0] -= timedelta(seconds=20)
        assert watch.check() == ["outbox_flush"] and seen == []
        wall[0] -= timedelta(minutes=5)
        watch.check()
        assert seen == [(wall[0], timedelta(minutes=5))]
    finally:
        scheduler.shutdown(wait=False)


def test_a_started_process_catches_up_a_step_made_while_none_ran(
    db_url: str, sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    _rss_source(sessions, workspace_id, watch_name, httpserver, shared_data)
    ahead = datetime.now(UTC) + STEP
    with transaction(sessions) as session:
        row = session.scalars(select(SourceRow)).one()
        row.last_polled_at, row.next_poll_at = ahead, ahead + timedelta(minutes=5)
    runtime = build_runtime(load_settings(database_url=db_url))
    try:
        job = build_scheduler(runtime, blocking=False).get_job("clock_catch_up")
        assert job is not None and not isinstance(job.trigger, IntervalTrigger)
        job.func(*job.args)
    finally:
        runtime.close()
    assert len(run_poll_tick(sessions, trusted_client).outcomes) == 1


def test_a_channel_paced_by_a_clock_since_stepped_back_is_not_held(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn,
) -> None:
    """The channel's pace slot (a second after its last message) was taken by the old
    clock: the sender took the channel for busy the length of the step."""
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["before"])
    clock = Clock()
    elapsed = [0.0]  # the monotonic clock, which no step moves
    sender = sender_for(sessions, slack_standin, clock, per_channel_interval=1.0,
                        monotonic=lambda: elapsed[0])
    assert sender.flush().sent == 1
    clock.now -= STEP
    elapsed[0] += 2
    enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["after"])
    with transaction(sessions) as session:  # queued by the new clock
        session.execute(update(OutboxMessage).values(next_attempt_at=clock.now))
    assert sender.flush().sent == 1
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["before", "after"]


def test_an_approved_reply_waiting_for_its_retry_does_not_wait_the_step(
        sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    """A reply whose post failed (or met a rate limit) by the old clock waited the step
    before it was tried again; one another worker is posting keeps its lease."""
    _approved_replies(sessions, FakeX(httpserver))
    now = T0
    with transaction(sessions) as session:
        retry, limited, leased = session.scalars(select(ReplyPost).order_by(ReplyPost.id))
        retry.next_attempt_at = limited.next_attempt_at = now + STEP
        limited.error = f"{RATE_LIMITED}X asked to wait"
        leased.next_attempt_at = now + REPLY_LEASE
    assert flush_replies(sessions, lambda _trusted: HttpClient(), now=now) == []
    # At start only a wait longer than any retry's is known to come from the old clock.
    assert catch_up_clock_step(sessions, now, step=None) == CaughtUp(replies=1)
    with transaction(sessions) as session:  # leased by the old clock
        session.execute(update(ReplyPost).where(ReplyPost.id == leased.id)
                        .values(next_attempt_at=now + STEP + REPLY_LEASE))
    assert catch_up_clock_step(sessions, now, step=STEP).replies == 2
    outcomes = flush_replies(sessions, lambda _trusted: HttpClient(), now=now)
    assert [o.status for o in outcomes] == ["posted", "posted"]
    with sessions() as session:
        assert session.scalars(select(ReplyPost.next_attempt_at).where(
            ReplyPost.status == "pending")).all() == [now + REPLY_LEASE]


def test_an_approvers_digest_sent_by_the_old_clock_holds_the_next_one_a_window_only(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The next digest of drafts waited the window after the last one's sending time,
    three hours ahead of a clock stepped back three hours."""
    _setup(sessions, workspace_id)
    first, second = (_mention(sessions, workspace_id, text) for text in ("first", "second"))
    workflow.do_save_draft(sessions, workspace_id, AGENT, first, "Sorry, we're on it.")
    assert notes.send_approval_digests(sessions, NOTE_T0, 10) == 2
    now = NOTE_T0 - STEP + timedelta(minutes=15)
    workflow.do_save_draft(sessions, workspace_id, AGENT, second, "We'll check.")
    assert notes.send_approval_digests(sessions, now, 10) == 0
    assert catch_up_clock_step(sessions, now, step=STEP).approval_digests == 2
    assert notes.send_approval_digests(sessions, now + timedelta(minutes=9), 10) == 0
    assert notes.send_approval_digests(sessions, now + timedelta(minutes=10), 10) == 2


def test_a_step_back_leaves_a_source_to_the_worker_polling_it(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer, shared_data: Path,
) -> None:
    """Worker A claims a source, then the clock steps back 5 minutes: the claim, taken by
    the old clock, was made due now and worker B polled the same source as A."""
    _rss_source(sessions, workspace_id, watch_name, httpserver, shared_data)
    before = datetime.now(UTC)
    assert len(claim_due_sources(sessions, now=before)) == 1
    now = before - timedelta(minutes=5)
    assert catch_up_clock_step(sessions, now, step=timedelta(minutes=5)) == CaughtUp()
    assert catch_up_clock_step(sessions, now, step=None) == CaughtUp()
    assert claim_due_sources(sessions, now=now + timedelta(seconds=1)) == []
    # A poller that died leaves it held until its claim ran out by the old clock.
    assert len(claim_due_sources(sessions, now=before + CLAIM_LEASE)) == 1


def test_a_step_back_leaves_a_reply_to_the_worker_posting_it(
        sessions: sessionmaker[Session], httpserver: HTTPServer) -> None:
    """Worker A leases a reply and calls X, then the clock steps back 5 minutes: the
    lease was made due now and worker B posted the same reply again."""
    _approved_replies(sessions, FakeX(httpserver))
    with transaction(sessions) as session:
        session.execute(update(ReplyPost).where(ReplyPost.id != 1)
                        .values(status="cancelled"))
    held = _claim_next(sessions, T0)
    assert held is not None
    now = T0 - timedelta(minutes=5)
    assert catch_up_clock_step(sessions, now, step=None) == CaughtUp()
    assert catch_up_clock_step(sessions, now, step=timedelta(minutes=5)).replies == 1
    assert _claim_next(sessions, now + timedelta(seconds=15)) is None
    assert _claim_next(sessions, now + REPLY_LEASE) is not None


def test_a_small_step_back_shortens_no_wait(
    sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer,
) -> None:
    """A 2-second step (a hypervisor's time sync) made due a reply waiting 2 hours for
    X's rate limit, replies backing off 50 minutes and a Slack Retry-After of 10 minutes;
    a 10-minute step shortens each by 10 minutes, no more."""
    _approved_replies(sessions, FakeX(httpserver))
    (msg,) = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["paced"])
    now = datetime.now(UTC)
    waits = [timedelta(hours=2), timedelta(minutes=50), timedelta(minutes=50)]
    with transaction(sessions) as session:
        for reply, wait in zip(session.scalars(select(ReplyPost).order_by(ReplyPost.id)),
                               waits, strict=True):
            reply.next_attempt_at = now + wait
        session.scalars(select(ReplyPost).order_by(ReplyPost.id)).first().error = (  # type: ignore[union-attr]
            f"{RATE_LIMITED}X asked to wait")
        session.get(OutboxMessage, msg).next_attempt_at = now + timedelta(minutes=10)  # type: ignore[union-attr]
    wall, caught = [now], []
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(lambda: None, IntervalTrigger(seconds=1), id="outbox_flush")
    scheduler.start(paused=True)
    try:
        watch = ClockWatch(scheduler, wall=lambda: wall[0], monotonic=lambda: 0.0,
                           on_step_back=lambda at, step: caught.append(
                               catch_up_clock_step(sessions, at, step=step)))
        wall[0] -= timedelta(seconds=2)
        watch.check()
        assert caught == []
        wall[0] -= timedelta(minutes=10)
        watch.check()
    finally:
        scheduler.shutdown(wait=False)
    assert [(up.messages, up.replies) for up in caught] == [(1, 3)]
    with sessions() as session:
        assert [as_utc(at) - now for at in session.scalars(
            select(ReplyPost.next_attempt_at).order_by(ReplyPost.id))] == [
                wait - timedelta(minutes=10) for wait in waits]
        assert as_utc(session.get(OutboxMessage, msg).next_attempt_at) == now  # type: ignore[union-attr]
