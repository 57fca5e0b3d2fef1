"""A local HTTP server standing in for the Slack Web API.

Point the app's ``WebClient(base_url=standin.base_url, token=BOT_TOKEN)`` at it. It
accepts what ``slack_sdk`` sends (form, JSON or multipart POST bodies, GET query
strings), records every call as a :class:`Call`, answers with Slack's response shapes
and fails the way Slack fails: ``invalid_blocks`` for Block Kit limit violations,
``msg_too_long``, ``invalid_arguments`` on views, ``not_authed``/``invalid_auth``,
``unknown_method``, plus injected faults (HTTP 429 with ``Retry-After``, 5xx, ``ok:false``
errors, delays, calls held in flight until released, dropped connections, "the call took
effect but the response was lost").

It keeps enough state to behave consistently: messages per channel (served back by
``conversations.history`` with their metadata), views and their hashes, what the user typed
into views' inputs, trigger ids issued and used, DM channels, users, uploaded files and
response URLs.

Rules of real Slack the stand-in enforces (each has a test in tests/harness_selftest/):

1. Text objects are never empty: a section's ``text`` (and every text object) needs at least
   one character, or the whole message is refused with ``invalid_blocks``. Block Kit
   reference, section block: "Minimum length for the text in this field is 1"
   (https://docs.slack.dev/reference/block-kit/blocks/section-block).
2. Every Block Kit payload (message blocks, attachment blocks, response-URL blocks, views)
   is also checked with slack_sdk's own models (``Block.parse(b)`` and ``View(**view)``,
   whose ``to_dict()`` runs ``validate_json()`` on every nested object), on top of the
   limits in ``blockkit_limits``.
3. ``views.update`` preserves input entry: an input block that keeps its ``block_id`` and
   its element's ``action_id`` keeps what the user typed (and, untouched, the value it
   showed) and the new ``initial_value`` is ignored; a new ``block_id`` replaces the value.
   views.update docs, "Preserving input entry" (https://api.slack.com/methods/views.update);
   slackapi/bolt-python issue 1064. :meth:`SlackStandIn.type_into` plays the user typing;
   :meth:`SlackStandIn.input_value` tells what the input shows.
4. Trigger ids are single-use (``exchanged_trigger_id``) and expire 3 seconds after Slack
   issued them (``expired_trigger_id``): https://api.slack.com/docs/triggers ("Triggers
   expire in three seconds... may only be used once"), views.open errors. Trigger ids come
   from :meth:`SlackStandIn.issue_trigger_id` (``SlackSender`` uses it); the clock is the
   ``clock`` argument, so tests move time without sleeping. Ids the stand-in never issued
   are accepted once (see "not modelled" below).
5. ``conversations.history``/``replies``/``info`` take a conversation id: a user id
   (U.../W...) answers ``channel_not_found``; a DM is read through its D... id (from
   ``conversations.open`` or the ``channel`` that ``chat.postMessage`` returns), with
   ``im:history``. conversations.history docs (https://api.slack.com/methods/conversations.history).
   ``chat.postMessage`` to a user id posts in the DM, as Slack documents.
6. Bots read only conversations they are in: ``conversations.history``/``replies`` in a
   public channel the bot is not a member of answer ``not_in_channel`` (a private one:
   ``channel_not_found``), while ``chat.postMessage``/``chat.update`` to a public channel
   work with ``chat:write.public`` (``not_in_channel`` without it). conversations.history
   docs; chat:write.public scope docs (https://api.slack.com/scopes/chat:write.public);
   slackapi/deno-slack-sdk issue 128. ``conversations.info`` is the exception: with
   ``channels:read`` it describes any public channel, the bot a member or not (the
   conversation object carries ``is_member``); a private channel the bot is not in answers
   ``channel_not_found``, an archived one is described with ``is_archived: true``.
   conversations.info docs (https://docs.slack.dev/reference/methods/conversations.info:
   bot scopes channels:read/groups:read, error ``channel_not_found``); conversation object
   docs (https://docs.slack.dev/reference/objects/conversation-object).
7. Scopes are enforced: a method called without its scope answers ``missing_scope`` with
   ``needed`` (the scope the method wants) and ``provided`` (those granted, comma-separated),
   as Slack answers ("The token used is not granted the specific scope permissions required
   to complete this request", chat.postMessage's Errors table,
   https://docs.slack.dev/reference/methods/chat.postMessage; the ``needed`` and
   ``provided`` of the method's answer, @slack/web-api ChatPostMessageResponse,
   https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/type-aliases/ChatPostMessageResponse).
   A method needs its "Required scopes": the scopes per method come from Slack's Web API
   spec, slackapi/slack-api-specs web-api/slack_web_openapi_v2.json, and the conversations.*
   ones depend on the conversation type. The scopes granted default to the
   bot scopes declared in manifest.yml (``scopes=`` / :meth:`SlackStandIn.set_scopes`).
8. Message metadata: ``event_type`` is a non-empty string and ``event_payload`` an object
   whose values are strings, numbers, booleans, objects or arrays, never ``null``; otherwise
   ``invalid_metadata_format`` (message metadata docs, https://api.slack.com/metadata/using;
   ``@slack/types`` MessageMetadataEventPayloadObject).
9. Errors arrive as HTTP 200 ``ok: false``: :meth:`SlackStandIn.error_next` injects any of
   them, e.g. the transient :data:`TRANSIENT_ERRORS` (``internal_error``, ``fatal_error``,
   ``service_unavailable``, ``request_timeout``), each method's "Errors" section.
10. Dead tokens: :meth:`SlackStandIn.revoke_token` makes every call with a token answer
    ``token_revoked``, ``invalid_auth`` or ``account_inactive`` (Web API docs, "Common
    errors"; https://api.slack.com/authentication/token-types).
    :meth:`SlackStandIn.uninstall` is Slack uninstalling the app: the token is revoked, then
    Slack posts the app ``app_uninstalled`` ("sent ... whenever a Slack app is completely
    uninstalled", with ``tokens_revoked`` in no guaranteed order,
    https://docs.slack.dev/reference/events/app_uninstalled) and ``tokens_revoked``
    (``tokens``: a hash of ``oauth``/``bot`` lists of user ids, not tokens,
    https://docs.slack.dev/reference/events/tokens_revoked).
11. A channel where threads are turned off (``set_channel(..., non_threadable=True)``)
    refuses every ``chat.postMessage`` that carries ``thread_ts`` with
    ``restricted_action_non_threadable_channel`` and takes top-level messages as usual.
    chat.postMessage docs, Errors table
    (https://docs.slack.dev/reference/methods/chat.postMessage):
    ``restricted_action_non_threadable_channel``, "Cannot post thread replies into a
    non_threadable channel".

12. ``chat.postMessage`` is paced per channel: "chat.postMessage generally allows posting one
    message per second per channel" and "Posting messages: 1 per second. Short bursts >1
    allowed" (https://docs.slack.dev/apis/web-api/rate-limits, the "Web API Special Tier"
    and "Posting messages" rows). Past the limit Slack answers HTTP 429 with ``{"ok":
    false, "error": "ratelimited"}`` and "a Retry-After header containing the number of
    seconds until you can retry" (https://api.slack.com/docs/rate-limits); the message is
    not posted. The stand-in keeps a token bucket per conversation:
    :data:`POST_RATE_PER_SECOND` tokens a second, at most :data:`POST_BURST` saved up; each
    message posted takes one. Slack does not say how long a burst may be: :data:`POST_BURST`
    is a small guess. ``post_rate``/``post_burst`` (or :meth:`SlackStandIn.set_post_limit`)
    tighten it for a test; the bucket follows ``clock``.
13. A method's rate limit holds for every call to it until Retry-After passes: Slack
    counts limits "per API method per workspace/team per app" (Tier 4 for ``users.info``,
    "100+ per minute", https://docs.slack.dev/apis/web-api/rate-limits) and answers a call
    past the limit HTTP 429 with "a Retry-After header containing the number of seconds
    until you can retry" (https://api.slack.com/docs/rate-limits, "Responding to rate
    limiting conditions"): asking again sooner, about anyone, is refused the same way.
    :meth:`SlackStandIn.rate_limit` starts such a window for a method (the tier's budget
    itself, which Slack does not publish exactly, is not counted); every call to it then
    answers 429 ``ratelimited`` with the whole seconds left (at least 1) until ``clock``
    passes the window's end. :meth:`SlackStandIn.fail_next` with 429 is a single refusal.
14. The app has :data:`~tests.harness.constants.ACK_DEADLINE_SECONDS` (3 s) to answer a
    slash command or an interaction: later, Slack drops the answer and shows the user an
    error (slash commands docs, "respond ... within 3000 milliseconds"; Bolt's
    "Acknowledging requests", "3 seconds to respond before Slack registers a timeout
    error"). The HTTP request helpers (``tests.harness.slack_requests``) time each answer
    and tell the stand-in (:meth:`SlackStandIn.record_answer`); :meth:`SlackStandIn.timeouts`
    lists those the user saw fail.
15. ``chat.postMessage`` and ``chat.update`` refuse a message whose blocks hold more than
    ``blocks_text_max`` characters of text together (default
    :data:`~tests.harness.blockkit_limits.MESSAGE_BLOCKS_TEXT_MAX`, 12,000, counted by
    :func:`~tests.harness.blockkit_limits.blocks_text_length`: every ``text`` string in the
    blocks and in ``attachments[].blocks``) with ``msg_blocks_too_long``, though each block
    is within its own limit. Undocumented: slackapi/bolt-js issue 2509 ("Blocks too long
    error at ~13200 characters", labelled server-side-issue) and issue 2867 (refused at
    11,341 characters so counted; a Slack maintainer quoted: "12,000 text characters with a
    buffer for block containers"). The same blocks through a response URL went through
    there (issue 2867), so response URLs are not held to it.
16. A response URL takes :data:`RESPONSE_URL_MAX_USES` (5) messages within
    :data:`RESPONSE_URL_TTL_SECONDS` (30 minutes, on ``clock``) of being issued: "you can
    respond to a user's command up to 5 times within 30 minutes of the user's invocation"
    (https://api.slack.com/interactivity/slash-commands, "Delayed responses and multiple
    responses"; the same holds for interactions' response URLs). Past that it answers HTTP
    404: ``used_url`` after the fifth use, ``expired_url`` after 30 minutes. Slack documents
    neither body; they are the error names reported for it (getsentry/sentry's Slack
    integration ignores a response-URL failure reading "Expired url", "Yes the error
    string has a space in it"): Vigie must go by the status, not the words. A refused post
    does not count as a use.
17. A response URL's body is checked like ``chat.postMessage``: ``text`` length, ``blocks``
    and ``attachments[].blocks`` (HTTP 400 ``invalid_blocks``), and a body with none of
    ``text``, ``blocks`` or ``attachments`` (unless it only deletes the original) is
    refused with HTTP 400 ``no_text`` (incoming webhooks docs, "Handling errors",
    https://api.slack.com/messaging/webhooks: ``no_text``, ``invalid_payload``).
18. ``chat.update`` and ``chat.delete`` take the conversation that holds the message
    ("Channel containing the message to be updated", chat.update docs,
    https://docs.slack.dev/reference/methods/chat.update): a user id (U.../W...) answers
    ``channel_not_found`` ("Value passed for channel was invalid"), unlike
    ``chat.postMessage``, which posts to the DM. A message the bot did not post (a
    user's) answers ``cant_update_message`` / ``cant_delete_message`` ("Authenticated
    user does not have permission to update this message", chat.update Errors table).
19. A file shared by ``files.completeUploadExternal`` (in ``channel_id``, in ``thread_ts``'s
    thread when given) is a message of the conversation: ``conversations.history`` (or
    ``conversations.replies``) serves it with ``subtype: file_share`` and ``files``, the file
    objects with their ``id`` (file_share message docs,
    https://docs.slack.dev/reference/events/message/file_share; the ``files`` of the messages
    conversations.history returns, @slack/web-api ChannelsHistoryResponse ``Message.files``).
    A file uploaded but never completed is shared nowhere. Slack shares the files
    asynchronously, after ``files.completeUploadExternal`` has answered: "the
    ``files.completeUploadExternal`` API endpoint asynchronously completes the sharing of
    uploaded files because there are a few time-consuming tasks on the server side (e.g.,
    security scans on the files)" (a Slack maintainer, slackapi/bolt-js issue 2115; also
    slackapi/java-slack-sdk issue 1307, a message posted after an upload shown before its
    file). :meth:`SlackStandIn.delay_file_shares` makes the ``file_share`` message appear in
    the history that long (on ``clock``) after the completion; by default it is there at once.
20. ``files.delete`` (bot scope ``files:write``) deletes a file "from your team": it is no
    longer listed by :meth:`SlackStandIn.files` and its ``file_share`` messages leave the
    history. A file deleted already answers ``file_deleted``, an unknown id
    ``file_not_found`` (files.delete docs, Errors table,
    https://docs.slack.dev/reference/methods/files.delete).
21. ``files.completeUploadExternal`` shares only in conversations the bot is a member of:
    ``chat:write.public`` covers messages (chat.postMessage), not files
    (https://docs.slack.dev/reference/scopes/chat:write.public); a public channel the bot is
    not in answers ``not_in_channel`` (getnao/nao issue 1372: the message went through, the
    chart did not), a private one ``channel_not_found``.
22. ``conversations.join`` (bot scope ``channels:join``) makes the bot a member of a public
    channel; a private one answers ``method_not_supported_for_channel_type``, an archived
    one ``is_archived`` (conversations.join docs,
    https://docs.slack.dev/reference/methods/conversations.join, Errors table).

Not modelled (documented Slack behaviour a test cannot rely on here): the budgets of the
rate-limit tiers other than the per-channel limit of ``chat.postMessage`` (and its
workspace-wide limit, whose numbers Slack does not publish; only injected 429s and rule
13's windows), the 2025 limits on
conversations.history for non-Marketplace apps, trigger ids that Slack never issued
(``invalid_trigger_id``), the 3-second deadline of Events API deliveries (retried by Slack),
Socket Mode itself (``tests/harness/socket_mode.py`` serves it; this server only answers
``apps.connections.open`` through a handler that harness adds), mrkdwn rendering (broken
``<...>`` entities are stored as sent), metadata ``event_type`` registration and the 8 KB
metadata size, user tokens, Enterprise Grid, and per-channel posting
permissions other than threads turned off (announcement-only, read-only and thread-only
channels, locked threads).

Example::

    with SlackStandIn() as slack:
        client = WebClient(token=BOT_TOKEN, base_url=slack.base_url)
        client.chat_postMessage(channel="C07VIGIEFEED", text="hi", blocks=[...])
        call = slack.last("chat.postMessage")
        assert call.args["blocks"][0]["type"] == "section"
        assert [m["text"] for m in slack.messages_in("C07VIGIEFEED")] == ["hi"]
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from tests.harness import constants as k
from tests.harness.blockkit_limits import (
    MESSAGE_BLOCKS_TEXT_MAX,
    blocks_text_length,
    validate_blocks,
    validate_message_text,
    validate_view,
)

#: The app manifest whose bot scopes the stand-in grants by default.
MANIFEST_PATH = Path(__file__).resolve().parents[2] / "manifest.yml"
#: Errors Slack answers with HTTP 200 that go away by retrying (each method's "Errors").
TRANSIENT_ERRORS = ("internal_error", "fatal_error", "service_unavailable", "request_timeout")
#: Errors that mean the token is dead until an admin reinstalls the app.
TOKEN_ERRORS = ("token_revoked", "invalid_auth", "account_inactive")
#: Seconds a trigger id stays valid after Slack issued it (https://api.slack.com/docs/triggers).
TRIGGER_TTL_SECONDS = 3.0
#: Messages a second ``chat.postMessage`` takes per conversation, as Slack documents:
#: "chat.postMessage generally allows posting one message per second per channel"
#: (https://docs.slack.dev/apis/web-api/rate-limits, "Web API Special Tier").
POST_RATE_PER_SECOND = 1.0
#: Messages a conversation takes at once after a quiet spell: "Short bursts >1 allowed"
#: (same page, "Posting messages"). Slack gives no number; a small one, so that a test
#: that counts on a long burst fails here rather than in production.
POST_BURST = 3
#: A response URL takes this many messages, within RESPONSE_URL_TTL_SECONDS of being issued:
#: "you can respond to a user's command up to 5 times within 30 minutes of the user's
#: invocation" (slash commands docs, "Delayed responses and multiple responses",
#: https://api.slack.com/interactivity/slash-commands).
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
#: Scope a method needs whatever the conversation (from Slack's Web API spec, bot tokens).
METHOD_SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.info": "users:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.delete": "files:write",
    "conversations.join": "channels:join",
}
#: conversations.* scopes per conversation type: public, private, DM, group DM.
CONVERSATION_SCOPES: dict[str, dict[str, str]] = {
    "history": {"C": "channels:history", "G": "groups:history", "D": "im:history",
                "M": "mpim:history"},
    "read": {"C": "channels:read", "G": "groups:read", "D": "im:read", "M": "mpim:read"},
}

#: Pseudo-method under which uploads to a ``files.getUploadURLExternal`` URL are recorded.
UPLOAD_METHOD = "upload_url"
#: Pseudo-method under which posts to a response URL are recorded.
RESPONSE_URL_METHOD = "response_url"

#: Form fields that slack_sdk JSON-encodes; the stand-in decodes them in ``Call.args``.
JSON_ENCODED_ARGS = frozenset(
    {"blocks", "attachments", "metadata", "view", "files", "unfurls", "message", "outputs"}
)
#: Methods Slack serves without a token.
NO_AUTH_METHODS = frozenset({"api.test", "blocks.validate", "oauth.v2.access"})

_FIRST_TS_MICROS = 1_700_000_000_000_100
_TS_STEP_MICROS = 100
_NO_TEXT_FALLBACK = "This content can't be displayed."
_HTML_5XX = b"<html><head><title>Server Error</title></head><body>Server Error</body></html>"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ManualClock:
    """A clock for ``SlackStandIn(clock=...)`` that moves only when told (seconds)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` forward."""
        self.now += seconds


class Hold:
    """Requests to a method wait here until released (see :meth:`SlackStandIn.hold`)."""

    def __init__(self) -> None:
        self._released = threading.Event()
        self._cond = threading.Condition()
        self.arrived = 0
        """How many requests reached the hold so far."""

    def wait_for_arrivals(self, count: int, timeout: float = 10.0) -> None:
        """Block until ``count`` requests are waiting here (or went through)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.arrived >= count, timeout):
                raise StandInTimeout(f"{self.arrived} request(s) reached the hold, not {count}")

    def release(self) -> None:
        """Let the waiting requests and every later one through."""
        self._released.set()

    def _enter(self, stopping: threading.Event) -> None:
        with self._cond:
            self.arrived += 1
            self._cond.notify_all()
        while not self._released.wait(0.05) and not stopping.is_set():
            pass


class StandInTimeout(AssertionError):
    """Raised by :meth:`SlackStandIn.wait_for` / :meth:`SlackStandIn.wait_until`."""


@dataclass(frozen=True)
class Call:
    """One request the stand-in received, with what it answered.

    Attributes:
        method: Web API method (``"chat.postMessage"``), or :data:`UPLOAD_METHOD` /
            :data:`RESPONSE_URL_METHOD` for the upload URL and response URLs.
        args: the arguments as sent: form/query values are strings (booleans arrive
            as ``"1"``/``"0"``), JSON bodies keep their types; form fields slack_sdk
            JSON-encodes (``blocks``, ``metadata``, ``view``, ``files``...) are decoded.
        headers: request headers, lower-cased names.
        at: ``time.time()`` when the request arrived.
        status: HTTP status answered (429, 500... for injected faults).
        response: decoded JSON answered (``None`` for a dropped connection, ``str`` for
            non-JSON bodies).
        http_method: ``"POST"`` or ``"GET"``.
        path: request path with query string.
        body: raw request body.
        clock: the stand-in's ``clock()`` when the call was answered (the time its
            per-channel posting limit and trigger ids follow).
        reply_headers: headers answered beyond the standard ones (``Retry-After``...).
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int = 200
    response: Any = None
    http_method: str = "POST"
    path: str = ""
    body: bytes = b""
    clock: float = 0.0
    reply_headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (HTTP 200 and, for JSON answers, ``ok: true``)."""
        if self.status != 200:
            return False
        if isinstance(self.response, dict):
            return self.response.get("ok") is True
        return self.response is not None

    @property
    def error(self) -> str | None:
        """Slack's ``error`` code for a failed call, or ``http_<status>``."""
        if isinstance(self.response, dict) and self.response.get("error"):
            return str(self.response["error"])
        if self.status != 200:
            return f"http_{self.status}"
        return None


@dataclass
class UploadedFile:
    """A file sent through ``files.getUploadURLExternal`` → upload URL → complete."""

    file_id: str
    filename: str
    length: int
    upload_url: str
    alt_txt: str | None = None
    snippet_type: str | None = None
    data: bytes | None = None
    title: str | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    deleted: bool = False
    """Deleted by ``files.delete`` (rule 20)."""


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: int | None = None
    error: str | None = None
    body: Any = None
    side_effect: bool = False
    disconnect: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Reply:
    status: int = 200
    payload: Any = None  # dict → JSON; str/bytes → text
    headers: dict[str, str] = field(default_factory=dict)
    disconnect: bool = False


@dataclass
class _Stored:
    channel: str
    message: dict[str, Any]
    deleted: bool = False
    file_share: bool = False
    shown_at: float = float("-inf")
    """When (on ``clock``) the history shows it: a file's share comes late (rule 19)."""


class _RateLimited(Exception):
    """Raised from a method handler: answer HTTP 429 ``ratelimited`` with ``Retry-After``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"ratelimited, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass
class _Bucket:
    """A token bucket: ``tokens`` left when ``clock()`` read ``at``."""

    tokens: float
    at: float


class _SlackError(Exception):
    """An ``ok: false`` answer raised from inside a method handler."""

    def __init__(
        self,
        error: str,
        messages: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.extra = extra or {}

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _as_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _blocks_error(errors: list[str], code: str = "invalid_blocks") -> _SlackError:
    return _SlackError(code, ["[ERROR] " + e for e in errors], {"errors": errors})


def manifest_bot_scopes(path: Path = MANIFEST_PATH) -> frozenset[str]:
    """The bot scopes declared in the app manifest (what an install grants)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    return frozenset(str(s) for s in scopes)


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def sdk_block_errors(blocks: Any, pointer: str = "/blocks") -> list[str]:
    """Errors slack_sdk's own Block Kit models find in ``blocks`` (empty when fine)."""
    if not isinstance(blocks, list):
        return []
    errors: list[str] = []
    for i, raw in enumerate(blocks):
        if not isinstance(raw, dict):
            continue
        try:
            block = Block.parse(raw)
            if block is None:
                errors.append(f"slack_sdk: unknown block [json-pointer:{pointer}/{i}]")
                continue
            block.to_dict()  # validate_json() on the block and, recursively, its parts
        except (SlackObjectFormationError, TypeError, KeyError, ValueError) as exc:
            errors.append(f"slack_sdk: {exc} [json-pointer:{pointer}/{i}]")
    return errors


def sdk_view_errors(view: Any) -> list[str]:
    """Errors slack_sdk's ``View`` model finds in ``view`` (empty when fine)."""
    if not isinstance(view, dict):
        return []
    try:
        View(**view).to_dict()  # validate_json() on the view and, recursively, its parts
    except (SlackObjectFormationError, TypeError, KeyError, ValueError) as exc:
        return [f"slack_sdk: {exc} [json-pointer:/view]"]
    return []


def _tz_info(tz: str) -> tuple[int, str]:
    try:
        now = datetime.now(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        return 0, "Coordinated Universal Time"
    offset = now.utcoffset()
    return (int(offset.total_seconds()) if offset else 0), (now.tzname() or tz)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean; calls are recorded instead

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.standin._handle(self.command, self.path, headers, body)
        if reply.disconnect:
            self.close_connection = True
            return
        if isinstance(reply.payload, dict):
            data = json.dumps(reply.payload, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        elif isinstance(reply.payload, bytes):
            data, content_type = reply.payload, "text/html; charset=utf-8"
        else:
            data = str(reply.payload or "").encode("utf-8")
            content_type = "text/plain; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: SlackStandIn) -> None:
        super().__init__(address, _RequestHandler)
        self.standin = standin


class SlackStandIn:
    """Local stand-in for the Slack Web API (see the module docstring).

    Args:
        valid_tokens: tokens accepted in ``Authorization: Bearer ...`` (or a ``token``
            argument); ``None`` accepts any ``xox...`` token.
        strict_messages: when true (the default, like Slack), ``chat.update``,
            ``chat.delete`` and ``chat.getPermalink`` on a ``ts`` the stand-in never
            saw answer ``message_not_found``; use :meth:`seed_message` to add history.
        default_locale / default_tz: locale and time zone of users not configured
            with :meth:`set_user`.
        host / port: where to listen (port 0 picks a free one).
        team_id, team_name, team_domain, app_id, bot_id, bot_user_id, bot_user_name:
            the identity ``auth.test`` reports and posted messages carry.
        scopes: the bot scopes granted (``missing_scope`` for the others); ``None``: the
            bot scopes declared in manifest.yml.
        clock: seconds, monotonic; when trigger ids are issued and used (expiry after
            3 s) and how the per-channel posting limit refills. Pass a fake to move time
            without sleeping.
        post_rate / post_burst: the per-channel limit of ``chat.postMessage`` (rule 12):
            messages a second, and how many may go at once. The defaults are Slack's.
        blocks_text_max: the text a message's blocks may hold together on
            ``chat.postMessage``/``chat.update`` (rule 15), 12,000 characters by default.
    """

    def __init__(
        self,
        *,
        valid_tokens: Iterable[str] | None = (k.BOT_TOKEN,),
        strict_messages: bool = True,
        default_locale: str = "en-US",
        default_tz: str = "America/Los_Angeles",
        host: str = "127.0.0.1",
        port: int = 0,
        team_id: str = k.TEAM_ID,
        team_name: str = k.TEAM_NAME,
        team_domain: str = k.TEAM_DOMAIN,
        app_id: str = k.APP_ID,
        bot_id: str = k.BOT_ID,
        bot_user_id: str = k.BOT_USER_ID,
        bot_user_name: str = k.BOT_USER_NAME,
        scopes: Iterable[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        post_rate: float = POST_RATE_PER_SECOND,
        post_burst: int = POST_BURST,
        blocks_text_max: int = MESSAGE_BLOCKS_TEXT_MAX,
    ) -> None:
        self._check_post_limit(post_rate, post_burst)
        self.blocks_text_max = blocks_text_max
        self.post_rate = post_rate
        self.post_burst = post_burst
        self.scopes: frozenset[str] = (
            manifest_bot_scopes() if scopes is None else frozenset(scopes)
        )
        self.clock = clock
        self.valid_tokens: frozenset[str] | None = (
            None if valid_tokens is None else frozenset(valid_tokens)
        )
        self.strict_messages = strict_messages
        self.default_locale = default_locale
        self.default_tz = default_tz
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.app_id = app_id
        self.bot_id = bot_id
        self.bot_user_id = bot_user_id
        self.bot_user_name = bot_user_name
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._cond = threading.Condition(threading.RLock())
        self._methods: dict[str, Handler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "blocks.validate": self._blocks_validate,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.delete": self._files_delete,
        }
        self._reset_state()

    # ================================================================== lifecycle
    def _reset_state(self) -> None:
        self._calls: list[Call] = []
        self._custom: dict[str, Handler] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._holds: dict[str, Hold] = {}
        self._ratio: float = 0.0
        self._ratio_statuses: tuple[int, ...] = (429, 500)
        self._ratio_methods: frozenset[str] | None = None
        self._ratio_retry_after = 1
        self._rng = random.Random(0)
        # Separate from the fault RNG so generated ids never shift the fault sequence.
        self._ids_rng = random.Random(1)
        self._revoked: dict[str, str] = {}
        self._counter = 0
        self._ts_micros = _FIRST_TS_MICROS - _TS_STEP_MICROS
        self.ts_from_clock = False
        """When true, a message's ts is ``clock()`` (epoch seconds then) as Slack's is its
        posting time, still unique and increasing; by default ts count from a fixed
        instant in 2023, which tests may spell out."""
        self._messages: list[_Stored] = []
        self._by_ts: dict[tuple[str, str], _Stored] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._channels: dict[str, dict[str, Any]] = {}
        self._missing_channels: set[str] = set()
        self._non_threadable: set[str] = set()
        """Channels where threads are turned off (rule 11)."""
        self._dms: dict[tuple[str, ...], str] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._missing_users: set[str] = set()
        self._views: dict[str, dict[str, Any]] = {}
        self._home: dict[str, str] = {}
        self._used_triggers: set[str] = set()
        self._issued_triggers: dict[str, float] = {}
        self._uploads: dict[str, UploadedFile] = {}
        self._share_delay = 0.0
        """Seconds (on ``clock``) before a completed upload's share shows (rule 19)."""
        self._post_buckets: dict[str, _Bucket] = {}
        """Conversation -> its ``chat.postMessage`` token bucket (rule 12)."""
        self._limited_until: dict[str, float] = {}
        """Method -> when (on ``clock``) its rate-limit window ends (rule 13)."""
        self._response_urls: dict[str, dict[str, Any]] = {}
        self._answers: list[tuple[str, float]] = []
        """(kind, seconds) of each answer of the app to a command or interaction (rule 14)."""
        self.set_channel(k.CHANNEL_ID, name=k.CHANNEL_NAME)
        self.set_user(k.USER_ID, name=k.USER_NAME, real_name="Alice Martin")
        self.set_user(k.OTHER_USER_ID, name=k.OTHER_USER_NAME, real_name="Bobby Lee")
        self.set_user(self.bot_user_id, name=self.bot_user_name, real_name="Vigie", is_bot=True)

    def start(self) -> SlackStandIn:
        """Start serving in a background thread; returns ``self``."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed requests in flight are released at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("SlackStandIn is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``, ending with ``/api/``."""
        return f"{self.root_url}/api/"

    def reset(self) -> None:
        """Forget everything: calls, messages, views, users, faults, handlers."""
        with self._cond:
            self._reset_state()

    # ============================================================ recorded calls
    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """Recorded calls in the order they were answered, optionally filtered.

        Args:
            method: only calls to this method (``None``: all).
            ok: ``True`` only successful calls, ``False`` only failed ones.
        """
        with self._cond:
            return self._select(method, ok)

    def _select(self, method: str | None, ok: bool | None) -> list[Call]:
        return [
            c
            for c in self._calls
            if (method is None or c.method == method) and (ok is None or c.ok == ok)
        ]

    def last(self, method: str | None = None) -> Call:
        """The last recorded call (to ``method``); raises ``AssertionError`` if none."""
        found = self.calls(method)
        if not found:
            raise AssertionError(f"no {method or 'Slack'} call recorded; got {self._summary()}")
        return found[-1]

    def clear(self) -> None:
        """Forget recorded calls only (state such as messages and views is kept)."""
        with self._cond:
            self._calls.clear()

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0, *, ok: bool | None = None
    ) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` are recorded.

        Returns:
            All matching calls (possibly more than ``count``).

        Raises:
            StandInTimeout: after ``timeout`` seconds, listing what was recorded.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._select(method, ok)
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StandInTimeout(
                        f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                        f"recorded: {self._summary()}"
                    )
                self._cond.wait(remaining)

    def wait_until(self, predicate: Callable[[SlackStandIn], bool], timeout: float = 5.0) -> None:
        """Block until ``predicate(standin)`` is true; it is re-checked after each call."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StandInTimeout(
                        f"condition not met after {timeout}s; recorded: {self._summary()}"
                    )
                self._cond.wait(remaining)

    def _summary(self) -> str:
        with self._cond:
            parts = [c.method if c.ok else f"{c.method}({c.error})" for c in self._calls[-30:]]
        return ", ".join(parts) or "nothing"

    # =================================================================== state views
    def messages_in(
        self,
        channel: str,
        *,
        include_deleted: bool = False,
        include_file_shares: bool = False,
    ) -> list[dict[str, Any]]:
        """Messages posted in ``channel``, oldest first, in their current state.

        Failed attempts are absent (except faults injected with ``side_effect=True``,
        which do post). Thread replies are included (they carry ``thread_ts``); edits by
        ``chat.update`` or ``replace_original`` are applied. Blocks carry the
        ``block_id`` Slack assigns when none was given, and a message sent without
        ``text`` has Slack's fallback text; compare against :meth:`calls` for the exact
        arguments sent.
        """
        channel = self._dm_alias(channel)
        with self._cond:
            return [
                copy.deepcopy(s.message)
                for s in self._messages
                if s.channel == channel
                and (include_deleted or not s.deleted)
                and (include_file_shares or not s.file_share)
            ]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The stored message ``ts`` in ``channel`` (``None`` if unknown or deleted)."""
        with self._cond:
            stored = self._by_ts.get((self._dm_alias(channel), ts))
            if stored is None or stored.deleted:
                return None
            return copy.deepcopy(stored.message)

    def ephemerals(
        self, channel: str | None = None, user: str | None = None
    ) -> list[dict[str, Any]]:
        """Ephemeral messages (``chat.postEphemeral`` and ephemeral response-URL posts).

        Each has ``channel``, ``user``, ``ts`` (``message_ts``), ``text`` and ``blocks``.
        """
        with self._cond:
            return [
                copy.deepcopy(e)
                for e in self._ephemerals
                if (channel is None or e["channel"] == channel)
                and (user is None or e["user"] == user)
            ]

    def seed_message(
        self,
        channel: str,
        *,
        text: str = "",
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        user: str | None = None,
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> dict[str, Any]:
        """Add a message to the history as if it had been posted earlier.

        Without ``user`` it is a message by the app's bot. Returns the stored message.
        """
        with self._cond:
            args: dict[str, Any] = {"text": text, "blocks": blocks, "metadata": metadata}
            if thread_ts:
                args["thread_ts"] = thread_ts
            stored = self._store_message(self._dm_alias(channel), args, ts=ts, user=user)
            self._cond.notify_all()
            return copy.deepcopy(stored.message)

    def view(self, view_id: str) -> dict[str, Any]:
        """The current state of a view opened/pushed/updated/published by the app."""
        with self._cond:
            if view_id not in self._views:
                raise KeyError(f"no view {view_id!r}; known: {sorted(self._views)}")
            return copy.deepcopy(self._views[view_id])

    def views(self, type: str | None = None) -> list[dict[str, Any]]:
        """All views, in creation order (``type``: ``"modal"`` or ``"home"``)."""
        with self._cond:
            return [
                copy.deepcopy(v)
                for v in self._views.values()
                if type is None or v.get("type") == type
            ]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The home tab last published for ``user_id``."""
        with self._cond:
            view_id = self._home.get(user_id)
            return None if view_id is None else copy.deepcopy(self._views[view_id])

    def files(self, *, completed: bool = True, include_deleted: bool = False
              ) -> list[UploadedFile]:
        """Uploaded files (only those completed with ``files.completeUploadExternal``), not
        those ``files.delete`` deleted unless ``include_deleted``."""
        with self._cond:
            return [
                copy.deepcopy(f) for f in self._uploads.values()
                if (f.completed or not completed) and (include_deleted or not f.deleted)
            ]

    def responses(self, url: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies posted successfully to response URLs (all, or to ``url``)."""
        with self._cond:
            return [
                copy.deepcopy(c.args)
                for c in self._calls
                if c.method == RESPONSE_URL_METHOD
                and c.ok
                and (url is None or c.path == urlsplit(url).path)
            ]

    # ======================================================== the app's answers
    def record_answer(self, kind: str, seconds: float) -> None:
        """Rule 14: the app answered a ``kind`` request (``slash_command``, ``block_actions``,
        ``view_submission``...) ``seconds`` after Slack sent it."""
        with self._cond:
            self._answers.append((kind, seconds))

    def timeouts(self) -> list[tuple[str, float]]:
        """The answers that came after :data:`~tests.harness.constants.ACK_DEADLINE_SECONDS`,
        as (kind, seconds): Slack showed the user an error instead of them (rule 14)."""
        with self._cond:
            return [(kind, s) for kind, s in self._answers if s > k.ACK_DEADLINE_SECONDS]

    # ============================================================= configuration
    def set_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        is_private: bool | None = None,
        is_member: bool | None = None,
        is_archived: bool | None = None,
        locale: str | None = None,
        non_threadable: bool | None = None,
    ) -> None:
        """Configure a channel (undeclared C/G ids exist, public, with the bot a member).

        ``is_member=False`` makes posts fail with ``not_in_channel``; ``is_archived``
        with ``is_archived``; ``non_threadable`` makes thread replies fail with
        ``restricted_action_non_threadable_channel`` (rule 11).
        """
        with self._cond:
            self._missing_channels.discard(channel_id)
            if non_threadable:
                self._non_threadable.add(channel_id)
            elif non_threadable is not None:
                self._non_threadable.discard(channel_id)
            info = self._channels.setdefault(channel_id, self._default_channel(channel_id))
            updates = {
                "name": name,
                "is_private": is_private,
                "is_member": is_member,
                "is_archived": is_archived,
                "locale": locale,
            }
            info.update({key: v for key, v in updates.items() if v is not None})
            if name is not None:
                info["name_normalized"] = name

    def remove_channel(self, channel_id: str) -> None:
        """Make ``channel_id`` unknown: every call naming it gets ``channel_not_found``."""
        with self._cond:
            self._missing_channels.add(channel_id)

    def set_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        display_name: str | None = None,
        locale: str | None = None,
        tz: str | None = None,
        email: str | None = None,
        is_bot: bool | None = None,
        is_admin: bool | None = None,
        deleted: bool | None = None,
        guest: str | None = None,
        team_id: str | None = None,
        is_stranger: bool | None = None,
        enterprise_user: dict[str, Any] | None = None,
    ) -> None:
        """Configure what ``users.info`` returns for ``user_id`` (unset fields keep defaults).

        ``team_id``: the user's own workspace (another organisation's, for a Slack Connect
        partner in a shared channel); ``is_stranger``: "If true, this user belongs to a
        different workspace than the one associated with your app's token, and isn't in any
        shared channels visible to your app" (https://api.slack.com/types/user);
        ``enterprise_user``: the Enterprise Grid block (``enterprise_id``, ``teams``...).

        ``guest``: ``"multi"`` for a multi-channel guest, ``"single"`` for a single-channel
        guest (see :meth:`_user_object` for the fields Slack sets for each).

        Note: like Slack, ``users.info`` returns ``locale`` only with ``include_locale=true``.
        """
        if guest not in (None, "multi", "single"):
            raise ValueError("guest must be 'multi' or 'single'")
        with self._cond:
            self._missing_users.discard(user_id)
            cfg = self._users.setdefault(user_id, {})
            values = {
                "name": name,
                "real_name": real_name,
                "display_name": display_name,
                "locale": locale,
                "tz": tz,
                "email": email,
                "is_bot": is_bot,
                "is_admin": is_admin,
                "deleted": deleted,
                "guest": guest,
                "team_id": team_id,
                "is_stranger": is_stranger,
                "enterprise_user": enterprise_user,
            }
            cfg.update({key: v for key, v in values.items() if v is not None})

    def remove_user(self, user_id: str) -> None:
        """Make ``users.info`` answer ``user_not_found`` for ``user_id``."""
        with self._cond:
            self._missing_users.add(user_id)

    def revoke_token(self, token: str, error: str = "token_revoked") -> None:
        """Calls with ``token`` now fail with ``error``, one of :data:`TOKEN_ERRORS`.

        ``token_revoked``: the app was uninstalled or the token revoked; ``invalid_auth``:
        the token is not (or no longer) valid; ``account_inactive``: the bot user or the
        workspace was deactivated. Slack answers each with HTTP 200 ``ok: false``.
        """
        if error not in TOKEN_ERRORS:
            raise ValueError(f"error must be one of {TOKEN_ERRORS}")
        with self._cond:
            self._revoked[token] = error

    def uninstall(self, app_url: str, signing_secret: str, token: str, *,
                  team_id: str = k.TEAM_ID, bot_user_id: str = k.BOT_USER_ID,
                  events: Iterable[str] = ("tokens_revoked", "app_uninstalled"),
                  enterprise_id: str | None = None, **delivery: Any) -> list[Any]:
        """Slack uninstalling the app from ``team_id``: every call with ``token`` now answers
        ``token_revoked``, then each of ``events`` (``app_uninstalled``, ``tokens_revoked``
        naming ``bot_user_id``) is posted, signed, to the app at ``app_url``. Returns the
        app's answers (``httpx.Response``); ``delivery``: ``slack_requests.event`` options
        (``retry_num``, ``event_id``...).

        With ``enterprise_id``, ``team_id`` is a workspace of that Enterprise Grid org and
        the events come as on Grid: the envelope's team_id the org's, the workspace in
        ``context_team_id``, and no ``authorizations`` (Slack's examples of these two
        events carry none: ``slack_requests.event_envelope``)."""
        from tests.harness import slack_requests

        self.revoke_token(token)
        answers = []
        for name in events:
            event: dict[str, Any] = {"type": name}
            if name == "tokens_revoked":
                event["tokens"] = {"bot": [bot_user_id]}
            grid: dict[str, Any] = ({"enterprise_id": enterprise_id, "authorized": False}
                    if enterprise_id is not None else {})
            answers.append(slack_requests.event(app_url, signing_secret, event,
                                                team_id=team_id, **grid, **delivery))
        return answers

    def restore_token(self, token: str) -> None:
        """Calls with ``token`` go through again (the workspace or the bot user active
        again, or an install that gave the same token back)."""
        with self._cond:
            self._revoked.pop(token, None)

    def set_scopes(self, scopes: Iterable[str]) -> None:
        """Grant exactly ``scopes`` (as if the app were reinstalled with them)."""
        with self._cond:
            self.scopes = frozenset(scopes)

    def set_post_limit(self, per_second: float, burst: int) -> None:
        """Limit ``chat.postMessage`` to ``per_second`` messages a second per conversation,
        ``burst`` at once (rule 12); every conversation starts again with a full bucket."""
        self._check_post_limit(per_second, burst)
        with self._cond:
            self.post_rate, self.post_burst = per_second, burst
            self._post_buckets.clear()

    @staticmethod
    def _check_post_limit(per_second: float, burst: int) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("the posting limit needs a positive rate and a burst of at least 1")

    def issue_trigger_id(self) -> str:
        """A fresh trigger id, as Slack puts in a slash command or interaction payload.

        It may be exchanged once (``views.open``/``views.push``), within
        :data:`TRIGGER_TTL_SECONDS` of ``clock()`` now: later, ``expired_trigger_id``.
        """
        with self._cond:
            trigger = f"{7_012_345_678_901 + self._counter}.738474920.{self._next_hex(32)}"
            self._counter += 1
            self._issued_triggers[trigger] = self.clock()
            return trigger

    def type_into(self, view_id: str, block_id: str, action_id: str, value: Any) -> None:
        """Play a user typing ``value`` into the input ``block_id``/``action_id`` of a view.

        The value lands in the view's ``state.values`` (as Slack keeps it) and survives a
        ``views.update`` that keeps the same ``block_id`` and ``action_id``.
        """
        with self._cond:
            view = self._views.get(view_id)
            if view is None:
                raise KeyError(f"no view {view_id!r}; known: {sorted(self._views)}")
            element = self._input_element(view, block_id, action_id)
            if element is None:
                raise KeyError(f"view {view_id} has no input {block_id}/{action_id}")
            kind = element.get("type", "plain_text_input")
            view["state"]["values"].setdefault(block_id, {})[action_id] = {
                "type": kind, "value": value}

    def input_value(self, view_id: str, block_id: str, action_id: str) -> Any:
        """What the input ``block_id``/``action_id`` of a view shows to the user now."""
        with self._cond:
            view = self._views[view_id]
            typed = ((view["state"]["values"].get(block_id) or {}).get(action_id) or {})
            if "value" in typed:
                return typed["value"]
            element = self._input_element(view, block_id, action_id)
            return None if element is None else element.get("initial_value")

    @staticmethod
    def _input_element(view: dict[str, Any], block_id: str, action_id: str
                       ) -> dict[str, Any] | None:
        for block in view.get("blocks") or []:
            if (isinstance(block, dict) and block.get("type") == "input"
                    and block.get("block_id") == block_id
                    and isinstance(block.get("element"), dict)
                    and block["element"].get("action_id") == action_id):
                return dict(block["element"])
        return None

    def on(self, method: str, handler: Handler) -> None:
        """Answer ``method`` with ``handler(args) -> response dict`` (overrides built-ins).

        Use it for methods the stand-in does not implement. The handler runs with the
        stand-in's lock held: it must not call the stand-in over HTTP.
        """
        with self._cond:
            self._custom[method] = handler

    def new_response_url(
        self,
        *,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """Issue a response URL served by the stand-in (``<root>/response_url/<id>``).

        When bound to a ``channel`` (and ``user``/``message_ts``), posts to it take
        effect like Slack's: ``replace_original``/``delete_original`` edit the message
        ``message_ts``, ``response_type: in_channel`` posts a message, otherwise an
        ephemeral message is shown to ``user``.
        """
        with self._cond:
            hook_id = f"{self.team_id}/{self._next_id(10)}/{self._next_hex(24)}"
            self._response_urls[hook_id] = {
                "channel": channel,
                "user": user,
                "message_ts": message_ts,
                "issued_at": self.clock(),
                "uses": 0,
            }
            return f"{self.root_url}/response_url/{hook_id}"

    # ========================================================== fault injection
    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        *,
        body: Any = None,
        side_effect: bool = False,
        disconnect: bool = False,
    ) -> None:
        """Make the next ``count`` calls to ``method`` fail at the HTTP level.

        Args:
            method: a Web API method, :data:`UPLOAD_METHOD`, :data:`RESPONSE_URL_METHOD`,
                or ``"*"`` for whichever call comes next.
            status: 429 answers ``{"ok": false, "error": "ratelimited"}`` with a
                ``Retry-After`` header; 5xx answer an HTML error page like Slack's edge.
            retry_after: seconds in ``Retry-After`` (429 only). slack_sdk's
                ``RateLimitErrorRetryHandler`` really sleeps that long (plus up to 1 s of
                jitter): use the ``fast_retries`` fixture or keep it at 0.
            count: how many consecutive calls fail.
            body: answer body instead of the default (dict → JSON).
            side_effect: the call takes effect (e.g. the message is posted) and only
                the answer is an error, as when Slack acted but the response was lost.
            disconnect: close the connection without any answer.
        """
        self._add_fault(
            method,
            _Fault(
                status=status,
                remaining=count,
                retry_after=retry_after if status == 429 else None,
                body=body,
                side_effect=side_effect,
                disconnect=disconnect,
            ),
        )

    def rate_limit(self, method: str, seconds: int) -> None:
        """Rule 13: Slack rate limits ``method`` for ``seconds`` from now (on ``clock``):
        every call to it answers HTTP 429 ``ratelimited`` with ``Retry-After`` the whole
        seconds left (at least 1), until the window ends. 0 ends it now."""
        with self._cond:
            if seconds <= 0:
                self._limited_until.pop(method, None)
            else:
                self._limited_until[method] = self.clock() + seconds

    def _rate_limited(self, method: str) -> int | None:
        """Rule 13: the Retry-After of a call to ``method`` now, None when not limited."""
        until = self._limited_until.get(method)
        if until is None:
            return None
        left = until - self.clock()
        if left <= 0:
            del self._limited_until[method]
            return None
        return max(1, math.ceil(left))

    def error_next(
        self,
        method: str,
        error: str,
        count: int = 1,
        *,
        extra: dict[str, Any] | None = None,
        side_effect: bool = False,
    ) -> None:
        """Make the next ``count`` calls to ``method`` answer HTTP 200 ``ok: false``.

        E.g. ``error_next("chat.postMessage", "channel_not_found")``. ``extra`` adds keys
        to the answer (``{"needed": "chat:write"}`` for ``missing_scope``...).
        """
        self._add_fault(
            method,
            _Fault(
                status=200,
                remaining=count,
                error=error,
                extra=dict(extra or {}),
                side_effect=side_effect,
            ),
        )

    def fail_ratio(
        self,
        ratio: float,
        statuses: Iterable[int] = (429, 500),
        seed: int = 0,
        *,
        methods: Iterable[str] | None = None,
        retry_after: int = 1,
    ) -> None:
        """Fail a random share of Web API calls, deterministically for a given ``seed``.

        Each call (to ``methods``, default all Web API methods) fails with probability
        ``ratio`` with a status drawn from ``statuses``. ``ratio=0`` turns it off.
        Queued :meth:`fail_next`/:meth:`error_next` faults take precedence.
        """
        if not 0.0 <= ratio <= 1.0:
            raise ValueError("ratio must be between 0 and 1")
        with self._cond:
            self._ratio = ratio
            self._ratio_statuses = tuple(statuses)
            self._ratio_methods = None if methods is None else frozenset(methods)
            self._ratio_retry_after = retry_after
            self._rng = random.Random(seed)

    def delay(self, method: str, seconds: float) -> None:
        """Delay every answer to ``method`` (``"*"``: all) by ``seconds``; 0 removes it."""
        with self._cond:
            if seconds <= 0:
                self._delays.pop(method, None)
            else:
                self._delays[method] = seconds

    def delay_file_shares(self, seconds: float) -> None:
        """Rule 19: the ``file_share`` message of each upload completed from now on shows
        in ``conversations.history``/``replies`` only ``seconds`` (on ``clock``) after
        ``files.completeUploadExternal`` answered, as Slack shares files asynchronously.
        :meth:`messages_in` lists it at once. 0 shares them at once again."""
        with self._cond:
            self._share_delay = max(0.0, seconds)

    def hold(self, method: str) -> Hold:
        """Make requests to ``method`` wait, before they are answered or take effect, until
        the returned :class:`Hold` is released: a call in flight for as long as a test needs.
        """
        hold = Hold()
        with self._cond:
            self._holds[method] = hold
        return hold

    def clear_faults(self) -> None:
        """Drop queued faults, delays and the failure ratio; release held calls."""
        with self._cond:
            self._faults.clear()
            self._delays.clear()
            for hold in self._holds.values():
                hold.release()
            self._holds.clear()
            self._ratio = 0.0

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("count must be at least 1")
        with self._cond:
            self._faults.setdefault(method, deque()).append(fault)

    def _take_fault(self, method: str, is_api: bool) -> _Fault | None:
        for key in (method, "*"):
            queue = self._faults.get(key)
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                return fault
        eligible = is_api if self._ratio_methods is None else method in self._ratio_methods
        if self._ratio > 0 and eligible and self._rng.random() < self._ratio:
            status = self._rng.choice(self._ratio_statuses)
            return _Fault(status=status, remaining=0, retry_after=self._ratio_retry_after)
        return None

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        if fault.disconnect:
            return _Reply(disconnect=True)
        if fault.error is not None:
            payload = fault.body or {"ok": False, "error": fault.error, **fault.extra}
            return _Reply(status=fault.status, payload=payload)
        headers: dict[str, str] = {}
        payload = fault.body
        if fault.status == 429:
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            if payload is None:
                payload = {"ok": False, "error": "ratelimited"}
        elif payload is None:
            payload = _HTML_5XX if fault.status >= 500 else {"ok": False, "error": "http_error"}
        return _Reply(status=fault.status, payload=payload, headers=headers)

    # ============================================================ request handling
    def _handle(self, http_method: str, path: str, headers: dict[str, str], body: bytes) -> _Reply:
        arrived = time.time()
        route = urlsplit(path)
        if route.path.startswith("/api/"):
            method, kind = route.path[len("/api/") :], "api"
        elif route.path.startswith("/upload/v1/"):
            method, kind = UPLOAD_METHOD, "upload"
        elif route.path.startswith("/response_url/"):
            method, kind = RESPONSE_URL_METHOD, "response_url"
        else:
            return _Reply(status=404, payload="Not Found")

        raw_upload = kind == "upload" and "multipart/" not in headers.get("content-type", "")
        args = {} if raw_upload else self._parse_args(route.query, headers, body)
        with self._cond:
            pause = self._delays.get(method, self._delays.get("*", 0.0))
            hold = self._holds.get(method)
        if hold is not None:
            hold._enter(self._stopping)
        if pause:
            self._stopping.wait(pause)

        with self._cond:
            try:
                if kind == "api":
                    reply = self._dispatch_api(method, args, headers)
                elif kind == "upload":
                    reply = self._dispatch_effect(
                        method, lambda: self._upload(route.path, args, body), is_api=False
                    )
                else:
                    reply = self._dispatch_effect(
                        method, lambda: self._response_url(route.path, args), is_api=False
                    )
            except Exception as exc:  # noqa: BLE001 - a stand-in bug must not hang the app
                reply = _Reply(status=500, payload={"ok": False, "error": f"standin_bug: {exc!r}"})
            if raw_upload:
                args = {"size": len(body)}
            self._calls.append(
                Call(
                    method=method,
                    args=args,
                    headers=headers,
                    at=arrived,
                    status=reply.status,
                    response=None if reply.disconnect else reply.payload,
                    http_method=http_method,
                    path=path,
                    body=body,
                    clock=self.clock(),
                    reply_headers=dict(reply.headers),
                )
            )
            self._cond.notify_all()
        return reply

    @staticmethod
    def _parse_args(query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = headers.get("content-type", "").lower()
        if body:
            if "application/json" in content_type:
                try:
                    decoded = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    decoded = None
                if isinstance(decoded, dict):
                    args.update(decoded)
                else:
                    args["__invalid_json__"] = True
            elif "multipart/form-data" in content_type:
                message = BytesParser(policy=HTTP_POLICY).parsebytes(
                    f"Content-Type: {headers['content-type']}\r\n\r\n".encode("latin-1") + body
                )
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    payload = part.get_payload(decode=True)
                    data = payload if isinstance(payload, bytes) else b""
                    if part.get_filename():
                        args[str(name)] = data
                        args.setdefault("filename", part.get_filename())
                    else:
                        args[str(name)] = data.decode("utf-8", "replace")
            else:
                args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        for key in JSON_ENCODED_ARGS & args.keys():
            value = args[key]
            if isinstance(value, str):
                # Undecodable values stay as sent; the method answers invalid_*_format.
                with contextlib.suppress(json.JSONDecodeError):
                    args[key] = json.loads(value)
        return args

    def _dispatch_api(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> _Reply:
        handler = self._custom.get(method) or self._methods.get(method)
        if handler is None:
            return _Reply(payload={"ok": False, "error": "unknown_method", "req_method": method})
        fault = self._take_fault(method, is_api=True)
        if fault is not None and not fault.side_effect:
            return self._fault_reply(fault)
        if (limited_for := self._rate_limited(method)) is not None:
            return _Reply(status=429, payload={"ok": False, "error": "ratelimited"},
                          headers={"Retry-After": str(limited_for)})
        if args.pop("__invalid_json__", False):
            result: dict[str, Any] = {"ok": False, "error": "invalid_json"}
        elif method not in NO_AUTH_METHODS and (auth_error := self._auth_error(args, headers)):
            result = {"ok": False, "error": auth_error}
        else:
            try:
                if method in METHOD_SCOPES and method not in self._custom:
                    self._require_scope(METHOD_SCOPES[method])
                result = handler(args)
            except _SlackError as err:
                result = err.payload()
            except _RateLimited as limited:
                return _Reply(status=429, payload={"ok": False, "error": "ratelimited"},
                              headers={"Retry-After": str(limited.retry_after)})
        if fault is not None:
            return self._fault_reply(fault)
        return _Reply(payload=result)

    def _dispatch_effect(
        self, method: str, effect: Callable[[], _Reply], *, is_api: bool
    ) -> _Reply:
        fault = self._take_fault(method, is_api=is_api)
        if fault is not None and not fault.side_effect:
            return self._fault_reply(fault)
        reply = effect()
        return self._fault_reply(fault) if fault is not None else reply

    def _require_scope(self, needed: str) -> None:
        """``missing_scope`` with ``needed``/``provided`` unless ``needed`` was granted."""
        if needed not in self.scopes:
            raise _SlackError(
                "missing_scope",
                extra={"needed": needed, "provided": ",".join(sorted(self.scopes))},
            )

    def _conversation_scope(self, channel: str, kind: str) -> None:
        prefix = channel[:1]
        if prefix == "G" and channel in self._dms.values():
            prefix = "M"
        needed = CONVERSATION_SCOPES[kind].get(prefix)
        if needed is not None:
            self._require_scope(needed)

    def _auth_error(self, args: dict[str, Any], headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""
        token = token or str(args.get("token") or "")
        if not token:
            return "not_authed"
        if token in self._revoked:
            return self._revoked[token]
        if self.valid_tokens is None:
            return None if token.startswith("xox") else "invalid_auth"
        return None if token in self.valid_tokens else "invalid_auth"

    # =================================================================== helpers
    def _next_id(self, width: int = 9) -> str:
        self._counter += 1
        n, out = self._counter, ""
        while n:
            n, r = divmod(n, 36)
            out = _B62[r] + out
        return out.rjust(width, "0")

    def _next_hex(self, width: int) -> str:
        return f"{self._ids_rng.getrandbits(width * 4):0{width}x}"

    def _next_ts(self) -> str:
        self._ts_micros += _TS_STEP_MICROS
        if self.ts_from_clock:
            self._ts_micros = max(self._ts_micros, int(self.clock() * 1_000_000))
        return f"{self._ts_micros // 1_000_000}.{self._ts_micros % 1_000_000:06d}"

    def _block_id(self) -> str:
        self._counter += 1
        n, out = self._counter, ""
        while n:
            n, r = divmod(n, 62)
            out = _B62[r] + out
        return "Vg" + out.rjust(3, "0")

    def _assign_block_ids(self, blocks: Any) -> Any:
        if not isinstance(blocks, list):
            return blocks
        blocks = copy.deepcopy(blocks)
        taken = {b.get("block_id") for b in blocks if isinstance(b, dict)}
        for b in blocks:
            if isinstance(b, dict) and not b.get("block_id"):
                new = self._block_id()
                while new in taken:
                    new = self._block_id()
                b["block_id"] = new
        return blocks

    def _default_channel(self, channel_id: str) -> dict[str, Any]:
        name = f"channel-{channel_id.lower()}"
        return {
            "id": channel_id,
            "name": name,
            "is_channel": not channel_id.startswith("G"),
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel_id.startswith("G"),
            "created": 1_690_000_000,
            "is_archived": False,
            "is_general": False,
            "unlinked": 0,
            "name_normalized": name,
            "is_shared": False,
            "is_org_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "context_team_id": self.team_id,
            "updated": 1_690_000_000_000,
            "parent_conversation": None,
            "creator": k.USER_ID,
            "is_ext_shared": False,
            "shared_team_ids": [self.team_id],
            "pending_connected_team_ids": [],
            "is_member": True,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "previous_names": [],
        }

    def _dm_alias(self, channel: str) -> str:
        """Posting to a user id posts in the DM with that user, as Slack does."""
        if channel[:1] in ("U", "W"):
            with self._cond:
                return self._open_dm((channel,))
        return channel

    def _open_dm(self, users: tuple[str, ...]) -> str:
        key = tuple(sorted(users))
        if key not in self._dms:
            prefix = "D" if len(key) == 1 else "G"
            self._dms[key] = prefix + self._next_id(10)
        return self._dms[key]

    def _dm_user(self, channel: str) -> str | None:
        for users, dm in self._dms.items():
            if dm == channel and len(users) == 1:
                return users[0]
        return None

    def _resolve_channel(
        self, args: dict[str, Any], key: str = "channel", *, post: bool, read: bool = False,
        describe: bool = False,
    ) -> str:
        """The conversation id named by ``args[key]``, or the error Slack would answer.

        ``post``: a write (``chat.postMessage``...): a user id means the DM with that user,
        and a public channel the bot is not in is fine with ``chat:write.public``.
        ``read``: a read (``conversations.history``...): user ids are not conversations
        (``channel_not_found``) and the bot must be a member (``not_in_channel``).
        ``describe``: ``conversations.info``: a read, except that a public channel the bot
        is not in is described all the same (``is_member: false``), as ``channels:read``
        allows; a private one stays ``channel_not_found``.
        """
        raw = args.get(key)
        if not raw or not isinstance(raw, str):
            raise _SlackError("channel_not_found")
        if read and raw[:1] in ("U", "W"):
            raise _SlackError("channel_not_found")
        if raw.startswith("#"):
            for cid, info in self._channels.items():
                if info["name"] == raw[1:] and cid not in self._missing_channels:
                    raw = cid
                    break
            else:
                raise _SlackError("channel_not_found")
        channel = self._dm_alias(raw)
        if channel in self._missing_channels:
            raise _SlackError("channel_not_found")
        if channel[:1] in ("C", "G") and channel not in self._dms.values():
            info = self._channels.setdefault(channel, self._default_channel(channel))
            if info["is_archived"] and post:
                raise _SlackError("is_archived")
            if not info["is_member"]:
                if info["is_private"]:
                    raise _SlackError("channel_not_found")  # bots cannot see it at all
                if not describe and (read or not post
                                     or "chat:write.public" not in self.scopes):
                    raise _SlackError("not_in_channel")
        elif channel[:1] == "D" and channel not in self._dms.values():
            raise _SlackError("channel_not_found")
        return channel

    def _check_message_content(self, args: dict[str, Any], *, require_content: bool = True,
                               total: bool = False) -> None:
        """Refuse the message content Slack refuses (``total``: rule 15 as well)."""
        text = args.get("text")
        blocks = args.get("blocks")
        attachments = args.get("attachments")
        if isinstance(blocks, str):
            raise _SlackError("invalid_blocks_format")
        if isinstance(attachments, str):
            raise _SlackError("invalid_attachments")
        if require_content and not text and not blocks and not attachments:
            raise _SlackError("no_text")
        if errors := validate_message_text(text):
            raise _SlackError("msg_too_long", ["[ERROR] " + e for e in errors])
        if blocks is not None and (
            errors := validate_blocks(blocks, "message") or sdk_block_errors(blocks)
        ):
            raise _blocks_error(errors)
        if isinstance(attachments, list):
            for i, att in enumerate(attachments):
                if isinstance(att, dict) and "blocks" in att:
                    pointer = f"/attachments/{i}/blocks"
                    errs = validate_blocks(
                        att["blocks"], "message", pointer=pointer
                    ) or sdk_block_errors(att["blocks"], pointer)
                    if errs:
                        raise _blocks_error(errs)
        if total:
            length = blocks_text_length(blocks)
            if isinstance(attachments, list):
                length += sum(blocks_text_length(att.get("blocks")) for att in attachments
                              if isinstance(att, dict))
            if length > self.blocks_text_max:
                raise _SlackError("msg_blocks_too_long")
        metadata = args.get("metadata")
        if metadata not in (None, {}) and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not metadata["event_type"]
            or not isinstance(metadata.get("event_payload", {}), dict)
            or _has_null(metadata.get("event_payload", {}))
        ):
            raise _SlackError("invalid_metadata_format")

    def _bot_fields(self) -> dict[str, Any]:
        return {
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "bot_profile": {
                "id": self.bot_id,
                "deleted": False,
                "name": self.bot_user_name,
                "updated": 1_690_000_000,
                "app_id": self.app_id,
                "icons": {
                    "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
                    "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
                    "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
                },
                "team_id": self.team_id,
            },
        }

    def _store_message(
        self,
        channel: str,
        args: dict[str, Any],
        *,
        ts: str | None = None,
        user: str | None = None,
        file_share: bool = False,
    ) -> _Stored:
        ts = ts or self._next_ts()
        message: dict[str, Any] = {"type": "message", "ts": ts}
        if user is None:
            message.update(self._bot_fields())
        else:
            message.update({"user": user, "team": self.team_id})
        text = args.get("text")
        blocks = args.get("blocks")
        message["text"] = text if text else (_NO_TEXT_FALLBACK if blocks else "")
        if blocks:
            message["blocks"] = self._assign_block_ids(blocks)
        if args.get("attachments"):
            message["attachments"] = copy.deepcopy(args["attachments"])
        if args.get("metadata"):
            message["metadata"] = copy.deepcopy(args["metadata"])
        thread_ts = args.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            parent = self._by_ts.get((channel, str(thread_ts)))
            if parent is not None and parent.message is not message:
                parent.message.setdefault("thread_ts", parent.message["ts"])
                parent.message["reply_count"] = parent.message.get("reply_count", 0) + 1
                parent.message["latest_reply"] = ts
        if args.get("files"):
            message["files"] = copy.deepcopy(args["files"])
            message["upload"] = True
        if file_share:
            message["subtype"] = "file_share"
        stored = _Stored(channel=channel, message=message, file_share=file_share)
        self._messages.append(stored)
        self._by_ts[(channel, ts)] = stored
        return stored

    def _find(self, channel: str, ts: Any) -> _Stored | None:
        stored = self._by_ts.get((channel, str(ts)))
        if stored is None or stored.deleted:
            if self.strict_messages:
                raise _SlackError("message_not_found")
            return None
        return stored

    # ============================================================ method handlers
    def _api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": True,
            "args": {k_: v for k_, v in args.items() if k_ != "token"},
        }
        if args.get("error"):
            return {"ok": False, "error": args["error"], "args": out["args"]}
        return out

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_user_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _blocks_validate(self, args: dict[str, Any]) -> dict[str, Any]:
        given = [key for key in ("blocks", "view", "message") if args.get(key) is not None]
        if len(given) != 1:
            raise _SlackError(
                "invalid_arguments", ["must provide exactly one of `blocks`, `view`, or `message`"]
            )
        key = given[0]
        if key == "blocks":
            errors = validate_blocks(args["blocks"], "message", pointer="")
        elif key == "view":
            errors = validate_view(args["view"], pointer="")
        else:
            msg = args["message"] if isinstance(args["message"], dict) else {}
            errors = validate_blocks(msg.get("blocks", []), "message", pointer="/blocks")
        if not errors:
            return {"ok": True}
        structured = []
        for e in errors:
            message, _, pointer = e.rpartition(" [json-pointer:")
            structured.append(
                {"code": "failed_constraint", "message": message, "pointer": pointer.rstrip("]")}
            )
        raise _SlackError("invalid_blocks", extra={"errors": structured})

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args, post=True)
        if args.get("thread_ts") and channel in self._non_threadable:
            raise _SlackError("restricted_action_non_threadable_channel")
        self._check_message_content(args, total=True)
        self._take_post_token(channel)
        stored = self._store_message(channel, args)
        message = copy.deepcopy(stored.message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _take_post_token(self, channel: str) -> None:
        """Rule 12: take a token from the conversation's bucket, or raise _RateLimited.

        Only messages that would be posted take a token: Slack documents the limit as
        "posting one message per second per channel".
        """
        now = self.clock()
        bucket = self._post_buckets.setdefault(channel, _Bucket(float(self.post_burst), now))
        bucket.tokens = min(float(self.post_burst),
                            bucket.tokens + max(0.0, now - bucket.at) * self.post_rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            # Retry-After is whole seconds (RFC 9110 delay-seconds), rounded up, at least 1.
            raise _RateLimited(max(1, math.ceil((1.0 - bucket.tokens) / self.post_rate)))
        bucket.tokens -= 1.0

    @staticmethod
    def _refuse_user_id(args: dict[str, Any]) -> None:
        """Rule 18: chat.update/delete want the conversation, never a user id."""
        if str(args.get("channel") or "")[:1] in ("U", "W"):
            raise _SlackError("channel_not_found")

    def _posted_by_bot(self, stored: _Stored) -> bool:
        return stored.message.get("bot_id") == self.bot_id

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        self._refuse_user_id(args)
        channel = self._resolve_channel(args, post=True)
        if not args.get("ts"):
            raise _SlackError("message_not_found")
        # Slack wants one of text/blocks/attachments, unless only files are re-attached.
        self._check_message_content(args, require_content=not args.get("file_ids"),
                                    total=True)
        stored = self._find(channel, args["ts"])
        ts = str(args["ts"])
        if stored is not None and not self._posted_by_bot(stored):
            raise _SlackError("cant_update_message")
        if stored is None:
            stored = self._store_message(channel, {}, ts=ts)
        message = stored.message
        # Omitted blocks/attachments/metadata are kept, as Slack documents.
        if "blocks" in args:
            if args["blocks"]:
                message["blocks"] = self._assign_block_ids(args["blocks"])
            else:
                message.pop("blocks", None)
        if "attachments" in args:
            message["attachments"] = copy.deepcopy(args["attachments"]) or []
        if "metadata" in args:
            if args["metadata"]:
                message["metadata"] = copy.deepcopy(args["metadata"])
            else:
                message.pop("metadata", None)
        if "text" in args or "blocks" in args:
            text = args.get("text")
            message["text"] = text if text else (_NO_TEXT_FALLBACK if message.get("blocks") else "")
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        self._refuse_user_id(args)
        channel = self._resolve_channel(args, post=False)
        stored = self._find(channel, args.get("ts"))
        if stored is not None and not self._posted_by_bot(stored):
            raise _SlackError("cant_delete_message")
        if stored is not None:
            stored.deleted = True
        return {"ok": True, "channel": channel, "ts": str(args.get("ts"))}

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args, post=True)
        if not args.get("user"):
            raise _SlackError("user_not_found")
        if args["user"] in self._missing_users:
            raise _SlackError("user_not_in_channel")
        self._check_message_content(args)
        ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel,
                "user": args["user"],
                "ts": ts,
                "text": args.get("text") or "",
                "blocks": copy.deepcopy(args.get("blocks") or []),
                "thread_ts": args.get("thread_ts"),
            }
        )
        return {"ok": True, "message_ts": ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args, post=False)
        ts = str(args.get("message_ts") or "")
        if not ts:
            raise _SlackError("message_not_found")
        stored = self._find(channel, ts)
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        thread_ts = stored.message.get("thread_ts") if stored else None
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _history_message(self, stored: _Stored, include_metadata: bool) -> dict[str, Any]:
        message = copy.deepcopy(stored.message)
        if not include_metadata:
            message.pop("metadata", None)
        return message

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args, post=False, read=True)
        self._conversation_scope(channel, "history")
        include_metadata = _truthy(args.get("include_all_metadata"))
        inclusive = _truthy(args.get("inclusive"))
        try:
            oldest = float(args.get("oldest") or 0)
        except (TypeError, ValueError) as exc:
            raise _SlackError("invalid_ts_oldest") from exc
        try:
            latest = float(args.get("latest") or 0) or float("inf")
        except (TypeError, ValueError) as exc:
            raise _SlackError("invalid_ts_latest") from exc

        def in_range(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        top = [
            s
            for s in self._messages
            if s.channel == channel
            and not s.deleted
            and s.shown_at <= self.clock()
            and s.message.get("thread_ts", s.message["ts"]) == s.message["ts"]
            and in_range(float(s.message["ts"]))
        ]
        top.reverse()  # Slack returns newest first
        return self._page(top, args, lambda s: self._history_message(s, include_metadata))

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args, post=False, read=True)
        self._conversation_scope(channel, "history")
        ts = str(args.get("ts") or "")
        parent = self._by_ts.get((channel, ts))
        if parent is None or parent.deleted:
            raise _SlackError("thread_not_found")
        include_metadata = _truthy(args.get("include_all_metadata"))
        thread = [parent] + [
            s
            for s in self._messages
            if s.channel == channel
            and not s.deleted
            and s.shown_at <= self.clock()
            and s is not parent
            and s.message.get("thread_ts") == ts
        ]
        return self._page(thread, args, lambda s: self._history_message(s, include_metadata))

    @staticmethod
    def _page(
        items: list[_Stored], args: dict[str, Any], render: Callable[[_Stored], dict[str, Any]]
    ) -> dict[str, Any]:
        limit = max(1, min(_as_int(args.get("limit"), 100) or 100, 999))
        cursor = args.get("cursor") or ""
        start = 0
        if cursor:
            try:
                start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
            except ValueError as exc:
                raise _SlackError("invalid_cursor") from exc
        page = items[start : start + limit]
        has_more = start + limit < len(items)
        next_cursor = (
            base64.b64encode(f"offset:{start + limit}".encode()).decode() if has_more else ""
        )
        return {
            "ok": True,
            "messages": [render(s) for s in page],
            "has_more": has_more,
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve_channel(args, post=False, read=True, describe=True)
        self._conversation_scope(channel, "read")
        if channel[:1] == "D":
            user = self._dm_user(channel)
            info: dict[str, Any] = {
                "id": channel,
                "created": 1_690_000_000,
                "is_archived": False,
                "is_im": True,
                "is_org_shared": False,
                "context_team_id": self.team_id,
                "updated": 1_690_000_000_000,
                "user": user,
                "is_user_deleted": False,
                "priority": 0,
            }
        else:
            info = copy.deepcopy(self._channels[channel])
        locale = info.pop("locale", None)
        if _truthy(args.get("include_locale")):
            info["locale"] = locale or self.default_locale
        return {"ok": True, "channel": info}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            channel = self._resolve_channel(args, post=False)
            return {"ok": True, "channel": {"id": channel}}
        raw = args.get("users")
        users = [u.strip() for u in (raw.split(",") if isinstance(raw, str) else raw or [])]
        users = [u for u in users if u]
        if not users:
            raise _SlackError("users_list_not_supplied")
        if len(users) > 8:
            raise _SlackError("too_many_users")
        self._require_scope("im:write" if len(users) == 1 else "mpim:write")
        for u in users:
            if u in self._missing_users:
                raise _SlackError("user_not_found")
        key = tuple(sorted(users))
        existed = key in self._dms
        channel = self._open_dm(key)
        out: dict[str, Any] = {"ok": True, "channel": {"id": channel}}
        if existed:
            out.update({"no_op": True, "already_open": True})
        if _truthy(args.get("return_im")) and len(users) == 1:
            out["channel"].update(
                {"created": 1_690_000_000, "is_im": True, "is_org_shared": False, "user": users[0]}
            )
        return out

    def _conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        """Rule 22: the bot joins a public channel (bot scope ``channels:join``, checked
        before as for every method of METHOD_SCOPES); a private channel, a DM or a group DM
        answers ``method_not_supported_for_channel_type`` ("This type of conversation
        cannot be used with this method"), an archived channel ``is_archived``, an unknown
        one ``channel_not_found`` (conversations.join docs, Errors table,
        https://docs.slack.dev/reference/methods/conversations.join). Joining a channel the
        bot is in already answers the channel with the warning ``already_in_channel``."""
        raw = args.get("channel")
        if not raw or not isinstance(raw, str) or raw in self._missing_channels:
            raise _SlackError("channel_not_found")
        if raw[:1] not in ("C", "G") or raw in self._dms.values():
            raise _SlackError("method_not_supported_for_channel_type")
        info = self._channels.setdefault(raw, self._default_channel(raw))
        if info["is_private"]:
            raise _SlackError("method_not_supported_for_channel_type")
        if info["is_archived"]:
            raise _SlackError("is_archived")
        out: dict[str, Any] = {"ok": True}
        if info["is_member"]:
            out.update({"warning": "already_in_channel",
                        "response_metadata": {"warnings": ["already_in_channel"]}})
        info["is_member"] = True
        channel = copy.deepcopy(info)
        channel.pop("locale", None)
        out["channel"] = channel
        return out

    def _user_object(self, user_id: str, include_locale: bool) -> dict[str, Any]:
        cfg = self._users.get(user_id, {})
        name = cfg.get("name") or f"user-{user_id.lower()}"
        real_name = cfg.get("real_name") or name.title()
        display_name = cfg.get("display_name", name)
        tz = cfg.get("tz") or self.default_tz
        offset, label = _tz_info(tz)
        is_bot = bool(cfg.get("is_bot", False))
        first, _, last = real_name.partition(" ")
        avatar = "https://secure.gravatar.com/avatar/0d5ad9d7ef9e8f3a.jpg?s={}"
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_emoji_display_info": [],
            "status_expiration": 0,
            "avatar_hash": "g0d5ad9d7ef9",
            "first_name": first,
            "last_name": last,
            "image_24": avatar.format(24),
            "image_32": avatar.format(32),
            "image_48": avatar.format(48),
            "image_72": avatar.format(72),
            "image_192": avatar.format(192),
            "image_512": avatar.format(512),
            "status_text_canonical": "",
            "team": self.team_id,
        }
        if cfg.get("email"):
            profile["email"] = cfg["email"]
        if is_bot:
            profile.update(
                {"bot_id": self.bot_id, "api_app_id": self.app_id, "always_active": True}
            )
        # The user object as Slack documents it (https://api.slack.com/types/user):
        # is_restricted "indicates whether or not the user is a guest user. Use in combination
        # with the is_ultra_restricted field to check if the user is a single-channel guest
        # user"; is_ultra_restricted "indicates whether or not the user is a single-channel
        # guest". So a multi-channel guest is restricted only, a single-channel one both.
        guest = cfg.get("guest")
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "deleted": bool(cfg.get("deleted", False)),
            "color": "9f69e7",
            "real_name": real_name,
            "tz": tz,
            "tz_label": label,
            "tz_offset": offset,
            "profile": profile,
            "is_admin": bool(cfg.get("is_admin", False)),
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": guest in ("multi", "single"),
            "is_ultra_restricted": guest == "single",
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": 1_690_000_000,
            "is_email_confirmed": not is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }
        if include_locale:
            user["locale"] = cfg.get("locale") or self.default_locale
        if cfg.get("team_id"):
            user["team_id"] = profile["team"] = cfg["team_id"]
        if "is_stranger" in cfg:
            user["is_stranger"] = bool(cfg["is_stranger"])
        if cfg.get("enterprise_user"):
            user["enterprise_user"] = dict(cfg["enterprise_user"])
        return user

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user")
        if not user_id or not isinstance(user_id, str):
            raise _SlackError("user_not_found")
        if user_id in self._missing_users or user_id[:1] not in ("U", "W"):
            raise _SlackError("user_not_found")
        return {"ok": True, "user": self._user_object(user_id, _truthy(args.get("include_locale")))}

    # ------------------------------------------------------------------- views
    def _decode_view(self, args: dict[str, Any], surface: str | None) -> dict[str, Any]:
        view = args.get("view")
        if view is None:
            raise _SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
        if isinstance(view, str):
            raise _SlackError("invalid_arguments", ["[ERROR] view must be a JSON object"])
        if errors := validate_view(view, surface) or sdk_view_errors(view):
            raise _SlackError("invalid_arguments", ["[ERROR] " + e for e in errors])
        return dict(view)

    def _use_trigger(self, args: dict[str, Any]) -> None:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if not trigger:
            raise _SlackError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        if trigger in self._used_triggers:
            raise _SlackError("exchanged_trigger_id")
        issued = self._issued_triggers.get(str(trigger))
        if issued is not None and self.clock() - issued > TRIGGER_TTL_SECONDS:
            raise _SlackError("expired_trigger_id")
        self._used_triggers.add(str(trigger))

    def _new_hash(self) -> str:
        return f"{self._next_ts().split('.')[0]}.{self._next_hex(8)}"

    def _materialize_view(
        self, view: dict[str, Any], view_id: str, root_id: str, previous: str | None
    ) -> dict[str, Any]:
        out = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": self._assign_block_ids(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._new_hash(),
            "title": copy.deepcopy(view.get("title", {"type": "plain_text", "text": "App"})),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous,
            "root_view_id": root_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if view.get("submit_disabled") is not None:
            out["submit_disabled"] = bool(view["submit_disabled"])
        return out

    def _external_id_taken(self, external_id: str, except_id: str | None = None) -> bool:
        return bool(external_id) and any(
            v.get("external_id") == external_id and vid != except_id
            for vid, v in self._views.items()
        )

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._decode_view(args, "modal")
        self._use_trigger(args)
        if self._external_id_taken(view.get("external_id", "")):
            raise _SlackError("duplicate_external_id")
        view_id = "V" + self._next_id(10)
        self._views[view_id] = self._materialize_view(view, view_id, view_id, None)
        return {"ok": True, "view": copy.deepcopy(self._views[view_id])}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._decode_view(args, "modal")
        self._use_trigger(args)
        view_id = "V" + self._next_id(10)
        self._views[view_id] = self._materialize_view(view, view_id, view_id, None)
        return {"ok": True, "view": copy.deepcopy(self._views[view_id])}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = args.get("view_id")
        external_id = args.get("external_id")
        if not view_id and not external_id:
            raise _SlackError(
                "invalid_arguments", ["[ERROR] must provide either view_id or external_id"]
            )
        if not view_id:
            view_id = next(
                (vid for vid, v in self._views.items() if v.get("external_id") == external_id),
                None,
            )
        if not view_id or view_id not in self._views:
            raise _SlackError("not_found")
        current = self._views[view_id]
        view = self._decode_view(args, current["type"])
        if args.get("hash") and args["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        updated = self._materialize_view(
            view, view_id, current["root_view_id"], current["previous_view_id"]
        )
        self._preserve_inputs(current, updated)
        self._views[view_id] = updated
        return {"ok": True, "view": copy.deepcopy(updated)}

    def _preserve_inputs(self, current: dict[str, Any], updated: dict[str, Any]) -> None:
        """Slack's "preserving input entry": same block_id + action_id keeps the value.

        The input keeps what the user typed, or what it showed if untouched; the new
        ``initial_value`` is ignored. The stored view shows that value as ``initial_value``
        (what the user sees) and keeps the typed state in ``state.values``.
        """
        typed = current["state"]["values"]
        for block in updated["blocks"]:
            if not (isinstance(block, dict) and block.get("type") == "input"
                    and isinstance(block.get("element"), dict)):
                continue
            block_id, element = block.get("block_id"), block["element"]
            action_id = element.get("action_id")
            old = self._input_element(current, str(block_id), str(action_id))
            if old is None or old.get("type") != element.get("type"):
                continue
            state = (typed.get(block_id) or {}).get(action_id)
            if state is not None:
                updated["state"]["values"].setdefault(block_id, {})[action_id] = state
                shown = state.get("value")
            else:
                shown = old.get("initial_value")
            if shown is None:
                element.pop("initial_value", None)
            else:
                element["initial_value"] = shown

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not user_id or user_id in self._missing_users:
            raise _SlackError("invalid_arguments", ["[ERROR] missing required field: user_id"])
        view = self._decode_view(args, "home")
        view_id = self._home.get(str(user_id))
        if view_id and args.get("hash") and args["hash"] != self._views[view_id]["hash"]:
            raise _SlackError("hash_conflict")
        view_id = view_id or "V" + self._next_id(10)
        self._views[view_id] = self._materialize_view(view, view_id, view_id, None)
        self._home[str(user_id)] = view_id
        return {"ok": True, "view": copy.deepcopy(self._views[view_id])}

    # ------------------------------------------------------------------- files
    def _files_get_upload_url_external(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = args.get("filename")
        length = _as_int(args.get("length"), -1)
        if not filename:
            raise _SlackError("invalid_arguments", ["[ERROR] missing required field: filename"])
        if length < 0:
            raise _SlackError("invalid_arguments", ["[ERROR] missing required field: length"])
        file_id = "F" + self._next_id(10)
        upload_url = f"{self.root_url}/upload/v1/{file_id}{self._next_hex(16)}"
        self._uploads[file_id] = UploadedFile(
            file_id=file_id,
            filename=str(filename),
            length=length,
            upload_url=upload_url,
            alt_txt=args.get("alt_txt"),
            snippet_type=args.get("snippet_type"),
        )
        return {"ok": True, "upload_url": upload_url, "file_id": file_id}

    def _upload(self, path: str, args: dict[str, Any], body: bytes) -> _Reply:
        upload = next(
            (u for u in self._uploads.values() if urlsplit(u.upload_url).path == path), None
        )
        if upload is None:
            return _Reply(status=404, payload="Not Found")
        # slack_sdk posts the raw bytes; other clients send a multipart form with one file.
        file_parts = [v for v in args.values() if isinstance(v, bytes)]
        upload.data = file_parts[0] if file_parts else body
        return _Reply(payload=f"OK - {len(upload.data)}")

    def _files_complete_upload_external(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise _SlackError("invalid_arguments", ["[ERROR] missing required field: files"])
        channels: list[str] = []
        if args.get("channel_id"):
            channels.append(self._share_channel(args, "channel_id"))
        if args.get("channels"):
            for ch in str(args["channels"]).split(","):
                channels.append(self._share_channel({"channel": ch.strip()}, "channel"))
        uploads: list[UploadedFile] = []
        for f in files:
            upload = self._uploads.get(f.get("id", "")) if isinstance(f, dict) else None
            if upload is None or upload.data is None:
                raise _SlackError("file_not_found")
            uploads.append(upload)
        now = int(time.time())
        out_files: list[dict[str, Any]] = []
        for upload, f in zip(uploads, files, strict=True):
            upload.completed = True
            upload.title = f.get("title") or upload.filename
            upload.channels = channels
            upload.initial_comment = args.get("initial_comment")
            upload.thread_ts = args.get("thread_ts")
            base = f"https://files.slack.com/files-pri/{self.team_id}-{upload.file_id}"
            ext = upload.filename.rpartition(".")[2].lower() if "." in upload.filename else "text"
            out_files.append(
                {
                    "id": upload.file_id,
                    "created": now,
                    "timestamp": now,
                    "name": upload.filename,
                    "title": upload.title,
                    "mimetype": "",
                    "filetype": ext,
                    "pretty_type": ext.upper(),
                    "user": self.bot_user_id,
                    "user_team": self.team_id,
                    "editable": False,
                    "size": len(upload.data or b""),
                    "mode": "hosted",
                    "is_external": False,
                    "external_type": "",
                    "is_public": False,
                    "public_url_shared": False,
                    "display_as_bot": False,
                    "username": "",
                    "url_private": f"{base}/{upload.filename}",
                    "url_private_download": f"{base}/download/{upload.filename}",
                    "permalink": f"https://{self.team_domain}.slack.com/files/"
                    f"{self.bot_user_id}/{upload.file_id}/{upload.filename}",
                    "permalink_public": f"https://slack-files.com/{self.team_id}-{upload.file_id}",
                    "comments_count": 0,
                    "is_starred": False,
                    "shares": {},
                    "channels": [],
                    "groups": [],
                    "ims": [],
                    "has_more_shares": False,
                    "has_rich_preview": False,
                    "file_access": "visible",
                }
            )
        # Slack shares the files asynchronously (rule 19): by default at once here.
        for channel in channels:
            stored = self._store_message(
                channel,
                {
                    "text": args.get("initial_comment") or "",
                    "files": out_files,
                    "thread_ts": args.get("thread_ts"),
                },
                file_share=True,
            )
            if self._share_delay:
                stored.shown_at = self.clock() + self._share_delay
        return {"ok": True, "files": out_files}

    def _share_channel(self, args: dict[str, Any], key: str) -> str:
        """The conversation a file is shared in: the bot must be a member (rule 21).

        ``chat:write.public`` lets a bot post *messages* to a public channel it is not in
        (https://docs.slack.dev/reference/scopes/chat:write.public covers chat.postMessage
        only); sharing a file there is refused with ``not_in_channel`` all the same
        (getnao/nao issue 1372, fixed in PR 1396 by joining the channel first). A private
        channel the bot is not in is invisible to it: ``channel_not_found``."""
        channel = self._resolve_channel(args, key, post=True)
        info = self._channels.get(channel)
        if info is not None and not info["is_member"]:
            raise _SlackError("channel_not_found" if info["is_private"] else "not_in_channel")
        return channel

    def _files_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        upload = self._uploads.get(str(args.get("file") or ""))
        if upload is None:
            raise _SlackError("file_not_found")
        if upload.deleted:
            raise _SlackError("file_deleted")
        upload.deleted = True
        for stored in self._messages:
            if stored.file_share and any(
                    isinstance(f, dict) and f.get("id") == upload.file_id
                    for f in stored.message.get("files") or []):
                stored.deleted = True
        return {"ok": True}

    # ------------------------------------------------------------- response URLs
    def _response_url(self, path: str, body: dict[str, Any]) -> _Reply:
        if body.pop("__invalid_json__", False):
            return _Reply(status=400, payload="invalid_payload")
        hook_id = path[len("/response_url/") :]
        binding = self._response_urls.get(hook_id)
        if binding is not None:  # rule 16
            if self.clock() - binding["issued_at"] > RESPONSE_URL_TTL_SECONDS:
                return _Reply(status=404, payload="expired_url")
            if binding["uses"] >= RESPONSE_URL_MAX_USES:
                return _Reply(status=404, payload="used_url")
        if validate_message_text(body.get("text")):
            return _Reply(status=400, payload="msg_too_long")
        # Rule 17: checked like chat.postMessage's blocks and attachments.
        if not _truthy(body.get("delete_original")) and not (
                body.get("text") or body.get("blocks") or body.get("attachments")):
            return _Reply(status=400, payload="no_text")
        try:
            self._check_message_content(body, require_content=False)
        except _SlackError as err:
            return _Reply(status=400, payload=err.error)
        if binding is not None:
            binding["uses"] += 1
        if binding is None or not binding.get("channel"):
            return _Reply(payload="ok")
        channel, user, message_ts = binding["channel"], binding["user"], binding["message_ts"]
        target = self._by_ts.get((channel, str(message_ts))) if message_ts else None
        if _truthy(body.get("delete_original")):
            if target is not None:
                target.deleted = True
        elif _truthy(body.get("replace_original")) and target is not None:
            if "blocks" in body:
                target.message["blocks"] = self._assign_block_ids(body["blocks"] or [])
            text = body.get("text")
            target.message["text"] = text or (_NO_TEXT_FALLBACK if body.get("blocks") else "")
            target.message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        elif body.get("response_type") == "in_channel":
            self._store_message(channel, body)
        else:
            self._ephemerals.append(
                {
                    "channel": channel,
                    "user": user,
                    "ts": self._next_ts(),
                    "text": body.get("text") or "",
                    "blocks": copy.deepcopy(body.get("blocks") or []),
                    "thread_ts": body.get("thread_ts"),
                }
            )
        return _Reply(payload="ok")
