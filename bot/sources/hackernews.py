"""Hacker News, through the Algolia search API (``search_by_date``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.net.errors import SourceError
from bot.net.fetcher import Fetcher
from bot.sources.base import Author, Cursor, FetchedMention, FetchResult, Source, SourceConfig
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
            raise ValueError(
                f"{value[:60]!r} is not an HN Search tags filter: tags joined by commas (all "
                "of them), a group in parentheses for any of them, e.g. '(story,comment)' or "
                "'story,author_pg'; tags are story, comment, poll, pollopt, show_hn, ask_hn, "
                "launch_hn, job, front_page, author_NAME, story_ID")
        return value

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("the API address must start with https://")
        return value


def _stamp(value: object) -> int | None:
    """``created_at_i``: epoch seconds, an integer (not a boolean)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _created(hit: dict[str, Any]) -> datetime | None:
    return from_epoch(hit.get("created_at_i")) or parse_iso(hit.get("created_at"))


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
    title = as_str(hit.get("title")) or as_str(hit.get("story_title"))
    text = html_to_text(body_html) or (collapse_whitespace(title) if title else "")
    published = _created(hit)
    links = extract_links(body_html)
    story_url = hit.get("url") if not is_comment else hit.get("story_url")
    if (isinstance(story_url, str) and story_url.startswith(("http://", "https://"))
            and usable_url(story_url)):
        links = (story_url, *[x for x in links if x != story_url])
    author = as_str(hit.get("author")) or "unknown"
    parent = as_id(hit.get("parent_id"))
    extra: dict[str, Any] = {"kind": "comment" if is_comment else "story"}
    story_id = as_id(hit.get("story_id"))
    if story_id:
        extra["story_id"] = story_id
    if published is None:
        extra["date_missing"] = True
    points = hit.get("points") if isinstance(hit.get("points"), int) else 0
    comments = hit.get("num_comments") if isinstance(hit.get("num_comments"), int) else 0
    return FetchedMention(
        network=NETWORK,
        external_id=object_id,
        url=ITEM_URL.format(object_id),
        author=Author(handle=author, name=None, url=USER_URL.format(author)),
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
        raise SourceError("HN Search sent an unexpected answer")
    return [h for h in hits if isinstance(h, dict)]


class HackerNewsSource(Source[HackerNewsConfig]):
    """Stories and comments mentioning the query, newest first."""

    kind: ClassVar[str] = NETWORK
    title: ClassVar[str] = "Hacker News"
    config_model: ClassVar[type[SourceConfig]] = HackerNewsConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=10)

    def fetch(self, http: Fetcher, config: HackerNewsConfig, cursor: Cursor) -> FetchResult:
        """Items created at or after the cursor's second, minus those already seen."""
        since = _stamp(cursor.get("created_at_i"))
        hits = self._hits(http, config, since)
        boundary = set(cursor.get("ids_at") or []) if since is not None else set()
        fresh = [h for h in hits if str(h.get("objectID")) not in boundary]
        now = datetime.now(UTC)
        mentions = [m for m in (hit_to_mention(h, now) for h in fresh) if m is not None]
        mentions.sort(key=lambda m: m.published_at)
        return FetchResult(mentions=mentions, cursor=self._cursor(hits, since, boundary))

    def _hits(
        self, http: Fetcher, config: HackerNewsConfig, since: int | None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "query": config.query,
            "tags": config.tags,
            "hitsPerPage": config.hits_per_page,
        }
        if since is not None:
            # ">=" and a set of ids at that second: items posted in the same second
            # as the newest one seen are not lost.
            params["numericFilters"] = f"created_at_i>={since}"
        hits: list[dict[str, Any]] = []
        for page in range(config.max_pages if since is not None else 1):
            params["page"] = page
            payload = http.get(f"{config.base_url}/search_by_date", params=params).json()
            batch = parse_hits(payload)
            hits.extend(batch)
            pages = payload.get("nbPages")
            if not batch or not isinstance(pages, int) or page + 1 >= pages:
                break
        return hits

    @staticmethod
    def _cursor(hits: list[dict[str, Any]], since: int | None, boundary: set[str]) -> Cursor:
        stamps = [s for h in hits if (s := _stamp(h.get("created_at_i"))) is not None]
        newest = max([*stamps, *([since] if since is not None else [])], default=None)
        if newest is None:
            return {}
        ids_at = {str(h.get("objectID")) for h in hits if h.get("created_at_i") == newest}
        if newest == since:
            ids_at |= boundary
        return {"created_at_i": newest, "ids_at": sorted(ids_at)}
