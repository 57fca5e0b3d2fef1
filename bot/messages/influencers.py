"""What an influencer's line shows, as services hand it over (``bot.services.influencers.
Influencer`` has it) and ``bot.slack.influencer_blocks`` renders it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class InfluencerPost(Protocol):
    """One of an influencer's last posts as a line shows it."""

    @property
    def url(self) -> str: ...
    @property
    def text(self) -> str: ...


class InfluencerLine(Protocol):
    """What an influencer's line shows (``bot.services.influencers.Influencer`` has it)."""

    @property
    def author_id(self) -> int: ...
    @property
    def handle(self) -> str: ...
    @property
    def network(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def followers(self) -> int | None: ...
    @property
    def mentions(self) -> int: ...
    @property
    def engagement(self) -> int: ...
    @property
    def trend(self) -> str: ...
    @property
    def tracked(self) -> bool: ...
    @property
    def last_posts(self) -> Sequence[InfluencerPost]: ...
