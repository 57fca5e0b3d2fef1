"""The HTTP entry point (WSGI): Slack requests go to Bolt, plus health endpoints."""

from __future__ import annotations

import hmac
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from http import HTTPStatus
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App

from bot.config import Settings
from bot.logging_setup import REQUEST_ID
from bot.metrics import database_registry
from bot.metrics import render as render_metrics
from bot.runtime import Runtime
from bot.schema_revision import current_revision, head_revision, is_newer, newer_database
from bot.services.webhook_ingest import do_ingest_webhook
from bot.slack.bolt_wsgi import VigieSlackRequestHandler
from bot.sources.webhook import MAX_BODY_BYTES, SIGNATURE_HEADER, TIMESTAMP_HEADER
from storage.db import ping

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SLACK_EVENTS_PATH = "/slack/events"
INGEST_PATH = re.compile(r"^/ingest/(\d{1,12})$")


def _header(environ: dict[str, Any], name: str) -> str | None:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return str(value) if value is not None else None


SLACK_MAX_BODY_BYTES = 1024 * 1024
"""Slack's requests are a few KB (a block_actions payload carrying a full message stays far
below 1 MB); anything larger is refused before it is parsed or logged."""

_READ_CHUNK = 64 * 1024


class BodyRefused(Exception):
    """The request body cannot be accepted; ``status`` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_capped_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body, never more than ``limit`` bytes read.

    A declared Content-Length over the limit is refused before one byte is read; a body
    without one (chunked) is read up to the limit and refused past it. Raises BodyRefused.
    """
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    stream = environ.get("wsgi.input")
    if declared:
        if not declared.isdigit():
            raise BodyRefused(400, "Content-Length is not a number")
        length = int(declared)
        if length > limit:
            raise BodyRefused(413, f"body larger than {limit // 1024} KB")
        return bytes(stream.read(length)) if length and stream is not None else b""
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    if stream is None or not (chunked or environ.get("wsgi.input_terminated")):
        return b""
    body = bytearray()
    while len(body) <= limit:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - len(body)))
        if not chunk:
            return bytes(body)
        body.extend(chunk)
    raise BodyRefused(413, f"body larger than {limit // 1024} KB")


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The environ of a request whose body was already read (and capped)."""
    replaced = dict(environ)
    replaced["wsgi.input"] = io.BytesIO(body)
    replaced["CONTENT_LENGTH"] = str(len(body))
    replaced.pop("HTTP_TRANSFER_ENCODING", None)
    return replaced


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
            503: "Service Unavailable"}


def status_line(code: int) -> str:
    """``"503 Service Unavailable"``: the WSGI status of ``code``, whatever the code (a
    code with no phrase of ours takes the standard one, never a KeyError)."""
    try:
        reason = _REASONS.get(code) or HTTPStatus(code).phrase
    except ValueError:
        reason = "Unknown"
    return f"{code} {reason}"


def _json(start_response: StartResponse, status: str, body: dict[str, Any],
          headers: Sequence[tuple[str, str]] = ()) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data))), *headers])
    return [data]


def served_endpoints(settings: Settings, *, slack: bool, ingest: bool = True) -> str:
    """What ``build_wsgi_app`` answers with these settings (``slack``: with a Bolt app;
    ``ingest``: webhook sources too), as the start-up line lists it."""
    served = [f"POST {SLACK_EVENTS_PATH}"] if slack else []
    if slack and settings.oauth:
        # Bolt's install and redirect paths (OAuthSettings' defaults): both must be reachable
        served += ["GET /slack/install", "GET /slack/oauth_redirect"]
    if ingest:
        served.append("POST /ingest/<source id>")
    served += ["GET /healthz", "GET /readyz"]
    if settings.metrics_token is not None:
        served.append("GET /metrics")
    return ", ".join(served)


def refused_token_problem(error: str) -> str:
    """What ``/readyz`` says while Slack refuses the bot token with ``error``."""
    return (f"Slack refuses SLACK_BOT_TOKEN ({error}): Slack's requests cannot be answered; "
            "reinstall the app, set the new xoxb- token and restart (webhook sources are "
            "still served)")


READY_TIMEOUT_SECONDS = 2.5
"""Longest a /readyz waits for the database's answer before saying 503."""
READY_ABANDON_SECONDS = 15.0
"""A check running this long is given up for a new one (its connection may never answer)."""


