"""A local Slack Socket Mode endpoint: a websocket server speaking Slack's envelopes.

What Slack does, and what this server models (Slack's docs: "Using Socket Mode",
https://api.slack.com/apis/socket-mode, and "Socket Mode implementation",
https://api.slack.com/apis/connections/socket-implement; the client side as slack_sdk
reads it: ``slack_sdk/socket_mode/client.py`` and ``slack_sdk/socket_mode/builtin/``,
with the envelopes of slack_sdk's own ``tests/slack_sdk/socket_mode/mock_socket_mode_server.py``):

* The app calls ``apps.connections.open`` with its app-level token (``xapp-``, scope
  ``connections:write``) in the Authorization header (the method's docs,
  https://api.slack.com/methods/apps.connections.open: a token sent as a POST parameter is
  an error) and gets a one-off ``wss://wss-primary.slack.com/link/?ticket=...``
  URL. Here :meth:`SocketModeServer.attach` answers that method on the
  :class:`~tests.harness.slack_standin.SlackStandIn` with a ``ws://127.0.0.1:<port>/link/``
  URL carrying a fresh ticket; a connection with a ticket the server never issued is
  refused (HTTP 403), so a client that made up its URL fails here as it would on Slack.
* On connect Slack sends ``{"type": "hello", "num_connections", "debug_info",
  "connection_info": {"app_id"}}``.
* Each request is an envelope ``{"envelope_id", "type", "payload",
  "accepts_response_payload"}`` with type ``slash_commands`` (payload: the slash
  command's form fields), ``interactive`` (payload: ``block_actions``,
  ``view_submission``... as posted in HTTP mode) or ``events_api`` (payload: the
  ``event_callback`` body, plus ``retry_attempt``/``retry_reason`` on the envelope).
* The app acknowledges on the socket with ``{"envelope_id", "payload"?}`` within 3 seconds
  ("Acknowledge events" in the docs); ``payload`` carries what an HTTP response body would
  (a slash command's message, a ``response_action``) and only counts where the envelope
  said ``accepts_response_payload``. Each :class:`Ack` records how long it took, so a test
  can report it; acks for unknown envelopes, second acks, messages that are not acks, a
  payload where none is accepted, invalid Block Kit in a slash command's answer and
  ``response_action: errors`` naming a block that is not one of the view's inputs are
  kept in :attr:`SocketModeServer.violations`.
* Slack refreshes connections: ``{"type": "disconnect", "reason": "refresh_requested"}``
  (or ``"warning"``, a few seconds before the connection closes; ``"link_disabled"`` when
  Socket Mode is turned off), after which the client opens a new URL and connection and
  Slack closes the old one (:meth:`SocketModeServer.disconnect`). A connection can also
  just drop (:meth:`SocketModeServer.drop`).

slack_sdk's built-in client (the one ``slack_bolt.adapter.socket_mode.SocketModeHandler``
uses) opens a plain TCP socket for any port other than 443 whatever the scheme, so a
``ws://127.0.0.1:<port>`` URL works with it unchanged (``_establish_new_socket_connection``
in ``slack_sdk/socket_mode/builtin/internals.py``).

Payloads are built with the HTTP-mode builders of :mod:`tests.harness.slack_requests`, so
they agree with what the app really posted (buttons of a stored message, a view it
opened) and response URLs point at the stand-in.

Example::

    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as slack, SocketModeServer() as sm:
        sm.attach(slack)
        ... start the app with SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.base_url ...
        sm.wait_connected()
        ack = sm.slash_command("help")
        assert "Usage" in ack.payload["text"]
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from tests.harness import constants as k
from tests.harness import slack_requests as req
from tests.harness.blockkit_limits import validate_blocks

if TYPE_CHECKING:
    from tests.harness.slack_standin import SlackStandIn

#: App-level token the harness expects the app to open connections with.
APP_TOKEN = "xapp-1-A07VIGIE01-7012345678901-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#: Slack's limit for acknowledging an envelope ("Acknowledge events").
ACK_DEADLINE_SECONDS = 3.0


class SocketModeTimeout(AssertionError):
    """The app did not connect or acknowledge in time."""


@dataclass(frozen=True)
class Ack:
    """The app's acknowledgement of one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    """What the app answered (``None`` for a bare ack)."""
    seconds: float
    """From sending the envelope to receiving the ack."""
    link: int
    """Number of the connection the ack came on."""

    @property
    def text(self) -> str:
        """The answer's ``text`` (empty for a bare ack)."""
        return str((self.payload or {}).get("text") or "")


