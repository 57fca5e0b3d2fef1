"""What a conquest opportunity's card (and App Home's list of them) shows, as typed data
read from the database (``bot.services.opportunities``) and rendered by
``bot.slack.opportunity_blocks``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class OpportunityView:
    """What an opportunity card shows."""

    id: int
    reason: str
    status: str
    group: str
    competitor: str | None
    network: str
    url: str
    author_handle: str
    followers: int | None
    text: str
    title: str | None
    published_at: datetime
    assignee_user_id: str | None
    draft: str | None


@dataclass(frozen=True, slots=True)
class OpportunitySpec:
    """An opportunity card to post or update, rendered in ``language`` at send time."""

    view: OpportunityView
    language: str


@dataclass(frozen=True, slots=True)
class HomeOpportunities:
    """App Home's conquest opportunities: the first few to act on, and how many there are."""

    shown: list[OpportunityView]
    total: int
