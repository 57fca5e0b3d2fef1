"""`vigie worker` as a process manager runs it: its health checks and metrics over real HTTP
on loopback, and SIGTERM while a feed never answers. Real processes, real SQLite files."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bot.test_cli import VIGIE, _env, _Output, _unused_port, vigie

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>acme</title><link>https://news.example/1</link>"
        b"<guid>https://news.example/1</guid><description>acme ships</description></item>"
        b"</channel></rss>")
TOKEN = "metrics-token-for-tests"


def _with_source(tmp_path: Path, url: str) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                 "C0123ABCD").returncode == 0
    added = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url", url)
    assert added.returncode == 0, added.stderr


def _get(url: str, deadline: float, **kwargs: object) -> httpx.Response:
    """GET ``url``, retried while the worker's front is still binding."""
    while True:
        try:
            return httpx.get(url, timeout=5, **kwargs)  # type: ignore[arg-type]
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.2)


def test_worker_serves_health_checks_and_its_own_poll_counters(
        tmp_path: Path, httpserver: object) -> None:
    """The worker served no HTTP: a container health check on PORT failed forever, and its
    poll counters were in a process nobody could scrape."""
    httpserver.expect_request("/feed").respond_with_data(  # type: ignore[attr-defined]
        FEED, content_type="application/rss+xml")
    _with_source(tmp_path, httpserver.url_for("/feed"))  # type: ignore[attr-defined]
    port = _unused_port()
    proc = subprocess.Popen([*VIGIE, "worker"], cwd=tmp_path,
                            env=_env(tmp_path, PORT=str(port), VIGIE_METRICS_TOKEN=TOKEN),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        output = _Output(proc)
        first = output.line()
        assert f"Health checks on http://127.0.0.1:{port}" in first, first
        assert "/metrics" in first and "/ingest" not in first and "/slack" not in first
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        assert _get(f"{url}/healthz", deadline).status_code == 200
        assert _get(f"{url}/readyz", deadline).status_code == 200
        assert _get(f"{url}/metrics", deadline).status_code == 401
        polled = 'vigie_polls_total{network="rss",result="success"} 1.0'
        while True:  # the first poll runs as the scheduler starts
            metrics = _get(f"{url}/metrics", deadline,
                           headers={"Authorization": f"Bearer {TOKEN}"})
            assert metrics.status_code == 200
            if polled in metrics.text:
                break
            assert time.monotonic() < deadline + 30, metrics.text
            time.sleep(0.3)
        assert 'vigie_mentions_ingested_total{network="rss"} 1.0' in metrics.text
        assert _get(f"{url}/slack/events", deadline).status_code == 404
        assert httpx.post(f"{url}/slack/events", timeout=5).status_code == 404
        assert httpx.post(f"{url}/ingest/1", content=b"[]", timeout=5).status_code == 404
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_worker_whose_port_is_taken_warns_and_polls_on(tmp_path: Path) -> None:
    """VIGIE_WORKER_PORT wins over PORT (`vigie web`'s on the same machine); a port that
    cannot be bound is a warning, not a worker that stops polling."""
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.Popen([*VIGIE, "worker"], cwd=tmp_path,
                                env=_env(tmp_path, PORT="1", VIGIE_WORKER_PORT=str(port)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            output = _Output(proc)
            assert "Vigie worker started" in output.line()
            time.sleep(1)
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
            output._err_reader.join(5)
        finally:
            if proc.poll() is None:
                proc.kill()
    err = "".join(output._errors)
    assert proc.returncode == 0
    assert f"cannot serve health checks and metrics on 127.0.0.1:{port}" in err, err
    assert "Traceback" not in err, err


def test_worker_without_a_port_set_leaves_the_default_one_to_vigie_web(
        tmp_path: Path) -> None:
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    env = {k: v for k, v in _env(tmp_path).items() if k != "PORT"}
    proc = subprocess.Popen([*VIGIE, "worker"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        output = _Output(proc)
        assert "set VIGIE_WORKER_PORT (or PORT)" in output.line()
        assert "Vigie worker started" in output.line()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


class _Silent:
    """A server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed"
        self.accepted = threading.Event()
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.recv(65536)  # the request, left unanswered
            self.held.append(conn)
            self.accepted.set()

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent_feed() -> Iterator[_Silent]:
    silent = _Silent()
    try:
        yield silent
    finally:
        silent.close()


def _schedule(db: Path) -> tuple[str, str | None]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT next_poll_at, last_polled_at FROM sources").fetchone()
    conn.close()
    return row[0], row[1]


def test_sigterm_during_a_fetch_stops_the_worker_and_releases_the_source(
        tmp_path: Path, silent_feed: _Silent) -> None:
    """SIGTERM printed "Vigie stopped." at once but the poll fetched on until its budget
    (60 s, `docker stop` kills after 10 s), the source leased meanwhile."""
    _with_source(tmp_path, silent_feed.url)
    before = _schedule(tmp_path / "vigie.db")
    proc = subprocess.Popen([*VIGIE, "worker"], cwd=tmp_path,
                            env=_env(tmp_path, VIGIE_WORKER_WEB_HOST="off"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert silent_feed.accepted.wait(60), "the worker never fetched the feed"
        assert _schedule(tmp_path / "vigie.db") != before  # claimed: leased
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    waited = time.monotonic() - started
    assert proc.returncode == 0 and "Vigie stopped." in out, out + err
    assert "Traceback" not in err, err
    assert waited < 10, waited
    assert _schedule(tmp_path / "vigie.db") == before  # due again: the next poll claims it
