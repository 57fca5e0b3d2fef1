"""The shared HTTP layer as its users see it: the ``Fetcher`` and ``HttpResponse`` protocols.

Sources and publishers are written against these protocols, so tests and tools can hand
them any client; :class:`bot.net.http.HttpClient` is the implementation.
"""

from __future__ import annotations

from typing import Any, Protocol

Validators = dict[str, Any]
"""The mutable state where a conditional GET keeps its ETag / Last-Modified validators
(a source passes its cursor)."""


class HttpResponse(Protocol):
    """The subset of a response a source may read."""

    status_code: int
    headers: Any
    content: bytes
    url: str

    def json(self) -> Any:
        """Decode the body as JSON."""


class Fetcher(Protocol):
    """The shared HTTP layer as seen by a source (implemented in ``bot.net.http``)."""

    def get(
        self,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        cursor: Validators | None = None,
    ) -> HttpResponse:
        """GET ``url``; with ``cursor`` it sends and updates ETag/Last-Modified validators."""

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = False,
    ) -> HttpResponse:
        """POST to ``url``; retried after a 503 only when ``idempotent`` (a repeat cannot
        act twice: a sign-in, a write deduplicated by key)."""
