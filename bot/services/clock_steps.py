"""What a wall clock stepped back (an NTP step, a VM restored from a snapshot) left in the
database: times computed from the old clock, now as far in the future as the step.

A source polled by the old clock has its next poll an interval after it, which the new
clock reaches only after the step too: a step of three hours stopped every source for
three hours. A message Slack asked to retry in 7 s waited three hours and held its whole
channel; a paused workspace's next probe likewise.

An approved reply waiting for its retry was held the same way, and an approver's digest
of drafts, due a window after the last one (sent by the old clock).

The due-row queries stay as they are (``next_poll_at <= now`` reads the range of
``ix_sources_paused_next_poll_at``; telling a stepped-back row there needs
``last_polled_at``, which no index covers, and turned the claim into a scan of every
source on PostgreSQL). Instead, once a step back is seen (``bot.scheduler.ClockWatch``)
and at every start (a process started after the step never sees it), the stored next
times are brought back to now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Update, and_, or_, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import BACKOFF_CAP_SECONDS, SEND_LEASE
from bot.services.replies import LEASE, MAX_RATE_LIMIT_WAIT, MAX_RETRY_WAIT
from bot.services.reply_queue import PENDING, RATE_LIMITED
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus, SourceRow
from storage.models_notifications import NotificationState
from storage.models_outbox import OutboxPause
from storage.models_replies import ReplyPost

CLOCK_STEP_SLACK = timedelta(minutes=1)
"""How far ahead of now a stored time of the past (a last poll, a last probe) may be
before it counts as written by a clock that has since stepped back: worker clocks a few
seconds apart never release each other's schedules, and a step back of less than this
holds work no longer than it."""


@dataclass(frozen=True)
class CaughtUp:
    """How many rows a catch-up made due now."""

    sources: int = 0
    pauses: int = 0
    messages: int = 0
    replies: int = 0
    approval_digests: int = 0

    def __bool__(self) -> bool:
        return bool(self.sources or self.pauses or self.messages or self.replies
                    or self.approval_digests)


def catch_up_clock_step(sessions: sessionmaker[Session], now: datetime, *,
                        stepped: bool) -> CaughtUp:
    """Make due at ``now`` what a wall clock ahead of ``now`` scheduled.

    A source last polled, or a paused workspace last probed, more than CLOCK_STEP_SLACK
    after ``now`` was scheduled by such a clock: its next poll or probe becomes ``now``.
    Safe at any time (at start: the step may have happened while no process ran).

    An outbox row keeps no time of its last attempt, only of its next: a pending row due
    later than any retry waits (BACKOFF_CAP_SECONDS, and the slack) is retried now; with
    ``stepped`` (the caller saw the clock step back), so is one due later than a send
    lease (and the slack). A row a sender holds (SEND_LEASE from a clock that did not
    step) is left alone; a row waiting for a Slack Retry-After or a backoff may be tried
    once early, and waits again if refused.

    An approved reply likewise: with ``stepped``, one due later than a posting lease
    (``replies.LEASE``) is tried now; at start, one due later than any retry waits
    (MAX_RETRY_WAIT; MAX_RATE_LIMIT_WAIT when it waits for its account's rate limit).

    An approver's digest of drafts sent more than the slack after ``now`` counts as sent
    now: the next one waits one window, not the step as well.
    """
    ahead = now + CLOCK_STEP_SLACK
    with transaction(sessions) as session:
        sources = _count(session, update(SourceRow)
                         .where(SourceRow.last_polled_at > ahead, SourceRow.next_poll_at > now)
                         .values(next_poll_at=now))
        pauses = _count(session, update(OutboxPause)
                        .where(OutboxPause.last_probe_at > ahead, OutboxPause.next_probe_at > now)
                        .values(next_probe_at=now))
        wait = SEND_LEASE if stepped else timedelta(seconds=BACKOFF_CAP_SECONDS)
        messages = _count(session, update(OutboxMessage)
                          .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                                 OutboxMessage.next_attempt_at > ahead + wait)
                          .values(next_attempt_at=now))
        later = ReplyPost.next_attempt_at > ahead + LEASE if stepped else or_(
            ReplyPost.next_attempt_at > ahead + MAX_RATE_LIMIT_WAIT,
            and_(ReplyPost.next_attempt_at > ahead + MAX_RETRY_WAIT,
                 or_(ReplyPost.error.is_(None),
                     ReplyPost.error.not_like(f"{RATE_LIMITED}%"))))
        replies = _count(session, update(ReplyPost)
                         .where(ReplyPost.status == PENDING, later)
                         .values(next_attempt_at=now))
        digests = _count(session, update(NotificationState)
                         .where(NotificationState.digest_sent_at > ahead)
                         .values(digest_sent_at=now))
    return CaughtUp(sources, pauses, messages, replies, digests)


def _count(session: Session, statement: Update) -> int:
    """How many rows ``statement`` changed."""
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
