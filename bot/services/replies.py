"""Posting approved replies back to Mastodon, Bluesky and X, exactly once per draft.

Approval queues a ``reply_posts`` row whose idempotency key is stored before any network
call. The sender leases one due row at a time, right before posting it, records the
attempt, calls the network (within ``POST_BUDGET``, shorter than the lease), and records
the result with the mention's "replied" transition in one transaction, only while it
still holds the lease. The reply
answers the customer's newest post in the mention's case (``reply_target``) as of its
approval: that post is kept on the row, and every attempt answers it. A row
retried after a crash or an unknown outcome first asks the network whether the reply
already exists (``publish_once``), so no draft is ever posted twice.

A rate limit is the account's, not the reply's: when the network asks an account to wait,
every reply queued for that account (workspace, network and credentials) waits until then without a
network call, so without an attempt; the call the network rate limited gives its attempt
back too (counted apart, in ``rate_limited_calls``: posting it has started). A rate limit
never fails a reply (only real failures do, after ``MAX_ATTEMPTS``), and the wait honours
what the network asked up to a day (X's daily caps). Their cards say until when they wait.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.notes import Arg, NetworkName, Note, Phrase, Text, plain_text
from bot.messages.stored import spec_payload
from bot.net.http import HttpClient
from bot.net.retry import exponential, retry_delay
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
    failure_reason,
    latest_reply,
    record_error,
    reply_target,
)
from bot.services.secrets import credential_secrets, open_config, redact
from bot.services.workflow import mark_replied, require_action
from bot.services.workspaces import workspace_language
from storage.claims import skip_locked, take_lease
from storage.db import transaction
from storage.models import Draft, Mention, MentionStatus, SourceRow, utcnow
from storage.models_replies import ReplyPost

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
"""How long a reply is held by the worker posting it. Taken right before its post, one
reply at a time, and longer than ``POST_BUDGET``: a lease never runs out while its post is
under way, so another worker never posts the same reply."""
POST_BUDGET = timedelta(seconds=60)
"""The longest everything posting one reply may take on the network (lookups, the write,
retries), well within ``LEASE``."""
MAX_ATTEMPTS = 6
CLAIM_BATCH = 20
"""Due replies looked at per claim (some may be settled without a post)."""
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
    attempts: int
    """The row's attempts once leased, and ``leased_until``: the lease this job holds."""
    leased_until: datetime

    workspace_id: int

    @property
    def account(self) -> Account:
        """The account the reply posts from (workspace, network, a digest of its
        credentials): what a rate limit applies to."""
        return self.workspace_id, self.network, account_key(self.credentials)


Account = tuple[int, str, str]
"""A brand account as rate limits see it: (workspace id, network, ``account_key``)."""


def account_key(credentials: PublisherCredentials) -> str:
    """A digest naming the account of ``credentials``: its secret values, its addresses and
    handle (every field but ``option_fields``), never the secrets themselves. The secrets
    are read in full: pydantic writes every ``SecretStr`` as the same stars, which made
    all accounts of one X API or Mastodon instance one."""
    identity = {name: value.get_secret_value() if isinstance(value, SecretStr) else value
                for name, value in vars(credentials).items()
                if name not in credentials.option_fields}
    encoded = json.dumps([type(credentials).__name__, identity], sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]


def _held_accounts(session: Session, now: datetime) -> dict[Account, ReplyPost]:
    """The accounts waiting for a rate limit at ``now``, each with a reply that waits.
    Every workspace's: an account is named with its workspace, so one never holds
    another's."""
    held: dict[Account, ReplyPost] = {}
    for row in session.scalars(select(ReplyPost).where(
            ReplyPost.status == PENDING, ReplyPost.next_attempt_at > now,
            ReplyPost.error.startswith(RATE_LIMITED, autoescape=True))):
        account = _account_of(session, row)
        if account is not None and account not in held:
            held[account] = row
    return held


def _claim_next(sessions: sessionmaker[Session], now: datetime) -> _Job | None:
    """Lease the next due reply to post (None when none is due), right before posting it.
    Replies found cancelled, failed or waiting for their account's rate limit on the way
    are settled and skipped."""
    with transaction(sessions) as session:
        held = _held_accounts(session, now)
        query = (select(ReplyPost).where(ReplyPost.status == PENDING,
                                         ReplyPost.next_attempt_at <= now)
                 .order_by(ReplyPost.id).limit(CLAIM_BATCH))
        for row in session.scalars(skip_locked(session, query)).all():
            mention = session.get(Mention, row.mention_id)
            draft = session.get(Draft, row.draft_id)
            source = session.get(SourceRow, mention.source_id) if mention and \
                mention.source_id else None
            credentials = credentials_for(row.network, open_config(source)) if source else None
            if mention is None or draft is None or credentials is None or source is None:
                row.status = FAILED
                record_error(row, Phrase.of("publish.credentials_gone"))
                continue
            if mention.status != MentionStatus.APPROVED.value:
                # Answered by hand (or reopened) meanwhile: posting now would answer twice.
                row.status, row.error = CANCELLED, f"mention is {mention.status}"
                row.error_phrase = None
                continue
            # Compare-and-set: another process may have read the same row (SQLite has no
            # row locks); only the one whose update lands calls the network.
            waiting = held.get((row.workspace_id, row.network, account_key(credentials)))
            # A reply that only waits makes no call: its lease counts no attempt.
            if not take_lease(session, ReplyPost, row.id, pending=PENDING,
                              attempts=row.attempts, now=now, until=now + LEASE,
                              count=waiting is None):
                continue
            if waiting is not None:
                # Approved after its account was rate limited: it waits with the others.
                _wait_for_limit(session, row, waiting.next_attempt_at, waiting)
                continue
            target = _pinned_target(session, row, mention)
            started = row.attempts > 0 or row.rate_limited_calls > 0
            return _Job(row.id, started, row.network, credentials, target, draft.text,
                        row.idempotency_key, target.language, source.trusted,
                        row.attempts + 1, now + LEASE, row.workspace_id)
    return None


