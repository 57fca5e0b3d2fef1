"""Bluesky: ``app.bsky.feed.searchPosts`` with an app password session."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from bot.net.errors import SourceError, SourceRateLimited
from bot.net.fetcher import Fetcher
from bot.net.http import HttpAuthError, HttpStatusError
from bot.sources.base import (
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
    setting_error,
)
from bot.sources.cursors import LOOKBACK, SeenIds, cursor_time, drop_seen
from bot.sources.json_fields import as_dict, as_list, as_str
from bot.sources.text import (
    collapse_whitespace,
    language_tag,
    parse_iso,
    usable_url,
    whole_link,
)

NETWORK = "bluesky"
SEEN_KEEP = 300
PROFILES_PER_CALL = 25
"""Most actors one ``app.bsky.actor.getProfiles`` call takes (its lexicon's maxLength)."""
_TICK = timedelta(milliseconds=1)
log = logging.getLogger(__name__)
_EXPIRED_CODES = frozenset({"ExpiredToken", "InvalidToken"})
T = TypeVar("T")


class BlueskyAccount(Protocol):
    """What signing in needs; ``BlueskyConfig`` and the reply publisher's credentials fit."""

    @property
    def service_url(self) -> str:
        """The account's PDS, without a trailing slash."""

    @property
    def handle(self) -> str:
        """Handle (or email) used to sign in."""

    @property
    def app_password(self) -> SecretStr:
        """An app password of the account."""


class BlueskyConfig(SourceConfig):
    """Settings of a Bluesky search source."""

    query: str = Field(
        min_length=1, max_length=300, description="Search words (Lucene syntax is accepted)."
    )
    handle: str = Field(
        min_length=3,
        description="Handle (or email) of the account that searches, e.g. brand.bsky.social.",
    )
    app_password: SecretStr = Field(
        description="An app password of that account (Settings > Privacy > App passwords)."
    )
    service_url: str = Field(
        default="https://bsky.social",
        description="The account's PDS, where sessions are created and searches sent.",
    )
    language: str | None = Field(
        default=None, description="Only posts in this language (e.g. 'en'); empty for all."
    )
    limit: int = Field(default=50, ge=1, le=100, description="Posts asked per page (max 100).")
    max_pages: int = Field(
        default=3, ge=1, le=20, description="Most pages read per fetch when many posts are new."
    )

    @field_validator("service_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"}:
            raise setting_error("address_scheme", "the service address must start with https://")
        return value

    @field_validator("handle")
    @classmethod
    def _handle(cls, value: str) -> str:
        return value.strip().lstrip("@")


@dataclass(frozen=True, slots=True)
class _Session:
    """A signed-in session; ``did`` and ``handle`` are the account's, when the server says."""

    access_jwt: str
    refresh_jwt: str
    did: str | None = None
    handle: str | None = None


BlueskySession = _Session
"""Public name of a session, for code that signs in through :func:`signed_in`."""


class _SessionCache:
    """Process-wide sessions: createSession is rate limited (a few hundred a day),
    so a session is reused across fetches until it expires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str, str], _Session] = {}

    @staticmethod
    def key(config: BlueskyAccount) -> tuple[str, str, str]:
        """Cache key: endpoint, account and a digest of the secret (never the secret)."""
        secret = config.app_password.get_secret_value().encode()
        return (config.service_url, config.handle.lower(), hashlib.sha256(secret).hexdigest())

    def get(self, key: tuple[str, str, str]) -> _Session | None:
        """The cached session, if any (and still valid)."""
        with self._lock:
            return self._sessions.get(key)

    def put(self, key: tuple[str, str, str], session: _Session | None) -> None:
        """Store a session, or forget it when None."""
        with self._lock:
            if session is None:
                self._sessions.pop(key, None)
            else:
                self._sessions[key] = session

    def clear(self) -> None:
        """Forget every session (tests, credential rotation)."""
        with self._lock:
            self._sessions.clear()


SESSIONS = _SessionCache()


def _xrpc(config: BlueskyAccount, method: str) -> str:
    return f"{config.service_url}/xrpc/{method}"


def _session_from(payload: Any) -> _Session:
    access = as_str(payload.get("accessJwt")) if isinstance(payload, dict) else None
    if access is None:
        raise SourceError("Bluesky sent an unexpected answer when signing in",
                          key="unexpected_answer", params={"network": "Bluesky"})
    return _Session(
        access,
        as_str(payload.get("refreshJwt")) or "",
        did=as_str(payload.get("did")),
        handle=as_str(payload.get("handle")),
    )


def create_session(http: Fetcher, config: BlueskyAccount) -> _Session:
    """Sign in with handle + app password."""
    response = http.post(
        _xrpc(config, "com.atproto.server.createSession"),
        json={"identifier": config.handle, "password": config.app_password.get_secret_value()},
        idempotent=True,
    )
    return _session_from(response.json())


def _refresh(http: Fetcher, config: BlueskyAccount, session: _Session) -> _Session:
    """A new access token from the refresh token, or a new sign-in if that fails."""
    if session.refresh_jwt:
        try:
            response = http.post(
                _xrpc(config, "com.atproto.server.refreshSession"),
                headers={"Authorization": f"Bearer {session.refresh_jwt}"},
            )
            return _session_from(response.json())
        except (HttpAuthError, HttpStatusError):
            pass
    return create_session(http, config)


def _is_expired(err: HttpAuthError | HttpStatusError) -> bool:
    return err.error_code in _EXPIRED_CODES or err.status_code == 401


def signed_in(http: Fetcher, account: BlueskyAccount, call: Callable[[_Session], T]) -> T:
    """Run ``call`` with the account's cached session (signing in when there is none);
    when the server says the token expired, refresh it (or sign in again) and run it once more.
    """
    key = SESSIONS.key(account)
    session = SESSIONS.get(key) or create_session(http, account)
    SESSIONS.put(key, session)
    try:
        return call(session)
    except (HttpAuthError, HttpStatusError) as err:
        if not _is_expired(err):
            raise
        session = _refresh(http, account, session)
        SESSIONS.put(key, session)
        return call(session)


def _rkey(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _links(record: dict[str, Any], post: dict[str, Any]) -> tuple[str, ...]:
    links: list[str] = []
    for facet in as_list(record.get("facets")):
        for feature in as_list(as_dict(facet).get("features")):
            if isinstance(feature, dict) and str(feature.get("$type", "")).endswith("#link"):
                links.append(as_str(feature.get("uri")) or "")
    for raw in (record.get("embed"), post.get("embed")):
        embed = as_dict(raw)
        # A quote post with a link card (recordWithMedia) holds its card in ``media``.
        for holder in (embed, as_dict(embed.get("media"))):
            external_uri = as_str(as_dict(holder.get("external")).get("uri"))
            if external_uri:
                links.append(external_uri)
    return tuple(dict.fromkeys(
        x for x in links if x.startswith(("http://", "https://")) and usable_url(x)))


def _text(record: dict[str, Any]) -> str:
    """The post's text with each link the app shortened (``atproto.com/community/pr...``:
    a link facet's text) written whole, without query or fragment (``whole_link``), so a
    word in its hidden part is matched and tracking parameters (``?utm_campaign=acme``)
    are none of its words. A link over other words ("the new Acme Rocket Boots", as
    bridged posts and some clients make) keeps its words, as on Mastodon; its address is
    in ``links``. Facets index the text's UTF-8 bytes; one whose range is not whole
    characters of the text, or overlaps another, leaves its text as it is."""
    text = as_str(record.get("text")) or ""
    links: list[tuple[int, int, str]] = []
    for facet in as_list(record.get("facets")):
        index = as_dict(as_dict(facet).get("index"))
        start, end = index.get("byteStart"), index.get("byteEnd")
        if type(start) is not int or type(end) is not int:
            continue
        for feature in as_list(as_dict(facet).get("features")):
            uri = as_str(as_dict(feature).get("uri"))
            if (str(as_dict(feature).get("$type", "")).endswith("#link") and uri
                    and uri.startswith(("http://", "https://")) and usable_url(uri)):
                links.append((start, end, uri))
                break
    if not links:
        return text.strip()
    data = text.encode("utf-8")
    pieces: list[bytes] = []
    done = 0
    for start, end, uri in sorted(links):
        if not done <= start < end <= len(data):
            continue
        try:
            shown = data[start:end].decode("utf-8")
            data[done:start].decode("utf-8")
        except UnicodeDecodeError:  # the range cuts a character
            continue
        whole = whole_link(uri, shown)
        if whole is None:  # the address written whole, or words: kept as written
            continue
        pieces += [data[done:start], whole.encode("utf-8")]
        done = end
    pieces.append(data[done:])
    return b"".join(pieces).decode("utf-8", errors="replace").strip()


def _author(raw: object) -> Author:
    author = as_dict(raw)
    did = as_str(author.get("did"))
    handle = as_str(author.get("handle")) or did
    if not handle:
        return Author(handle="@unknown", anonymous=True)
    if handle == "handle.invalid" and did:
        handle = did
    followers = author.get("followersCount")
    return Author(
        handle="@" + handle,
        name=(collapse_whitespace(as_str(author.get("displayName")) or "") or None),
        followers=followers if isinstance(followers, int) else None,
        url=f"https://bsky.app/profile/{handle}",
        verified=as_dict(author.get("verification")).get("verifiedStatus") == "valid",
    )


def sort_time(post: dict[str, Any]) -> datetime | None:
    """The time search sorts by: the earlier of createdAt and indexedAt."""
    record = as_dict(post.get("record"))
    times = [t for t in (parse_iso(record.get("createdAt")), parse_iso(post.get("indexedAt"))) if t]
    return min(times) if times else None


def post_to_mention(post: dict[str, Any]) -> FetchedMention | None:
    """Normalize one ``app.bsky.feed.defs#postView``."""
    uri = post.get("uri")
    record = as_dict(post.get("record"))
    published = parse_iso(record.get("createdAt")) or parse_iso(post.get("indexedAt"))
    if not isinstance(uri, str) or not uri.startswith("at://") or published is None:
        return None
    author = _author(post.get("author"))
    profile = author.handle.lstrip("@")
    langs = as_list(record.get("langs"))
    reply = as_dict(record.get("reply"))
    parent = as_dict(reply.get("parent")).get("uri")
    root = as_dict(reply.get("root")).get("uri")
    cid = as_str(post.get("cid"))
    engagement = sum(
        v
        for k in ("likeCount", "repostCount", "replyCount", "quoteCount")
        if isinstance(v := post.get(k), int) and v > 0
    )
    return FetchedMention(
        network=NETWORK,
        external_id=uri,
        url=f"https://bsky.app/profile/{profile}/post/{_rkey(uri)}",
        author=author,
        text=_text(record),
        published_at=published,
        language_hint=language_tag(as_str(langs[0])) if langs else None,
        parent_external_id=parent if isinstance(parent, str) else None,
        engagement=engagement,
        links=_links(record, post),
        extra={**({"cid": cid} if cid else {}),
               **({"thread_root": root} if isinstance(root, str) and root != parent else {})},
    )


def parse_search(payload: Any) -> list[dict[str, Any]]:
    """The post views of a searchPosts answer."""
    posts = payload.get("posts") if isinstance(payload, dict) else None
    if not isinstance(posts, list):
        raise SourceError("Bluesky sent an unexpected search answer", key="unexpected_answer",
                          params={"network": "Bluesky"})
    return [p for p in posts if isinstance(p, dict)]


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _backlog(cursor: Cursor, since: datetime | None) -> tuple[datetime, datetime] | None:
    """The stored backlog still to read, as (until, newest time read), or None.

    A cursor is hostile input: an ``until`` that is no time, or not after ``since``, drops
    the backlog with a warning and the poll searches from ``since`` again (nothing lost;
    posts fetched twice are deduped). A missing or earlier ``newest`` becomes ``until``."""
    if since is None or cursor.get("until") is None:
        return None
    until = cursor_time(cursor, "until")
    if until is None or until <= since:
        log.warning("Bluesky search: the stored cursor until=%.80r is not a time after "
                    "since; backlog dropped, this poll searches from since",
                    cursor.get("until"))
        return None
    newest = cursor_time(cursor, "newest")
    return until, newest if newest is not None and newest >= until else until


class BlueskySource(Source[BlueskyConfig]):
    """Posts matching a search on Bluesky, newest first, incremental by time."""

    kind: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Bluesky"
    config_model: ClassVar[type[SourceConfig]] = BlueskyConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=5)

    def fetch(self, http: Fetcher, config: BlueskyConfig, cursor: Cursor) -> FetchResult:
        """Search posts since the cursor's time; sign in again when the token expired.

        ``since`` is the newest sortAt read; each poll searches from ``LOOKBACK`` before
        it, for the posts indexed late (a post's sortAt is its createdAt when it was
        indexed later), and drops the posts it read before (the cursor's ``seen``).

        A first poll reads one page (no history). When a poll stops with pages left (a
        ``cursor`` after ``max_pages`` read) and the posts read are all newer than
        ``since``, the cursor keeps ``since`` and notes the backlog: ``until`` (just after
        the oldest post read; search's until is exclusive) and ``newest``. The next polls
        search that span, newest first, and only once it is exhausted does ``since`` move
        to ``newest``; newer posts come on the poll after. Pages left below ``since`` are
        the look-back's only: they are not waited for, so a busy search still moves on,
        and none is read past the first page that reaches ``since`` (``_reaches``)."""
        since = cursor_time(cursor, "since")
        backlog = _backlog(cursor, since)
        posts, more = signed_in(
            http, config, lambda session: self._search(http, config, since, backlog, session))
        limited = _add_followers(http, config, posts, cursor)
        result = self._result(posts, cursor, since, backlog, more=more)
        return replace(result, rate_limited=limited) if limited else result

    def _search(
        self, http: Fetcher, config: BlueskyConfig, since: datetime | None,
        backlog: tuple[datetime, datetime] | None, session: _Session
    ) -> tuple[list[dict[str, Any]], bool]:
        """The posts of up to ``max_pages`` pages, and whether pages were left."""
        params: dict[str, Any] = {"q": config.query, "sort": "latest", "limit": config.limit}
        if since is not None:
            params["since"] = _z(since - LOOKBACK)
        if backlog is not None:
            params["until"] = _z(backlog[0])
        if config.language:
            params["lang"] = config.language
        headers = {"Authorization": f"Bearer {session.access_jwt}"}
        posts: list[dict[str, Any]] = []
        pages = config.max_pages if since is not None else 1  # never backfill history
        for _ in range(pages):
            payload = http.get(
                _xrpc(config, "app.bsky.feed.searchPosts"), params=params, headers=headers
            ).json()
            page = parse_search(payload)
            posts.extend(page)
            next_cursor = as_str(payload.get("cursor"))
            # A short page is no last page, nor is an empty one: the AppView cuts a page
            # to ``limit`` and only then drops the posts the account may not see (blocks,
            # mutes, takedowns, deleted posts), with a cursor still, and may drop them all
            # (bluesky-social/atproto#2089: "appview is filtering them *all* out of
            # results from the first page"; the fix it names is to "continue paginating
            # using cursor"). The cursor alone says whether more follow; ``max_pages``
            # bounds the read.
            if not next_cursor or _reaches(page, since):
                return posts, False
            params["cursor"] = next_cursor
        return posts, True

    def _result(self, posts: list[dict[str, Any]], cursor: Cursor, since: datetime | None,
                backlog: tuple[datetime, datetime] | None, *, more: bool) -> FetchResult:
        mentions, seen = drop_seen(
            [m for m in map(post_to_mention, posts) if m is not None], cursor, SEEN_KEEP)
        mentions.sort(key=lambda m: m.published_at)
        times = [t for t in map(sort_time, posts) if t is not None]
        newest = backlog[1] if backlog else max([*times, *([since] if since else [])],
                                                default=None)
        new_cursor: Cursor = {"seen": seen}
        new_left = more and since is not None and bool(times) and min(times) > since
        until = _next_until(since, backlog, times) if new_left else None
        if until is not None and since is not None and newest is not None:
            new_cursor |= {"since": since.isoformat(), "until": until.isoformat(),
                           "newest": newest.isoformat()}
        elif newest is not None:
            new_cursor["since"] = newest.isoformat()
        return FetchResult(mentions=mentions, cursor=new_cursor)


