"""Queuing an approved reply for posting (called inside the approval's transaction)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import UnknownMessage
from bot.messages.notes import Phrase, check_phrase, phrase_from_json, phrase_to_json
from bot.networks import get_network
from bot.publishers.base import PublisherCredentials
from bot.publishers.registry import can_publish, get_publisher
from bot.services.secrets import open_config
from storage.models import Draft, Mention, SourceRow
from storage.models_replies import ReplyPost
from storage.secret_box import SecretBox

PENDING, POSTED, FAILED, CANCELLED = "pending", "posted", "failed", "cancelled"
RATE_LIMITED = "rate limited: "
"""How ``reply_posts.error`` starts while a reply waits for its account's rate limit (the
card reads it to say until when; ``bot.services.replies``)."""


def error_to_column(phrase: Phrase) -> str:
    """What ``reply_posts.error`` stores of a failed attempt: its reason as a phrase (JSON
    with its English words), put in words in each reader's language when shown. A release
    before phrases drawing the card meanwhile (a rolling deploy) shows this JSON, escaped,
    until the card is drawn again: no column holds the phrase beside the words."""
    return json.dumps(phrase_to_json(phrase), ensure_ascii=False)


def error_from_column(stored: str | None) -> Phrase | str | None:
    """The reason ``reply_posts.error`` holds (after ``RATE_LIMITED`` when it starts so): a
    phrase, or the plain English words rows of releases before phrases hold. A phrase of a
    newer release (a key or an argument form this one does not know) is its English words."""
    if stored is None:
        return None
    text = stored.removeprefix(RATE_LIMITED)
    if not text.startswith('{"phrase"'):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict) or not isinstance(data.get("args", {}), dict):
        return text
    try:
        phrase = phrase_from_json(data)
        check_phrase(phrase)
    except UnknownMessage:
        return str(data.get("text") or text)
    return phrase


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


def queue_reply(session: Session, mention: Mention, draft: Draft, approver: str) -> bool:
    """Inside the approval's transaction: queue the post if this network can take it."""
    if not can_post(session, mention):
        return False
    session.add(ReplyPost(workspace_id=mention.workspace_id, mention_id=mention.id,
                          draft_id=draft.id, network=mention.network, approved_by=approver,
                          idempotency_key=f"vigie-{mention.workspace_id}-{draft.id}"))
    return True


def latest_reply(session: Session, mention_id: int) -> ReplyPost | None:
    """The newest queued reply of a mention (the card shows its state)."""
    return session.scalar(select(ReplyPost).where(ReplyPost.mention_id == mention_id)
                          .order_by(ReplyPost.id.desc()).limit(1))