class ReadinessProbe:
    """The database check behind ``/readyz``, bounded and shared.

    A stalled database (a partition, a failover: connections accepted, nothing answered)
    held every /readyz in its ping, and probes arriving each second took all the web
    threads, so /healthz and Slack's events waited too. The check now runs in a thread of
    its own, one at a time: a probe arriving while one runs waits for the same answer,
    each at most ``timeout`` seconds from the start of that check, then answers 503.
    A check stuck ``abandon_after`` seconds is given up for a new one.
    """

    def __init__(self, check: Callable[[], str | None], timeout: float = READY_TIMEOUT_SECONDS,
                 abandon_after: float = READY_ABANDON_SECONDS) -> None:
        self._check = check
        self._timeout = timeout
        self._abandon_after = abandon_after
        self._guard = threading.Lock()
        self._running: _Attempt | None = None

    def __call__(self) -> tuple[str, dict[str, Any]]:
        """The status line and body of a /readyz answer."""
        with self._guard:
            attempt = self._running
            # A check still stuck after ``abandon_after`` is left to its thread: a new one
            # (a new connection) sees a database back after a failover. At most one new
            # check per ``abandon_after`` seconds while the database stalls.
            if (attempt is None or attempt.done.is_set()
                    or time.monotonic() - attempt.started >= self._abandon_after):
                attempt = self._running = _Attempt(self._check)
        remaining = attempt.started + self._timeout - time.monotonic()
        if not attempt.done.wait(max(0.0, remaining)):
            return "503 Service Unavailable", {"status": "database not answering"}
        if attempt.error is not None:
            return "503 Service Unavailable", {"status": "database unreachable",
                                               "error": type(attempt.error).__name__}
        if attempt.problem is not None:
            return "503 Service Unavailable", {"status": attempt.problem}
        return "200 OK", {"status": "ready"}


class _Attempt:
    """One run of the readiness check, in a daemon thread (a hung one never blocks exit)."""

    def __init__(self, check: Callable[[], str | None]) -> None:
        self.started = time.monotonic()
        self.done = threading.Event()
        self.problem: str | None = None
        self.error: Exception | None = None
        self._check = check
        threading.Thread(target=self._run, name="vigie-readyz", daemon=True).start()

    def _run(self) -> None:
        try:
            self.problem = self._check()
        except Exception as err:  # noqa: BLE001  (any database failure means not ready)
            self.error = err
        finally:
            self.done.set()


