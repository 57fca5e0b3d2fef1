"""Mastodon: a hashtag timeline or a full-text status search on one instance."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.net.errors import SourceError
from bot.net.fetcher import Fetcher
from bot.sources.base import (
    SEARCHED_ASIDE,
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
    setting_error,
)
from bot.sources.cursors import (
    LOOKBACK,
    drop_seen,
    latest_credible,
    numeric_id,
    status_id,
    stored_id,
)
from bot.sources.json_fields import as_dict, as_id, as_list, as_str
from bot.sources.text import (
    collapse_whitespace,
    extract_links,
    html_to_text,
    language_tag,
    parse_iso,
    usable_url,
    whole_link,
)

NETWORK = "mastodon"
BACKLOG_KEYS = ("offset", "until_id", "newest_id", "stalls")
MAX_OFFSET = 10_000
"""Most statuses a search backlog skips: more would be a cursor no poll wrote."""
MAX_STALLS = 3
"""Backlog pages in a row that bring nothing older before the backlog is given up."""
SEEN_KEEP = 300
log = logging.getLogger(__name__)
_SKIP_LINK_CLASSES = ("mention", "hashtag", "u-url")
_QUOTE_INLINE = "quote-inline"


class _QuoteInline(HTMLParser):
    """Finds where the ``<span class="quote-inline">`` elements of a status are."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.spans: list[tuple[tuple[int, int], tuple[int, int]]] = []
        self._start: tuple[int, int] | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "span":
            return
        if self._start is not None:
            self._depth += 1
        elif any(name == "class" and _QUOTE_INLINE in (value or "").split()
                 for name, value in attrs):
            self._start, self._depth = self.getpos(), 0

    def handle_endtag(self, tag: str) -> None:
        if tag != "span" or self._start is None:
            return
        if self._depth:
            self._depth -= 1
            return
        self.spans.append((self._start, self.getpos()))
        self._start = None


def without_quote_inline(content: str) -> tuple[str, str]:
    """``content`` without its ``<span class="quote-inline">`` elements, and their markup.

    Mastodon writes a quote post's "RE: <link to the quoted post>" there as a fallback for
    clients that cannot show quotes, marked for the others to hide: kept, it was the
    post's text and first link (its fingerprint and story)."""
    if _QUOTE_INLINE not in content:
        return content, ""
    parser = _QuoteInline()
    parser.feed(content)
    parser.close()
    if not parser.spans:
        return content, ""
    # HTMLParser counts lines by "\n" alone (splitlines would also break at \u2028, \x85...).
    starts = [0]
    for line in content.split("\n"):
        starts.append(starts[-1] + len(line) + 1)

    def offset(position: tuple[int, int]) -> int:
        return starts[position[0] - 1] + position[1]

    kept, removed, at = [], [], 0
    for start, end in parser.spans:
        begin, close = offset(start), content.find(">", offset(end))
        finish = len(content) if close < 0 else close + 1
        kept.append(content[at:begin])
        removed.append(content[begin:finish])
        at = finish
    kept.append(content[at:])
    return "".join(kept), "".join(removed)


class MastodonConfig(SourceConfig):
    """Settings of a Mastodon source."""

    base_url: str = Field(
        default="https://mastodon.social",
        description="Address of the Mastodon instance to query.",
    )
    mode: Literal["hashtag", "search"] = Field(
        default="hashtag",
        description="'hashtag' reads a tag timeline; 'search' runs a full-text status search "
        "(needs an access token).",
    )
    query: str = Field(
        min_length=1,
        max_length=200,
        description="The hashtag (without #) in hashtag mode, or the search words.",
    )
    access_token: SecretStr | None = Field(
        default=None,
        description="Access token of an app on the instance (read scope); required for search.",
    )
    local_only: bool = Field(
        default=False, description="Hashtag mode: only statuses from this instance."
    )
    limit: int = Field(default=40, ge=1, le=40, description="Statuses asked per request (max 40).")
    max_pages: int = Field(
        default=3, ge=1, le=20, description="Most pages read per fetch when many statuses are new."
    )

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"}:
            raise setting_error("address_scheme", "the instance address must start with https://")
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _token_for_search(self) -> MastodonConfig:
        if self.mode == "search" and self.access_token is None:
            raise setting_error("search_needs_token",
                                "search mode needs an access token (Mastodon requires one)")
        return self


