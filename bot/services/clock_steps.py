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
source on PostgreSQL). Instead, once a step back is seen (``bot.scheduler.ClockWatch``,
which measures it by the monotonic clock) the stored times move back by the step, and at
every start (a process started after the step never sees it) the ones no wait explains
are brought back to now.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, inspect, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import BACKOFF_CAP_SECONDS
from bot.services.polling import CLAIM_LEASE
from bot.services.replies import MAX_RATE_LIMIT_WAIT, MAX_RETRY_WAIT
from bot.services.reply_queue import PENDING, RATE_LIMITED
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus, SourceRow
from storage.models_base import as_utc
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
                        step: timedelta | None,
                        holds: Collection[timedelta] = (CLAIM_LEASE,)) -> CaughtUp:
    """Bring back what a wall clock ahead of ``now`` scheduled.

    ``step``: how far the clock was seen to step back (ClockWatch, by the monotonic
    clock); every stored time still ahead of ``now`` was set by the old clock (the watch
    looks every second) and moves back by ``step``, never before ``now``: a lease keeps
    what was left of it (the worker holding it goes on, nobody else takes the row), and
    a Retry-After, a backoff or an account's rate limit what was left of its wait. A
    source's and a paused workspace's time of their last poll or probe stay (a poll's
    store checks its claim by it). A source under a poll's claim (its next poll exactly
    one of ``holds``, the claim leases, after its last) is left as claimed, by any path:
    its poller, whose clock stepped as well, stores the next poll by the new clock; a
    poller that died leaves it held the step as well. A reply's or a message's lease
    keeps no time of its taking: it moves like a wait, and its holder, whose lease check
    compares the time it set, records its post as one after its lease ran out. Each
    process watching the clock moves the rows: two schedulers on one host move them twice
    (never before ``now``), so run one per host.

    ``step`` None (at start: a step may have happened while no process ran, its size
    unknown): only what no wait of a live process explains is made due now. A source
    last polled (a workspace last probed) more than CLOCK_STEP_SLACK after ``now``, not
    under a claim; a message due later than any retry waits (BACKOFF_CAP_SECONDS), a
    reply than any retry or rate limit waits (MAX_RETRY_WAIT, MAX_RATE_LIMIT_WAIT), all
    beyond a lease.
    Assumes the clocks of the processes sharing the database agree within
    CLOCK_STEP_SLACK when none stepped: a lease written by a clock further ahead may be
    taken as a step's.

    An approver's digest of drafts sent more than the slack after ``now`` counts as sent
    ``step`` earlier (at start: now).
    """
    ahead = now + CLOCK_STEP_SLACK
    with transaction(sessions) as session:
        if step is not None:
            claimed = [row_id for row_id, polled, due in session.execute(
                select(SourceRow.id, SourceRow.last_polled_at, SourceRow.next_poll_at)
                .where(SourceRow.next_poll_at > now)) if _claim(polled, due, holds)]
            return CaughtUp(
                sources=_shift(session, SourceRow.next_poll_at, now, step,
                               SourceRow.id.not_in(claimed)),
                pauses=_shift(session, OutboxPause.next_probe_at, now, step),
                messages=_shift(session, OutboxMessage.next_attempt_at, now, step,
                                OutboxMessage.status == OutboxStatus.PENDING.value),
                replies=_shift(session, ReplyPost.next_attempt_at, now, step,
                               ReplyPost.status == PENDING),
                approval_digests=_shift(session, NotificationState.digest_sent_at, now,
                                        step))
        stale = [row_id for row_id, polled, due in session.execute(
            select(SourceRow.id, SourceRow.last_polled_at, SourceRow.next_poll_at)
            .where(SourceRow.last_polled_at > ahead, SourceRow.next_poll_at > now))
            if not _claim(polled, due, holds)]
        sources = _count(session, update(SourceRow).where(SourceRow.id.in_(stale))
                         .values(next_poll_at=now)) if stale else 0
        pauses = _count(session, update(OutboxPause)
                        .where(OutboxPause.last_probe_at > ahead, OutboxPause.next_probe_at > now)
                        .values(next_probe_at=now))
        messages = _count(session, update(OutboxMessage)
                          .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                                 OutboxMessage.next_attempt_at
                                 > ahead + timedelta(seconds=BACKOFF_CAP_SECONDS))
                          .values(next_attempt_at=now))
        later = or_(
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


def _claim(polled: datetime | None, due: datetime, holds: Collection[timedelta]) -> bool:
    """Whether a source last polled at ``polled``, next at ``due``, is under a claim: a
    claim sets both at once, one of ``holds`` apart; a stored poll or failure sets the
    next from when it ended, never exactly so."""
    return polled is not None and as_utc(due) - as_utc(polled) in holds


def _shift(session: Session, column: Any, now: datetime, step: timedelta,
           *where: ColumnElement[bool]) -> int:
    """Move ``column`` back by ``step``, never before ``now``, where it is after ``now``
    (and ``where``); how many rows moved. The due rows are few: the later ones are read
    and written back by primary key, as SQLite and PostgreSQL subtract times apart."""
    model = column.class_
    (key,) = inspect(model).primary_key
    count = _count(session, update(model)
                   .where(column > now, column <= now + step, *where)
                   .values({column.key: now})
                   .execution_options(synchronize_session=False))
    later = session.execute(select(key, column).where(column > now + step, *where)).all()
    if later:
        session.execute(update(model), [{key.key: row_id, column.key: as_utc(at) - step}
                                         for row_id, at in later])
    return count + len(later)


def _count(session: Session, statement: Update) -> int:
    """How many rows ``statement`` changed."""
    return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]
