"""What ``/cm show`` and the approval prompt show besides the card, as typed data read by
services (``bot.services.history``, ``cases``, ``workflow``) and rendered by ``bot.slack``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One audit event as shown under a mention."""

    at: datetime
    actor: str
    action: str
    surface: str
    from_status: str | None
    to_status: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ConversationPost:
    """One post of a case, in order, for ``/cm show``."""

    mention_id: int | None
    by_brand: bool
    author: str
    text: str
    url: str | None
    published_at: datetime


@dataclass(frozen=True, slots=True)
class DraftToApprove:
    """A draft version as an approver is shown it, with what binds an approval to it."""

    mention_id: int
    version: int
    text: str
    risk_level: str | None
    text_hash: str
    risk_flags: tuple[str, ...] = ()
    """Flag codes of the draft's risk check (the Approve button asks to confirm them)."""
