"""What a mention's alert card shows, as typed data read from the database
(``bot.services.cards``) and rendered by ``bot.slack.cards``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.messages.notes import Phrase


@dataclass(frozen=True, slots=True)
class StoryMember:
    """Another mention carrying the same link."""

    network: str
    author: str
    url: str
    followers: int | None


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything the card shows, read from the database."""

    mention_id: int
    network: str
    url: str
    author_handle: str
    author_name: str | None
    followers: int | None
    title: str | None
    text: str
    published_at: datetime
    watch_name: str | None
    status: str
    sentiment_label: str | None
    intent: str | None
    priority: int
    priority_reason: str | None
    assignee_user_id: str | None = None
    story: list[StoryMember] = field(default_factory=list)
    """The first posts joining this one's story (the card names a few)."""
    story_count: int | None = None
    """How many posts join this one's story, all of them; None: ``story`` lists them all."""
    story_reach: int | None = None
    """The followers of all of them, summed; None: summed over ``story``."""
    actions: tuple[str, ...] = ()
    draft_text: str | None = None
    draft_version: int | None = None
    draft_risk: str | None = None
    draft_hash: str | None = None
    reply_url: str | None = None
    sla_due: datetime | None = None
    reply_state: str | None = None
    reply_error: Phrase | str | None = None
    """Why the reply failed: a phrase, or the English words of a reply failed by a release
    before phrases."""
    reply_waiting_until: datetime | None = None
    """While the reply waits for its account's rate limit: until when."""
    reply_retry_at: datetime | None = None
    """While the reply waits to be tried again after a failed attempt (``reply_error``
    says why): when."""
    language: str | None = None
    language_analysed: bool = True
    reply_elsewhere: bool = False
    """Vigie cannot post this reply: the card offers "Open and reply there"."""
    draft_flags: tuple[str, ...] = ()
    """The draft's risk flag codes, shown in words; Approve then asks to confirm."""
    direct_to: str | None = None
    """The brand account the mention was addressed to."""
    case_posts: int = 0
    """Posts in the case this card carries (0: no conversation yet)."""
    case_follow_ups: int = 0
    case_reopened: int = 0
    topics: tuple[str, ...] = ()
    received_at: datetime | None = None
    """When Vigie found the mention (where its SLA counts from); the card says so when that
    was well after the post's published time."""
    context: str | None = None
    """What a comment answers (its thread's or story's title), shown above its text."""
    aside: str | None = None
    """Words outside the text that the network's search reads and the watch's query matched
    (a Mastodon image description, a poll's options, one a line), shown under the text."""


@dataclass(frozen=True, slots=True)
class CardSpec:
    """A card to post or update: its view, rendered in ``language`` at send time."""

    view: CardView
    language: str
