"""Shared pieces of the crash-and-load suite: child processes, a counting feed server.

Children are started with the test's own interpreter (``sys.executable``), from the
repository root, with ``PYTHONPATH`` set to it and every Slack/Vigie variable of the
surrounding environment removed, so a developer's ``.env`` never leaks into a test.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (children run from here)."""

WORDS = ("acme", "widget", "battery", "screen", "update", "support", "refund", "launch",
         "pricing", "review", "outage", "feature", "android", "desktop", "billing", "sync")


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a child ``vigie`` process: console mode unless ``extra`` says
    otherwise, quiet logs, the repository on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "VIGIE_")) and k != "PORT"}
    env.update(VIGIE_DATABASE_URL=database_url, VIGIE_LOG_LEVEL="WARNING",
               PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def start_child(args: Sequence[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python ARGS`` from the repository root, output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, *args], cwd=REPO_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``process`` if it still runs and reap it (safe to call twice)."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@dataclass
class KillStats:
    """What a crash loop did."""

    runs: int = 0
    kills: int = 0
    completed: int = 0
    delays: list[float] = field(default_factory=list)
    points: list[str] = field(default_factory=list)


def run_and_kill(args: Sequence[str], env: dict[str, str], log: Path, delay: float,
                 stats: KillStats, *, timeout: float = 120.0) -> bool:
    """Run a child and SIGKILL it after ``delay`` seconds; True if it was killed (False
    when it finished first)."""
    process = start_child(args, env, log)
    stats.runs += 1
    try:
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            stats.kills += 1
            stats.delays.append(round(delay, 2))
            return True
        stats.completed += 1
        return False
    finally:
        stop(process)


def run_and_kill_when(args: Sequence[str], env: dict[str, str], log: Path,
                      event: Callable[[], object], stats: KillStats, label: str) -> bool:
    """Run a child and SIGKILL it the moment ``event()`` returns (it blocks until the
    crash point, e.g. "the N-th message was just posted"); False if the child exited
    first or the event never came."""
    process = start_child(args, env, log)
    stats.runs += 1
    try:
        try:
            event()
        except AssertionError:  # the stand-in's timeout: the point was never reached
            stats.completed += 1
            return False
        if process.poll() is not None:
            stats.completed += 1
            return False
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        stats.kills += 1
        stats.points.append(label)
        return True
    finally:
        stop(process)


def run_to_completion(args: Sequence[str], env: dict[str, str], log: Path,
                      *, timeout: float = 120.0) -> int:
    """Run a child until it exits; its return code."""
    process = start_child(args, env, log)
    try:
        return process.wait(timeout=timeout)
    finally:
        stop(process)


def random_delays(seed: int, count: int, low: float, high: float) -> list[float]:
    """``count`` kill delays drawn from a seeded RNG (reproducible runs)."""
    rng = random.Random(seed)
    return [rng.uniform(low, high) for _ in range(count)]


# ------------------------------------------------------------------------- feeds


@dataclass(frozen=True)
class FeedItem:
    """One RSS item: ``guid`` is its external id, ``text`` decides near-duplicates."""

    guid: str
    text: str
    published: datetime


def item_text(number: int) -> str:
    """A distinct, long enough text for logical item ``number`` (its own fingerprint)."""
    rng = random.Random(number)
    words = " ".join(rng.choice(WORDS) for _ in range(8))
    return f"Acme mention number {number}: {words} (item {number})"


def render_rss(title: str, items: Sequence[FeedItem], base: str) -> bytes:
    """An RSS 2.0 document for ``items``."""
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
             f"<title>{escape(title)}</title><link>{base}</link><description>t</description>"]
    for item in items:
        parts.append(
            f"<item><title>{escape(item.text[:60])}</title>"
            f"<link>{base}/post/{escape(item.guid)}</link>"
            f'<guid isPermaLink="false">{escape(item.guid)}</guid>'
            f"<description>{escape(item.text)}</description>"
            f"<pubDate>{format_datetime(item.published)}</pubDate></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


class _FeedHandler(BaseHTTPRequestHandler):
    server: _FeedHTTPServer

    def do_GET(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        with owner.lock:
            owner.hits[path] += 1
        delay = owner.delays.get(path, owner.delay)
        if delay:
            time.sleep(delay)
        body = owner.bodies.get(path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _FeedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, owner: FeedServer) -> None:
        super().__init__(("127.0.0.1", 0), _FeedHandler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed mid-answer is expected here: no traceback."""


class FeedServer:
    """A local HTTP server serving RSS feeds and counting hits per path."""

    def __init__(self, delay: float = 0.0) -> None:
        self.bodies: dict[str, bytes] = {}
        self.items: dict[str, list[FeedItem]] = {}
        self.hits: Counter[str] = Counter()
        self.delays: dict[str, float] = {}
        """Per-path answer delays (spread the moments sources finish)."""
        self.lock = threading.Lock()
        self.delay = delay
        self._server = _FeedHTTPServer(self)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def add_feed(self, path: str, items: Sequence[FeedItem]) -> str:
        """Serve ``items`` at ``path``; returns the feed's URL."""
        self.items[path] = list(items)
        self.bodies[path] = render_rss(path, items, self.base_url)
        return self.base_url + path

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def dated(index: int) -> datetime:
    """Publication dates one minute apart, recent enough to count as new."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=12) + timedelta(
        minutes=index)


@contextmanager
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    """A list to register processes in; every one still running is killed on exit."""
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            stop(process)
