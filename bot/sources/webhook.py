"""Inbound webhook: anything else pushes HMAC-signed mentions to Vigie.

Signature scheme (documented for senders):

* header ``X-Vigie-Timestamp: <unix seconds>``, the time the request is sent;
* header ``X-Vigie-Signature: sha256=<hex>``, the HMAC-SHA256 of ``<timestamp>.<body>``
  (the timestamp, a dot, then the raw body) with the source's shared secret.

Requests more than 5 minutes older or newer than Vigie's clock are refused, like Slack's
own signatures, so a captured request cannot be replayed later (for instance after
`/cm forget` removed the author it names). Both headers are required: a signature without
a timestamp never expires, so it is refused.

Body: one mention object, a list of them, or ``{"mentions": [...]}``, with fields
``id, url, text, author{handle,name,followers}, published_at, network, language``
(and optional ``title``, ``parent_id``).

A pushed item is the sender's word, not a network's: its ``network`` (and the source's
own ``network`` label) may not name a network Vigie reads through its own source (X,
Mastodon, Bluesky, Reddit, Hacker News, feeds, or an alias of one). Mentions, authors, the
brand's accounts and cases are keyed by network, so an item labelled ``x`` would be taken
for X's data: a post by the brand's X account closing a real customer's case, or an X
author's name and followers rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.net.errors import SourceAuthError, SourceError
from bot.net.fetcher import Fetcher
from bot.networks import resolve_network
from bot.sources.base import (
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
    setting_error,
)
from bot.sources.text import language_tag, to_utc

SIGNATURE_HEADER = "X-Vigie-Signature"
TIMESTAMP_HEADER = "X-Vigie-Timestamp"
REPLAY_WINDOW_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024
MAX_ITEMS = 100
_MAX_ERRORS_SHOWN = 5
_HEX_DIGITS = frozenset("0123456789abcdef")


class WebhookPayloadError(SourceError):
    """The body is not acceptable; the message lists what is wrong, item by item."""


MIN_SECRET_CHARS = 16
DEFAULT_NETWORK = "webhook"


def read_network(name: str) -> str | None:
    """The network Vigie reads itself that ``name`` names (aliases included, e.g. ``x``
    for ``twitter``), or None when a webhook may use ``name`` as its label."""
    network = resolve_network(name)
    return network.name if network is not None and network.name != DEFAULT_NETWORK else None


def _own_label(value: str | None) -> str | None:
    if value is not None and (taken := read_network(value)) is not None:
        # The sender cannot speak for that network: its keys (authors, the brand's
        # accounts, cases, post ids) are the network's own source's.
        named = f"{value!r}" if value == taken else f"{value!r} ({taken})"
        raise setting_error("webhook_own_network", "{named} is a network Vigie reads itself; "
                            "a webhook's posts keep a label of their own (e.g. 'forum')",
                            named=named)
    return value


def pushed_network(label: object) -> str:
    """The network a source's pushed items are stored under when they give none: its
    configured label, or ``webhook`` when that names a network Vigie reads itself (a
    source configured before such labels were refused)."""
    text = str(label or DEFAULT_NETWORK)
    return DEFAULT_NETWORK if read_network(text) is not None else text


class WebhookConfig(SourceConfig):
    """Settings of an inbound webhook source."""

    secret: SecretStr = Field(description="Shared secret the sender signs each request with.")
    network: str = Field(
        default=DEFAULT_NETWORK,
        pattern=r"^[a-z0-9_-]{1,32}$",
        description="Network label used when an item does not give one; not a network "
                    "Vigie reads itself (x, mastodon, bluesky, reddit, hackernews, rss).",
    )

    @field_validator("network")
    @classmethod
    def _not_read_by_vigie(cls, value: str) -> str:
        result = _own_label(value)
        assert result is not None
        return result

    @field_validator("secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        # Checked here: pydantic words a SecretStr's min_length as "16 items".
        if len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise setting_error("secret_too_short", "must be at least {min} characters (leave "
                                "it out and Vigie generates one)", min=MIN_SECRET_CHARS)
        return value


def verify_signature(
    secret: str | bytes,
    body: bytes,
    header_value: str | None,
    timestamp: str | None = None,
    *,
    now: float | None = None,
    window: int = REPLAY_WINDOW_SECONDS,
) -> None:
    """Check ``sha256=<hex>`` against ``b"<timestamp>." + body``; raise SourceAuthError.

    Comparison is constant-time; the timestamp is required and must be within ``window``
    seconds of now (replay protection).
    """
    if not header_value:
        raise SourceAuthError("missing signature header")
    scheme, _, signature = header_value.strip().partition("=")
    if scheme.lower() != "sha256" or not signature:
        raise SourceAuthError("the signature header must look like sha256=<hex>")
    key = secret.encode() if isinstance(secret, str) else secret
    if timestamp is None or not timestamp.strip():
        raise SourceAuthError(f"missing {TIMESTAMP_HEADER} header (unix seconds; sign "
                              "'<timestamp>.<body>')")
    try:
        sent = int(timestamp.strip())
    except ValueError as err:
        raise SourceAuthError("the timestamp header is not a number of seconds") from err
    current = time.time() if now is None else now
    if abs(current - sent) > window:
        raise SourceAuthError("the request is too old or from the future (replay refused)")
    message = timestamp.strip().encode() + b"." + body
    expected = hmac.new(key, message, hashlib.sha256).hexdigest().encode()
    given = signature.strip().lower()
    # Compared as bytes: compare_digest raises TypeError on a str that is not ASCII (a
    # header is read as latin-1), which was a 500. Anything but 64 hex digits is just wrong.
    if len(given) != len(expected) or not all(char in _HEX_DIGITS for char in given):
        raise SourceAuthError("bad signature")
    if not hmac.compare_digest(expected, given.encode("ascii")):
        raise SourceAuthError("bad signature")


class WebhookAuthor(BaseModel):
    """Who wrote the pushed mention."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    handle: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    followers: int | None = Field(default=None, ge=0)
    url: HttpUrl | None = None


