"""The contract every network source follows (DESIGN.md "A source").

A source only fetches and normalizes: it turns one network's answer into
``FetchedMention`` objects plus the cursor to resume from. It never dedupes,
stores or alerts; the ingest service does that.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from bot.analysis.frozen import fast_init
from bot.net.errors import SourceRateLimited
from bot.net.fetcher import Fetcher
from bot.networks import get_network
from bot.text_hygiene import clean_id, clean_name, clean_text

Cursor = dict[str, Any]
"""Opaque, JSON-serializable resume state of one source (ids, timestamps, ETag...)."""


MAX_COUNT = 2**31 - 1
"""Largest follower or engagement count kept (PostgreSQL INTEGER); larger ones are clamped.

No network's counts come near it, so clamping loses nothing real, where widening the
columns would rewrite the largest table for the sake of hostile values."""
MAX_ID_CHARS = 500
MAX_HANDLE_CHARS = 200
MAX_NAME_CHARS = 300
MAX_NETWORK_CHARS = 32


def _count(value: int | None, *, unknown: int | None) -> int | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return unknown
    if value < 0:  # Mastodon sends -1 for a hidden count
        return unknown
    return min(value, MAX_COUNT)


def _set(obj: object, name: str, value: object) -> None:
    if getattr(obj, name) is not value:
        object.__setattr__(obj, name, value)


@fast_init  # one per mention: each field set through its slot
@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a mention, as the network describes them.

    Built clean, whatever the network sent: handle and name lose control, bidi and
    invisible characters (``clean_name``) and are cut to the stored length; a negative
    follower count is unknown, one past ``MAX_COUNT`` is clamped to it.

    ``site``: set by the sources whose author names are free text only meaningful on one
    site (a feed entry's byline: "Admin" on two blogs is two people), to the host that
    ends ``handle`` after an ``@`` (``Admin@blog.example``), as an instance ends a
    Mastodon handle; the byline is ``handle`` without it. None elsewhere.

    ``anonymous``: the handle is a placeholder naming nobody (``u/[deleted]``, a missing
    account's ``unknown``), set by the source, or here when the handle is empty. Two posts
    under it are not one person's: ingest stores no author for them (no author row, no
    ``from:`` match, no top author, no tracking), and cases never join them by author.
    """

    handle: str
    name: str | None = None
    followers: int | None = None
    url: str | None = None
    verified: bool = False
    site: str | None = None
    anonymous: bool = False

    def __post_init__(self) -> None:
        # Inline (no helper call per field): every mention builds one.
        handle = clean_name(self.handle)[:MAX_HANDLE_CHARS]
        if not handle:
            handle = "unknown"
            object.__setattr__(self, "anonymous", True)
        if handle is not self.handle:
            object.__setattr__(self, "handle", handle)
        if self.name is not None:
            name = clean_name(self.name)[:MAX_NAME_CHARS] or None
            if name is not self.name:
                object.__setattr__(self, "name", name)
        followers = self.followers
        if not (followers is None or (type(followers) is int and 0 <= followers <= MAX_COUNT)):
            object.__setattr__(self, "followers", _count(followers, unknown=None))
        if self.url is not None:
            _set(self, "url", clean_id(self.url) or None)
        if self.site is not None and not self.handle.endswith("@" + self.site):
            _set(self, "site", None)  # cleaning or the cut took the site off: no byline


_ANONYMOUS_HANDLES = {"reddit": "u/[deleted]", "bluesky": "@unknown"}


def anonymous_handle(network: str) -> str:
    """The placeholder a network's anonymous author (``Author.anonymous``) is shown by,
    as its source names them: ingest stores no author for them."""
    return _ANONYMOUS_HANDLES.get(network, "unknown")