def _id_key(status_id: str) -> tuple[int, str]:
    """Sort key for status ids: Mastodon's numbers of varying length, or the flake ids and
    ULIDs of other servers (one kind per server), all in time order."""
    return (len(status_id), status_id)


def lookback_id(newest: str) -> str | None:
    """The lowest Mastodon id a status made ``LOOKBACK`` before the status ``newest`` can
    have, or None when ``newest`` is no Mastodon id (the opaque ids of other servers).

    A Mastodon id is the creation time in milliseconds shifted 16 bits, a sequence in the
    low bits (lib/mastodon/snowflake.rb); a remote status gets ``id_at(created_at)``, its
    own creation time: one that federates late is numbered below the statuses read
    before it came."""
    found = numeric_id(newest)
    if found is None:
        return None
    millis = (int(found) >> 16) - int(LOOKBACK.total_seconds() * 1000)
    return str(millis << 16) if millis > 0 else None


def _id_time(found: str) -> datetime:
    """When the Mastodon id ``found`` (a decimal id) says its status was made."""
    return datetime.fromtimestamp((int(found) >> 16) / 1000, UTC)


def _id_at(moment: datetime) -> str:
    """The lowest Mastodon id of a status made at ``moment``."""
    return str(int(moment.timestamp() * 1000) << 16)


def credible_min_id(min_id: str | None, now: datetime) -> str | None:
    """``min_id``, or the id of ``now`` when it is a Mastodon id made after
    ``latest_credible(now)``: a cursor a status dated in the future moved (before such a
    status was kept from moving it) would skip every status made until that date."""
    found = numeric_id(min_id) if min_id is not None else None
    if found is None or _id_time(found) <= latest_credible(now):
        return min_id
    log.warning("the stored min_id %s is dated %s, in the future; this poll reads from now",
                found, _id_time(found).isoformat())
    return _id_at(now)


def _dated_in_future(status: dict[str, Any], latest: datetime) -> bool:
    """Whether ``status`` (its own date, or its Mastodon id's) is later than ``latest``."""
    made = parse_iso(status.get("created_at"))
    found = numeric_id(status.get("id"))
    return ((made is not None and made > latest)
            or (found is not None and _id_time(found) > latest))


def _handle(account: dict[str, Any]) -> str:
    """``@user@instance``, also for local accounts whose ``acct`` has no domain."""
    acct = as_str(account.get("acct")) or as_str(account.get("username")) or "unknown"
    if "@" not in acct:
        url = usable_url(as_str(account.get("url")) or "")
        host = urlsplit(url).hostname if url else None
        if host:
            acct = f"{acct}@{host}"
    return "@" + acct


def _author(raw: object) -> Author:
    account = as_dict(raw)
    if not account or not (as_str(account.get("acct")) or as_str(account.get("username"))):
        return Author(handle="unknown", anonymous=True)
    followers = account.get("followers_count")
    return Author(
        handle=_handle(account),
        name=as_str(account.get("display_name")) or as_str(account.get("username")),
        followers=followers if isinstance(followers, int) else None,
        url=usable_url(as_str(account.get("url")) or "") or None,
        verified=isinstance(fields := account.get("fields"), list) and any(
            f.get("verified_at") for f in fields if isinstance(f, dict)
        ),
    )


def _count(status: dict[str, Any], key: str) -> int:
    value = status.get(key)
    return value if isinstance(value, int) and value > 0 else 0


_MENTION_LINK = re.compile(r"<a\s[^>]*?href=\"([^\"]+)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")


