"""Search APIs that page as the real ones do, served by the local test server.

Each stand-in holds the posts a query matches and answers a request from its parameters
alone (filters, page size, page token), so a test sees what a source would see polling the
real network while posts arrive: several pages, and posts between two polls.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

X_PATH = "/2/tweets/search/recent"


def poll_until_quiet(source: Any, http: Any, config: Any, cursor: dict[str, Any], *,
                     key: Callable[[Any], str] = operator.attrgetter("external_id"),
                     new_only: bool = False, polls: int = 12,
                     ) -> tuple[list[str], dict[str, Any]]:
    """The keys (``key`` of each mention) a source fetched over polls until one brings
    nothing, and the last cursor. ``new_only``: until one brings nothing not fetched
    before (a stand-in that answers again with what a cursor already read)."""
    fetched: list[str] = []
    for _ in range(polls):
        result = source.fetch(http, config, cursor)
        cursor = result.cursor
        keys = [key(m) for m in result.mentions]
        if new_only:
            keys = [k for k in keys if k not in fetched]
        if not keys:
            break
        fetched += keys
    return fetched, cursor


SNOWFLAKE_EPOCH_MS = 1288834974657
"""X's epoch (2010-11-04T01:42:54.657Z): an id is the milliseconds since, shifted 22 bits."""


