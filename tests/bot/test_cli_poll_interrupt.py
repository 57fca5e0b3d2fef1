"""Ctrl-C on `vigie poll` while a source answers slowly: a real process, a real slow HTTP
server on loopback, a real SQLite file."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.bot.test_cli import VIGIE, _default_sigint, _env, vigie

FEED = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<item><title>acme</title><link>https://news.example/1</link>"
        b"<guid>https://news.example/1</guid><description>acme</description></item>"
        b"</channel></rss>")


class _Slow:
    """A feed server that holds every request until ``release`` (or 60 s)."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()
        slow = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                slow.asked.set()
                slow.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(FEED)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up
                    self.wfile.write(FEED)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed"


@pytest.fixture
def slow_feed() -> Iterator[_Slow]:
    slow = _Slow()
    thread = threading.Thread(target=slow.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield slow
    finally:
        slow.release.set()
        slow.server.shutdown()
        slow.server.server_close()


def _schedule(db: Path) -> tuple[str, str | None]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT next_poll_at, last_polled_at FROM sources").fetchone()
    conn.close()
    return row[0], row[1]


def test_ctrl_c_during_a_slow_fetch_releases_the_source(tmp_path: Path,
                                                        slow_feed: _Slow) -> None:
    """The interrupted poll left the source leased for 10 minutes ('Aborted!'), so a
    running `vigie run` skipped it until then."""
    assert vigie(tmp_path, "db", "upgrade").returncode == 0
    assert vigie(tmp_path, "watch", "add", "acme", "--query", "acme", "--channel",
                 "C0123ABCD").returncode == 0
    added = vigie(tmp_path, "source", "add", "rss", "--watch", "acme", "--url", slow_feed.url)
    assert added.returncode == 0, added.stderr
    before = _schedule(tmp_path / "vigie.db")
    proc = subprocess.Popen([*VIGIE, "poll", "--due"], cwd=tmp_path, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    try:
        assert slow_feed.asked.wait(60), "vigie poll never fetched the feed"
        assert _schedule(tmp_path / "vigie.db") != before  # claimed: leased
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    waited = time.monotonic() - started
    assert proc.returncode != 0 and "Aborted!" in err and "Traceback" not in err, err
    assert _schedule(tmp_path / "vigie.db") == before  # due again, as before the poll
    assert waited < 10  # its fetch was cut short, not waited for
