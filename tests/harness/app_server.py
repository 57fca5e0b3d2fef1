"""Serve a WSGI app (such as a Bolt app) on a local port for end-to-end tests.

Slack's requests then really go through HTTP, signature checks and all::

    with serve_bolt_app(app) as app_url:
        slash_command(app_url, SIGNING_SECRET, "help", standin=standin)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tests.harness.slack_requests import EVENTS_PATH

if TYPE_CHECKING:
    from slack_bolt import App


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    # Bolt listeners may call back into the app's own endpoint; never serialize requests.
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_wsgi(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a background thread; yields its base URL (``http://127.0.0.1:N``)."""
    server = make_server(
        host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_bolt_app(app: App, path: str = EVENTS_PATH) -> Iterator[str]:
    """Serve a sync Bolt ``App`` in HTTP mode (its WSGI adapter); yields the base URL."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    with serve_wsgi(SlackRequestHandler(app, path=path)) as url:
        yield url
