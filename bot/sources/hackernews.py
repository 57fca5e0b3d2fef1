"""Hacker News, through the Algolia search API (``search_by_date``)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.net.errors import SourceError
from bot.net.fetcher import Fetcher
from bot.sources.base import (
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
    setting_error,
)
from bot.sources.cursors import LOOKBACK, drop_seen, latest_credible
from bot.sources.json_fields import as_id, as_str
from bot.sources.text import (
    collapse_whitespace,
    extract_links,
    from_epoch,
    html_to_text,
    parse_iso,
    usable_url,
)

NETWORK = "hackernews"
ITEM_URL = "https://news.ycombinator.com/item?id={}"
USER_URL = "https://news.ycombinator.com/user?id={}"
SEEN_KEEP = 500
_LOOKBACK_SECONDS = int(LOOKBACK.total_seconds())
log = logging.getLogger(__name__)


_TAG = (r"(?:story|comment|poll|pollopt|show_hn|ask_hn|launch_hn|job|front_page"
        r"|author_[A-Za-z0-9_-]{1,40}|story_[0-9]{1,12})")
_TAGS = re.compile(rf"(?:\({_TAG}(?:,{_TAG})*\)|{_TAG})(?:,(?:\({_TAG}(?:,{_TAG})*\)|{_TAG}))*")
"""HN Search's ``tags`` filter (hn.algolia.com/api): commas AND, parentheses OR."""
_TAG_WORD = re.compile(r"(?<![A-Za-z0-9_])(?!author_)[A-Za-z_]+(?![A-Za-z0-9_])", re.I)


class HackerNewsConfig(SourceConfig):
    """Settings of a Hacker News search source."""

    query: str = Field(min_length=1, max_length=300, description="Words to search for.")
    tags: str = Field(
        default="(story,comment)",
        description="Algolia tags filter: '(story,comment)', 'story', 'comment', 'ask_hn'...",
    )
    base_url: str = Field(
        default="https://hn.algolia.com/api/v1", description="Address of the HN Search API."
    )
    hits_per_page: int = Field(default=50, ge=1, le=1000, description="Items asked per page.")
    max_pages: int = Field(default=3, ge=1, le=20, description="Most pages read per fetch.")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: str) -> str:
        value = "".join(value.split())
        if not value:  # no tag filter: every kind of item
            return value
        # Tag names without case ("Story"); an author's name (author_Name) keeps its own.
        value = _TAG_WORD.sub(lambda m: m.group(0).lower(), value)
        if not _TAGS.fullmatch(value):
            raise setting_error(
                "hn_tags",
                "{value} is not an HN Search tags filter: tags joined by commas (all "
                "of them), a group in parentheses for any of them, e.g. '(story,comment)' or "
                "'story,author_pg'; tags are story, comment, poll, pollopt, show_hn, ask_hn, "
                "launch_hn, job, front_page, author_NAME, story_ID", value=repr(value[:60]))
        return value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"}:
            raise setting_error("address_scheme", "the API address must start with https://")
        return value


