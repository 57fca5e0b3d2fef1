"""X (Twitter): API v2 recent search with an app bearer token."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from bot.net.errors import SourceAuthError, SourceError
from bot.net.fetcher import Fetcher
from bot.net.http import HttpAuthError
from bot.sources.base import (
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
    setting_error,
)
from bot.sources.cursors import numeric_id, stored_id
from bot.sources.json_fields import as_dict, as_id, as_list, as_str
from bot.sources.text import collapse_whitespace, language_tag, parse_iso, usable_url

NETWORK = "x"
EXPANSIONS = "author_id,in_reply_to_user_id,referenced_tweets.id,referenced_tweets.id.author_id"
"""The objects a search answer includes: authors, the users replied to, and the posts
referenced (a retweet's original, in ``includes.tweets``) with their authors."""
TWEET_FIELDS = ("created_at,lang,public_metrics,conversation_id,referenced_tweets,author_id,"
                "entities,in_reply_to_user_id")
USER_FIELDS = "public_metrics,verified,username,name"
SEARCH_WINDOW = timedelta(days=7)
"""How far back recent search reads: X refuses a since_id, until_id or start_time older."""
WINDOW_MARGIN = timedelta(minutes=15)
"""Kept inside the window, so that a clock a little off or a slow answer is not refused."""
SNOWFLAKE_EPOCH_MS = 1288834974657
"""X ids are snowflakes: milliseconds since this instant (2010-11-04), shifted 22 bits."""

log = logging.getLogger(__name__)


class XConfig(SourceConfig):
    """Settings of an X recent-search source."""

    query: str = Field(
        min_length=1,
        max_length=512,
        description="Search query in X syntax, e.g. '\"Acme\" lang:en'. A retweet counts as "
        "the post it retweets, by its author (a retweet of the brand's post is the brand's).",
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
            raise setting_error("address_scheme", "the API address must start with https://")
        return value


def _id_key(tweet_id: str) -> tuple[int, str]:
    return (len(tweet_id), tweet_id)


def _author(user: dict[str, Any] | None, author_id: str | None) -> Author:
    if not user:
        return (Author(handle=f"id:{author_id}") if author_id
                else Author(handle="unknown", anonymous=True))
    username = as_str(user.get("username")) or author_id or "unknown"
    followers = as_dict(user.get("public_metrics")).get("followers_count")
    return Author(
        handle="@" + username,
        name=as_str(user.get("name")),
        followers=followers if isinstance(followers, int) else None,
        url=f"https://x.com/{username}",
        verified=bool(user.get("verified")),
    )


def _status_url(author: Author, tweet_id: str) -> str:
    """The post's address: under its author's username, else X's ``i/web`` form."""
    return f"https://x.com/{author.handle.lstrip('@') if author.url else 'i/web'}/status/{tweet_id}"


def _links(tweet: dict[str, Any]) -> tuple[str, ...]:
    urls = as_list(as_dict(tweet.get("entities")).get("urls"))
    found = [as_str(u.get("unwound_url")) or as_str(u.get("expanded_url"))
             for u in urls if isinstance(u, dict)]
    return tuple(dict.fromkeys(x for x in found if x and x.startswith("http") and usable_url(x)))


_RETWEET_PREFIX = re.compile(r"RT @(?P<username>\w{1,50}): ?")
"""How X writes a retweet's text: "RT @original_author: " and the original's words."""


def _retweeted_id(tweet: dict[str, Any]) -> str | None:
    """The id of the post ``tweet`` retweets, or None (a post of its own, a quote)."""
    return next((found for r in as_list(tweet.get("referenced_tweets"))
                 if isinstance(r, dict) and r.get("type") == "retweeted"
                 and (found := as_id(r.get("id")))), None)


def tweet_to_mention(
    tweet: dict[str, Any], users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]] | None = None,
) -> FetchedMention | None:
    """Normalize one v2 tweet object (with the users of ``includes.users`` by id, and the
    posts of ``includes.tweets`` and of the page by id).

    A retweet is the post it retweets, as a Mastodon boost is the boosted status: its
    words are the original author's, so it is the original (its id, author, text, date
    and counts) from ``tweets``, with the retweeter in ``extra["retweeted_by"]``. A page
    without that original still names it: its id (the ``retweeted`` reference, whose
    snowflake tells when it was posted) and its author (the text's "RT @handle: ", whose
    rest is the original's words, maybe cut short). A quote is the quoter's own post."""
    retweeted = _retweeted_id(tweet)
    if retweeted is not None:
        return _retweet(tweet, retweeted, users, tweets or {})
    tweet_id = as_id(tweet.get("id"))
    published = parse_iso(tweet.get("created_at"))
    if not tweet_id or published is None:
        return None
    author_id = as_id(tweet.get("author_id"))
    author = _author(users.get(author_id) if author_id else None, author_id)
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
        url=_status_url(author, tweet_id),
        author=author,
        # v2 returns text with &amp; &lt; &gt; escaped
        text=collapse_whitespace(html.unescape(as_str(tweet.get("text")) or "")),
        published_at=published,
        language_hint=language_tag(as_str(tweet.get("lang"))),
        parent_external_id=parent,
        engagement=engagement,
        links=_links(tweet),
        extra=_conversation(tweet, users) | _edit_history(tweet, tweet_id),
    )