def byline(handle: str, site: str | None) -> str | None:
    """The byline of a handle ``site`` ends (``Admin`` of ``Admin@blog.example``), else
    None (``Author.site``)."""
    if not site or not handle.lower().endswith("@" + site.lower()):
        return None
    return handle[:-len(site) - 1] or None


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
    late: bool = False
    """Found late: dated well before newer posts the source had already returned (an RSS
    entry a Google Alert listed days after it appeared). Stored like any other; ingest
    stores one published before the source's history began quietly (``history_before``)."""

    def __post_init__(self) -> None:
        # The one gate every source's output passes: one item a database cannot store
        # (a NUL, a lone surrogate, an id or count past its column) would fail its batch.
        if self._clean():
            return
        _set(self, "network", clean_id(self.network)[:MAX_NETWORK_CHARS])
        _set(self, "external_id", clean_id(self.external_id)[:MAX_ID_CHARS])
        _set(self, "url", clean_id(self.url))
        _set(self, "text", clean_text(self.text))
        if self.title is not None:
            _set(self, "title", clean_text(self.title))
        if self.language_hint is not None:
            _set(self, "language_hint", clean_id(self.language_hint) or None)
        if self.parent_external_id is not None:
            _set(self, "parent_external_id",
                 clean_id(self.parent_external_id)[:MAX_ID_CHARS] or None)
        _set(self, "engagement", _count(self.engagement, unknown=0))
        if not "".join(self.links).isprintable():
            _set(self, "links", tuple(clean_id(link) for link in self.links))

    def _clean(self) -> bool:
        """Whether every field is already what the gate makes of it (nothing to replace):
        most items, checked in a few C calls instead of a cleaning call per field."""
        hint, parent, engagement = self.language_hint, self.parent_external_id, self.engagement
        return (self.network.isprintable() and len(self.network) <= MAX_NETWORK_CHARS
                and self.external_id.isprintable() and len(self.external_id) <= MAX_ID_CHARS
                and self.url.isprintable() and self.text.isprintable()
                and (self.title is None or self.title.isprintable())
                and (hint is None or (hint != "" and hint.isprintable()))
                and (parent is None or (parent != "" and parent.isprintable()
                                        and len(parent) <= MAX_ID_CHARS))
                and type(engagement) is int and 0 <= engagement <= MAX_COUNT
                # Printable joined when each is (no generator to run per mention).
                and "".join(self.links).isprintable())


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch produced: new mentions and the cursor to store for next time."""

    mentions: list[FetchedMention]
    cursor: Cursor
    not_modified: bool = False
    rate_limited: SourceRateLimited | None = None
    """A rate limit met by a secondary call (a look-up that only adds to the mentions),
    whose mentions are kept: the poller stores them and waits before the next poll as
    after a rate-limited fetch (``retry_after``, else the source's interval)."""


SEARCHED_ASIDE = "searched_aside"
"""``FetchedMention.extra`` key: words of a post outside its text that the network's search
reads (a Mastodon image description, a poll's options), as a list of lines. A watch's
query matches them too (the search found the post by them), but they are not the post's
words: its content fingerprint, the brand addressing, cases and drafts read ``text``."""


SETTING_RULE = "vigie_rule:"
"""Prefix of the pydantic error type of a refusal raised with :func:`setting_error`."""


def setting_error(code: str, message: str, **params: str | int) -> PydanticCustomError:
    """A config validator's refusal: ``message`` in English (``{param}`` placeholders filled
    from ``params``), ``code`` naming it for readers in other languages
    (``source_error.setting_rule.CODE`` in the catalogues)."""
    return PydanticCustomError(SETTING_RULE + code, message, params)


class SourceConfig(BaseModel):
    """Base of every source's typed configuration; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


C = TypeVar("C", bound=SourceConfig)


class Source(ABC, Generic[C]):
    """One network: its name, typed config, default interval, and ``fetch``."""

    kind: ClassVar[str]
    """Short stable identifier used in commands and storage, e.g. ``"rss"``: the name of
    its network's descriptor in ``bot.networks``."""
    title: ClassVar[str]
    """Human name shown in Slack, e.g. ``"RSS / Atom feed"``."""
    config_model: ClassVar[type[SourceConfig]]
    default_interval: ClassVar[timedelta]
    can_reply: ClassVar[bool] = False
    """Whether Vigie can post replies there: set from the network's descriptor."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Take what the network's descriptor says (``bot.networks``) onto the class."""
        super().__init_subclass__(**kwargs)
        network = get_network(cls.__dict__.get("kind"))
        if network is not None:
            cls.can_reply = network.posts_replies

    @abstractmethod
    def fetch(self, http: Fetcher, config: C, cursor: Cursor) -> FetchResult:
        """Fetch what is new since ``cursor`` and return normalized mentions."""