def _readable_links(content: str, mentions: object) -> str:
    """``content`` with its links as a watch must read them.

    Each mention of an account (``@<span>halcy</span>``, linked to its profile) is written
    with its full handle (``@halcy@icosahedron.website``), which only ``mentions[].acct``
    holds: a watch for that handle, the form users are told to write, matched no status.
    A link naming no account of ``mentions`` is left as written.

    A link whose text is shortened in the HTML itself (``bsky.app/profile/h4lc...``, a
    bridged post; Mastodon's own shortening hides the rest in a span the text keeps) is
    written whole, without query or fragment: a word in its hidden part is matched,
    tracking parameters (``?utm_source=acme``) are no words of the status."""
    accounts: dict[str, str] = {}
    for mention in mentions if isinstance(mentions, list) else ():
        mention = as_dict(mention)
        url, acct = as_str(mention.get("url")), as_str(mention.get("acct"))
        if not url or not acct or any(c in acct for c in "<>&\"'"):
            continue
        if "@" not in acct:  # an account of the status's own instance
            try:
                host = urlsplit(url).hostname
            except ValueError:  # a malformed address ("http://[x"): no account to name
                continue
            if not host:
                continue
            acct = f"{acct}@{host}"
        accounts[url] = acct
    if "<a" not in content.lower():
        return content

    def readable(match: re.Match[str]) -> str:
        href = html.unescape(match.group(1))
        shown = html.unescape(_TAGS.sub("", match.group(2))).strip()
        head = match.group(0)[:match.start(2) - match.start(0)]
        acct = accounts.get(href)
        if acct is not None:
            if shown.startswith("@") and acct.lower().startswith(shown[1:].lower() + "@"):
                return head + "@" + acct + "</a>"
            return match.group(0)
        whole = whole_link(href, shown)
        return match.group(0) if whole is None else head + html.escape(whole) + "</a>"

    return _MENTION_LINK.sub(readable, content)


def status_to_mention(raw: dict[str, Any], instance: str) -> FetchedMention | None:
    """Normalize one status (a reblog is replaced by the reblogged status).

    The external id is the status ``uri`` (its ActivityPub id, the same on every
    instance); the instance-local id is kept in ``extra``, with ``local_key``
    (``{instance}/statuses/{id}``, what other statuses fetched through this instance
    call it). Its link is its ``url``, else its ``uri``, when that is an http(s) address,
    else that local address, as for a status that has neither.

    A reply's ``in_reply_to_id`` is an id *local to this instance*, not the parent's URI.
    The parent's URI is known here only for a self-reply by an account of this instance
    (``in_reply_to_account_id`` is the author's and the status URI is the account URI
    plus its id, as local statuses' are): then it is the ``parent_external_id``.
    Otherwise the parent is named by its local key (``extra["in_reply_to_local"]``, also
    the ``parent_external_id``), which ingest resolves through the local keys of the
    posts fetched through the same instance (``bot.services.cases.resolve_local_parents``).
    A parent seen only through another instance has another local id there: nothing in
    the status links the two, so that reply is not joined to its case.
    """
    status = as_dict(raw.get("reblog")) or raw
    status_id = as_id(status.get("id"))
    published = parse_iso(status.get("created_at"))
    if not status_id or published is None:
        return None
    local_url = f"{instance}/statuses/{status_id}"
    content, fallback = without_quote_inline(_readable_links(
        as_str(status.get("content")) or "", status.get("mentions")))
    spoiler = html_to_text(as_str(status.get("spoiler_text"))) or None
    card_url = usable_url(as_str(as_dict(status.get("card")).get("url")) or "")
    links = extract_links(content, skip_classes=_SKIP_LINK_CLASSES)
    if card_url and card_url not in links:
        links += (card_url,)
    extra: dict[str, Any] = {"instance": instance, "status_id": status_id,
                             "local_key": local_url}
    quoted = next(iter(extract_links(fallback)), None) or _web_link(
        as_dict(as_dict(status.get("quote")).get("quoted_status")).get("url"))
    if quoted:
        extra["quote_of"] = quoted
    aside = _read_aside(status)
    if aside:
        extra[SEARCHED_ASIDE] = aside
    if status is not raw:
        extra["reblogged_by"] = _handle(as_dict(raw.get("account")))
    parent = None
    reply_to = as_id(status.get("in_reply_to_id"))
    if reply_to:
        extra["in_reply_to_id"] = reply_to
        extra["in_reply_to_local"] = f"{instance}/statuses/{reply_to}"
        parent = _self_reply_parent(status) or extra["in_reply_to_local"]
    return FetchedMention(
        network=NETWORK,
        external_id=as_str(status.get("uri")) or as_str(status.get("url")) or local_url,
        url=_web_link(status.get("url")) or _web_link(status.get("uri")) or local_url,
        author=_author(status.get("account")),
        text=html_to_text(content),
        published_at=published,
        title=spoiler,
        language_hint=language_tag(as_str(status.get("language"))),
        engagement=sum(
            _count(status, k) for k in ("favourites_count", "reblogs_count", "replies_count")
        ),
        links=links,
        extra=extra,
        parent_external_id=parent,
    )