def _edit_history(tweet: dict[str, Any], tweet_id: str) -> dict[str, Any]:
    """An edited post's earlier ids, oldest first, as ``extra["edited_from"]``.

    Each edit of a post gets a new id and search returns the latest version; the default
    field ``edit_history_tweet_ids`` lists every version's id, the original first
    (https://docs.x.com/x-api/fundamentals/edit-posts): ingest knows the edit as the
    post it stored under one of them."""
    earlier = [found for value in as_list(tweet.get("edit_history_tweet_ids"))
               if (found := as_id(value)) and found != tweet_id]
    return {"edited_from": earlier} if earlier else {}


def _retweet(tweet: dict[str, Any], original_id: str, users: dict[str, dict[str, Any]],
             tweets: dict[str, dict[str, Any]]) -> FetchedMention | None:
    """The post ``tweet`` retweets (``original_id``), credited to its author."""
    text = as_str(tweet.get("text")) or ""
    prefix = _RETWEET_PREFIX.match(text)
    credited = prefix.group("username") if prefix else None
    by_name = {str(u.get("username")).lower(): u for u in users.values()}
    retweeter_id = as_id(tweet.get("author_id"))
    extra: dict[str, Any] = {
        "retweeted_by": _author(users.get(retweeter_id or ""), retweeter_id).handle}
    retweet_id = as_id(tweet.get("id"))
    if retweet_id:
        extra["retweet_id"] = retweet_id
    original = tweets.get(original_id)
    # without tweets: an original that were itself a retweet is unwrapped once, no further
    found = (tweet_to_mention(original, users)
             if original is not None and as_id(original.get("id")) == original_id else None)
    if found is not None:
        if credited and found.author.url is None:
            # its author not expanded: the handle the retweet's text credits names them
            author = _author(by_name.get(credited.lower()) or {"username": credited}, None)
            found = replace(found, author=author, url=_status_url(author, original_id))
        return replace(found, extra=found.extra | extra)
    if numeric_id(original_id) is None or len(original_id) > 19:
        return None  # no post id, no time to read from it
    author = (_author(by_name.get(credited.lower()) or {"username": credited}, None)
              if credited else Author(handle="unknown", anonymous=True))
    # Without the original its counts are unknown: the retweet's own are not its.
    return FetchedMention(
        network=NETWORK,
        external_id=original_id,
        url=_status_url(author, original_id),
        author=author,
        text=collapse_whitespace(html.unescape(text[prefix.end():] if prefix else text)),
        published_at=id_time(original_id),
        language_hint=language_tag(as_str(tweet.get("lang"))),
        links=_links(tweet),
        extra=extra,
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
        raise SourceError("X sent an unexpected answer", key="unexpected_answer",
                          params={"network": "X"})
    data = payload.get("data") or []
    if not isinstance(data, list):
        raise SourceError("X sent an unexpected answer", key="unexpected_answer",
                          params={"network": "X"})
    includes = as_dict(payload.get("includes"))
    users = {
        user_id: u
        for u in as_list(includes.get("users"))
        if isinstance(u, dict) and (user_id := as_id(u.get("id")))
    }
    # A retweet's original: from includes.tweets, or the page itself when it holds it.
    tweets = {
        tweet_id: t
        for t in (*as_list(includes.get("tweets")), *data)
        if isinstance(t, dict) and (tweet_id := as_id(t.get("id")))
    }
    mentions = [tweet_to_mention(t, users, tweets) for t in data if isinstance(t, dict)]
    meta = payload.get("meta")
    meta = meta if isinstance(meta, dict) else {}
    return [m for m in mentions if m is not None], meta


def id_time(tweet_id: str) -> datetime:
    """When the post ``tweet_id`` (a decimal snowflake id) was made, to the millisecond."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _backlog(cursor: Cursor, since_id: str | None, source: str) -> tuple[str, str] | None:
    """The stored backlog still to read, as (until_id, newest id read), or None.

    Validated as ``since_id`` is (a cursor is hostile input): an ``until_id`` that is no
    id, or not above ``since_id``, drops the backlog with a warning and the poll reads
    from ``since_id`` again (nothing lost, some posts fetched twice, which ingest
    dedupes). A missing or invalid newest id falls back to ``until_id`` (same reason)."""
    if since_id is None:
        return None
    until_id = stored_id(cursor, "until_id", source)
    if until_id is None:
        return None
    if _id_key(until_id) <= _id_key(since_id):
        log.warning("%s: the stored cursor until_id=%s is not above since_id=%s; backlog "
                    "dropped, this poll reads from since_id", source, until_id, since_id)
        return None
    newest = stored_id(cursor, "newest_id", source)
    if newest is None or _id_key(newest) < _id_key(until_id):
        newest = until_id
    return until_id, newest


def _oldest(meta: dict[str, Any], page: list[FetchedMention]) -> str | None:
    # a retweet's own id, not its original's (older, maybe by years): X pages by the former
    ids = [i for i in (numeric_id(meta.get("oldest_id")), *(
        numeric_id(m.extra.get("retweet_id") or m.external_id) for m in page)) if i]
    return min(ids, key=_id_key, default=None)


class XSource(Source[XConfig]):
    """Posts matching a query on X (last 7 days), incremental with ``since_id``."""

    kind: ClassVar[str] = NETWORK
    title: ClassVar[str] = "X (Twitter)"
    config_model: ClassVar[type[SourceConfig]] = XConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=15)

    def fetch(self, http: Fetcher, config: XConfig, cursor: Cursor) -> FetchResult:
        """Posts newer than the cursor's ``since_id``, ``max_pages`` pages at most.

        A first poll reads one page (no history). When a poll stops with pages left, the
        cursor keeps ``since_id`` and notes the backlog: ``until_id`` (the oldest post
        read; X's until_id is exclusive) and ``newest_id`` (the newest). The next polls
        read the backlog (since_id < id < until_id, newest first) and only once it is
        exhausted does ``since_id`` move to ``newest_id``; posts newer than that come on
        the poll after. Recent search reads 7 days back only: the part of a backlog older
        than that is lost (X serves it no more), with a warning; the rest is read, and a
        backlog wholly past the window is closed, never asked for again and again."""
        source = f"X search {config.query!r}"
        since_id = stored_id(cursor, "since_id", source)
        backlog = _backlog(cursor, since_id, source)
        params: dict[str, Any] = {
            "query": config.query,
            "max_results": config.max_results,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "tweet.fields": TWEET_FIELDS,
        }
        window = datetime.now(UTC) - SEARCH_WINDOW + WINDOW_MARGIN
        if backlog:
            if id_time(backlog[0]) <= window:
                log.warning("%s: posts older than %s before id %s were not read in time "
                            "(X searches 7 days back); backlog closed", source,
                            window.isoformat(timespec="seconds"), backlog[0])
                return FetchResult(mentions=[], cursor={"since_id": backlog[1]})
            params["until_id"] = backlog[0]
        if since_id and id_time(since_id) <= window:
            # X refuses a since_id older than its window (400): a source paused for a week,
            # or whose query found nothing for one, failed every poll from then on.
            log.warning("%s: posts between id %s and the start of X's 7-day window are "
                        "lost (X searches 7 days back)", source, since_id)
            params["start_time"] = window.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif since_id:
            params["since_id"] = since_id
        headers = {"Authorization": f"Bearer {config.bearer_token.get_secret_value()}"}
        mentions: list[FetchedMention] = []
        newest_ids: list[str] = [since_id] if since_id else []
        oldest: str | None = None
        next_token: str | None = None
        for _ in range(config.max_pages if since_id else 1):
            payload = _search(http, f"{config.base_url}/2/tweets/search/recent", params,
                              headers)
            page, meta = parse_search(payload)
            mentions.extend(page)
            newest_id = numeric_id(meta.get("newest_id"))
            if newest_id:
                # the next since_id: anything else would have every later search refused
                newest_ids.append(newest_id)
            oldest = min(filter(None, (oldest, _oldest(meta, page))), key=_id_key, default=None)
            next_token = as_str(meta.get("next_token"))
            if not next_token:
                break
            params["next_token"] = next_token
        mentions.sort(key=lambda m: m.published_at)
        return FetchResult(mentions=mentions,
                           cursor=_next_cursor(source, since_id, backlog, newest_ids, oldest,
                                               more=bool(next_token)))


NO_SEARCH_ACCESS = frozenset({"453", "client-not-enrolled"})
"""X's codes for an app whose plan (or project) does not include the endpoint: 453 ("You
currently have access to a subset of X API V2 endpoints..."), and the reason
``client-not-enrolled`` of a 403 "Client Forbidden"."""


def _search(http: Fetcher, url: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
    """One page of recent search; a refusal because the app's X plan lacks recent search
    says so after X's own words (the token is not wrong: the plan is)."""
    try:
        return http.get(url, params=params, headers=headers).json()
    except HttpAuthError as err:
        if err.error_code not in NO_SEARCH_ACCESS:
            raise
        raise SourceAuthError(
            f"{err}. The X developer plan of this bearer token does not include recent "
            "search (GET /2/tweets/search/recent): the app needs an X API plan that does",
            reasons=[*err.reasons, ("x_plan_no_search", {})]) from err


def _next_cursor(source: str, since_id: str | None, backlog: tuple[str, str] | None,
                 newest_ids: list[str], oldest: str | None, *, more: bool) -> Cursor:
    """The cursor after a poll that read down to ``oldest`` (``more``: pages were left)."""
    newest = backlog[1] if backlog else max(newest_ids, key=_id_key, default=None)
    if not since_id or not more or not newest:
        return {"since_id": newest} if newest else {}
    if oldest is None or (backlog and _id_key(oldest) >= _id_key(backlog[0])):
        # pages left but none read lower: asking again would get the same, forever
        log.warning("%s: X said more posts were left but sent none older than those "
                    "read; the rest of this backlog is not read", source)
        return {"since_id": newest}
    return {"since_id": since_id, "until_id": oldest, "newest_id": newest}
