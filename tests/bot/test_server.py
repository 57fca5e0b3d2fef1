"""The buffering ASGI front of `vigie web` (bot/server.py), driven as Hypercorn drives it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from bot.server import BufferedWSGI


def _serve(app: Callable[..., Iterable[bytes]], body: bytes = b"") -> list[dict[str, Any]]:
    """One HTTP request through BufferedWSGI(app); the ASGI messages it sent."""
    sent: list[dict[str, Any]] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/slack/events", "query_string": b"",
             "headers": [(b"content-length", str(len(body)).encode())],
             "server": ("127.0.0.1", 3000), "client": ("127.0.0.1", 5000),
             "scheme": "http", "http_version": "1.1", "root_path": ""}
    front = BufferedWSGI(app, threads=1)
    asyncio.run(front(scope, receive, send))
    return sent


def _status(sent: list[dict[str, Any]]) -> int:
    return next(int(m["status"]) for m in sent if m["type"] == "http.response.start")


def test_an_answer_passes_through() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read()]

    sent = _serve(app, b"hello")
    assert _status(sent) == 201
    assert b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body") \
        == b"hello"


def test_an_app_that_never_starts_its_response_gets_a_500_not_a_crash() -> None:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        return [b"forgot start_response"]

    assert _status(_serve(app)) == 500
