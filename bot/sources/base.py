"""The contract every network source follows (DESIGN.md "A source").

A source only fetches and normalizes: it turns one network's answer into
``FetchedMention`` objects plus the cursor to resume from. It never dedupes,
stores or alerts; the ingest service does that.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

Cursor = dict[str, Any]
"""Opaque, JSON-serializable resume state of one source (ids, timestamps, ETag...)."""


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a mention, as the network describes them."""

    handle: str
    name: str | None = None
    followers: int | None = None
    url: str | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class FetchedMention:
    """One normalized mention, as returned by a source.

    ``external_id`` is stable for the network (a GUID, status id, post URI...);
    ``text`` is plain text (never HTML); ``published_at`` is timezone-aware UTC.
    """

    network: str
    external_id: str
    url: str
    author: Author
    text: str
    published_at: datetime
    title: str | None = None
    language_hint: str | None = None
    parent_external_id: str | None = None
    engagement: int = 0
    links: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch produced: new mentions and the cursor to store for next time."""

    mentions: list[FetchedMention]
    cursor: Cursor
    not_modified: bool = False


class SourceError(Exception):
    """A fetch failed; ``str(err)`` is a plain-words message safe to show in Slack."""


class SourceConfigError(SourceError):
    """The source's configuration is invalid or incomplete."""


class SourceAuthError(SourceError):
    """The network refused our credentials (401/403)."""


class SourceRateLimited(SourceError):
    """The network asked us to slow down; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SourceConfig(BaseModel):
    """Base of every source's typed configuration; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


C = TypeVar("C", bound=SourceConfig)


class HttpResponse(Protocol):
    """The subset of a response a source may read."""

    status_code: int
    headers: Any
    content: bytes
    url: str

    def json(self) -> Any:
        """Decode the body as JSON."""


class Fetcher(Protocol):
    """The shared HTTP layer as seen by a source (implemented in ``bot.sources.http``)."""

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        cursor: Cursor | None = None,
    ) -> HttpResponse:
        """GET ``url``; with ``cursor`` it sends and updates ETag/Last-Modified validators."""

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        """POST to ``url`` (authentication handshakes)."""


class Source(ABC, Generic[C]):
    """One network: its name, typed config, default interval, and ``fetch``."""

    kind: ClassVar[str]
    """Short stable identifier used in commands and storage, e.g. ``"rss"``."""
    title: ClassVar[str]
    """Human name shown in Slack, e.g. ``"RSS / Atom feed"``."""
    config_model: ClassVar[type[SourceConfig]]
    default_interval: ClassVar[timedelta]
    can_reply: ClassVar[bool] = False

    @abstractmethod
    def fetch(self, http: Fetcher, config: C, cursor: Cursor) -> FetchResult:
        """Fetch what is new since ``cursor`` and return normalized mentions."""