def _hold_lease(session: Session, job: _Job) -> bool:
    """Whether ``job`` still holds its reply's lease: the row is pending, at the attempts
    and lease end ``job`` set. Compare-and-set, so on PostgreSQL the row stays locked
    until the caller's transaction ends (nobody takes the lease over meanwhile)."""
    result = session.execute(
        update(ReplyPost)
        .where(ReplyPost.id == job.id, ReplyPost.status == PENDING,
               ReplyPost.attempts == job.attempts,
               ReplyPost.next_attempt_at == job.leased_until)
        .values(next_attempt_at=job.leased_until)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _pinned_target(session: Session, row: ReplyPost, mention: Mention) -> ReplyTarget:
    """The post ``row`` answers: chosen at approval (``queue_reply``), the same for every
    attempt. A row queued before approval chose it (by an older release) gets it here at
    its first attempt, stored with the lease before any network call. A retry after a lost
    answer looks for the reply where it was posted, even if the customer wrote again
    since."""
    if row.target_external_id is None:
        target = reply_target(session, mention)
        row.target_external_id, row.target_url = target.external_id, target.url
        row.target_language = target.language
        return target
    return ReplyTarget(network=row.network, external_id=row.target_external_id,
                       url=row.target_url, language=row.target_language)


def _update_card(session: Session, row: ReplyPost) -> None:
    """Queue an update of the card of ``row``'s mention."""
    mention = session.get(Mention, row.mention_id)
    if mention is not None and mention.slack_channel:
        do_enqueue(session, workspace_id=row.workspace_id, kind=KIND_UPDATE_CARD,
                   channel=mention.slack_channel, mention_id=mention.id)


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
    """Record what posting ``job`` gave, only while ``job`` holds the reply's lease: a
    worker whose lease ran out (a stalled process) never overwrites what the worker that
    took the reply over recorded. A post it made all the same is recorded when nothing
    else was, never over a recorded post."""
    with transaction(sessions) as session:
        holding = _hold_lease(session, job)
        row = session.get(ReplyPost, job.id)
        assert row is not None
        if not holding:
            return _record_late(session, row, job, result, error)
        if error is None:
            return _mark_posted(session, row, result, now)
        # A network's error can repeat the token it refused: it goes to a Slack thread.
        reason = _redacted(error.phrase, credential_secrets(job.credentials))
        message = plain_text(reason, "en")
        record_error(row, reason, waiting=isinstance(error, PublishRateLimited))
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
            row.next_attempt_at = until
            _hold_account(session, row, job.account, until)
            return ReplyOutcome(row.mention_id, PENDING, error=message)
        if error.retryable and row.attempts < MAX_ATTEMPTS:
            wait = retry_delay(exponential(row.attempts, base=30), None)
            row.next_attempt_at = now + min(timedelta(seconds=wait), MAX_RETRY_WAIT)
            # The card says it failed, why, and when it is tried again.
            _update_card(session, row)
            return ReplyOutcome(row.mention_id, PENDING, error=message)
        row.status = FAILED
        if error.may_have_posted:
            # It may be on the network: a reworded version approved now would answer twice.
            _note(session, row, "replies.note_failed_unconfirmed", error=reason,
                  network=NetworkName(row.network))
        else:
            _note(session, row, "replies.note_failed", error=reason)
        return ReplyOutcome(row.mention_id, FAILED, error=message)


def _redacted(phrase: Phrase, secrets: list[str]) -> Phrase:
    """``phrase`` with every secret masked in its outside text (a network's own words)."""
    def clean(arg: Arg) -> Arg:
        if isinstance(arg, Text) and arg.value:
            return Text(redact(arg.value, secrets), arg.limit)
        if isinstance(arg, Phrase):
            return _redacted(arg, secrets)
        return arg
    return Phrase(phrase.key, tuple((name, clean(arg)) for name, arg in phrase.args))


def _mark_posted(session: Session, row: ReplyPost, result: Any, now: datetime
                 ) -> ReplyOutcome:
    """Record ``row`` posted (``result``: the network's id and address) and its approved
    mention replied, with the note in the card's thread."""
    row.status, row.external_id, row.url = POSTED, result.external_id, result.url
    row.posted_at, row.error, row.error_phrase = now, None, None
    mention = session.get(Mention, row.mention_id)
    if mention is not None and mention.status == MentionStatus.APPROVED.value:
        mark_replied(session, row.workspace_id, NETWORK_ACTOR, mention,
                     reply_url=result.url, now=now,
                     note_key="replies.note_posted" if result.url
                     else "replies.note_posted_no_link",
                     note_params={"network": NetworkName(row.network)})
    return ReplyOutcome(row.mention_id, POSTED, url=result.url)


def _record_late(session: Session, row: ReplyPost, job: _Job, result: Any,
                 error: PublishError | None) -> ReplyOutcome:
    """What a worker whose lease ran out may still record: its post, when the reply has no
    result yet (the reply is posted; whoever took it over finds it so). Anything else is
    left to the worker holding the reply now."""
    if error is None and row.status in {PENDING, FAILED, CANCELLED} and row.external_id is None:
        log.warning("reply %s: posted after its lease ran out; recording it", job.id)
        return _mark_posted(session, row, result, utcnow())
    if error is None:
        log.error("reply %s was posted twice (lease ran out): %s kept, %s posted as well",
                  job.id, row.url, result.url)
    else:
        log.warning("reply %s: result after its lease ran out not recorded (%s)", job.id,
                    type(error).__name__)
    reason = failure_reason(row)
    return ReplyOutcome(row.mention_id, row.status, url=row.url,
                        error=plain_text(reason, "en") if isinstance(reason, Phrase) else reason)


def _account_of(session: Session, row: ReplyPost) -> Account | None:
    mention = session.get(Mention, row.mention_id)
    source = session.get(SourceRow, mention.source_id) if mention and mention.source_id \
        else None
    credentials = credentials_for(row.network, open_config(source)) if source else None
    if credentials is None:
        return None
    return row.workspace_id, row.network, account_key(credentials)


def _wait_for_limit(session: Session, row: ReplyPost, until: datetime,
                    limited: ReplyPost) -> None:
    """``row`` waits until ``until`` for its account's rate limit, which ``limited`` met."""
    row.next_attempt_at = until
    row.error, row.error_phrase = limited.error or RATE_LIMITED, limited.error_phrase
    _update_card(session, row)


def _hold_account(session: Session, limited: ReplyPost, account: Account,
                  until: datetime) -> None:
    """Make the other queued replies of ``account`` wait until ``until`` too (a few rows:
    the replies approved and not yet posted)."""
    _update_card(session, limited)
    for row in session.scalars(select(ReplyPost).where(
            ReplyPost.status == PENDING, ReplyPost.workspace_id == limited.workspace_id,
            ReplyPost.network == limited.network, ReplyPost.id != limited.id,
            ReplyPost.next_attempt_at < until)).all():
        if _account_of(session, row) == account:
            _wait_for_limit(session, row, until, limited)


def flush_replies(sessions: sessionmaker[Session], http_factory: Callable[[bool], HttpClient],
                  *, now: datetime | None = None, limit: int = 20,
                  stop: Callable[[], bool] | None = None,
                  clock: Callable[[], datetime] | None = None) -> list[ReplyOutcome]:
    """Post what is due, up to ``limit`` replies, one at a time: each reply is leased right
    before its post, and its post is bounded by ``POST_BUDGET`` (shorter than the lease),
    so no other worker can take it over while it is being posted. One failure never stops
    the others; after a rate limit, the same account's other replies wait without calling
    the network. Once ``stop()`` is true (the process shuts down), no other post starts.
    The time is ``now`` when given, else ``clock()`` (``utcnow``) at each reply."""
    def current() -> datetime:
        if now is not None:
            return now
        return (clock or utcnow)()

    outcomes = []
    for _ in range(limit):
        if stop is not None and stop():
            break
        job = _claim_next(sessions, current())
        if job is None:
            break
        publisher = get_publisher(job.network)
        result, error = None, None
        try:
            # Sources added through Slack keep the SSRF guard when we post, too.
            with http_factory(job.trusted) as http:
                http.set_budget(POST_BUDGET.total_seconds())
                result = publish_once(publisher, http, job.credentials, job.target, job.text,
                                      job.key, attempted_before=job.attempted_before,
                                      language=job.language)
        except PublishError as err:
            error = err
        except Exception as err:
            log.exception("posting reply %s failed", job.id)
            error = PublishError("publish.internal", retryable=True,
                                 error_type=type(err).__name__)
        outcomes.append(_record(sessions, job, current(), result, error))
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
        row.error_phrase = None
        record(session, workspace_id, actor, "reply.retried", mention_id=mention.id,
               detail={"reply_id": row.id})
        if mention.slack_channel:
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_CARD,
                       channel=mention.slack_channel, mention_id=mention.id)
