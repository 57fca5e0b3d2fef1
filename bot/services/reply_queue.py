"""Queuing an approved reply for posting (called inside the approval's transaction)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

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