@dataclass
class Link:
    """One websocket connection the app opened."""

    number: int
    ticket: str
    connection: ServerConnection = field(repr=False)
    opened_at: float
    closed_at: float | None = None
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Whether the connection is still up."""
        return self.closed_at is None


@dataclass
class _Sent:
    envelope: dict[str, Any]
    sent_at: float
    link: int


class SocketModeServer:
    """Local Socket Mode endpoint (see the module docstring).

    Args:
        app_token: the token ``apps.connections.open`` must be called with.
        app_id: reported in ``hello`` and in the URL.
        host / port: where to listen (port 0 picks a free one).
    """

    def __init__(self, *, app_token: str = APP_TOKEN, app_id: str = k.APP_ID,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.app_token = app_token
        self.app_id = app_id
        self._address = (host, port)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._used_tickets: set[str] = set()
        self.links: list[Link] = []
        self.acks: dict[str, Ack] = {}
        self.sent: dict[str, _Sent] = {}
        self.violations: list[str] = []
        """Protocol errors by the app: unknown or repeated acks, unexpected messages,
        invalid Block Kit in an ack's payload, a refused ticket."""
        self.standin: SlackStandIn | None = None

    # ================================================================ lifecycle
    def start(self) -> SocketModeServer:
        """Listen in a background thread; returns ``self``."""
        if self._server is None:
            self._server = serve(self._serve, *self._address,
                                 process_request=self._check_ticket)
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            name="socket-mode", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._server is None:
            raise RuntimeError("SocketModeServer is not started")
        return int(self._server.socket.getsockname()[1])

    # ================================================= apps.connections.open
    def new_url(self) -> str:
        """Issue a connection URL with a fresh ticket, as ``apps.connections.open`` does."""
        ticket = uuid.uuid4().hex
        with self._cond:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    def attach(self, standin: SlackStandIn) -> None:
        """Answer ``apps.connections.open`` on ``standin`` with this server's URLs.

        The stand-in checks the token is one it accepts (create it with
        ``valid_tokens=(BOT_TOKEN, APP_TOKEN)``); which token each call carried is in
        its recorded ``Call.headers`` (see :func:`token_of`).
        """
        self.standin = standin
        standin.on("apps.connections.open", self._connections_open)

    def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        # apps.connections.open docs: the app-level token goes in the Authorization header;
        # "passing it as a POST parameter will result in an error" (the error is not named).
        if "token" in args:
            with self._cond:
                self.violations.append("apps.connections.open got the token as a parameter")
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.new_url()}

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        query = parse_qs(urlsplit(request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        with self._cond:
            if ticket in self._tickets:
                self._tickets.discard(ticket)
                self._used_tickets.add(ticket)
                return None
            self.violations.append(f"connection with an unknown ticket: {request.path}")
        return connection.respond(HTTPStatus.FORBIDDEN, "unknown or used ticket\n")

    # =============================================================== serving
    def _serve(self, connection: ServerConnection) -> None:
        query = parse_qs(urlsplit(connection.request.path if connection.request else "").query)
        with self._cond:
            link = Link(number=len(self.links) + 1, ticket=(query.get("ticket") or [""])[0],
                        connection=connection, opened_at=time.monotonic())
            open_count = 1 + sum(1 for other in self.links if other.open)
            # Slack's first message on every connection; envelopes only follow it. Sent
            # under the lock and before the link is listed, so no envelope can overtake it
            # and a client that has read it can be sent envelopes at once.
            connection.send(json.dumps({
                "type": "hello",
                "num_connections": open_count,
                "debug_info": {"host": "applink-local", "build_number": 1,
                               "approximate_connection_time": 18060},
                "connection_info": {"app_id": self.app_id},
            }))
            self.links.append(link)
            self._cond.notify_all()
        try:
            for raw in connection:
                self._received(link, raw)
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                link.closed_at = time.monotonic()
                self._cond.notify_all()

    def _received(self, link: Link, raw: str | bytes) -> None:
        arrived = time.monotonic()
        try:
            message = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            message = None
        with self._cond:
            if not isinstance(message, dict) or not message.get("envelope_id"):
                self.violations.append(f"not an ack on link {link.number}: {raw!r:.200}")
                return
            link.received.append(message)
            envelope_id = str(message["envelope_id"])
            sent = self.sent.get(envelope_id)
            if sent is None:
                self.violations.append(f"ack for an unknown envelope {envelope_id}")
                return
            if envelope_id in self.acks:
                self.violations.append(f"second ack for envelope {envelope_id}")
                return
            payload = message.get("payload")
            if payload is not None and not isinstance(payload, dict):
                self.violations.append(f"ack payload is not an object: {payload!r:.200}")
                payload = None
            self.violations.extend(self._check_payload(sent.envelope, payload))
            self.acks[envelope_id] = Ack(envelope_id, payload, arrived - sent.sent_at,
                                         link.number)
            self._cond.notify_all()

    @staticmethod
    def _check_payload(envelope: dict[str, Any], payload: dict[str, Any] | None) -> list[str]:
        """What Slack would refuse in an ack's payload (messages' Block Kit)."""
        if not payload:
            return []
        if not envelope["accepts_response_payload"]:
            return [f"the ack of {envelope['type']} envelope {envelope['envelope_id']} "
                    "carries a payload, but the envelope accepts none"]
        if envelope["type"] == "slash_commands" and payload.get("blocks"):
            return [f"ack payload: {e}" for e in validate_blocks(payload["blocks"], "message")]
        if payload.get("response_action") == "errors":
            # "Displaying errors in views": errors are keyed by the block_id of an input
            # block of the submitted view.
            view = envelope["payload"].get("view") or {}
            inputs = {b.get("block_id") for b in view.get("blocks") or []
                      if b.get("type") == "input"}
            errors = payload.get("errors")
            if not isinstance(errors, dict) or not errors:
                return ["response_action errors without an errors object"]
            return [f"error for {key!r}, which is not an input block of the view"
                    for key in errors if key not in inputs]
        return []

    # ================================================================= waits
    def wait_connected(self, count: int = 1, timeout: float = 20.0) -> Link:
        """Wait until the app has opened ``count`` connections in all; the newest open one."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                current = [link for link in self.links if link.open]
                if len(self.links) >= count and current:
                    return current[-1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SocketModeTimeout(
                        f"{len(self.links)} connection(s) after {timeout} s, wanted {count}")
                self._cond.wait(remaining)

    def wait_closed(self, link: Link, timeout: float = 10.0) -> None:
        """Wait until ``link`` is closed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while link.open:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SocketModeTimeout(f"link {link.number} still open after {timeout} s")
                self._cond.wait(remaining)

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        """Wait for the ack of ``envelope_id``.

        ``timeout`` is generous on purpose (a loaded CI machine); whether the ack came
        within Slack's :data:`ACK_DEADLINE_SECONDS` is in :attr:`Ack.seconds`.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while envelope_id not in self.acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SocketModeTimeout(f"envelope {envelope_id} not acked in {timeout} s")
                self._cond.wait(remaining)
            return self.acks[envelope_id]

    # ============================================================= envelopes
    def current(self) -> Link:
        """The newest open connection (where Slack sends envelopes)."""
        with self._cond:
            for link in reversed(self.links):
                if link.open:
                    return link
        raise SocketModeTimeout("the app has no open connection")

    def send(self, kind: str, payload: dict[str, Any], *,
             accepts_response_payload: bool | None = None,
             retry_attempt: int = 0, retry_reason: str = "") -> str:
        """Send an envelope of ``kind`` (``slash_commands``, ``interactive``,
        ``events_api``) on the current connection; its ``envelope_id``.

        ``accepts_response_payload`` defaults to what Slack sets: true for slash commands
        and for ``view_submission``/``block_suggestion`` interactions, false otherwise.
        """
        if accepts_response_payload is None:
            accepts_response_payload = kind == "slash_commands" or (
                kind == "interactive"
                and payload.get("type") in ("view_submission", "block_suggestion"))
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        link = self.current()
        with self._cond:
            self.sent[envelope["envelope_id"]] = _Sent(envelope, time.monotonic(), link.number)
        link.connection.send(json.dumps(envelope, ensure_ascii=False))
        return str(envelope["envelope_id"])

    def request(self, kind: str, payload: dict[str, Any], *, timeout: float = 10.0,
                **options: Any) -> Ack:
        """Send an envelope and wait for its ack."""
        return self.wait_ack(self.send(kind, payload, **options), timeout=timeout)

    def _with_standin(self, options: dict[str, Any]) -> dict[str, Any]:
        options.setdefault("standin", self.standin)
        return options

    def slash_command(self, text: str = "", **options: Any) -> Ack:
        """``/cm <text>`` (options: :func:`~tests.harness.slack_requests.slash_command_form`)."""
        form = req.slash_command_form(text, **self._with_standin(options))
        return self.request("slash_commands", form)

    def block_action(self, action_id: str, **options: Any) -> Ack:
        """A click (options: :func:`~tests.harness.slack_requests.block_action_payload`)."""
        payload = req.block_action_payload(action_id, **self._with_standin(options))
        return self.request("interactive", payload)

    def view_submission(self, *args: Any, **options: Any) -> Ack:
        """A modal submitted (see :func:`~tests.harness.slack_requests.view_submission_payload`)."""
        payload = req.view_submission_payload(*args, **self._with_standin(options))
        return self.request("interactive", payload)

    def event(self, event: dict[str, Any], *, retry_attempt: int = 0,
              retry_reason: str = "", **options: Any) -> Ack:
        """An Events API event (options: :func:`~tests.harness.slack_requests.event_envelope`)."""
        body = req.event_envelope(event, **options)
        return self.request("events_api", body, retry_attempt=retry_attempt,
                            retry_reason=retry_reason)

    def app_home_opened(self, user_id: str = k.USER_ID) -> Ack:
        """``app_home_opened`` for ``user_id`` (with the home view the stand-in holds)."""
        view = self.standin.home_view(user_id) if self.standin is not None else None
        return self.event(req.app_home_opened_event(user_id, view=view))

    # ============================================================ refreshes
    def disconnect(self, reason: str = "refresh_requested", timeout: float = 20.0) -> Link:
        """Send ``disconnect`` with ``reason`` on the current connection, wait for the app
        to open a new one, then close the old one as Slack does; the new connection."""
        old = self.current()
        with self._cond:
            before = len(self.links)
        old.connection.send(json.dumps({"type": "disconnect", "reason": reason,
                                        "debug_info": {"host": "applink-local"}}))
        new = self.wait_connected(before + 1, timeout=timeout)
        old.connection.close()
        self.wait_closed(old)
        return new

    def drop(self, timeout: float = 20.0) -> Link:
        """Close the current connection without warning; the one the app opens next."""
        old = self.current()
        with self._cond:
            before = len(self.links)
        old.connection.close(1011, "server error")
        self.wait_closed(old)
        return self.wait_connected(before + 1, timeout=timeout)


def token_of(headers: dict[str, str]) -> str:
    """The bearer token of a recorded stand-in call (``Call.headers``)."""
    auth = headers.get("authorization", "")
    return auth[len("Bearer "):].strip() if auth.startswith("Bearer ") else ""
