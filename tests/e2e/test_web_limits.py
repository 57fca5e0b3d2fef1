"""What request bodies may cost the web process, through the real server (Hypercorn and the
buffering front of bot/server.py) on a loopback port: the body of a request the app answers
without one is never read, a body must arrive whole before its deadline however steadily it
trickles, and the bodies held at once have a budget (503 past it). Slack's and webhook
senders' requests are served as before."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from bot.app import build_app
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.server import BackgroundServer, WebLimits
from bot.web import build_wsgi_app
from tests.e2e.conftest import ADMIN_ID, VigieApp
from tests.e2e.test_listening import admin
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID, SIGNING_SECRET, USER_ID
from tests.harness.slack_requests import SlackSender
from tests.harness.slack_standin import SlackStandIn
from tests.harness.webhooks import webhook_from_answer, webhook_headers

BODY = json.dumps({"id": "1", "url": "https://forum.example/t/1", "text": "acme",
                   "author": {"handle": "ana"},
                   "published_at": "2026-12-06T09:00:00+00:00"}).encode()
SIGNED_HEAD = "X-Vigie-Signature: sha256={}\r\nX-Vigie-Timestamp: {}\r\n".format(
    "0" * 64, 1_700_000_000)


@contextmanager
def _served(db_url: str, standin: SlackStandIn, **limits: object) -> Iterator[VigieApp]:
    """Vigie as `vigie web` serves it (settings, runtime, Bolt app, Hypercorn and the front),
    with the web limits given (VIGIE_WEB_* settings by field name)."""
    settings = load_settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
        slack_api_url=standin.base_url, database_url=db_url, admins=[ADMIN_ID], **limits)
    runtime = build_runtime(settings)
    front = BackgroundServer(build_wsgi_app(runtime, build_app(settings, runtime)),
                             "127.0.0.1", 0, log_level="warning",
                             limits=WebLimits.of(settings))
    front.start()
    try:
        url = f"http://127.0.0.1:{front.port}"
        yield VigieApp(url, runtime, standin,
                       SlackSender(url, standin=standin, user_id=USER_ID, channel_id=CHANNEL_ID))
    finally:
        front.stop()
        runtime.close()


def _connect(vigie: VigieApp, head: str, timeout: float = 10) -> socket.socket:
    """A connection to the server that sent ``head`` (request line and headers)."""
    port = int(vigie.url.rsplit(":", 1)[1])
    conn = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn.sendall(head.encode("latin-1") + b"\r\n")
    return conn


def _answer(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the timeout)."""
    answer = b""
    try:
        while chunk := conn.recv(65536):
            answer += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return answer


def _webhook(vigie: VigieApp) -> tuple[str, str]:
    """A webhook source's URL and secret, added by an admin from Slack."""
    admin(vigie, f"watch add acme <#{CHANNEL_ID}|feed> threshold:0")
    source_id, secret = webhook_from_answer(admin(vigie, "source add webhook acme"))
    return f"{vigie.url}/ingest/{source_id}", secret


@pytest.mark.parametrize(("request_line", "extra", "status"), [
    ("POST /nowhere", "", b"404"),
    ("PUT /slack/events", "", b"405"),
    ("POST /ingest/1", "", b"401"),  # no signature headers: 401 whatever the body
    ("GET /healthz", "", b"200"),
    ("POST /ingest/1", "X-Vigie-Signature: sha256=00\r\n", b"401"),  # no timestamp
])
def test_a_body_the_app_does_not_read_is_never_waited_for(
        sqlite_url: str, slack_standin: SlackStandIn,
        request_line: str, extra: str, status: bytes) -> None:
    """It was read (up to 1 MB, held) before the path was even looked at."""
    with _served(sqlite_url, slack_standin) as vigie:
        began = time.monotonic()
        conn = _connect(vigie, f"{request_line} HTTP/1.1\r\nHost: vigie\r\n{extra}"
                               f"Content-Length: {900 * 1024}\r\n")
        with conn:
            conn.sendall(b"x" * 1024)  # and never the rest
            answer = _answer(conn)
        assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
        assert b"connection: close" in answer.lower()
        assert time.monotonic() - began < 9  # never waited for the rest (10 s timeout)


