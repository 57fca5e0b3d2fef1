"""Posting approved replies back to Mastodon, Bluesky and X, exactly once per draft.

Approval queues a ``reply_posts`` row whose idempotency key is stored before any network
call. The sender claims due rows (a lease), records the attempt, calls the network, and
records the result with the mention's "replied" transition in one transaction. The reply
answers the customer's newest post in the mention's case (``reply_target``) as of its
first attempt: that post is kept on the row, and every retry answers it. A row
retried after a crash or an unknown outcome first asks the network whether the reply
already exists (``publish_once``), so no draft is ever posted twice.

A rate limit is the account's, not the reply's: when the network asks an account to wait,
every reply queued for that account (network and credentials) waits until then without a
network call, so without an attempt; the call the network rate limited gives its attempt
back too (counted apart, in ``rate_limited_calls``: posting it has started). A rate limit
never fails a reply (only real failures do, after ``MAX_ATTEMPTS``), and the wait honours
what the network asked up to a day (X's daily caps). Their cards say until when they wait.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.notes import Arg, Note, Text
from bot.messages.stored import spec_payload
from bot.net.http import HttpClient
from bot.net.retry import exponential, retry_delay
from bot.networks import get_network
from bot.publishers.base import (
    PublisherCredentials,
    PublishError,
    PublishRateLimited,
    ReplyTarget,
    publish_once,
)
from bot.publishers.registry import get_publisher
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.outbox import KIND_THREAD, KIND_UPDATE_CARD, do_enqueue
from bot.services.reply_queue import (
    CANCELLED,
    FAILED,
    PENDING,
    POSTED,
    RATE_LIMITED,
    credentials_for,
    latest_reply,
)
from bot.services.secrets import credential_secrets, open_config, redact
from bot.services.workflow import mark_replied, require_action
from bot.services.workspaces import workspace_language
from storage.claims import skip_locked, take_lease
from storage.db import transaction
from storage.models import Draft, Mention, MentionStatus, SourceRow, utcnow
from storage.models_replies import ReplyPost
from storage.repositories import latest_customer_post

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 6
MAX_RETRY_WAIT = timedelta(hours=1)
"""The longest wait between attempts after a failure."""
MAX_RATE_LIMIT_WAIT = timedelta(hours=24)
"""The longest wait a network's rate limit is honoured for (a daily cap resets within it)."""

NETWORK_ACTOR = Actor(None, "network")


@dataclass(frozen=True, slots=True)
class ReplyOutcome:
    """What happened to one queued reply."""

    mention_id: int
    status: str
    url: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    id: int
    attempted_before: bool
    network: str
    credentials: PublisherCredentials
    target: ReplyTarget
    text: str
    key: str
    language: str | None
    trusted: bool

    @property
    def account(self) -> tuple[str, str]:
        """The account the reply posts from (network, a digest of its credentials): what a
        rate limit applies to."""
        return self.network, account_key(self.credentials)


def account_key(credentials: PublisherCredentials) -> str:
    """A digest naming the account of ``credentials`` (never the secrets themselves)."""
    return hashlib.sha256(credentials.model_dump_json().encode()).hexdigest()[:32]


def _held_accounts(session: Session, now: datetime) -> dict[tuple[str, str], ReplyPost]:
    """The accounts waiting for a rate limit at ``now``, each with a reply that waits."""
    held: dict[tuple[str, str], ReplyPost] = {}
    for row in session.scalars(select(ReplyPost).where(
            ReplyPost.status == PENDING, ReplyPost.next_attempt_at > now,
            ReplyPost.error.startswith(RATE_LIMITED, autoescape=True))):
        account = _account_of(session, row)
        if account is not None and account not in held:
            held[account] = row
    return held


def _claim(sessions: sessionmaker[Session], now: datetime, limit: int) -> list[_Job]:
    jobs: list[_Job] = []
    with transaction(sessions) as session:
        held = _held_accounts(session, now)
        query = (select(ReplyPost).where(ReplyPost.status == PENDING,
                                         ReplyPost.next_attempt_at <= now)
                 .order_by(ReplyPost.id).limit(limit))
        for row in session.scalars(skip_locked(session, query)).all():
            mention = session.get(Mention, row.mention_id)
            draft = session.get(Draft, row.draft_id)
            source = session.get(SourceRow, mention.source_id) if mention and \
                mention.source_id else None
            credentials = credentials_for(row.network, open_config(source)) if source else None
            if mention is None or draft is None or credentials is None or source is None:
                row.status, row.error = FAILED, "the source's credentials are gone"
                continue
            if mention.status != MentionStatus.APPROVED.value:
                # Answered by hand (or reopened) meanwhile: posting now would answer twice.
                row.status, row.error = CANCELLED, f"mention is {mention.status}"
                continue
            # Compare-and-set: another process may have read the same row (SQLite has no
            # row locks); only the one whose update lands calls the network.
            waiting = held.get((row.network, account_key(credentials)))
            # A reply that only waits makes no call: its lease counts no attempt.
            if not take_lease(session, ReplyPost, row.id, pending=PENDING,
                              attempts=row.attempts, now=now, until=now + LEASE,
                              count=waiting is None):
                continue
            if waiting is not None:
                # Approved after its account was rate limited: it waits with the others.
                _wait_for_limit(session, row, waiting.next_attempt_at,
                                waiting.error or RATE_LIMITED)
                continue
            target = _pinned_target(session, row, mention)
            started = row.attempts > 0 or row.rate_limited_calls > 0
            jobs.append(_Job(row.id, started, row.network, credentials, target,
                             draft.text, row.idempotency_key, target.language,
                             source.trusted))
    return jobs


