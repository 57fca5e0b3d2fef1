"""`vigie worker` as a process manager runs it: SIGTERM while a feed never answers. Real
processes, real SQLite files."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot.test_cli import VIGIE, _env, vigie

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
                            env=_env(tmp_path),
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
