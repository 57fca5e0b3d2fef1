"""Queuing an approved reply for posting (called inside the approval's transaction)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import UnknownMessage
from bot.messages.notes import (
    Phrase,
    check_phrase,
    phrase_from_json,
    phrase_to_json,
    plain_text,
)
from bot.networks import get_network
from bot.publishers.base import PublisherCredentials, ReplyTarget
from bot.publishers.registry import can_publish, get_publisher
from bot.services.secrets import open_config
from storage.models import Draft, Mention, SourceRow
from storage.models_replies import ReplyPost
from storage.repositories import latest_customer_post
from storage.secret_box import SecretBox

PENDING, POSTED, FAILED, CANCELLED = "pending", "posted", "failed", "cancelled"
RATE_LIMITED = "rate limited: "
"""How ``reply_posts.error`` starts while a reply waits for its account's rate limit (the
card reads it to say until when; ``bot.services.replies``)."""


def record_error(row: ReplyPost, reason: Phrase, *, waiting: bool = False) -> None:
    """Store why ``row``'s attempt failed: its English words in ``error`` (after
    ``RATE_LIMITED`` when the reply ``waiting`` for a rate limit), what every release reads
    and shows, and the phrase in ``error_phrase`` (JSON), put in words in each reader's
    language by the releases that know it (``failure_reason``)."""
    row.error = (RATE_LIMITED if waiting else "") + plain_text(reason, "en")
    row.error_phrase = json.dumps(phrase_to_json(reason), ensure_ascii=False)


def failure_reason(row: ReplyPost) -> Phrase | str | None:
    """Why ``row``'s last attempt failed (after ``RATE_LIMITED`` when it waits): the phrase
    ``error_phrase`` holds when this release knows it and it says what ``error`` says, else
    ``error``'s English words. Words and phrase disagree when a release before
    ``error_phrase`` wrote the words alone (the phrase beside them is an older failure's),
    and a phrase this release does not know is a newer release's. Rows written before
    migration 0062 moved them hold the phrase as JSON in ``error``: read as well."""
    if row.error is None:
        return None
    words = row.error.removeprefix(RATE_LIMITED)
    if row.error_phrase is not None:
        stored = _stored_phrase(row.error_phrase)
        if stored is not None and stored[1] == words:
            return stored[0] or words
    stored = _stored_phrase(words)
    if stored is None:
        return words
    return stored[0] or stored[1]


def _stored_phrase(stored: str) -> tuple[Phrase | None, str] | None:
    """(the phrase, its English words) of a phrase stored as JSON, the phrase None when this
    release does not know it (a key or an argument form of a newer release); None when
    ``stored`` holds no phrase."""
    if not stored.startswith('{"phrase"'):
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("args", {}), dict):
        return None
    words = str(data.get("text") or stored)
    try:
        phrase = phrase_from_json(data)
        check_phrase(phrase)
    except UnknownMessage:
        return None, words
    return phrase, words


def credentials_for(network: str, config: dict[str, Any]) -> PublisherCredentials | None:
    """The brand account's credentials for ``network`` from its source's settings
    (decrypted: see ``bot.services.secrets.open_config``); None when there are none."""
    if any(SecretBox.is_sealed(value) for value in config.values()):
        return None  # encrypted with a key Vigie no longer has
    descriptor = get_network(network)
    if descriptor is None or descriptor.credentials is None:
        return None
    values = descriptor.credentials.from_settings(config)
    if values is None:
        return None
    try:
        return get_publisher(network).credentials_model.model_validate(values)
    except ValidationError:
        return None


def can_post(session: Session, mention: Mention) -> bool:
    """True when the mention's network takes replies and its source holds credentials."""
    if not can_publish(mention.network) or mention.source_id is None:
        return False
    source = session.get(SourceRow, mention.source_id)
    return source is not None and credentials_for(mention.network,
                                                  open_config(source)) is not None


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


def reply_key(workspace_id: int, draft_id: int) -> str:
    """A new idempotency key for a reply to post, unique beyond this database.

    Ids alone repeat in another database (a restored backup, a staging copy posting from
    the same account), and the networks keep keys beyond one install: Mastodon answers a
    key it saw within the hour with that status, whatever it answered (see
    ``bot.publishers.mastodon``), and Bluesky's record key derives from it. The random
    part makes it the reply's own; it is stored with the row before any network call, so
    every attempt of the row sends the same key (rows queued with the older form keep
    theirs)."""
    return f"vigie-{workspace_id}-{draft_id}-{secrets.token_hex(8)}"


def queue_reply(session: Session, mention: Mention, draft: Draft, approver: str) -> bool:
    """Inside the approval's transaction: queue the post if this network can take it,
    answering the post the approved text was written for (``reply_target`` now, what the
    editor showed as the post to answer): a post the customer adds to the case later,
    while the reply waits for a rate limit or a worker, never moves it."""
    if not can_post(session, mention):
        return False
    target = reply_target(session, mention)
    session.add(ReplyPost(workspace_id=mention.workspace_id, mention_id=mention.id,
                          draft_id=draft.id, network=mention.network, approved_by=approver,
                          idempotency_key=reply_key(mention.workspace_id, draft.id),
                          target_external_id=target.external_id, target_url=target.url,
                          target_language=target.language))
    return True


def latest_reply(session: Session, mention_id: int) -> ReplyPost | None:
    """The newest queued reply of a mention (the card shows its state)."""
    return session.scalar(select(ReplyPost).where(ReplyPost.mention_id == mention_id)
                          .order_by(ReplyPost.id.desc()).limit(1))