def _reaches(page: list[dict[str, Any]], since: datetime | None) -> bool:
    """Whether ``page`` reached the posts read before: one sorted at or below ``since``.

    The pages below it hold the look-back's posts only, read before but for the few
    indexed late: the look-back (``LOOKBACK``) is read as far as this page goes, as the
    Mastodon source reads a search's down to its min_id, not page after page of posts read
    before (up to ``max_pages`` on every poll of a busy search)."""
    return since is not None and any(
        t is not None and t <= since for t in map(sort_time, page))


def _add_followers(http: Fetcher, config: BlueskyConfig, posts: list[dict[str, Any]],
                   cursor: Cursor) -> SourceRateLimited | None:
    """Write each new post's author's ``followersCount`` into its view, from getProfiles;
    the rate limit a look-up met, if any.

    Search gives a post's author as a profileViewBasic, which has no followers count: the
    reach of every Bluesky author was unknown. The distinct authors of the posts not read
    before are looked up, ``PROFILES_PER_CALL`` a call; when that fails the posts are kept,
    their authors' followers unknown (one warning). A rate limit (HTTP 429) stops the
    look-ups and is returned, for the poller to wait before the next poll as after a
    rate-limited search: polling on would meet it again at once."""
    seen = SeenIds(cursor.get("seen") or [])
    authors: dict[str, list[dict[str, Any]]] = {}
    for post in posts:
        author = post.get("author")
        did = as_str(author.get("did")) if isinstance(author, dict) else None
        uri = as_str(post.get("uri"))
        if did and isinstance(author, dict) and uri and uri not in seen:
            authors.setdefault(did, []).append(author)
    if not authors:
        return None
    counts: dict[str, int] = {}
    try:
        signed_in(http, config, lambda session: _followers(
            http, config, list(authors), session, counts))
    except SourceRateLimited as err:
        log.warning("Bluesky: the followers of %d authors could not be read (%s); they "
                    "stay unknown and the next poll waits", len(authors) - len(counts), err)
        limited: SourceRateLimited | None = err
    except (SourceError, ValueError) as err:
        log.warning("Bluesky: the followers of %d authors could not be read (%s); they "
                    "stay unknown", len(authors), err)
        return None
    else:
        limited = None
    for did, followers in counts.items():
        for author in authors.get(did, ()):
            author["followersCount"] = followers
    return limited


