"""The buffering ASGI front of `vigie web` (bot/server.py), driven as Hypercorn drives it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

from bot.server import BackgroundServer, BufferedWSGI, WebLimits
from bot.web import WebApp


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


def test_a_connection_answered_without_its_body_closes_after_the_answer() -> None:
    """Hypercorn queues what it reads for the app (ten messages) and a disconnect once the
    answer is sent: a body left unread while a slow app ran filled that queue, and the
    connection then waited forever, holding what it had queued."""

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        time.sleep(1)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    front = BackgroundServer(WebApp(slow, lambda environ: 0), "127.0.0.1", 0,
                             log_level="warning", limits=WebLimits())
    front.start()
    try:
        with socket.create_connection(("127.0.0.1", front.port), timeout=10) as conn:
            conn.sendall(b"POST /nowhere HTTP/1.1\r\nHost: vigie\r\n"
                         b"Content-Length: 4000000\r\n\r\n")
            with contextlib.suppress(OSError):  # the server may close before the last
                for _ in range(30):
                    conn.sendall(b"x" * 65536)
            answer = b""
            while chunk := conn.recv(65536):  # until the server closes (else TimeoutError)
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 404"), answer[:100]
    finally:
        front.stop()
