"""RSS / Atom / RDF feeds: news, blogs, Google Alerts, YouTube, Reddit and Mastodon tag feeds.

A feed's ``network`` label (``news``, ``youtube``) may not name another network Vigie has a
source for (X, Mastodon, Bluesky, Reddit, Hacker News, webhooks, or an alias of one):
authors, the brand's accounts, cases and post ids are keyed by network, and an entry's
author is whatever the feed writes, so a feed labelled ``x`` with an entry by ``@ana_r``
would merge with the real X author (history, reach, "writing again", reply target), and
one by the brand's handle would pass for the brand's own post.

An entry's author is its byline on its site: ``Admin@blog.example`` (``Author.site``, the
host of the entry's address without ``www.``), since a byline names someone on one site
only ("Admin", "John Smith" of two blogs are two people). An entry without a byline is
by the feed's title on that site, or by the host itself.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import ClassVar, NamedTuple
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.net.fetcher import Fetcher
from bot.networks import resolve_network
from bot.sources.base import (
    MAX_HANDLE_CHARS,
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
    setting_error,
)
from bot.sources.cursors import SeenIds, cursor_time, validators
from bot.sources.feedparse import FeedEntry, ParsedFeed, parse_feed
from bot.sources.text import short_hash, unwrap_redirect, usable_url
from bot.url_secrets import without_credentials

SEEN_KEEP = 500
"""How many entry ids a cursor remembers beyond those the feed still serves."""
LATE_GRACE = timedelta(days=2)
"""Unseen entries dated this much before the newest one seen are found late: still new
(a Google Alert lists an article it found days after it appeared), and flagged ``late``
so that ingest can store one older than the source's history quietly (see ``select_new``)."""
FUTURE_SLACK = timedelta(days=1)
"""Dates further in the future than this are bogus and never advance the cursor."""
MAX_LINKS = 20
DEFAULT_NETWORK = "rss"


def network_owner(label: str) -> str | None:
    """The network of another Vigie source that ``label`` names (aliases included:
    ``twitter`` is ``x``), or None when a feed may label its mentions so (``news``, or
    ``rss`` and its aliases)."""
    network = resolve_network(label)
    return network.name if network is not None and network.name != DEFAULT_NETWORK else None


def feed_network(label: object) -> str:
    """The network a feed source's entries are stored under: its label, or ``rss`` when
    the label names another network (a source configured before such labels were
    refused, or a network added to Vigie since)."""
    text = str(label or DEFAULT_NETWORK)
    return DEFAULT_NETWORK if network_owner(text) is not None else text