def _followers(http: Fetcher, config: BlueskyConfig, actors: list[str],
               session: _Session, counts: dict[str, int]) -> None:
    """Put in ``counts`` the followers count of each of ``actors`` (DIDs) getProfiles
    gives; those of the calls before one that fails stay there."""
    headers = {"Authorization": f"Bearer {session.access_jwt}"}
    for start in range(0, len(actors), PROFILES_PER_CALL):
        payload = http.get(_xrpc(config, "app.bsky.actor.getProfiles"),
                           params={"actors": actors[start:start + PROFILES_PER_CALL]},
                           headers=headers).json()
        for raw in as_list(as_dict(payload).get("profiles")):
            profile = as_dict(raw)
            did, followers = as_str(profile.get("did")), profile.get("followersCount")
            if did and type(followers) is int and followers >= 0:
                counts[did] = followers


def _next_until(since: datetime | None, backlog: tuple[datetime, datetime] | None,
                times: list[datetime]) -> datetime | None:
    """Where the backlog's next search ends, after a poll that left pages unread: just
    after the oldest post read (its millisecond is read again, the posts seen skipped), or at
    it when that is no lower; None (the rest given up, with a warning) when the search
    went no lower at all, since asking again would bring the same pages forever."""
    if not times or since is None:
        return None
    oldest = min(times)
    bound = backlog[0] if backlog else None
    for until in (oldest + _TICK if oldest.year < 9999 else oldest, oldest):
        if until > since and (bound is None or until < bound):
            return until
    log.warning("Bluesky search: more pages were announced but none went older than "
                "the posts read; the rest of this backlog is not read")
    return None
