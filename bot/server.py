"""Serving the WSGI app: gunicorn for `vigie web`, a threaded stdlib server for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gunicorn.app.base import BaseApplication

from bot.web import WSGIApp


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Access logs are not needed in tests."""


def start_background_server(app: WSGIApp, host: str = "127.0.0.1", port: int = 0
                            ) -> tuple[WSGIServer, str]:
    """Serve ``app`` from a daemon thread; return the server and its base URL."""
    server = make_server(host, port, app, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="vigie-web", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_port}"


class GunicornServer(BaseApplication):
    """Runs the app under gunicorn; ``app_factory`` is called in each worker after fork."""

    def __init__(self, app_factory: Callable[[], WSGIApp], options: dict[str, Any]) -> None:
        self._factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply ``options`` to gunicorn's settings."""
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        """Build the WSGI app (in the worker process)."""
        return self._factory()
