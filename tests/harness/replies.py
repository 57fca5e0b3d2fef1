"""An approved reply queued in the database, as approving a draft leaves it: for tests of
what posting it does (rate limits, retries, the card while it waits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.models import Draft, Mention
from storage.models_replies import ReplyPost


def queue_approved_reply(session: Session, mention: Mention, *, network: str, key: str,
                         due: datetime, text: str = "Sorry, on it") -> None:
    """Mark ``mention`` approved with draft v1 ``text`` and its reply queued for
    ``network`` (idempotency key ``key``), due at ``due``."""
    mention.status = "approved"
    draft = Draft(mention_id=mention.id, version=1, text=text)
    session.add(draft)
    session.flush()
    session.add(ReplyPost(workspace_id=mention.workspace_id, mention_id=mention.id,
                          draft_id=draft.id, network=network, idempotency_key=key,
                          next_attempt_at=due))