class WebApp:
    """The app :func:`build_wsgi_app` makes: a WSGI callable that also tells the web front
    (bot/server.py) which requests' bodies it reads, so that the front reads no other."""

    def __init__(self, application: WSGIApp,
                 body_limit: Callable[[dict[str, Any]], int]) -> None:
        self._application = application
        self._body_limit = body_limit

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one WSGI request."""
        return self._application(environ, start_response)

    def body_limit(self, environ: dict[str, Any]) -> int:
        """The most bytes of this request's body the app reads, from its environ before the
        body; 0 when the app answers it without one (an unknown path, a wrong method, a
        webhook push without its signature headers)."""
        return self._body_limit(environ)


def build_wsgi_app(runtime: Runtime, bolt_app: App | None, *, ingest: bool = True,
                   slack_refused: Callable[[], str | None] | None = None) -> WebApp:
    """A WSGI callable serving ``/slack/events`` (when Slack is configured),
    ``/ingest/<source-id>`` (signed webhooks; unless ``ingest`` is false, as in a worker),
    ``/healthz``, ``/readyz`` and ``/metrics`` (with ``Authorization: Bearer
    $VIGIE_METRICS_TOKEN``; off without a token).

    ``slack_refused``: Slack's error code while it refuses the bot token, None while it
    does not. ``/readyz`` then says so in its ``slack`` field but stays 200: the process
    still serves webhook pushes and health checks, and a platform routing traffic by
    readiness would otherwise cut those off too."""
    secret = runtime.settings.slack_signing_secret
    slack_handler = (VigieSlackRequestHandler(
        bolt_app, path=SLACK_EVENTS_PATH,
        signing_secret=secret.get_secret_value() if secret is not None else None)
        if bolt_app else None)
    flow = bolt_app.oauth_flow if bolt_app is not None else None
    oauth_paths = {flow.install_path, flow.redirect_uri_path} if flow is not None else set()
    token = runtime.settings.metrics_token
    metrics_auth = b"Bearer " + token.get_secret_value().encode() if token is not None else None
    gauges = database_registry(runtime.sessions)

    def not_ready() -> str | None:
        # None when ready, else why not. A database a newer release migrated is not ready
        # either: migrations may drop what this version reads (0046 dropped a table), so
        # during a rolling deploy only the new version's processes take traffic.
        ping(runtime.engine)
        current, head = current_revision(runtime.engine), head_revision()
        if current != head:
            if current is not None and is_newer(current):
                return newer_database(current, head)
            return "migrations pending: run `vigie db upgrade`"
        return None

    readiness = ReadinessProbe(not_ready)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        given = str(environ.get("HTTP_X_REQUEST_ID") or "")
        REQUEST_ID.set(given[:64] if given.isprintable() and given else uuid.uuid4().hex[:16])
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/metrics":
            if metrics_auth is None:
                return _json(start_response, "404 Not Found",
                             {"error": "metrics are off: set VIGIE_METRICS_TOKEN"})
            credentials = str(environ.get("HTTP_AUTHORIZATION") or "").encode(
                "latin-1", "replace")
            if not hmac.compare_digest(credentials, metrics_auth):
                start_response("401 Unauthorized", [("WWW-Authenticate", "Bearer"),
                                                    ("Content-Length", "0")])
                return [b""]
            data = render_metrics(gauges)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                      ("Content-Length", str(len(data)))])
            return [data]
        if path == "/readyz":
            status, answer = readiness()
            # Webhook sources are still served, but Slack's own requests cannot be answered.
            refused = slack_refused() if slack_refused is not None else None
            if refused is not None:
                answer = {**answer, "slack": refused_token_problem(refused)}
            return _json(start_response, status, answer)
        pushed = INGEST_PATH.match(path) if ingest else None
        if pushed:
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            try:
                body = read_capped_body(environ, MAX_BODY_BYTES)
            except BodyRefused as refused:
                return _json(start_response, status_line(refused.status),
                             {"error": str(refused)})
            result = do_ingest_webhook(
                runtime.sessions, int(pushed.group(1)), body,
                signature=_header(environ, SIGNATURE_HEADER),
                timestamp=_header(environ, TIMESTAMP_HEADER))
            return _json(start_response, status_line(result.status), result.body,
                         () if result.retry_after is None
                         else (("Retry-After", str(result.retry_after)),))
        if slack_handler is not None and path in oauth_paths and method == "GET":
            return slack_handler(_with_body(environ, b""), start_response)
        if path == SLACK_EVENTS_PATH and slack_handler is not None:
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            try:
                body = read_capped_body(environ, SLACK_MAX_BODY_BYTES)
            except BodyRefused as refused:
                return _json(start_response, status_line(refused.status),
                             {"error": str(refused)})
            return slack_handler(_with_body(environ, body), start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    def body_limit(environ: dict[str, Any]) -> int:
        if environ.get("REQUEST_METHOD") != "POST":
            return 0
        path = environ.get("PATH_INFO", "")
        if path == SLACK_EVENTS_PATH and slack_handler is not None:
            return SLACK_MAX_BODY_BYTES
        if ingest and INGEST_PATH.match(path):
            # Without both headers the answer is 401 whatever the body says.
            signed = all((_header(environ, name) or "").strip()
                         for name in (SIGNATURE_HEADER, TIMESTAMP_HEADER))
            return MAX_BODY_BYTES if signed else 0
        return 0

    return WebApp(application, body_limit)
