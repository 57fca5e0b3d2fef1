"""X (Twitter): API v2 recent search with an app bearer token."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from bot.net.errors import SourceError
from bot.net.fetcher import Fetcher
from bot.sources.base import Author, Cursor, FetchedMention, FetchResult, Source, SourceConfig
from bot.sources.cursors import numeric_id, stored_id
from bot.sources.json_fields import as_dict, as_id, as_list, as_str
from bot.sources.text import collapse_whitespace, language_tag, parse_iso, usable_url

NETWORK = "x"
TWEET_FIELDS = ("created_at,lang,public_metrics,conversation_id,referenced_tweets,author_id,"
                "entities,in_reply_to_user_id")
USER_FIELDS = "public_metrics,verified,username,name"


class XConfig(SourceConfig):
    """Settings of an X recent-search source."""

    query: str = Field(
        min_length=1,
        max_length=512,
        description="Search query in X syntax, e.g. '\"Acme\" -is:retweet lang:en'.",
    )
    bearer_token: SecretStr = Field(description="App-only bearer token of an X developer app.")
    reply_token: SecretStr | None = Field(
        default=None,
        description="OAuth 2.0 user token of the brand account, to post approved replies.",
    )
    base_url: str = Field(default="https://api.x.com", description="Address of the X API.")
    max_results: int = Field(default=100, ge=10, le=100, description="Posts per page (10-100).")
    max_pages: int = Field(default=2, ge=1, le=10, description="Most pages read per fetch.")

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("the API address must start with https://")
        return value


def _id_key(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)


def _author(user: dict[str, Any] | None, author_id: str | None) -> Author:
    if not user:
        return Author(handle=f"id:{author_id}" if author_id else "unknown")
    username = as_str(user.get("username")) or author_id or "unknown"
    followers = as_dict(user.get("public_metrics")).get("followers_count")
    return Author(
        handle="@" + username,
        name=as_str(user.get("name")),
        followers=followers if isinstance(followers, int) else None,
        url=f"https://x.com/{username}",
        verified=bool(user.get("verified")),
    )


def _links(tweet: dict[str, Any]) -> tuple[str, ...]:
    urls = as_list(as_dict(tweet.get("entities")).get("urls"))
    found = [as_str(u.get("unwound_url")) or as_str(u.get("expanded_url"))
             for u in urls if isinstance(u, dict)]
    return tuple(dict.fromkeys(x for x in found if x and x.startswith("http") and usable_url(x)))


def tweet_to_mention(
    tweet: dict[str, Any], users: dict[str, dict[str, Any]]
) -> FetchedMention | None:
    """Normalize one v2 tweet object (with the users of ``includes.users`` by id)."""
    tweet_id = as_id(tweet.get("id"))
    published = parse_iso(tweet.get("created_at"))
    if not tweet_id or published is None:
        return None
    author_id = as_id(tweet.get("author_id"))
    author = _author(users.get(author_id) if author_id else None, author_id)
    username = author.handle.lstrip("@") if author.url else "i/web"
    metrics = as_dict(tweet.get("public_metrics"))
    engagement = sum(
        v
        for k in ("like_count", "retweet_count", "reply_count", "quote_count")
        if isinstance(v := metrics.get(k), int) and v > 0
    )
    parent = next(
        (
            replied_id
            for r in as_list(tweet.get("referenced_tweets"))
            if isinstance(r, dict) and r.get("type") == "replied_to"
            and (replied_id := as_id(r.get("id")))
        ),
        None,
    )
    return FetchedMention(
        network=NETWORK,
        external_id=tweet_id,
        url=f"https://x.com/{username}/status/{tweet_id}",
        author=author,
        # v2 returns text with &amp; &lt; &gt; escaped
        text=collapse_whitespace(html.unescape(as_str(tweet.get("text")) or "")),
        published_at=published,
        language_hint=language_tag(as_str(tweet.get("lang"))),
        parent_external_id=parent,
        engagement=engagement,
        links=_links(tweet),
        extra=_conversation(tweet, users),
    )


def _conversation(tweet: dict[str, Any], users: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The conversation id and, for a reply, the handle replied to (from includes.users)."""
    extra: dict[str, Any] = {}
    conversation_id = as_id(tweet.get("conversation_id"))
    if conversation_id:
        extra["conversation_id"] = conversation_id
    replied = users.get(as_id(tweet.get("in_reply_to_user_id")) or "")
    if replied and isinstance(replied.get("username"), str):
        extra["in_reply_to_handle"] = "@" + replied["username"]
    return extra


def parse_search(payload: Any) -> tuple[list[FetchedMention], dict[str, Any]]:
    """Mentions and the ``meta`` object of a recent-search answer."""
    if not isinstance(payload, dict):
        raise SourceError("X sent an unexpected answer")
    data = payload.get("data") or []
    if not isinstance(data, list):
        raise SourceError("X sent an unexpected answer")
    users = {
        user_id: u
        for u in as_list(as_dict(payload.get("includes")).get("users"))
        if isinstance(u, dict) and (user_id := as_id(u.get("id")))
    }
    mentions = [tweet_to_mention(t, users) for t in data if isinstance(t, dict)]
    meta = payload.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    return [m for m in mentions if m is not None], meta


class XSource(Source[XConfig]):
    """Posts matching a query on X (last 7 days), incremental with ``since_id``."""

    kind: ClassVar[str] = NETWORK
    title: ClassVar[str] = "X (Twitter)"
    config_model: ClassVar[type[SourceConfig]] = XConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=15)

    def fetch(self, http: Fetcher, config: XConfig, cursor: Cursor) -> FetchResult:
        """Posts newer than the cursor's ``since_id``, a few pages at most."""
        since_id = stored_id(cursor, "since_id", f"X search {config.query!r}")
        params: dict[str, Any] = {
            "query": config.query,
            "max_results": config.max_results,
            "expansions": "author_id,in_reply_to_user_id",
            "user.fields": USER_FIELDS,
            "tweet.fields": TWEET_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        headers = {"Authorization": f"Bearer {config.bearer_token.get_secret_value()}"}
        mentions: list[FetchedMention] = []
        newest_ids: list[str] = [since_id] if since_id else []
        for _ in range(config.max_pages if since_id else 1):
            payload = http.get(
                f"{config.base_url}/2/tweets/search/recent", params=params, headers=headers
            ).json()
            page, meta = parse_search(payload)
            mentions.extend(page)
            newest_id = numeric_id(meta.get("newest_id"))
            if newest_id:
                # the next since_id: anything else would have every later search refused
                newest_ids.append(newest_id)
            next_token = as_str(meta.get("next_token"))
            if not next_token:
                break
            params["next_token"] = next_token
        newest = max(newest_ids, key=_id_key, default=None)
        mentions.sort(key=lambda m: m.published_at)
        return FetchResult(mentions=mentions, cursor={"since_id": newest} if newest else {})
