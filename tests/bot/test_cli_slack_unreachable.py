"""`vigie run` when Slack cannot be reached at start-up: a real process, the Slack Web API
stand-in answering 503 (or not started yet), a real feed on loopback, a real SQLite file."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.bot.test_cli import VIGIE, _env, _unused_port, vigie
from tests.harness.constants import BOT_TOKEN
from tests.harness.slack_standin import SlackStandIn
from tests.harness.socket_mode import APP_TOKEN, SocketModeServer

CHANNEL = "C0123ABCD"
FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>acme</title><link>https://news.example/1</link>"
        b"<guid>https://news.example/1</guid><description>acme lost my parcel, where is it?"
        b"</description><pubDate>Sat, 21 Nov 2026 08:00:00 GMT</pubDate></item>"
        b"</channel></rss>")


def _eventually(predicate: Callable[[], object], what: str, timeout: float,
                log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen in {timeout:.0f} s:\n"
                                 + log.read_text(errors="replace")[-4000:])
        time.sleep(0.2)


def _stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        count = int(conn.execute("SELECT count(*) FROM mentions").fetchone()[0])
    conn.close()
    return count


def _with_feed(tmp_path: Path, httpserver: object) -> None:
    httpserver.expect_request("/feed").respond_with_data(  # type: ignore[attr-defined]
        FEED, content_type="application/rss+xml")
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel", CHANNEL,
                 "--alert-threshold", "0").returncode == 0
    added = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url",
                  httpserver.url_for("/feed"))  # type: ignore[attr-defined]
    assert added.returncode == 0, added.stderr


def test_socket_mode_polls_while_slack_answers_503_and_connects_once_it_is_back(
        tmp_path: Path, httpserver: object) -> None:
    """The start-up auth.test failing (503) made `vigie run` exit 2: nothing was polled
    until a supervisor restarted it."""
    _with_feed(tmp_path, httpserver)
    log = tmp_path / "run.log"
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as slack, \
            SocketModeServer() as sockets:
        sockets.attach(slack)
        slack.set_channel(CHANNEL, name="acme")
        slack.fail_ratio(1.0, statuses=(503,))  # every Web API call, connections.open too
        env = _env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                   SLACK_API_URL=slack.base_url, PORT=str(_unused_port()),
                   VIGIE_BACKFILL_HOURS="0", VIGIE_OUTBOX_TICK_SECONDS="0.2",
                   VIGIE_LOG_LEVEL="INFO")
        with log.open("w") as out:
            proc = subprocess.Popen([*VIGIE, "run"], cwd=tmp_path, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, text=True)
        try:
            _eventually(lambda: _stored(tmp_path / "vigie.db") or proc.poll() is not None,
                        "a poll", 60, log)
            assert proc.poll() is None, log.read_text()
            text = log.read_text()
            assert "cannot reach Slack" in text and "Traceback" not in text, text
            assert not sockets.links and not slack.calls("auth.test", ok=True)
            slack.fail_ratio(0.0)  # Slack is back
            sockets.wait_connected(timeout=60)
            _eventually(lambda: slack.messages_in(CHANNEL), "the alert card in Slack", 90,
                        log)
            _eventually(lambda: "connected to Slack in Socket Mode" in log.read_text(),
                        "the connected line", 30, log)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()


def test_http_mode_serves_while_slack_is_down_and_checks_the_token_once_it_is_up(
        tmp_path: Path) -> None:
    """Slack's API refusing connections at start (a network or DNS failure at boot)
    stopped `vigie run` ("Could not start the Slack app: URLError")."""
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    slack_port, port = _unused_port(), _unused_port()
    log = tmp_path / "run.log"
    env = _env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="s3cret",
               SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/", PORT=str(port))
    with log.open("w") as out:
        proc = subprocess.Popen([*VIGIE, "run"], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    try:
        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).is_success
            except httpx.TransportError:
                return proc.poll() is not None
        _eventually(healthy, "/healthz", 60, log)
        assert proc.poll() is None, log.read_text()
        assert "cannot reach Slack" in log.read_text()
        with SlackStandIn(port=slack_port) as slack:  # Slack comes back
            _eventually(lambda: slack.calls("auth.test", ok=True), "auth.test", 60, log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_http_mode_reports_a_token_slack_refuses_once_it_is_back(tmp_path: Path) -> None:
    """Slack unreachable at start, then back refusing the bot token: the process goes on
    serving (webhooks, health checks) and its /readyz, still ready for them, says that
    Slack refuses the token; it said nothing though nothing Slack asked could be answered."""
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    slack_port, port = _unused_port(), _unused_port()
    log = tmp_path / "run.log"
    env = _env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="s3cret",
               SLACK_API_URL=f"http://127.0.0.1:{slack_port}/api/", PORT=str(port))
    with log.open("w") as out:
        proc = subprocess.Popen([*VIGIE, "run"], cwd=tmp_path, env=env, stdout=out,
                                stderr=subprocess.STDOUT, text=True)
    try:
        def ready() -> httpx.Response | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                return None
        _eventually(lambda: ready() is not None, "/readyz", 60, log)
        assert "cannot reach Slack" in log.read_text()
        with SlackStandIn(port=slack_port) as slack:  # Slack comes back, refusing the token
            slack.revoke_token(BOT_TOKEN)
            _eventually(lambda: slack.calls("auth.test"), "auth.test", 60, log)
            _eventually(lambda: (answer := ready()) is not None
                        and "slack" in answer.json(), "/readyz slack", 30, log)
        answer = ready()
        assert answer is not None
        assert answer.status_code == 200, answer.text
        assert "Slack refuses SLACK_BOT_TOKEN (token_revoked)" in answer.json()["slack"]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
        assert BOT_TOKEN not in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_refused_app_token_still_stops_socket_mode(tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    with SlackStandIn(valid_tokens=(BOT_TOKEN,)) as slack, SocketModeServer() as sockets:
        sockets.attach(slack)
        result = vigie(tmp_path, "run", SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                       SLACK_API_URL=slack.base_url, PORT=str(_unused_port()))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth"])
def test_socket_mode_with_a_refused_bot_token_goes_on_polling_and_serving_webhooks(
        tmp_path: Path, httpserver: object, error: str) -> None:
    """`vigie run` in Socket Mode is the all-in-one process: a bot token Slack refuses at
    start stopped it (exit 2), so nothing was polled and every webhook push was refused,
    in a restart loop. It now logs the refusal with the fix, polls, stores a signed push,
    serves /healthz, reports the refusal in /readyz's slack field, connects the socket with
    the app token (a person's request is told to have Vigie reinstalled) and stops with 0."""
    from tests.bot.test_cli_web import (
        _add_webhook_source,
        assert_webhooks_served_while_slack_refuses,
    )

    _with_feed(tmp_path, httpserver)
    _add_webhook_source(tmp_path)
    log, port = tmp_path / "run.log", _unused_port()
    with SlackStandIn(valid_tokens=(BOT_TOKEN, APP_TOKEN)) as slack, \
            SocketModeServer() as sockets:
        sockets.attach(slack)
        slack.revoke_token(BOT_TOKEN, error)
        env = _env(tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                   SLACK_API_URL=slack.base_url, PORT=str(port), VIGIE_BACKFILL_HOURS="0")
        with log.open("w") as out:
            proc = subprocess.Popen([*VIGIE, "run"], cwd=tmp_path, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, text=True)
        url = f"http://127.0.0.1:{port}"
        try:
            def healthy() -> bool:
                assert proc.poll() is None, log.read_text()
                try:
                    return httpx.get(f"{url}/healthz", timeout=5).is_success
                except httpx.TransportError:
                    return False
            _eventually(healthy, "/healthz", 60, log)
            _eventually(lambda: _stored(tmp_path / "vigie.db"), "a poll", 60, log)
            assert_webhooks_served_while_slack_refuses(url, tmp_path, error, BOT_TOKEN)
            sockets.wait_connected(timeout=60)  # the app token still opens the socket
            answer = sockets.slash_command("help").text  # in the workspace's language
            assert "Vigie cannot answer from this workspace" in answer, answer
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, log.read_text()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=20)
        assert slack.calls("auth.test")[0].error == error
        assert not slack.messages_in(CHANNEL)  # the alert waits in the outbox
    text = log.read_text()
    assert f"Slack refused SLACK_BOT_TOKEN ({error})" in text and "reinstall the app" in text
    assert "Traceback" not in text and BOT_TOKEN not in text, text
    assert _stored(tmp_path / "vigie.db") == 2