class RssConfig(SourceConfig):
    """Settings of an RSS / Atom feed source."""

    url: str = Field(description="Address of the RSS, Atom or RDF feed (http or https).")
    max_entries: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Most entries turned into mentions by one fetch (newest first).",
    )
    network: str = Field(
        default=DEFAULT_NETWORK,
        pattern=r"^[a-z0-9_-]{1,32}$",
        description="Network label given to the mentions (e.g. 'news', 'youtube'); not "
                    "another source's network (x, mastodon, bluesky, reddit, hackernews, "
                    "webhook).",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if urlsplit(value).scheme.lower() not in {"http", "https"}:
            raise setting_error("address_scheme", "the feed URL must start with http:// or https://")
        return value


class _Candidate(NamedTuple):
    # A tuple: built for every entry of every fetch, in a fraction of a frozen dataclass's
    # time (whose fields are each set through object.__setattr__).
    entry: FeedEntry
    external_id: str


def entry_external_id(entry: FeedEntry) -> str | None:
    """Stable id: GUID/id, else link, else a hash of title + date (+ text)."""
    if entry.entry_id:
        return entry.entry_id
    if entry.link:
        return unwrap_redirect(entry.link)
    if not entry.title and not entry.text:
        return None
    date = entry.published.isoformat() if entry.published else ""
    return "sha256:" + short_hash(entry.title or "", date, entry.text[:500])


def entry_to_mention(
    entry: FeedEntry,
    external_id: str,
    feed: ParsedFeed,
    feed_url: str,
    network: str,
    fetched_at: datetime,
    *,
    late: bool = False,
) -> FetchedMention:
    """Normalize one feed entry (Google redirect links are unwrapped; a malformed
    target is not, and a malformed id is no link); ``late``: found late (``select_new``)."""
    link = _unwrapped(entry.link) if entry.link else None
    if link is None and external_id.startswith(("http://", "https://")):
        link = usable_url(external_id)
    url = link or feed.link or feed_url
    host = _hostname(url)
    handle = entry.author_name or feed.title or host or "unknown"
    site = entry_site(host)
    if site is not None and handle.lower() not in (host, site):
        # A byline names someone on its site only: "Admin" of two blogs is two authors.
        handle = f"{handle[:MAX_HANDLE_CHARS - len(site) - 1]}@{site}"
    else:
        site = None
    if entry.links:
        links = tuple(
            dict.fromkeys(_unwrapped(x) for x in ((link,) if link else ()) + entry.links)
        )
    else:  # most entries: no generator and dict for a single link
        links = (_unwrapped(link),) if link else ()
    extra: dict[str, object] = {"feed_title": feed.title} if feed.title else {}
    if entry.published is None:
        extra["date_missing"] = True
    author_url = usable_url(entry.author_uri) if entry.author_uri else None
    return FetchedMention(
        network=network,
        external_id=external_id,
        url=url,
        author=Author(handle=handle, name=entry.author_name, url=author_url, site=site),
        text=entry.text or entry.title or "",
        published_at=entry.published or fetched_at,
        title=entry.title,
        language_hint=entry.language,
        links=links[:MAX_LINKS],
        extra=extra,
        late=late,
    )


def _unwrapped(link: str) -> str:
    """The target of a redirect link, or the link itself when that target is malformed."""
    target = unwrap_redirect(link)
    return link if target is link or usable_url(target) is None else target


# The authority of a plain http(s) address, which urlsplit reads as its netloc: after a
# lower-case scheme, up to the first "/", "?" or "#" or the end. It must end there: a tab
# or line break in it (which urlsplit drops) leaves the address to urlsplit, where a
# negative lookahead let the match back off to a shorter netloc and cache a wrong host.
_AUTHORITY_RE = re.compile(r"https?://([^/?#\t\r\n]*)(?=[/?#]|$)")
_HOSTS: dict[str, str | None] = {}
_HOSTS_LIMIT = 10_000


def _hostname(url: str) -> str | None:
    """``urlsplit(url).hostname``, None when urlsplit refuses ``url``. That host depends
    on the netloc alone, which a feed's entries share: it is worked out once per netloc."""
    authority = _AUTHORITY_RE.match(url)
    if authority is None:
        return _split_hostname(url)
    netloc = authority.group(1)
    try:
        return _HOSTS[netloc]
    except KeyError:
        pass
    if len(_HOSTS) >= _HOSTS_LIMIT:
        _HOSTS.clear()
    host = _HOSTS[netloc] = _split_hostname(url)
    return host


def _split_hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # a malformed feed address: the handle falls back on "unknown"
        return None


MAX_SITE_CHARS = 100
"""The longest site a byline is given (``entry_site``): a host longer than that would
leave the byline little of the handle's 200 characters."""


def entry_site(host: str | None) -> str | None:
    """The site a feed entry's byline is scoped to: the host of the entry's address (or of
    the feed's), in lower case, without ``www.``; None without a usable host."""
    if not host:
        return None
    site = host.lower().rstrip(".")
    site = site[4:] if site.startswith("www.") else site
    return site if site and "@" not in site and len(site) <= MAX_SITE_CHARS else None


def _candidates(feed: ParsedFeed) -> list[_Candidate]:
    out: list[_Candidate] = []
    seen: set[str] = set()
    for entry in feed.entries:
        external_id = entry_external_id(entry)
        if external_id is None or external_id in seen:
            continue  # nothing to show, or a duplicate inside the same document
        seen.add(external_id)
        out.append(_Candidate(entry, external_id))
    return out


def _is_late(entry: FeedEntry, newest: datetime | None) -> bool:
    """Whether an unseen entry is dated more than LATE_GRACE before the newest one seen."""
    return (entry.published is not None and newest is not None
            and entry.published < newest - LATE_GRACE)


def select_new(
    feed: ParsedFeed,
    cursor: Cursor,
    *,
    feed_url: str,
    network: str,
    max_entries: int,
    now: datetime | None = None,
) -> tuple[list[FetchedMention], Cursor]:
    """Mentions for the entries not seen before, and the cursor that remembers them.

    The cursor keeps a bounded set of entry-id digests (works for feeds without
    dates) and the newest trustworthy date seen. Every entry whose id is not in the set
    is new, however old its date: one dated more than ``LATE_GRACE`` before the newest
    date seen is flagged ``late`` (found late, as Google Alerts often are; or an old
    entry re-delivered under a new id). Ingest stores it like any other (a re-delivered
    one is a duplicate of the stored post, by id or content fingerprint) and stores one
    published before the source's history began quietly, as that history was.

    At most ``max_entries``, the newest: on a first poll (no cursor) the older entries of
    the feed's archive are remembered as seen and never taken; later, new entries past
    ``max_entries`` are left unseen for the next polls, so a burst is taken over several
    polls (a feed that gets more than ``max_entries`` new entries every poll for long
    still loses the oldest, once they fall out of the feed).
    """
    now = now or datetime.now(UTC)
    first = not cursor.get("seen")
    seen = SeenIds(cursor.get("seen") or [])
    newest = cursor_time(cursor, "newest")
    candidates = _candidates(feed)
    fresh = [c for c in candidates if c.external_id not in seen]
    fresh.sort(key=lambda c: c.entry.published or now, reverse=True)
    chosen = sorted(fresh[:max_entries], key=lambda c: c.entry.published or now)
    if not first and len(fresh) > max_entries:
        # More new entries than one fetch takes: the rest come with the next polls (a
        # first poll takes the newest of a feed's archive and leaves the rest, on purpose).
        candidates = [c for c in candidates if c.external_id in seen] + chosen
    mentions = [
        entry_to_mention(c.entry, c.external_id, feed, feed_url, network, now,
                         late=_is_late(c.entry, newest))
        for c in chosen
    ]
    dates = [
        c.entry.published
        for c in candidates
        if c.entry.published is not None and c.entry.published <= now + FUTURE_SLACK
    ]
    newest = max([*dates, *([newest] if newest else [])], default=None)
    new_cursor: Cursor = {"seen": seen.updated((c.external_id for c in candidates), SEEN_KEEP)}
    if newest is not None:
        new_cursor["newest"] = newest.isoformat()
    return mentions, new_cursor


def fetch_feed(
    http: Fetcher, url: str, cursor: Cursor, *, network: str, max_entries: int
) -> FetchResult:
    """Conditional GET of a feed, then parse and keep only new entries."""
    conditional = validators(cursor)
    response = http.get(
        url,
        cursor=conditional,
        headers={
            "Accept": "application/atom+xml, application/rss+xml, application/rdf+xml, "
            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
        },
    )
    if response.status_code == 304:
        return FetchResult(mentions=[], cursor=dict(cursor), not_modified=True)
    # Relative links resolve against, and a link-less entry falls back to, the feed's
    # address: without its credentials, which would otherwise reach the mention's card.
    feed = parse_feed(
        response.content,
        url=without_credentials(response.url),
        content_type=response.headers.get("content-type"),
    )
    mentions, new_cursor = select_new(
        feed, cursor, feed_url=without_credentials(url), network=network,
        max_entries=max_entries,
    )
    if len(mentions) == max_entries and cursor.get("seen"):
        # New entries may be left for the next poll: a conditional GET would hear "not
        # modified" and never bring them.
        return FetchResult(mentions=mentions, cursor=new_cursor)
    return FetchResult(mentions=mentions, cursor={**new_cursor, **conditional})


class RssSource(Source[RssConfig]):
    """Any RSS 0.9x/2.0, RSS 1.0 (RDF) or Atom feed."""

    kind: ClassVar[str] = "rss"
    title: ClassVar[str] = "RSS / Atom feed"
    config_model: ClassVar[type[SourceConfig]] = RssConfig
    default_interval: ClassVar[timedelta] = timedelta(minutes=15)

    def fetch(self, http: Fetcher, config: RssConfig, cursor: Cursor) -> FetchResult:
        """Fetch the feed and return its new entries, under the source's own label."""
        return fetch_feed(
            http, config.url, cursor, network=feed_network(config.network),
            max_entries=config.max_entries,
        )