def x_id(when: datetime, sequence: int = 0) -> str:
    """The snowflake id X gives a post made at ``when`` (the ``sequence``-th that ms)."""
    return str(((int(when.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS) << 22) | sequence)


def _x_time(post_id: str) -> datetime:
    return datetime.fromtimestamp(((int(post_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)


def _key(post_id: str) -> tuple[int, str]:
    return (len(post_id), post_id)


@dataclass
class XRecentSearch:
    """GET /2/tweets/search/recent, paged as X documents it:
    https://docs.x.com/x-api/posts/search/integrate/paginate (posts newest first within and
    across pages; a ``next_token`` while more pages are left, none on the last; the same
    token always gives the same page) and the endpoint's reference
    https://docs.x.com/x-api/posts/recent-search (``since_id``: ids greater than it,
    ``until_id``: ids less than it, both exclusive; ``start_time`` inclusive;
    ``max_results`` 10 to 100; ``meta`` with newest_id, oldest_id, result_count,
    next_token). Recent search covers the last 7 days: a since_id older than that is
    refused with a 400 (as reported in github.com/rooteco/tweetscape/issues/421), and so
    here are an until_id or start_time older than that.

    Every post matches the query. ``requests`` records each request's arguments."""

    posts: list[str] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    def post(self, when: datetime, count: int = 1) -> list[str]:
        """Publish ``count`` posts at ``when`` (a millisecond apart); their ids."""
        ids = [x_id(when + timedelta(milliseconds=i)) for i in range(count)]
        self.posts.extend(ids)
        return ids

    def serve(self, server: HTTPServer) -> XRecentSearch:
        """Answer the search path of ``server``."""
        server.expect_request(X_PATH).respond_with_handler(self)
        return self

    def _refused(self, message: str) -> Response:
        body = {"errors": [{"message": message}], "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request"}
        return Response(json.dumps(body), status=400, content_type="application/json")

    def __call__(self, request: Request) -> Response:
        """One page of the posts the request's filters select."""
        args = dict(request.args)
        self.requests.append(args)
        window = datetime.now(UTC) - timedelta(days=7)
        since, until = args.get("since_id"), args.get("until_id")
        start = args.get("start_time")
        for name, value in (("since_id", since), ("until_id", until)):
            if value is not None and _x_time(value) < window:
                return self._refused(f"Invalid '{name}':'{value}'. '{name}' must be a tweet "
                                     f"id created after {window:%Y-%m-%dT%H:%MZ}.")
        start_at = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        if start_at is not None and start_at < window:
            return self._refused(f"Invalid 'start_time':'{start}'. 'start_time' must be on "
                                 f"or after {window:%Y-%m-%dT%H:%MZ}.")
        size = int(args.get("max_results", "10"))
        if not 10 <= size <= 100:
            return self._refused("The `max_results` query parameter value is not between "
                                 "10 and 100")
        selected = sorted(
            (p for p in self.posts
             if _x_time(p) >= window
             and (since is None or _key(p) > _key(since))
             and (until is None or _key(p) < _key(until))
             and (start_at is None or _x_time(p) >= start_at)),
            key=_key, reverse=True)
        # The token stands for the position after the last post served (ids below it), so
        # the same token gives the same page whenever it is sent.
        token = args.get("next_token")
        if token:
            selected = [p for p in selected if _key(p) < _key(token.removeprefix("below-"))]
        page, rest = selected[:size], selected[size:]
        if not page:
            return Response(json.dumps({"meta": {"result_count": 0}}),
                            content_type="application/json")
        meta: dict[str, Any] = {"newest_id": page[0], "oldest_id": page[-1],
                                "result_count": len(page)}
        if rest:
            meta["next_token"] = f"below-{page[-1]}"
        data = [{"id": p, "text": f"acme post {p}", "author_id": "2244994945",
                 "created_at": _x_time(p).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                 "lang": "en"} for p in page]
        users = [{"id": "2244994945", "name": "Dev Person", "username": "devperson"}]
        return Response(json.dumps({"data": data, "includes": {"users": users}, "meta": meta}),
                        content_type="application/json")


BLUESKY_SEARCH = "/xrpc/app.bsky.feed.searchPosts"
BLUESKY_LOGIN = "/xrpc/com.atproto.server.createSession"
BLUESKY_PROFILES = "/xrpc/app.bsky.actor.getProfiles"


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class BlueskySearch:
    """app.bsky.feed.searchPosts with ``sort=latest``, paged as its lexicon says (the
    shared copy of bluesky-social/atproto lexicons/app/bsky/feed/searchPosts.json):
    ``since`` inclusive and ``until`` exclusive, both on the post's sortAt (here its
    createdAt, also its indexedAt), ``limit`` 1 to 100 (default 25), a ``cursor`` while
    more posts are left. Its sign-in (createSession) accepts any password.

    Every post matches the query. ``requests`` records each search's arguments. The posts
    of ``hidden`` (by an account that blocks the searching one, or deleted) are dropped
    from a page after it was cut to ``limit``, as the AppView does (searchPosts' noBlocks
    rule and mapDefined), the cursor kept: a page may be short with more to come."""

    posts: list[tuple[datetime, str]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    claimed: dict[str, datetime] = field(default_factory=dict)
    """A post's createdAt when its author's client wrote a later one than its indexedAt
    (its sortAt is then its indexedAt, the earlier)."""

    def post(self, when: datetime, count: int = 1, *,
             created_at: datetime | None = None) -> list[str]:
        """Publish ``count`` posts indexed at ``when`` (a millisecond apart), saying they
        were made at ``created_at`` when given (later than ``when``); their URIs."""
        made = [(when + timedelta(milliseconds=i),
                 f"at://did:plc:author/app.bsky.feed.post/{len(self.posts) + i:013d}")
                for i in range(count)]
        self.posts.extend(made)
        if created_at is not None:
            self.claimed |= {uri: created_at for _, uri in made}
        return [uri for _, uri in made]

    def serve(self, server: HTTPServer) -> BlueskySearch:
        """Answer sign-ins and searches on ``server``."""
        server.expect_request(BLUESKY_LOGIN, method="POST").respond_with_json(
            {"accessJwt": "jwt-1", "refreshJwt": "refresh-1", "did": "did:plc:brand"})
        server.expect_request(BLUESKY_SEARCH).respond_with_handler(self)
        server.expect_request(BLUESKY_PROFILES).respond_with_handler(self.profiles)
        return self

    def profiles(self, request: Request) -> Response:
        """app.bsky.actor.getProfiles: a profileViewDetailed of each actor asked (1 to
        25, its lexicon's maxLength), each with 3 followers."""
        actors = request.args.getlist("actors")
        if not 1 <= len(actors) <= 25:
            return Response(json.dumps({"error": "InvalidRequest"}), status=400,
                            content_type="application/json")
        profiles = [{"did": did, "handle": "author.bsky.social", "followersCount": 3,
                     "followsCount": 1, "postsCount": 1} for did in actors]
        return Response(json.dumps({"profiles": profiles}), content_type="application/json")

    def __call__(self, request: Request) -> Response:
        """One page of the posts the request's filters select, newest first."""
        args = dict(request.args)
        self.requests.append(args)
        since = datetime.fromisoformat(args["since"].replace("Z", "+00:00")) \
            if "since" in args else None
        until = datetime.fromisoformat(args["until"].replace("Z", "+00:00")) \
            if "until" in args else None
        selected = sorted(
            (p for p in self.posts
             if (since is None or p[0] >= since) and (until is None or p[0] < until)),
            reverse=True)
        # The cursor is the offset of the next post; the real one is as opaque.
        offset = int(args.get("cursor", "0"))
        limit = int(args.get("limit", "25"))
        page = selected[offset:offset + limit]
        body: dict[str, Any] = {"posts": [
            {"uri": uri, "cid": "bafyreib", "indexedAt": _z(when),
             "author": {"did": "did:plc:author", "handle": "author.bsky.social"},
             "record": {"$type": "app.bsky.feed.post", "text": f"acme {uri[-4:]}",
                        "createdAt": _z(self.claimed.get(uri, when))}}
            for when, uri in page if uri not in self.hidden]}
        if offset + limit < len(selected):
            body["cursor"] = str(offset + limit)
        return Response(json.dumps(body), content_type="application/json")


HN_SEARCH = "/api/v1/search_by_date"
_HN_FILTER = re.compile(r"created_at_i(>=|<=|>|<|=)(-?\d+)")
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "=": operator.eq}


@dataclass
class HackerNewsSearch:
    """HN Search's ``search_by_date``, paged as https://hn.algolia.com/api describes it:
    items newest first; ``numericFilters`` such as ``created_at_i>X,created_at_i<Y``
    (commas AND them); ``page`` from 0 and ``hitsPerPage``; answers with ``hits``,
    ``nbHits``, ``page``, ``nbPages``, ``hitsPerPage``. Like every Algolia index it pages
    through the first 1000 hits only (Algolia's ``paginationLimitedTo``, 1000 by default:
    https://www.algolia.com/doc/api-reference/api-parameters/paginationLimitedTo/).

    Every item matches the query. ``requests`` records each request's arguments."""

    items: list[tuple[int, str]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    def post(self, second: int, count: int = 1) -> list[str]:
        """Publish ``count`` stories at epoch ``second``; their ids."""
        made = [(second, str(9_000_000 + len(self.items) + i)) for i in range(count)]
        self.items.extend(made)
        return [item_id for _, item_id in made]

    def serve(self, server: HTTPServer) -> HackerNewsSearch:
        """Answer ``search_by_date`` on ``server``."""
        server.expect_request(HN_SEARCH).respond_with_handler(self)
        return self

    def __call__(self, request: Request) -> Response:
        """One page of the items the request's filters select."""
        args = dict(request.args)
        self.requests.append(args)
        tests = [(_COMPARE[op], int(value)) for op, value
                 in _HN_FILTER.findall(args.get("numericFilters", ""))]
        selected = sorted((i for i in self.items if all(t(i[0], v) for t, v in tests)),
                          key=lambda i: (i[0], int(i[1])), reverse=True)
        per_page, page = int(args.get("hitsPerPage", "20")), int(args.get("page", "0"))
        reachable = selected[:1000]
        hits = [{"objectID": item_id, "created_at_i": second,
                 "created_at": datetime.fromtimestamp(second, UTC).strftime(
                     "%Y-%m-%dT%H:%M:%S.000Z"),
                 "author": "pg", "title": f"Acme story {item_id}", "url": None,
                 "points": 1, "num_comments": 0, "story_text": None,
                 "_tags": ["story", "author_pg", f"story_{item_id}"]}
                for second, item_id in reachable[page * per_page:(page + 1) * per_page]]
        body = {"hits": hits, "nbHits": len(selected), "page": page,
                "nbPages": -(-len(reachable) // per_page), "hitsPerPage": per_page}
        return Response(json.dumps(body), content_type="application/json")


MASTODON_SEARCH = "/api/v2/search"


def mastodon_id(when: datetime, sequence: int = 0) -> str:
    """The id Mastodon gives a status made at ``when``: milliseconds since the Unix epoch
    shifted 16 bits (lib/mastodon/snowflake.rb), the low bits a sequence."""
    return str((int(when.timestamp() * 1000) << 16) | sequence)


def _mastodon_time(status_id: str) -> datetime:
    return datetime.fromtimestamp((int(status_id) >> 16) / 1000, UTC)


@dataclass
class MastodonSearch:
    """GET /api/v2/search?type=statuses as Mastodon serves it, not only as
    https://docs.joinmastodon.org/methods/search/ words it: app/services/
    statuses_search_service.rb sorts the hits by id, newest first, then applies
    ``limit`` (at most 40) and ``offset``; it turns ``min_id`` into ``after:`` and
    ``max_id`` into ``before:`` the id's time written to the second (Time#iso8601), which
    app/lib/search_query_transformer.rb reads as created_at after (gt) or before (lt) it.
    So min_id gives the newest statuses after it, not those just after it, and its own
    second comes again. A search needs a token.

    Every status matches the query. ``requests`` records each request's arguments. The
    statuses of ``hidden`` (a muted or blocked author, a status deleted since) are dropped
    from a page after ``limit`` and ``offset`` cut it, as StatusesSearchService does: a
    page may be short with more to come."""

    statuses: list[str] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)

    def post(self, when: datetime, count: int = 1) -> list[str]:
        """Publish ``count`` statuses at ``when`` (a millisecond apart); their ids."""
        made = [mastodon_id(when + timedelta(milliseconds=i)) for i in range(count)]
        self.statuses.extend(made)
        return made

    def serve(self, server: HTTPServer) -> MastodonSearch:
        """Answer the search path of ``server``."""
        server.expect_request(MASTODON_SEARCH).respond_with_handler(self)
        return self

    def __call__(self, request: Request) -> Response:
        """One page of the statuses the request's filters select."""
        args = dict(request.args)
        self.requests.append(args)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return Response(json.dumps({"error": "The access token is invalid"}), status=401,
                            content_type="application/json")
        after = before = None
        if "min_id" in args:
            after = _mastodon_time(args["min_id"]).replace(microsecond=0)
        if "max_id" in args:
            before = _mastodon_time(args["max_id"]).replace(microsecond=0)
        selected = sorted(
            (s for s in self.statuses
             if (after is None or _mastodon_time(s) > after)
             and (before is None or _mastodon_time(s) < before)),
            key=int, reverse=True)
        limit = min(int(args.get("limit", "20")), 40)
        offset = int(args.get("offset", "0"))
        page = selected[offset:offset + limit]
        statuses = [
            {"id": s, "uri": f"https://remote.example/users/author/statuses/{s}",
             "url": f"https://remote.example/@author/{s}",
             "created_at": _mastodon_time(s).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
             "content": f"<p>acme {s[-6:]}</p>", "language": "en", "spoiler_text": "",
             "account": {"id": "1", "username": "author", "acct": "author@remote.example",
                         "display_name": "Author", "followers_count": 3,
                         "url": "https://remote.example/@author"}}
            for s in page if s not in self.hidden]
        return Response(json.dumps({"accounts": [], "statuses": statuses, "hashtags": []}),
                        content_type="application/json")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if not number:
            return text


@dataclass
class RedditSearch:
    """GET /search?sort=new (OAuth API) paged as https://www.reddit.com/dev/api/ says of
    listings: newest first; ``limit`` (at most 100); ``after`` names the fullname of the
    last item read, and the answer's ``data.after`` the one to send for the next page
    (null on the last). A listing reaches about 1000 items back, no further.

    Every post matches the query. ``requests`` records each request's arguments."""

    posts: list[tuple[int, str]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    def post(self, created_utc: int, count: int = 1) -> list[str]:
        """Publish ``count`` posts at ``created_utc``; their fullnames."""
        made = [(created_utc, f"t3_{_base36(1_000_000 + len(self.posts) + i)}")
                for i in range(count)]
        self.posts.extend(made)
        return [name for _, name in made]

    def serve(self, server: HTTPServer, path: str = "/search") -> RedditSearch:
        """Answer the search path of ``server`` (the token endpoint is the test's)."""
        server.expect_request(path).respond_with_handler(self)
        return self

    def __call__(self, request: Request) -> Response:
        """One page of the listing, after the ``after`` item."""
        args = dict(request.args)
        self.requests.append(args)
        listing = sorted(self.posts, key=lambda p: (p[0], int(p[1][3:], 36)),
                         reverse=True)[:1000]
        names = [name for _, name in listing]
        start = names.index(args["after"]) + 1 if args.get("after") in names else 0
        limit = min(int(args.get("limit", "25")), 100)
        page = listing[start:start + limit]
        children = [{"kind": "t3", "data": {
            "id": name[3:], "name": name, "created_utc": float(created),
            "permalink": f"/r/acme/comments/{name[3:]}/acme_post/", "author": "someone",
            "title": f"Acme post {name}", "selftext": "", "is_self": True,
            "subreddit": "acme", "score": 1, "num_comments": 0}} for created, name in page]
        more = start + limit < len(listing)
        body = {"kind": "Listing", "data": {
            "after": page[-1][1] if page and more else None, "before": None,
            "dist": len(children), "children": children}}
        return Response(json.dumps(body), content_type="application/json")


@dataclass
class MastodonTagTimeline:
    """GET /api/v1/timelines/tag/:hashtag as https://docs.joinmastodon.org/methods/timelines/
    describes it: statuses newest first; ``max_id`` (results lesser than it) and
    ``since_id`` (greater than it) bound them, and the newest of those come; ``min_id``
    gives those "immediately newer" than it, the oldest after it (still newest first in
    the answer); ``limit`` 20 by default, 40 at most.

    A status is numbered by its creation time (``mastodon_id``), as Mastodon numbers a
    remote status by its ``created_at`` (``Mastodon::Snowflake.id_at``): one that federates
    late (``post`` called after newer ones were read) gets an id below theirs.
    ``requests`` records each request's arguments."""

    statuses: list[str] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    def post(self, when: datetime, count: int = 1) -> list[str]:
        """Publish ``count`` statuses made at ``when`` (a millisecond apart); their ids."""
        made = [mastodon_id(when + timedelta(milliseconds=i)) for i in range(count)]
        self.statuses.extend(made)
        return made

    def serve(self, server: HTTPServer, tag: str = "acme") -> MastodonTagTimeline:
        """Answer the tag's timeline on ``server``."""
        server.expect_request(f"/api/v1/timelines/tag/{tag}").respond_with_handler(self)
        return self

    def __call__(self, request: Request) -> Response:
        """One page of the statuses the request's bounds select."""
        args = dict(request.args)
        self.requests.append(args)
        limit = min(int(args.get("limit", "20")), 40)
        selected = sorted(
            (s for s in self.statuses
             if all(int(s) > int(args[k]) for k in ("since_id", "min_id") if k in args)
             and ("max_id" not in args or int(s) < int(args["max_id"]))),
            key=int)
        page = selected[:limit] if "min_id" in args else selected[-limit:]
        statuses = [
            {"id": s, "uri": f"https://remote.example/users/author/statuses/{s}",
             "url": f"https://remote.example/@author/{s}",
             "created_at": _mastodon_time(s).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
             "content": f"<p>acme {s[-6:]}</p>", "language": "en", "spoiler_text": "",
             "in_reply_to_id": None, "reblog": None, "card": None,
             "account": {"id": "1", "username": "author", "acct": "author@remote.example",
                         "display_name": "Author", "followers_count": 3,
                         "url": "https://remote.example/@author"}}
            for s in reversed(page)]
        return Response(json.dumps(statuses), content_type="application/json")


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(when: datetime, sequence: int = 0) -> str:
    """A ULID made at ``when``: its milliseconds in 10 Crockford base32 characters, then
    80 bits (here a ``sequence``, not random, for a test to name) in 16."""
    value = (int(when.timestamp() * 1000) << 80) | sequence
    return "".join(_CROCKFORD[(value >> (5 * k)) & 31] for k in reversed(range(26)))


def _ulid_time(status_id: str) -> datetime:
    millis = 0
    for char in status_id[:10]:
        millis = millis * 32 + _CROCKFORD.index(char)
    return datetime.fromtimestamp(millis / 1000, UTC)


@dataclass
class UlidTagTimeline(MastodonTagTimeline):
    """The tag timeline of a GoToSocial instance: the same parameters, but a status id is
    a ULID, which GoToSocial makes from a remote status's creation time
    (``id.NewULIDFromTime(status.CreatedAt)``): one that federates late is below the
    statuses read before it came, as on Mastodon. ULIDs of one length compare as text."""

    def post(self, when: datetime, count: int = 1) -> list[str]:
        """Publish ``count`` statuses made at ``when`` (a millisecond apart); their ids."""
        made = [ulid(when + timedelta(milliseconds=i)) for i in range(count)]
        self.statuses.extend(made)
        return made

    def __call__(self, request: Request) -> Response:
        """One page of the statuses the request's bounds select."""
        args = dict(request.args)
        self.requests.append(args)
        limit = min(int(args.get("limit", "20")), 40)
        selected = sorted(
            s for s in self.statuses
            if all(s > args[k] for k in ("since_id", "min_id") if k in args)
            and ("max_id" not in args or s < args["max_id"]))
        page = selected[:limit] if "min_id" in args else selected[-limit:]
        statuses = [
            {"id": s, "uri": f"https://gts.example/users/author/statuses/{s}",
             "url": f"https://gts.example/@author/statuses/{s}",
             "created_at": _ulid_time(s).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
             "content": f"<p>acme {s[-6:]}</p>", "language": "en", "spoiler_text": "",
             "in_reply_to_id": None, "reblog": None, "card": None,
             "account": {"id": "01F8MH1H7YV1Z7D2C8K2730QBF", "username": "author",
                         "acct": "author@gts.example", "display_name": "Author",
                         "followers_count": 3, "url": "https://gts.example/@author"}}
            for s in reversed(page)]
        return Response(json.dumps(statuses), content_type="application/json")