def _pinned_target(session: Session, row: ReplyPost, mention: Mention) -> ReplyTarget:
    """The post ``row`` answers: chosen at its first attempt (``reply_target``) and stored
    with the lease, before any network call, then the same for every retry. A retry after
    a lost answer looks for the reply where it was posted, even if the customer wrote
    again since."""
    if row.target_external_id is None:
        target = reply_target(session, mention)
        row.target_external_id, row.target_url = target.external_id, target.url
        row.target_language = target.language
        return target
    return ReplyTarget(network=row.network, external_id=row.target_external_id,
                       url=row.target_url, language=row.target_language)


def reply_target(session: Session, mention: Mention) -> ReplyTarget:
    """The post a reply to ``mention`` answers: the customer's newest post in its case (a
    follow-up, where they wait for the answer), else the mention itself."""
    latest = latest_customer_post(session, mention)
    if latest is None:
        return ReplyTarget(network=mention.network, external_id=mention.external_id,
                           url=mention.url, language=mention.language)
    follow_up = session.get(Mention, latest.mention_id) if latest.mention_id else None
    return ReplyTarget(network=mention.network, external_id=latest.external_id,
                       url=latest.url,
                       language=(follow_up.language if follow_up else None) or mention.language)


def _note(session: Session, row: ReplyPost, key: str, **params: Arg) -> None:
    mention = session.get(Mention, row.mention_id)
    if mention is None or not mention.slack_channel:
        return
    language = workspace_language(session, row.workspace_id)
    for kind, payload in ((KIND_UPDATE_CARD, {}),
                          (KIND_THREAD, spec_payload(Note.of(language, key, **params)))):
        do_enqueue(session, workspace_id=row.workspace_id, kind=kind,
                   channel=mention.slack_channel, mention_id=mention.id, payload=payload)


def _record(sessions: sessionmaker[Session], job: _Job, now: datetime,
            result: Any, error: PublishError | None) -> ReplyOutcome:
    with transaction(sessions) as session:
        row = session.get(ReplyPost, job.id)
        assert row is not None
        if error is None:
            row.status, row.external_id, row.url = POSTED, result.external_id, result.url
            row.posted_at, row.error = now, None
            mention = session.get(Mention, row.mention_id)
            if mention is not None and mention.status == MentionStatus.APPROVED.value:
                network = get_network(row.network)
                mark_replied(session, row.workspace_id, NETWORK_ACTOR, mention,
                             reply_url=result.url, now=now,
                             note_key="replies.note_posted" if result.url
                             else "replies.note_posted_no_link",
                             note_params={"network": network.display_name if network
                                          else row.network})
            return ReplyOutcome(row.mention_id, POSTED, url=result.url)
        # A network's error can repeat the token it refused: it goes to a Slack thread.
        message = redact(str(error), credential_secrets(job.credentials)) or str(error)
        row.error = message
        if isinstance(error, PublishRateLimited):
            # Nothing failed: the reply waits as long as the network asks (never failed
            # for it), and the account's other replies wait with it. Its call gives its
            # attempt back but is counted apart: posting it has started, as withdrawing
            # sees it.
            row.attempts = max(0, row.attempts - 1)
            row.rate_limited_calls += 1
            wait = retry_delay(exponential(row.rate_limited_calls, base=30),
                               error.retry_after or None)
            until = now + min(timedelta(seconds=wait), MAX_RATE_LIMIT_WAIT)
            row.next_attempt_at, row.error = until, RATE_LIMITED + message
            _hold_account(session, row, job.account, until)
            return ReplyOutcome(row.mention_id, PENDING, error=message)
        if error.retryable and row.attempts < MAX_ATTEMPTS:
            wait = retry_delay(exponential(row.attempts, base=30), None)
            row.next_attempt_at = now + min(timedelta(seconds=wait), MAX_RETRY_WAIT)
            return ReplyOutcome(row.mention_id, PENDING, error=message)
        row.status = FAILED
        _note(session, row, "replies.note_failed", error=Text(message))
        return ReplyOutcome(row.mention_id, FAILED, error=message)