class WebhookMention(BaseModel):
    """One pushed mention, strictly validated."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=500)
    url: HttpUrl
    text: str = Field(max_length=40_000)
    author: WebhookAuthor
    published_at: AwareDatetime
    network: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,32}$")
    language: str | None = Field(default=None, max_length=20)
    title: str | None = Field(default=None, max_length=500)
    parent_id: str | None = Field(default=None, max_length=500)

    @field_validator("network")
    @classmethod
    def _not_read_by_vigie(cls, value: str | None) -> str | None:
        return _own_label(value)

    @model_validator(mode="after")
    def _has_words(self) -> WebhookMention:
        # Stored, it was an empty mention: a card, a count and an SLA for nothing. A title
        # alone (a review's headline) is words enough, as for a feed entry.
        if not (_visible(self.text) or _visible(self.title or "")):
            raise PydanticCustomError(
                "blank_text", "text and title must not both be blank (a mention needs words)")
        return self

    @field_validator("published_at")
    @classmethod
    def _within_the_calendar(cls, value: AwareDatetime) -> AwareDatetime:
        # 9999-12-31T23:00:00-05:00 is valid as written but past year 9999 in UTC: the
        # conversion raised OverflowError, a 500 that refused the whole batch, and senders
        # retry a 5xx forever.
        try:
            return to_utc(value)
        except OverflowError:
            raise PydanticCustomError(
                "out_of_range", "out of range (past year 9999 or before year 1 in UTC)"
            ) from None

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def to_mention(self, default_network: str) -> FetchedMention:
        """The normalized mention, under the item's own network label or
        ``default_network`` (never a network Vigie reads itself: see the module)."""
        network = self.network or pushed_network(default_network)
        return FetchedMention(
            network=network,
            external_id=self.id,
            url=str(self.url),
            author=Author(
                handle=self.author.handle,
                name=self.author.name,
                followers=self.author.followers,
                url=str(self.author.url) if self.author.url else None,
            ),
            text="".join(ch for ch in self.text if ch.isprintable() or ch in "\n\t"),
            published_at=to_utc(self.published_at),
            title=self.title,
            language_hint=language_tag(self.language),
            parent_external_id=self.parent_id,
        )


def _visible(text: str) -> str:
    """``text`` without what shows nothing (controls, zero-width characters, spaces)."""
    return "".join(ch for ch in text if ch.isprintable()).strip()


def _items(data: Any) -> list[Any]:
    if isinstance(data, dict) and "mentions" in data and len(data) == 1:
        data = data["mentions"]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return data
    raise WebhookPayloadError('the body must be a mention object, a list, or {"mentions": [...]}')


def _describe(index: int, err: ValidationError) -> str:
    problems = []
    for detail in err.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in detail["loc"])  # none: the item as a whole
        problems.append(f"{where}: {detail['msg']}" if where else detail["msg"])
    return f"item {index}: " + "; ".join(problems)


def parse_webhook_body(
    body: bytes, *, default_network: str = DEFAULT_NETWORK, max_items: int = MAX_ITEMS
) -> list[FetchedMention]:
    """Validate a pushed body and return its mentions (all or nothing).

    Raises WebhookPayloadError naming every bad item (the first few) and field.
    """
    if len(body) > MAX_BODY_BYTES:
        raise WebhookPayloadError(f"the body is larger than {MAX_BODY_BYTES // 1024} KB")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise WebhookPayloadError("the body is not valid JSON") from err
    except RecursionError as err:
        raise WebhookPayloadError("the body is nested too deeply") from err
    items = _items(data)
    if not items:
        raise WebhookPayloadError("the body contains no mention")
    if len(items) > max_items:
        raise WebhookPayloadError(f"too many mentions in one request (at most {max_items})")
    mentions: list[FetchedMention] = []
    errors: list[str] = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise WebhookPayloadError(f"item {index}: must be an object")
            mentions.append(WebhookMention.model_validate(item).to_mention(default_network))
        except ValidationError as err:
            errors.append(_describe(index, err))
        except WebhookPayloadError as err:
            errors.append(str(err))
    if errors:
        more = (
            f" (and {len(errors) - _MAX_ERRORS_SHOWN} more)"
            if len(errors) > _MAX_ERRORS_SHOWN
            else ""
        )
        raise WebhookPayloadError(" | ".join(errors[:_MAX_ERRORS_SHOWN]) + more)
    return mentions


class WebhookSource(Source[WebhookConfig]):
    """Push-only source: mentions arrive through the inbound webhook, never by polling."""

    kind: ClassVar[str] = "webhook"
    title: ClassVar[str] = "Inbound webhook"
    config_model: ClassVar[type[SourceConfig]] = WebhookConfig
    default_interval: ClassVar[timedelta] = timedelta(0)

    def fetch(self, http: Fetcher, config: WebhookConfig, cursor: Cursor) -> FetchResult:
        """Nothing to poll: returns no mentions and the cursor unchanged."""
        return FetchResult(mentions=[], cursor=dict(cursor), not_modified=True)
