"""The daily digest as typed data: what ``bot.services.reporting.digest`` computed, kept in
the outbox as JSON and rendered by ``bot.slack.digest_blocks`` when it is sent.

These mirror the parts of the report the message shows (computed values such as a
mention's link or a count's delta included), so the renderer needs nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter

from bot.messages.spikes import SpikeFigures


@dataclass(frozen=True, slots=True)
class CountData:
    """A count and the previous period's."""

    current: int
    previous: int

    @property
    def delta(self) -> int:
        """The change since the previous period."""
        return self.current - self.previous


@dataclass(frozen=True, slots=True)
class ResponsesData:
    """Response times of the period."""

    actionable: int
    answered: int
    responded: int
    median_seconds: float | None
    p90_seconds: float | None
    answered_share: float | None


@dataclass(frozen=True, slots=True)
class MentionData:
    """A mention line: ``link`` is its card when posted, else the post."""

    id: int
    network: str
    author: str | None
    text: str
    title: str | None
    priority: int
    status: str
    link: str
    topics: tuple[str, ...] = ()
    story_posts: int = 0
    """The posts of the story it is the first post of, itself included (0: no story)."""


@dataclass(frozen=True, slots=True)
class AuthorData:
    """An author of the period, with their reach."""

    handle: str
    network: str
    followers: int | None
    url: str | None
    mentions: int


@dataclass(frozen=True, slots=True)
class WaitedData:
    """A watch's mentions that waited for the digest."""

    watch_name: str
    threshold: int
    count: int
    examples: tuple[MentionData, ...]
    watch_id: int | None = None
    """The watch that let them wait (None in a digest queued before it was kept)."""


@dataclass(frozen=True, slots=True)
class SovCountData:
    """A watch's or a group's mentions in the period."""

    mentions: int


@dataclass(frozen=True, slots=True)
class SovMemberData:
    """One watch's share of voice and its trend in points, by metric."""

    watch: str
    kind: str
    current: SovCountData
    share: dict[str, float | None]
    trends: dict[str, float | None]

    def trend(self, metric: str) -> float | None:
        """The change of the share of ``metric`` since the previous period, in points."""
        return self.trends[metric]


@dataclass(frozen=True, slots=True)
class SovData:
    """A watch group's share of voice (the digest shows one line per group)."""

    group: str
    conquest: bool
    members: tuple[SovMemberData, ...]
    by_network: dict[str, tuple[SovMemberData, ...]]
    opportunities: int
    total: SovCountData


@dataclass(frozen=True, slots=True)
class DigestData:
    """What the digest message shows."""

    timezone: str
    window_start: datetime
    window_end: datetime
    local_date: date
    empty: bool
    total: CountData
    by_network: tuple[tuple[str, CountData], ...]
    by_sentiment: tuple[tuple[str, CountData], ...]
    responses: ResponsesData
    open_total: int
    open_by_status: dict[str, int]
    overdue_count: int
    overdue: tuple[MentionData, ...]
    top_authors: tuple[AuthorData, ...]
    top_priority: tuple[MentionData, ...]
    waited: tuple[WaitedData, ...]
    spikes: tuple[SpikeFigures, ...] = ()
    open_by_topic: tuple[tuple[str, int], ...] = ()
    share_of_voice: tuple[SovData, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class DigestSpec:
    """A digest to post, rendered in ``language`` when sent."""

    report: DigestData
    language: str


_ADAPTER = TypeAdapter(DigestSpec)


def digest_to_json(spec: DigestSpec) -> dict[str, Any]:
    """The digest as JSON for an outbox row's payload."""
    data: dict[str, Any] = _ADAPTER.dump_python(spec, mode="json")
    return data


def digest_from_json(data: dict[str, Any]) -> DigestSpec:
    """The digest stored by ``digest_to_json``."""
    return _ADAPTER.validate_python(data)
