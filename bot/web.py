"""The HTTP entry point (WSGI): Slack requests go to Bolt, plus health endpoints."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.runtime import Runtime
from storage.db import ping
from storage.migrations import is_current

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SLACK_EVENTS_PATH = "/slack/events"


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


def build_wsgi_app(runtime: Runtime, bolt_app: App | None) -> WSGIApp:
    """A WSGI callable serving ``/slack/events`` (when Slack is configured), ``/healthz``
    and ``/readyz``."""
    slack_handler = SlackRequestHandler(bolt_app, path=SLACK_EVENTS_PATH) if bolt_app else None

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
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
        if path == SLACK_EVENTS_PATH and slack_handler is not None:
            if method != "POST":
                return _json(start_response, "405 Method Not Allowed", {"error": "POST only"})
            return slack_handler(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "not found"})

    return application
