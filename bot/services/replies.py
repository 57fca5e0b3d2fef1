"""Posting approved replies back to Mastodon, Bluesky and X, exactly once per draft.

Approval queues a ``reply_posts`` row whose idempotency key is stored before any network
call. The sender claims due rows (a lease), records the attempt, calls the network, and
records the result with the mention's "replied" transition in one transaction. The reply
answers the customer's newest post in the mention's case (``reply_target``). A row
retried after a crash or an unknown outcome first asks the network whether the reply
already exists (``publish_once``), so no draft is ever posted twice.
"""

from __future__ import annotations

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
from bot.services.cases import latest_customer_post
from bot.services.errors import ServiceError
from bot.services.outbox import KIND_THREAD, KIND_UPDATE_CARD, do_enqueue
from bot.services.reply_queue import (
    CANCELLED,
    FAILED,
    PENDING,
    POSTED,
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

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 6
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


def _claim(sessions: sessionmaker[Session], now: datetime, limit: int) -> list[_Job]:
    jobs: list[_Job] = []
    with transaction(sessions) as session:
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
            if not take_lease(session, ReplyPost, row.id, pending=PENDING,
                              attempts=row.attempts, now=now, until=now + LEASE):
                continue
            target = reply_target(session, mention)
            jobs.append(_Job(row.id, row.attempts > 0, row.network, credentials, target,
                             draft.text, row.idempotency_key, target.language,
                             source.trusted))
    return jobs


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
        if error.retryable and row.attempts < MAX_ATTEMPTS:
            asked = error.retry_after if isinstance(error, PublishRateLimited) else None
            wait = retry_delay(exponential(row.attempts, base=30), asked or None)
            row.next_attempt_at = now + timedelta(seconds=min(wait, 3600))
            return ReplyOutcome(row.mention_id, PENDING, error=message)
        row.status = FAILED
        _note(session, row, "replies.note_failed", error=Text(message))
        return ReplyOutcome(row.mention_id, FAILED, error=message)


def flush_replies(sessions: sessionmaker[Session], http_factory: Callable[[bool], HttpClient],
                  *, now: datetime | None = None, limit: int = 20) -> list[ReplyOutcome]:
    """Post what is due; one failure never stops the others."""
    moment = now or utcnow()
    outcomes = []
    for job in _claim(sessions, moment, limit):
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
        outcomes.append(_record(sessions, job, moment, result, error))
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