def _read_aside(status: dict[str, Any]) -> list[str]:
    """The words of a status outside its content that Mastodon's search reads too
    (Status#searchable_text): each image description on a line of its own ("🖼 ..."),
    then the poll's options on one ("📊 a · b"). Kept apart from the text
    (``SEARCHED_ASIDE``): the watch's query matches them, so a status found by its alt text
    or a poll option is not filtered out by the watch that searched for it; they are not
    the author's words (an alt text quoting @brand does not address the brand, a
    cross-post with a described image has the same words as on X)."""
    lines = []
    for media in as_list(status.get("media_attachments")):
        description = collapse_whitespace(as_str(as_dict(media).get("description")) or "")
        if description:
            lines.append(f"\N{FRAME WITH PICTURE} {description}")
    options = [title for option in as_list(as_dict(status.get("poll")).get("options"))
               if (title := collapse_whitespace(as_str(as_dict(option).get("title")) or ""))]
    if options:
        lines.append("\N{BAR CHART} " + " \N{MIDDLE DOT} ".join(options))
    return lines


def _web_link(value: object) -> str | None:
    """``value`` when it is an http(s) address with a host that a link can hold, else None:
    an instance may send a well-typed but meaningless ``url`` or ``uri`` ("x",
    ``javascript:``), which would be stored and exported as the mention's link."""
    url = usable_url(as_str(value) or "")
    if url is None or any(char in url for char in "<>| \t\r\n"):
        return None
    parts = urlsplit(url)
    return url if parts.scheme in {"http", "https"} and parts.hostname else None


def _self_reply_parent(status: dict[str, Any]) -> str | None:
    """The parent's URI of a local account's reply to itself (a thread), else None."""
    account = as_dict(status.get("account"))
    account_uri = account.get("uri")
    if (not isinstance(account_uri, str) or not account_uri
            or str(status.get("in_reply_to_account_id")) != str(account.get("id"))
            or status.get("uri") != f"{account_uri}/statuses/{status.get('id')}"):
        return None
    return f"{account_uri}/statuses/{status['in_reply_to_id']}"


def _statuses(payload: Any, mode: str) -> list[dict[str, Any]]:
    if mode == "search":
        payload = payload.get("statuses") if isinstance(payload, dict) else None
    if not isinstance(payload, list):
        raise SourceError("the Mastodon instance sent an unexpected answer",
                          key="unexpected_answer", params={"network": "Mastodon"})
    return [s for s in payload if isinstance(s, dict)]


def parse_statuses(payload: Any, instance: str, mode: str = "hashtag") -> list[FetchedMention]:
    """Mentions from a timeline (list) or a v2 search answer ({"statuses": [...]}),
    oldest first."""
    mentions = [status_to_mention(s, instance) for s in _statuses(payload, mode)]
    return sorted((m for m in mentions if m is not None), key=lambda m: m.published_at)


@dataclass(frozen=True, slots=True)
class _Backlog:
    """Search results a page left unread: the next page is at ``offset`` in the search
    (newest first, from ``lookback_id(min_id)``); ``until_id`` is the oldest status read so far, and
    ``newest_id`` becomes the cursor's min_id once the backlog is read."""

    offset: int
    until_id: str
    newest_id: str
    stalls: int = 0

    @classmethod
    def stored(cls, cursor: Cursor, min_id: str | None, source: str) -> _Backlog | None:
        """The cursor's backlog, or None. A cursor is hostile input: fields that are not
        what a poll writes drop the backlog with a warning, and the poll searches from
        min_id again (nothing lost; statuses read twice are deduped by ingest)."""
        if min_id is None or cursor.get("offset") is None:
            return None
        offset, stalls = cursor.get("offset"), cursor.get("stalls", 0)
        until_id = stored_id(cursor, "until_id", source, valid=status_id)
        newest_id = stored_id(cursor, "newest_id", source, valid=status_id)
        if (type(offset) is not int or not 0 < offset <= MAX_OFFSET
                or type(stalls) is not int or not 0 <= stalls < MAX_STALLS
                or until_id is None or newest_id is None
                or not _id_key(min_id) < _id_key(until_id) <= _id_key(newest_id)):
            log.warning("%s: the stored search backlog is not one a poll writes (offset="
                        "%.20r); dropped, this poll searches from min_id", source, offset)
            return None
        return cls(offset, until_id, newest_id, stalls)