def _account_of(session: Session, row: ReplyPost) -> tuple[str, str] | None:
    mention = session.get(Mention, row.mention_id)
    source = session.get(SourceRow, mention.source_id) if mention and mention.source_id \
        else None
    credentials = credentials_for(row.network, open_config(source)) if source else None
    return (row.network, account_key(credentials)) if credentials is not None else None


def _wait_for_limit(session: Session, row: ReplyPost, until: datetime, error: str) -> None:
    row.next_attempt_at, row.error = until, error
    mention = session.get(Mention, row.mention_id)
    if mention is not None and mention.slack_channel:
        do_enqueue(session, workspace_id=row.workspace_id, kind=KIND_UPDATE_CARD,
                   channel=mention.slack_channel, mention_id=mention.id)


def _hold_account(session: Session, limited: ReplyPost, account: tuple[str, str],
                  until: datetime) -> None:
    """Make the other queued replies of ``account`` wait until ``until`` too (a few rows:
    the replies approved and not yet posted)."""
    limited_mention = session.get(Mention, limited.mention_id)
    if limited_mention is not None and limited_mention.slack_channel:
        do_enqueue(session, workspace_id=limited.workspace_id, kind=KIND_UPDATE_CARD,
                   channel=limited_mention.slack_channel, mention_id=limited_mention.id)
    for row in session.scalars(select(ReplyPost).where(
            ReplyPost.status == PENDING, ReplyPost.network == limited.network,
            ReplyPost.id != limited.id, ReplyPost.next_attempt_at < until)).all():
        if _account_of(session, row) == account:
            _wait_for_limit(session, row, until, limited.error or RATE_LIMITED)


def _give_back(sessions: sessionmaker[Session], jobs: list[_Job], now: datetime) -> None:
    """Give claimed replies back untried: due at ``now``, their attempt not spent."""
    with transaction(sessions) as session:
        for job in jobs:
            row = session.get(ReplyPost, job.id)
            if row is not None and row.status == PENDING:
                row.attempts = max(0, row.attempts - 1)
                row.next_attempt_at = now


def _release(sessions: sessionmaker[Session], job: _Job, until: datetime, error: str
             ) -> ReplyOutcome:
    """Give a claimed reply back, its attempt not spent: its account is rate limited."""
    with transaction(sessions) as session:
        row = session.get(ReplyPost, job.id)
        assert row is not None
        row.attempts = max(0, row.attempts - 1)
        _wait_for_limit(session, row, until, error)
        return ReplyOutcome(row.mention_id, PENDING, error=error)


def flush_replies(sessions: sessionmaker[Session], http_factory: Callable[[bool], HttpClient],
                  *, now: datetime | None = None, limit: int = 20,
                  stop: Callable[[], bool] | None = None) -> list[ReplyOutcome]:
    """Post what is due; one failure never stops the others. After a rate limit, the same
    account's other replies wait without calling the network. Once ``stop()`` is true
    (the process shuts down), no other post starts: the replies claimed and not posted
    are given back, due at once and their attempt not spent."""
    moment = now or utcnow()
    outcomes = []
    limited: dict[tuple[str, str], tuple[datetime, str]] = {}
    jobs = _claim(sessions, moment, limit)
    for index, job in enumerate(jobs):
        if stop is not None and stop():
            _give_back(sessions, jobs[index:], moment)
            break
        if job.account in limited:
            outcomes.append(_release(sessions, job, *limited[job.account]))
            continue
        publisher = get_publisher(job.network)
        result, error = None, None
        try:
            # Sources added through Slack keep the SSRF guard when we post, too.
            with http_factory(job.trusted) as http:
                result = publish_once(publisher, http, job.credentials, job.target, job.text,
                                      job.key, attempted_before=job.attempted_before,
                                      language=job.language)
        except PublishError as err:
            error = err
        except Exception as err:
            log.exception("posting reply %s failed", job.id)
            error = PublishError(f"internal error ({type(err).__name__})")
            error.retryable = True
        outcome = _record(sessions, job, moment, result, error)
        outcomes.append(outcome)
        if isinstance(error, PublishRateLimited):
            with sessions() as session:
                row = session.get(ReplyPost, job.id)
                if row is not None and row.error:
                    limited[job.account] = (row.next_attempt_at, row.error)
    return outcomes


def do_retry_reply(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                   mention_id: int) -> None:
    """Queue a failed reply again (from the card's Retry button)."""
    with transaction(sessions) as session:
        mention = require_action(session, workspace_id, actor, mention_id, "replied")
        row = latest_reply(session, mention.id)
        if row is None or row.status != FAILED:
            raise ServiceError("replies.nothing_to_retry", id=str(mention_id))
        row.status, row.next_attempt_at, row.error = PENDING, utcnow(), None
        record(session, workspace_id, actor, "reply.retried", mention_id=mention.id,
               detail={"reply_id": row.id})
        if mention.slack_channel:
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_CARD,
                       channel=mention.slack_channel, mention_id=mention.id)