@pytest.mark.parametrize("target", ["/slack/events", "/ingest/1"])
def test_a_trickled_body_is_cut_at_its_deadline(sqlite_url: str, slack_standin: SlackStandIn,
                                               target: str) -> None:
    """A byte every 0.1 s reset Hypercorn's read timeout forever, holding the buffer."""
    with _served(sqlite_url, slack_standin, web_body_timeout_seconds=1) as vigie:
        began = time.monotonic()
        conn = _connect(vigie, f"POST {target} HTTP/1.1\r\nHost: vigie\r\n{SIGNED_HEAD}"
                               "Content-Length: 100000\r\n", timeout=0.1)
        answer = b""
        with conn:
            while not answer and time.monotonic() - began < 20:
                with contextlib.suppress(OSError):  # closed by the server: its answer waits
                    conn.sendall(b"a")
                try:
                    answer = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert time.monotonic() - began < 15


def test_bodies_past_the_budget_get_503_and_retry_after(sqlite_url: str,
                                                        slack_standin: SlackStandIn) -> None:
    """Each connection could hold 1 MB: 300 of them took the process from 104 to 592 MB."""
    with _served(sqlite_url, slack_standin, web_max_buffered_mb=1,
                 web_body_timeout_seconds=60) as vigie:
        url, secret = _webhook(vigie)
        path = url.removeprefix(vigie.url)
        head = (f"POST {path} HTTP/1.1\r\nHost: vigie\r\n{SIGNED_HEAD}"
                f"Content-Length: {800 * 1024}\r\n")
        holder = _connect(vigie, head)
        holder.sendall(b"x" * 1024)  # holds its 800 KB of the budget while it sends
        try:
            refused = b""
            deadline = time.monotonic() + 30
            while not refused.startswith(b"HTTP/1.1 503") and time.monotonic() < deadline:
                # the holder is served before it if the server has not read its headers yet
                with _connect(vigie, head) as other:
                    other.sendall(b"x" * 1024)  # refused on its headers: no need for more
                    refused = _answer(other)
            assert refused.startswith(b"HTTP/1.1 503"), refused[:200]
            assert b"\r\nretry-after: 60\r\n" in refused.lower()
            small = httpx.post(url, content=BODY, headers=webhook_headers(secret, BODY))
            assert small.status_code == 200, small.text  # 800 KB + this stays under 1 MB
        finally:
            holder.close()
        deadline = time.monotonic() + 30
        while True:  # released once the server sees the holder gone
            big = b" " * (800 * 1024) + BODY
            answer = httpx.post(url, content=big, headers=webhook_headers(secret, big))
            if answer.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert answer.status_code == 200, answer.text


def test_slack_and_webhook_requests_are_served_as_before(sqlite_url: str,
                                                         slack_standin: SlackStandIn) -> None:
    with _served(sqlite_url, slack_standin, web_max_buffered_mb=1,
                 web_body_timeout_seconds=5) as vigie:
        assert "/cm" in vigie.slack.command_answer("help")["text"]
        url, secret = _webhook(vigie)
        answer = httpx.post(url, content=BODY, headers=webhook_headers(secret, BODY))
        assert answer.status_code == 200 and answer.json()["stored"] == 1, answer.text

        def chunked() -> Iterator[bytes]:  # no Content-Length: it may take the whole cap
            yield BODY

        again = httpx.post(url, content=chunked(), headers=webhook_headers(secret, BODY))
        assert again.status_code == 200, again.text
        wrong = httpx.post(url, content=BODY, headers=webhook_headers("not-the-secret!!", BODY))
        assert wrong.status_code == 401 and wrong.json() == {"error": "bad signature"}
        assert httpx.get(f"{vigie.url}/healthz").status_code == 200
