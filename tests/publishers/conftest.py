"""Fixtures for publisher tests: a threaded local server, HTTP clients, shared API data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.net.http import HttpClient, HttpLimits
from bot.sources import bluesky
from tests.publishers.fakes import wait_until_dropped_are_logged

NOW = 1_746_093_600.0
"""2025-05-01T10:00:00Z: the clock of the HTTP client (rate-limit resets are read against it)."""


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """The local stand-in for the networks, threaded so one slow handler delays nothing."""
    server = HTTPServer(host="localhost", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(autouse=True)
def _dropped_requests_logged(httpserver: HTTPServer) -> Iterator[None]:
    """A test that dropped a connection ends once the server has logged that request, so
    the entry cannot land in the next test's log."""
    yield
    wait_until_dropped_are_logged(httpserver)


@pytest.fixture(scope="session")
def api_data(shared_data: Path) -> Path:
    """The folder of real API responses and lexicons."""
    return shared_data / "api"


@pytest.fixture(scope="session")
def load_json(api_data: Path) -> Callable[[str], Any]:
    """``load_json("mastodon/x.json")`` reads one API example (a fresh copy each time)."""

    def load(name: str) -> Any:
        return json.loads((api_data / name).read_text(encoding="utf-8"))

    return load


class SleepRecorder:
    """Stands in for time.sleep: records the waits, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    """Recorded retry waits."""
    return SleepRecorder()


@pytest.fixture
def http(sleeps: SleepRecorder) -> Iterator[HttpClient]:
    """The default (trusted) client, with a fixed clock and no real waiting."""
    client = HttpClient(
        limits=HttpLimits(read_timeout=5, total_timeout=10), sleep=sleeps, now=lambda: NOW
    )
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _fresh_sessions() -> Iterator[None]:
    """Bluesky sessions are cached process-wide; tests must not share them."""
    bluesky.SESSIONS.clear()
    yield
    bluesky.SESSIONS.clear()
