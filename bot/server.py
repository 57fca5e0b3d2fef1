"""Serving the WSGI app under gunicorn (`vigie web`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.web import WSGIApp


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