def _request(config: MastodonConfig, min_id: str | None,
             offset: int | None = None) -> tuple[str, dict[str, Any]]:
    """A first page's request: after ``min_id`` (a search reads it as its second), at
    ``offset`` in a search's results."""
    params: dict[str, Any] = {"limit": config.limit}
    if min_id:
        params["min_id"] = min_id
    if config.mode == "search":
        params |= {"q": config.query, "type": "statuses", "resolve": "false"}
        if offset:
            params["offset"] = offset
        return f"{config.base_url}/api/v2/search", params
    if config.local_only:
        params["local"] = "true"
    tag = quote(config.query.lstrip("#"), safe="")
    return f"{config.base_url}/api/v1/timelines/tag/{tag}", params


class MastodonSource(Source[MastodonConfig]):
    """Statuses from a Mastodon instance, incremental with ``min_id``."""

    kind: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Mastodon"
    config_model: ClassVar[type[SourceConfig]] = MastodonConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=5)

    def fetch(self, http: Fetcher, config: MastodonConfig, cursor: Cursor) -> FetchResult:
        """Statuses newer than the cursor's ``min_id`` (the newest status read), up to
        ``max_pages`` pages, and those ``LOOKBACK`` before it not read yet (the cursor's
        ``seen``): a status that federates late is numbered by its creation
        (``lookback_id``). A first poll reads one page (no history).

        A hashtag timeline answers min_id with the statuses just after it, oldest first:
        pages follow from the newest status of the one before, and the cursor's min_id
        moves with them, so pages left come with the next poll. Only once a poll reaches
        the newest status does it read the look-back, newest first (since_id and max_id),
        with the pages it has left: a busy tag keeps up first. The ids of other servers
        (flake ids, ULIDs) say no time a look-back could start from: the newest page
        below min_id is read again instead.

        A search answers with the newest statuses (Mastodon's search sorts by id, newest
        first, and reads min_id as a date), from the look-back's start: when a page
        brought statuses (a short page too: the server drops what the account may not
        see after paging) and reached no status as old as min_id, the cursor keeps min_id
        and notes the backlog (the ``offset`` of the next page, the oldest and newest ids
        read), which the next pages (of this poll, then of the next ones) read; only once
        an empty page ends it does min_id move to the newest id read. A server that ignores
        ``offset`` (no older status in ``MAX_STALLS`` pages) ends the backlog with a
        warning instead of asking for the same page forever.

        In both modes a status dated after ``latest_credible`` is read but never becomes
        min_id (a stored min_id that did is read as now): numbered by that date, it would
        hide every status made until then."""
        source = f"Mastodon {config.base_url} {config.query}"
        now = datetime.now(UTC)
        min_id = credible_min_id(stored_id(cursor, "min_id", source, valid=status_id), now)
        headers = {"Accept": "application/json"}
        if config.access_token is not None:
            headers["Authorization"] = f"Bearer {config.access_token.get_secret_value()}"

        def get(url: str, params: dict[str, Any]) -> list[dict[str, Any]]:
            return _statuses(http.get(url, params=params, headers=headers).json(), config.mode)

        new_cursor = {k: v for k, v in cursor.items() if k != "min_id" and k not in BACKLOG_KEYS}
        if config.mode == "search":
            statuses, position = _search(config, cursor, min_id, source, get,
                                         latest_credible(now))
        else:
            statuses, position = _timeline(config, min_id, get, latest_credible(now))
        new_cursor |= position
        mentions = [m for m in (status_to_mention(s, config.base_url) for s in statuses) if m]
        mentions, seen = drop_seen(list({m.external_id: m for m in mentions}.values()),
                                   cursor, SEEN_KEEP)
        if seen:
            new_cursor["seen"] = seen
        mentions.sort(key=lambda m: m.published_at)
        return FetchResult(mentions=mentions, cursor=new_cursor)


_Get = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


