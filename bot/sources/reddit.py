"""Reddit: OAuth API search / subreddit comments, or the public search RSS feed."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlencode, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.net.errors import SourceError
from bot.net.fetcher import Fetcher
from bot.net.http import HttpAuthError
from bot.sources.base import (
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
    anonymous_handle,
    setting_error,
)
from bot.sources.cursors import SeenIds, cursor_time, drop_seen
from bot.sources.json_fields import as_str
from bot.sources.rss import fetch_feed
from bot.sources.text import (
    collapse_whitespace,
    extract_links,
    from_epoch,
    html_to_text,
    usable_url,
)

NETWORK = "reddit"
WEB = "https://www.reddit.com"
SEEN_KEEP = 500
LATE_GRACE = timedelta(hours=6)
"""Search indexing lags: unseen items this much older than the newest seen are flagged
``late`` (still new: ingest stores them, quietly when they predate the source's history)."""
_SUBREDDIT = re.compile(r"^[A-Za-z0-9_]{2,21}$")
_FULLNAME = re.compile(r"t[1-6]_[0-9a-z]{1,13}")
"""A thing's fullname, what a listing's ``after`` names (kind prefix, base-36 id)."""
log = logging.getLogger(__name__)
_TOKEN_MARGIN = 60.0


def _http_base(value: str) -> str:
    value = value.strip().rstrip("/")
    if urlsplit(value).scheme not in {"http", "https"}:
        raise setting_error("address_scheme", "addresses must start with https://")
    return value


class RedditConfig(SourceConfig):
    """Settings of a Reddit source."""

    mode: Literal["search", "comments", "rss"] = Field(
        default="search",
        description="'search': posts matching the query (API); 'comments': every new comment "
        "of a subreddit (API); 'rss': the public search feed (no credentials).",
    )
    query: str | None = Field(
        default=None, max_length=300, description="Search words (search and rss modes)."
    )
    subreddit: str | None = Field(
        default=None,
        description="Limit to this subreddit (name without r/); required in comments mode.",
    )
    client_id: str | None = Field(
        default=None, description="Client id of a Reddit 'script' or 'web' app (API modes)."
    )
    client_secret: SecretStr | None = Field(
        default=None, description="Client secret of that app (API modes)."
    )
    limit: int = Field(default=100, ge=1, le=100, description="Items asked per request.")
    auth_url: str = Field(default=f"{WEB}/api/v1/access_token", description="OAuth token endpoint.")
    api_base: str = Field(default="https://oauth.reddit.com", description="OAuth API address.")
    rss_base: str = Field(default=WEB, description="Address of the public RSS feeds.")

    @field_validator("auth_url", "api_base", "rss_base")
    @classmethod
    def _bases(cls, value: str) -> str:
        return _http_base(value)

    @field_validator("subreddit")
    @classmethod
    def _subreddit(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        name = value.strip().removeprefix("/").removeprefix("r/")
        if not _SUBREDDIT.match(name):
            raise setting_error("subreddit_name",
                                "a subreddit name has 2 to 21 letters, digits or underscores")
        return name

    @model_validator(mode="after")
    def _complete(self) -> RedditConfig:
        if self.mode in {"search", "rss"} and not (self.query or "").strip():
            raise setting_error("mode_needs_query", "{mode} mode needs a query", mode=self.mode)
        if self.mode == "comments" and self.subreddit is None:
            raise setting_error("comments_need_subreddit", "comments mode needs a subreddit")
        if self.mode != "rss" and (not self.client_id or self.client_secret is None):
            raise setting_error("api_needs_credentials",
                                "API modes need client_id and client_secret (or use mode 'rss')")
        return self


class _TokenCache:
    """App-only OAuth tokens reused until shortly before they expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    @staticmethod
    def key(config: RedditConfig) -> tuple[str, str, str]:
        """Cache key: endpoint, account and a digest of the secret (never the secret)."""
        secret = config.client_secret.get_secret_value() if config.client_secret else ""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return (config.auth_url, config.client_id or "", digest)

    def get(self, key: tuple[str, str, str]) -> str | None:
        """The cached token, if any (and still valid)."""
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))
        return token if token and time.monotonic() < expires else None

    def put(self, key: tuple[str, str, str], token: str | None, ttl: float = 0.0) -> None:
        """Store a token, or forget it when None."""
        with self._lock:
            if token is None:
                self._tokens.pop(key, None)
            else:
                self._tokens[key] = (token, time.monotonic() + ttl)

    def clear(self) -> None:
        """Forget every token."""
        with self._lock:
            self._tokens.clear()


TOKENS = _TokenCache()


def request_token(http: Fetcher, config: RedditConfig) -> tuple[str, float]:
    """Client-credentials grant: (access token, seconds it stays valid)."""
    secret = config.client_secret.get_secret_value() if config.client_secret else ""
    basic = base64.b64encode(f"{config.client_id}:{secret}".encode()).decode()
    response = http.post(
        config.auth_url,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        idempotent=True,
    )
    payload = response.json()
    token = payload.get("access_token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token:
        raise SourceError("Reddit did not grant an access token; check the app credentials",
                          key="reddit_no_token")
    expires = payload.get("expires_in")
    ttl = float(expires) if isinstance(expires, int | float) else 3600.0
    return token, max(0.0, ttl - _TOKEN_MARGIN)


def _permalink(path: str | None) -> str | None:
    """The item's address on the site, or None when ``path`` is not a path on it (Reddit
    sends site paths; anything else made links like ``https://www.reddit.comx``)."""
    path = (path or "").split("?", 1)[0]  # e.g. "?ref=search_posts"
    return WEB + path if path.startswith("/") else None


def _author(name: str | None) -> Author:
    if not name or name == "[deleted]":  # the account is gone: nobody to tell apart
        return Author(handle=anonymous_handle(NETWORK), name="[deleted]", anonymous=True)
    return Author(handle=f"u/{name}", name=name, url=f"{WEB}/user/{name}")


_USERNAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_PROFILE_PATH = re.compile(r"/(?:user|u)/([A-Za-z0-9_-]{1,32})/?")
_SUBMITTED_BY = re.compile(r"\bsubmitted by /?(?:u/)?([A-Za-z0-9_-]{1,32}) to\b")


def _feed_username(mention: FetchedMention) -> str | None:
    """The Reddit username behind a search feed entry: its Atom byline (``/u/name``),
    its profile address (``.../user/name``), or the "submitted by name" line that RSS 2.0
    feeds end their description with; None when the entry names nobody."""
    byline = (mention.author.name or "").strip().removeprefix("/").removeprefix("u/")
    if _USERNAME.fullmatch(byline):
        return byline
    profile = _PROFILE_PATH.fullmatch(urlsplit(mention.author.url or "").path)
    if profile:
        return profile.group(1)
    submitted = _SUBMITTED_BY.search(mention.text[-300:])
    return submitted.group(1) if submitted else None


def feed_mention(mention: FetchedMention) -> FetchedMention:
    """A search feed entry authored as the API names the poster (``u/name``, at their
    profile): the generic feed byline (``/u/name@reddit.com``) made the same person two
    authors across modes, and never matched the brand's account ``u/name``."""
    return replace(mention, author=_author(_feed_username(mention)))


def _shared_links(body_html: str | None) -> tuple[str, ...]:
    """The links a self post's or a comment's words hold (its rendered HTML), but Reddit's
    own pages (a subreddit's rules, the site): navigation that every AutoModerator comment
    repeats, no page the post shares (a story by that link would join them all)."""
    if not body_html:
        return ()
    return tuple(link for link in extract_links(body_html)
                 if not _on_reddit(urlsplit(link).hostname or ""))


def _on_reddit(host: str) -> bool:
    host = host.lower()
    return any(host == site or host.endswith("." + site)
               for site in ("reddit.com", "redd.it", "reddit.app.link"))


def thing_to_mention(kind: str, data: dict[str, Any]) -> FetchedMention | None:
    """Normalize a submission (t3) or a comment (t1)."""
    thing_id = as_str(data.get("id"))
    fullname = as_str(data.get("name")) or (f"{kind}_{thing_id}" if thing_id else None)
    published = from_epoch(data.get("created_utc"))
    url = _permalink(as_str(data.get("permalink")))
    if not fullname or published is None or url is None:
        return None
    if kind == "t3":
        title = collapse_whitespace(as_str(data.get("title")) or "") or None
        text = (
            collapse_whitespace(as_str(data.get("selftext")) or "")
            or html_to_text(as_str(data.get("selftext_html")))
            or title
            or ""
        )
        link = data.get("url")
        links = (
            (link,)
            if not data.get("is_self")
            and isinstance(link, str)
            and link.startswith(("http://", "https://"))
            and usable_url(link)
            else _shared_links(as_str(data.get("selftext_html")))
        )
        parent = None
        engagement = _int(data.get("score")) + _int(data.get("num_comments"))
    else:
        # A comment's own words only: its thread's title is context (``extra``), not its
        # title, which a watch's query and the analysis read as the comment's words.
        title = None
        text = collapse_whitespace(as_str(data.get("body")) or "") or html_to_text(
            as_str(data.get("body_html")))
        links = _shared_links(as_str(data.get("body_html")))
        parent = data.get("parent_id") if isinstance(data.get("parent_id"), str) else None
        engagement = _int(data.get("score"))
    extra: dict[str, Any] = {"subreddit": as_str(data.get("subreddit")), "kind": kind}
    thread_title = collapse_whitespace(as_str(data.get("link_title")) or "")
    if kind != "t3" and thread_title:
        extra["context"] = thread_title  # stored as the mention's context (ingest)
    link_id = data.get("link_id")
    if kind != "t3" and isinstance(link_id, str) and link_id.startswith("t3_"):
        extra["thread_root"] = link_id  # the submission a comment is in (cases)
    return FetchedMention(
        network=NETWORK,
        external_id=fullname,
        url=url,
        author=_author(as_str(data.get("author"))),
        text=text,
        published_at=published,
        title=title,
        parent_external_id=parent,
        engagement=engagement,
        links=links,
        extra=extra,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _walk(node: Any, out: list[tuple[str, dict[str, Any]]]) -> None:
    if isinstance(node, list):
        for item in node:
            _walk(item, out)
        return
    if not isinstance(node, dict):
        return
    kind, data = as_str(node.get("kind")), node.get("data")
    if not isinstance(data, dict):
        return
    if kind == "Listing":
        _walk(data.get("children") or [], out)
    elif kind in {"t1", "t3"}:
        out.append((kind, data))
        _walk(data.get("replies"), out)  # a nested Listing, or "" when there are none


def _is_listing(node: Any) -> bool:
    """Whether ``node`` is a Listing: ``{"kind": "Listing", "data": {"children": [...]}}``."""
    return (isinstance(node, dict) and node.get("kind") == "Listing"
            and isinstance(data := node.get("data"), dict)
            and isinstance(data.get("children"), list))


def parse_listing(payload: Any) -> list[FetchedMention]:
    """Mentions from a Listing, a list of Listings (a post and its comments), with
    nested replies flattened; 'more' placeholders are skipped.

    Any other answer (an error object, a Listing without children...) is a SourceError:
    read as an empty Listing, it made every poll look like a quiet one.
    """
    listings = payload if isinstance(payload, list) else [payload]
    if not listings or not all(map(_is_listing, listings)):
        error = isinstance(payload, dict) and ("error" in payload or "message" in payload)
        raise SourceError("Reddit sent an unexpected answer: "
                          + ("an error instead of a listing" if error else "not a listing"),
                          key="unexpected_answer", params={"network": "Reddit"})
    things: list[tuple[str, dict[str, Any]]] = []
    _walk(payload, things)
    mentions = [thing_to_mention(kind, data) for kind, data in things]
    return [m for m in mentions if m is not None]


def select_unseen(
    mentions: list[FetchedMention], cursor: Cursor, *, late_after: datetime | None = None
) -> tuple[list[FetchedMention], Cursor]:
    """Mentions not seen before (bounded id set), however old: one dated more than
    LATE_GRACE before the newest seen (or ``late_after``, when given) is flagged ``late``
    (found late by the search)."""
    fresh, seen = drop_seen(mentions, cursor, SEEN_KEEP)
    newest = cursor_time(cursor, "newest")
    reference = late_after or newest
    if reference is not None:
        fresh = [replace(m, late=True) if m.published_at < reference - LATE_GRACE else m
                 for m in fresh]
    now = datetime.now(UTC)
    times = [m.published_at for m in mentions if m.published_at <= now + timedelta(days=1)]
    latest = max([*times, *([newest] if newest else [])], default=None)
    new_cursor: Cursor = {"seen": seen}
    if latest is not None:
        new_cursor["newest"] = latest.isoformat()
    return sorted(fresh, key=lambda m: m.published_at), new_cursor


def _backlog(cursor: Cursor) -> tuple[str, datetime] | None:
    """The stored backlog, as (the ``after`` fullname of its next page, ``floor``: the
    newest time known before it began), or None. A cursor is hostile input: values that
    are not what a poll writes drop the backlog with a warning (this poll reads the
    newest page; a later burst is read as any)."""
    if cursor.get("after") is None:
        return None
    after, floor = cursor.get("after"), cursor_time(cursor, "floor")
    if not isinstance(after, str) or not _FULLNAME.fullmatch(after) or floor is None:
        log.warning("Reddit: the stored cursor after=%.40r floor=%.40r is not a backlog a "
                    "poll writes; dropped", after, cursor.get("floor"))
        return None
    return after, floor


def _next_after(payload: Any, mentions: list[FetchedMention], cursor: Cursor, limit: int,
                backlog: tuple[str, datetime] | None) -> tuple[str, datetime] | None:
    """Where the next poll goes on, when this page was full and reached nothing known
    (no item seen before, none as old as the newest known before): the listing's
    ``after``; None once a page reaches what was read, or the listing ends."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or len(data.get("children") or []) < limit:
        return None
    floor = backlog[1] if backlog else cursor_time(cursor, "newest")
    seen = SeenIds(cursor.get("seen") or [])
    if floor is None or not cursor.get("seen") or any(
            m.external_id in seen or m.published_at <= floor for m in mentions):
        return None
    after = data.get("after")
    if not isinstance(after, str) or not _FULLNAME.fullmatch(after) or \
            (backlog is not None and after == backlog[0]):
        return None
    return after, floor


def rss_url(config: RedditConfig) -> str:
    """The public search feed for the query (newest first)."""
    params = {"q": config.query or "", "sort": "new"}
    if config.subreddit:
        params["restrict_sr"] = "on"
        return f"{config.rss_base}/r/{quote(config.subreddit)}/search.rss?{urlencode(params)}"
    return f"{config.rss_base}/search.rss?{urlencode(params)}"


CLOSED_SUBREDDITS = frozenset({"private", "gated", "quarantined"})
"""The ``reason`` of Reddit's 403 for a subreddit it does not show this app
(``{"reason": "private", "message": "Forbidden", "error": 403}``)."""


def _closed_subreddit(err: HttpAuthError, config: RedditConfig) -> SourceError:
    """``err``, or for a 403 on a private, gated or quarantined subreddit, an error saying
    so: the credentials are fine (and their token is kept)."""
    if err.status_code != 403 or err.error_code not in CLOSED_SUBREDDITS or not config.subreddit:
        return err
    subreddit = f"r/{config.subreddit}"
    return SourceError(f"{subreddit} is {err.error_code}: Reddit does not show it to this app",
                       key=f"reddit_{err.error_code}", params={"subreddit": subreddit})


class RedditSource(Source[RedditConfig]):
    """Reddit posts or comments, through the OAuth API or the public RSS feed."""

    kind: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Reddit"
    config_model: ClassVar[type[SourceConfig]] = RedditConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=10)

    def fetch(self, http: Fetcher, config: RedditConfig, cursor: Cursor) -> FetchResult:
        """Fetch new posts or comments since the cursor.

        In the API modes, a poll whose page was full and reached nothing read before
        (more new items than one page) notes the listing's ``after`` in the cursor, with
        ``floor``, the newest time known before: the next polls read the pages after it
        until one reaches what was read (or the listing ends, Reddit's ~1000 items), and
        only then read the newest page again."""
        if config.mode == "rss":
            result = fetch_feed(
                http, rss_url(config), cursor, network=NETWORK, max_entries=config.limit
            )
            return replace(result, mentions=[feed_mention(m) for m in result.mentions])
        backlog = _backlog(cursor)
        key = TOKENS.key(config)
        cached = TOKENS.get(key) is not None
        after = backlog[0] if backlog else None
        try:
            payload = self._get(http, config, key, after)
        except HttpAuthError as err:
            if err.status_code != 401 or not cached:
                raise _closed_subreddit(err, config) from err
            TOKENS.put(key, None)  # a cached token may have been revoked early: renew once
            payload = self._get(http, config, key, after)
        listed = parse_listing(payload)
        mentions, new_cursor = select_unseen(listed, cursor,
                                             late_after=backlog[1] if backlog else None)
        following = _next_after(payload, listed, cursor, config.limit, backlog)
        if following is not None:
            new_cursor |= {"after": following[0], "floor": following[1].isoformat()}
        return FetchResult(mentions=mentions, cursor=new_cursor)

    def _get(self, http: Fetcher, config: RedditConfig, key: tuple[str, str, str],
             after: str | None = None) -> Any:
        token = TOKENS.get(key)
        if token is None:
            token, ttl = request_token(http, config)
            TOKENS.put(key, token, ttl)
        url, params = self._endpoint(config)
        if after:
            params["after"] = after
        headers = {"Authorization": f"Bearer {token}"}
        return http.get(url, params=params, headers=headers).json()

    @staticmethod
    def _endpoint(config: RedditConfig) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"limit": config.limit, "raw_json": 1}
        if config.mode == "comments":
            return f"{config.api_base}/r/{config.subreddit}/comments", params
        params |= {"q": config.query, "sort": "new", "type": "link"}
        if config.subreddit:
            params["restrict_sr"] = "true"
            return f"{config.api_base}/r/{config.subreddit}/search", params
        return f"{config.api_base}/search", params
