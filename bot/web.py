"""The HTTP entry point (WSGI): Slack requests go to Bolt, plus health endpoints."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App

from bot.logging_setup import REQUEST_ID
from bot.metrics import render as render_metrics
from bot.runtime import Runtime
from bot.services.webhook_ingest import do_ingest_webhook
from bot.slack.bolt_wsgi import VigieSlackRequestHandler
from bot.sources.webhook import MAX_BODY_BYTES, SIGNATURE_HEADER, TIMESTAMP_HEADER
from storage.db import ping
from storage.migrations import is_current

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SLACK_EVENTS_PATH = "/slack/events"
INGEST_PATH = re.compile(r"^/ingest/(\d{1,12})$")


def _header(environ: dict[str, Any], name: str) -> str | None:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return str(value) if value is not None else None


def _read_body(environ: dict[str, Any], limit: int) -> bytes | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length < 0 or length > limit:
        return None
    return bytes(environ["wsgi.input"].read(length)) if length else b""


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
            409: "Conflict", 413: "Content Too Large"}


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def build_wsgi_app(runtime: Runtime, bolt_app: App | None) -> WSGIApp:
    """A WSGI callable serving ``/slack/events`` (when Slack is configured),
    ``/ingest/<source-id>`` (signed webhooks), ``/healthz`` and ``/readyz``."""
    slack_handler = (VigieSlackRequestHandler(bolt_app, path=SLACK_EVENTS_PATH)
                     if bolt_app else None)
    flow = bolt_app.oauth_flow if bolt_app is not None else None
    oauth_paths = {flow.install_path, flow.redirect_uri_path} if flow is not None else set()

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        given = str(environ.get("HTTP_X_REQUEST_ID") or "")
        REQUEST_ID.set(given[:64] if given.isprintable() and given else uuid.uuid4().hex[:16])
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/metrics":
            data = render_metrics(runtime.sessions)
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                      ("Content-Length", str(len(data)))])
            return [data]
        if path == "/readyz":
            try:
                ping(runtime.engine)
                migrated = is_current(runtime.engine)
            except Exception as err:  # noqa: BLE001  (any database failure means not ready)
                return _json(start_response, "503 Service Unavailable",
                             {"status": "database unreachable", "error": type(err).__name__})
            if not migrated:
                return _json(start_response, "503 Service Unavailable",
                             {"status": "migrations pending: run `vigie db upgrade`"})
            return _json(start_response, "200 OK", {"status": "ready"})
        ingest = INGEST_PATH.match(path)
        if ingest:
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            body = _read_body(environ, MAX_BODY_BYTES)
            if body is None:
                return _json(start_response, "413 Content Too Large",
                             {"error": f"body larger than {MAX_BODY_BYTES // 1024} KB"})
            result = do_ingest_webhook(
                runtime.sessions, int(ingest.group(1)), body,
                signature=_header(environ, SIGNATURE_HEADER),
                timestamp=_header(environ, TIMESTAMP_HEADER))
            return _json(start_response, f"{result.status} {_REASONS[result.status]}",
                         result.body)
        if slack_handler is not None and path in oauth_paths and method == "GET":
            return slack_handler(environ, start_response)
        if path == SLACK_EVENTS_PATH and slack_handler is not None:
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            return slack_handler(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return application