def _ids(statuses: list[dict[str, Any]], latest: datetime | None = None) -> list[str]:
    """The status ids of ``statuses``; with ``latest``, of those not dated after it only
    (the ids a cursor may move to: ``FUTURE_TOLERANCE``)."""
    return [found for s in statuses if (found := status_id(s.get("id")))
            and (latest is None or not _dated_in_future(s, latest))]


def _timeline(config: MastodonConfig, min_id: str | None, get: _Get,
              latest: datetime) -> tuple[list[dict[str, Any]], Cursor]:
    """The statuses of a hashtag poll (see ``MastodonSource.fetch``), and its min_id (the
    newest status not dated after ``latest``)."""
    budget = config.max_pages if min_id else 1
    statuses: list[dict[str, Any]] = []
    newest, full = min_id, True
    while budget and full:
        url, params = _request(config, newest)
        page = get(url, params)
        budget -= 1
        statuses += page
        before, newest = newest, max([*_ids(page, latest), *([newest] if newest else [])],
                                     key=_id_key, default=None)
        full = len(page) >= config.limit and newest != before  # else no page after it
    floor = lookback_id(min_id) if min_id else None
    below = min_id
    while budget and not full and floor and below and _id_key(floor) < _id_key(below):
        url, params = _request(config, None)
        page = get(url, params | {"since_id": floor, "max_id": below})
        budget -= 1
        statuses += page
        ids = [i for i in _ids(page) if _id_key(i) < _id_key(below)]
        if len(page) < config.limit or not ids:
            break
        below = min(ids, key=_id_key)
    if budget and not full and min_id and floor is None:
        # No look-back id from another server's ids (a GoToSocial ULID also numbers a
        # remote status by its creation): the newest page below min_id instead.
        url, params = _request(config, None)
        statuses += get(url, params | {"max_id": min_id})
    return statuses, ({"min_id": newest} if newest else {})


def _search(config: MastodonConfig, cursor: Cursor, min_id: str | None, source: str,
            get: _Get, latest: datetime) -> tuple[list[dict[str, Any]], Cursor]:
    """The statuses of a search poll (see ``MastodonSource.fetch``), and its min_id (the
    newest status not dated after ``latest``) and backlog."""
    backlog = _Backlog.stored(cursor, min_id, source)
    after = (lookback_id(min_id) or min_id) if min_id else None
    statuses: list[dict[str, Any]] = []
    position: Cursor = {}
    for _ in range(config.max_pages if min_id else 1):
        url, params = _request(config, after, backlog.offset if backlog else None)
        page = get(url, params)
        statuses += page
        ids = _ids(page, latest)
        newest = backlog.newest_id if backlog else max(
            [*ids, *([min_id] if min_id else [])], key=_id_key, default=None)
        position = {"min_id": newest} if newest else {}
        # A short page is no end: Mastodon cuts a page to limit and offset, and only then
        # drops what the account may not see (blocked or muted authors, deleted statuses).
        if not (min_id and page):
            break
        position |= _next_backlog(source, config.limit, min_id, backlog, ids, newest)
        if "offset" not in position:
            break
        backlog = _Backlog.stored(position, min_id, source)
    return statuses, position


def _next_backlog(source: str, limit: int, min_id: str, backlog: _Backlog | None,
                  ids: list[str], newest: str | None) -> Cursor:
    """The cursor fields of the backlog after a search page (min_id kept); none when
    the page reached min_id (what is left is the look-back's), or when the backlog is
    given up."""
    if any(_id_key(i) <= _id_key(min_id) for i in ids):
        return {}  # the page reached min_id (its second comes again): nothing left
    top = backlog.until_id if backlog else None
    older = [i for i in ids if top is None or _id_key(i) < _id_key(top)]
    offset = (backlog.offset if backlog else 0) + limit
    stalls = 0 if older else (backlog.stalls if backlog else 0) + 1
    until_id = min(older, key=_id_key) if older else top
    if until_id is None or newest is None or stalls >= MAX_STALLS or offset > MAX_OFFSET:
        log.warning("%s: the search's further pages brought no older status; the rest of "
                    "this backlog is not read", source)
        return {}
    return {"min_id": min_id, "offset": offset, "until_id": until_id, "newest_id": newest,
            **({"stalls": stalls} if stalls else {})}