def _stamp(value: object) -> int | None:
    """``created_at_i``: epoch seconds, an integer (not a boolean)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _created(hit: dict[str, Any]) -> datetime | None:
    return from_epoch(hit.get("created_at_i")) or parse_iso(hit.get("created_at"))


def _web_url(value: object) -> str | None:
    """``value`` when it is a usable http(s) address, else None."""
    if isinstance(value, str) and value.startswith(("http://", "https://")) and usable_url(value):
        return value
    return None


def hit_to_mention(
    hit: dict[str, Any], fetched_at: datetime | None = None
) -> FetchedMention | None:
    """Normalize one Algolia hit (story, comment, poll or poll option)."""
    object_id = as_id(hit.get("objectID"))
    if object_id is None:
        return None
    tags = hit.get("_tags")
    is_comment = (isinstance(tags, list) and "comment" in tags) or bool(
        as_str(hit.get("comment_text")))
    body_html = as_str(hit.get("comment_text") if is_comment else hit.get("story_text"))
    # A comment's own words and links only: its story's title and link are context
    # (``extra``), not its title (which a watch's query reads as the comment's words) nor
    # its link (which made every comment of a story one story card of that link).
    title = None if is_comment else as_str(hit.get("title"))
    text = html_to_text(body_html) or (collapse_whitespace(title) if title else "")
    published = _created(hit)
    links = extract_links(body_html)
    story_url = _web_url(hit.get("story_url" if is_comment else "url"))
    if story_url and not is_comment:
        links = (story_url, *[x for x in links if x != story_url])
    author = as_str(hit.get("author"))
    parent = as_id(hit.get("parent_id"))
    extra: dict[str, Any] = {"kind": "comment" if is_comment else "story"}
    story_title = collapse_whitespace(as_str(hit.get("story_title")) or "")
    if is_comment and story_title:
        extra["context"] = story_title  # stored as the mention's context (ingest)
    if is_comment and story_url:
        extra["story_url"] = story_url
    story_id = as_id(hit.get("story_id"))
    if story_id:
        extra["story_id"] = story_id
        if is_comment and story_id != object_id:
            extra["thread_root"] = story_id  # the conversation a comment is in (cases)
    if published is None:
        extra["date_missing"] = True
    points = hit.get("points") if isinstance(hit.get("points"), int) else 0
    comments = hit.get("num_comments") if isinstance(hit.get("num_comments"), int) else 0
    return FetchedMention(
        network=NETWORK,
        external_id=object_id,
        url=ITEM_URL.format(object_id),
        author=Author(handle=author, name=None, url=USER_URL.format(author)) if author
        else Author(handle="unknown", anonymous=True),
        text=text,
        published_at=published or fetched_at or datetime.now(UTC),
        title=collapse_whitespace(title) if title else None,
        language_hint=None,
        parent_external_id=parent if is_comment else None,
        engagement=max(0, points or 0) + max(0, comments or 0),
        links=links,
        extra=extra,
    )


def parse_hits(payload: Any) -> list[dict[str, Any]]:
    """The hits of an Algolia search answer."""
    hits = payload.get("hits") if isinstance(payload, dict) else None
    if not isinstance(hits, list):
        raise SourceError("HN Search sent an unexpected answer", key="unexpected_answer",
                          params={"network": "HN Search"})
    return [h for h in hits if isinstance(h, dict)]


def _ids(value: object) -> set[str]:
    """The item ids a cursor list holds (anything else in it, or no list, is none)."""
    return {x for x in value if isinstance(x, str)} if isinstance(value, list) else set()


@dataclass(frozen=True, slots=True)
class _Backlog:
    """Items a poll left unread: created from the cursor's second up to ``until`` (the
    oldest second read, whose items read are ``ids_until``); ``newest`` (with the items
    read at that second) becomes the cursor once the backlog is read."""

    until: int
    ids_until: set[str]
    newest: int
    ids_newest: set[str]

    @classmethod
    def stored(cls, cursor: Cursor, since: int | None) -> _Backlog | None:
        """The cursor's backlog, or None. A cursor is hostile input: an ``until_i`` that
        is no second, or before ``created_at_i``, drops the backlog with a warning (the
        poll searches from ``created_at_i`` again: nothing lost, items read twice are
        deduped); a missing or earlier ``newest_i`` becomes ``until_i``."""
        if since is None or cursor.get("until_i") is None:
            return None
        until = _stamp(cursor.get("until_i"))
        if until is None or until < since:
            log.warning("HN search: the stored cursor until_i=%.80r is not a second at or "
                        "after created_at_i; backlog dropped, this poll searches from "
                        "created_at_i", cursor.get("until_i"))
            return None
        ids_until = _ids(cursor.get("ids_until"))
        newest = _stamp(cursor.get("newest_i"))
        if newest is None or newest < until:
            return cls(until, ids_until, until, ids_until)
        return cls(until, ids_until, newest, _ids(cursor.get("ids_newest")))


class HackerNewsSource(Source[HackerNewsConfig]):
    """Stories and comments mentioning the query, newest first."""

    kind: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Hacker News"
    config_model: ClassVar[type[SourceConfig]] = HackerNewsConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=10)

    def fetch(self, http: Fetcher, config: HackerNewsConfig, cursor: Cursor) -> FetchResult:
        """Items created at or after the cursor's second, minus those already seen.

        Each poll searches from ``LOOKBACK`` before the cursor's second, for the items
        indexed late (HN Search filters on creation time), and drops the items it read
        before (the cursor's ``seen``).

        A first poll reads one page (no history). When a poll stops with pages left
        (``max_pages`` read) and the items read are all newer than the cursor's second,
        the cursor keeps its second and notes the backlog:
        ``until_i`` (the oldest second read, with ``ids_until``, the items read at it) and
        ``newest_i``/``ids_newest``. The next polls search that span, newest first, and
        only once it is exhausted does the cursor move to ``newest_i``; newer items come
        on the poll after. Pages left below the cursor's second are the look-back's only:
        they are not waited for, so a busy search still moves on.

        An item created after ``latest_credible`` is read but never moves the cursor (a
        stored cursor that was moved so is read as now): it would hide every item created
        until that second."""
        now = datetime.now(UTC)
        latest = int(latest_credible(now).timestamp())
        since = _stamp(cursor.get("created_at_i"))
        if since is not None and since > latest:
            log.warning("HN search: the stored cursor created_at_i=%s is in the future; "
                        "this poll searches from now", since)
            since, cursor = int(now.timestamp()), {"seen": cursor.get("seen")}
        boundary = _ids(cursor.get("ids_at")) if since is not None else set()
        backlog = _Backlog.stored(cursor, since)
        hits, more = self._hits(http, config, since, backlog.until if backlog else None)
        skip = boundary | (backlog.ids_until if backlog else set())
        fresh = [h for h in hits if str(h.get("objectID")) not in skip]
        mentions, seen = drop_seen(
            [m for m in (hit_to_mention(h, now) for h in fresh) if m is not None], cursor,
            SEEN_KEEP)
        mentions.sort(key=lambda m: m.published_at)
        new_cursor = self._cursor(hits, since, boundary, backlog, latest)
        stamps = [s for h in hits if (s := _stamp(h.get("created_at_i"))) is not None]
        if more and since is not None and min(stamps, default=since) > since:
            new_cursor = self._with_backlog(new_cursor, hits, fresh, since, boundary, backlog)
        if seen:
            new_cursor["seen"] = seen
        return FetchResult(mentions=mentions, cursor=new_cursor)

    def _hits(
        self, http: Fetcher, config: HackerNewsConfig, since: int | None, until: int | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """The hits of up to ``max_pages`` pages, and whether pages were left."""
        params: dict[str, Any] = {
            "query": config.query,
            "tags": config.tags,
            "hitsPerPage": config.hits_per_page,
        }
        if since is not None:
            # ">=" and a set of ids at that second: items posted in the same second
            # as the newest one seen are not lost.
            params["numericFilters"] = f"created_at_i>={since - _LOOKBACK_SECONDS}"
            if until is not None:
                params["numericFilters"] += f",created_at_i<={until}"
        hits: list[dict[str, Any]] = []
        for page in range(config.max_pages if since is not None else 1):
            params["page"] = page
            payload = http.get(f"{config.base_url}/search_by_date", params=params).json()
            batch = parse_hits(payload)
            hits.extend(batch)
            pages = payload.get("nbPages")
            if not batch or not isinstance(pages, int) or page + 1 >= pages:
                return hits, False
        return hits, True

    @staticmethod
    def _cursor(hits: list[dict[str, Any]], since: int | None, boundary: set[str],
                backlog: _Backlog | None, latest: int) -> Cursor:
        """The cursor once everything up to now is read: at the newest item created at
        ``latest`` or before."""
        if backlog is not None:
            return {"created_at_i": backlog.newest, "ids_at": sorted(backlog.ids_newest)}
        stamps = [s for h in hits
                  if (s := _stamp(h.get("created_at_i"))) is not None and s <= latest]
        newest = max([*stamps, *([since] if since is not None else [])], default=None)
        if newest is None:
            return {}
        ids_at = {str(h.get("objectID")) for h in hits if h.get("created_at_i") == newest}
        if newest == since:
            ids_at |= boundary
        return {"created_at_i": newest, "ids_at": sorted(ids_at)}

    @staticmethod
    def _with_backlog(done: Cursor, hits: list[dict[str, Any]], fresh: list[dict[str, Any]],
                      since: int, boundary: set[str], backlog: _Backlog | None) -> Cursor:
        """The cursor after a poll that left pages unread: ``done`` (where the cursor goes
        once they are read) with the span still to search; ``done`` alone, with a warning,
        when the poll read nothing new below the backlog's top, since asking again would
        bring the same pages forever."""
        stamps = [s for h in fresh if (s := _stamp(h.get("created_at_i"))) is not None]
        oldest = min(stamps, default=None)
        top = backlog.until if backlog else None
        if oldest is None or oldest < since or (top is not None and oldest > top) \
                or not done:
            log.warning("HN search: more pages were announced but none brought items "
                        "older than those read; the rest of this backlog is not read")
            return done
        ids_until = {str(h.get("objectID")) for h in hits if h.get("created_at_i") == oldest}
        if backlog is not None and oldest == backlog.until:
            ids_until |= backlog.ids_until
        return {"created_at_i": since, "ids_at": sorted(boundary), "until_i": oldest,
                "ids_until": sorted(ids_until), "newest_i": done["created_at_i"],
                "ids_newest": done["ids_at"]}
