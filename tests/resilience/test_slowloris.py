"""Slow clients cannot take the HTTP endpoint down.

Starts `vigie web --port N` exactly as the README's Procfile, Docker and systemd recipes do
(the installed `vigie` script, settings from the environment), opens 32 connections that
trickle one byte every 2 seconds (half in the headers, half in a declared body), and checks
that signed `/cm` requests and `/healthz` still answer 200 meanwhile. Run with `-s` to see
the acknowledgement times measured during the attack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness.constants import BOT_TOKEN, SIGNING_SECRET, USER_ID
from tests.harness.slack_requests import SlackSender
from tests.harness.slack_standin import SlackStandIn
from tests.resilience.support import REPO_ROOT, child_env

SLOW_CLIENTS = 32
TRICKLE_SECONDS = 2.0
VIGIE = str(Path(sys.executable).with_name("vigie"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Slowloris:
    """Connections that send a request one byte at a time, forever."""

    def __init__(self, port: int, count: int) -> None:
        self.port = port
        self.sockets: list[socket.socket] = []
        self.open = 0
        self._stop = threading.Event()
        for index in range(count):
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            if index % 2:
                conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: vigie\r\n")
            else:
                conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: vigie\r\n"
                             b"Content-Type: application/x-www-form-urlencoded\r\n"
                             b"Content-Length: 100000\r\n\r\n")
            self.sockets.append(conn)
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(TRICKLE_SECONDS):
            alive = 0
            for conn in self.sockets:
                try:
                    conn.sendall(b"a")
                    alive += 1
                except OSError:
                    pass
            self.open = alive

    def close(self) -> None:
        """Stop trickling and close every connection."""
        self._stop.set()
        self._thread.join(timeout=10)
        for conn in self.sockets:
            conn.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group (it and its worker processes), then SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # worker processes left behind, if any


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def vigie_web(request: pytest.FixtureRequest,
              tmp_path: Path) -> Iterator[tuple[str, SlackStandIn]]:
    """`vigie db upgrade`, then `vigie web --port N` in a child process: one process on
    SQLite, two worker processes (the default) on PostgreSQL."""
    url = (f"sqlite:///{tmp_path / 'vigie.db'}" if request.param == "sqlite"
           else str(request.getfixturevalue("fresh_postgres_url")))
    port = _free_port()
    log = tmp_path / "web.log"
    with SlackStandIn() as standin:
        env = child_env(url, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                        SLACK_API_URL=standin.base_url, VIGIE_ADMINS=USER_ID, PORT=str(port))
        subprocess.run([VIGIE, "db", "upgrade"], env=env, check=True, capture_output=True,
                       timeout=120)
        with log.open("ab") as out:
            process = subprocess.Popen([sys.executable, VIGIE, "web", "--port", str(port)],
                                       env=env, cwd=REPO_ROOT, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield base, standin
        finally:
            _stop_group(process)


def test_slow_clients_do_not_stop_slack_requests_or_health_checks(
        vigie_web: tuple[str, SlackStandIn]) -> None:
    base, standin = vigie_web
    port = int(base.rsplit(":", 1)[1])
    slack = SlackSender(base, standin=standin)
    assert slack.slash_command("help", timeout=20).status_code == 200
    attack = Slowloris(port, SLOW_CLIENTS)
    try:
        time.sleep(3 * TRICKLE_SECONDS)  # every slow connection has trickled a few bytes
        acks: list[float] = []
        for _ in range(10):
            began = time.monotonic()
            reply = slack.slash_command("help", timeout=20)
            acks.append(time.monotonic() - began)
            assert reply.status_code == 200 and "/cm" in reply.text
            health = httpx.get(base + "/healthz", timeout=20)
            assert health.status_code == 200
        still_open = attack.open
    finally:
        attack.close()
    print(f"\n{SLOW_CLIENTS} slow clients ({still_open} still open): /cm help acked in "
          f"median {statistics.median(acks) * 1000:.0f} ms, max {max(acks) * 1000:.0f} ms")


def test_bodies_over_the_cap_are_refused_by_the_server(
        vigie_web: tuple[str, SlackStandIn]) -> None:
    base, _ = vigie_web
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: vigie\r\n"
                     b"Content-Length: 209715200\r\n\r\ncommand=")
        assert conn.recv(100).startswith(b"HTTP/1.1 413")

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    chunked = httpx.post(base + "/slack/events", content=chunks(), timeout=20)
    assert chunked.status_code == 413
