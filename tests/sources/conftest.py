"""Fixtures for source tests: the shared real payloads and HTTP clients for local servers."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.net.http import HttpClient, HttpLimits
from bot.sources import bluesky, reddit


@pytest.fixture(scope="session")
def make_httpserver() -> Iterator[HTTPServer]:
    """The local test server, threaded so a deliberately slow handler cannot delay the
    next test's requests."""
    server = HTTPServer(host="localhost", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture(scope="session")
def api_data(shared_data: Path) -> Path:
    """The folder of real API responses."""
    return shared_data / "api"


@pytest.fixture(scope="session")
def load_json(api_data: Path) -> Any:
    """``load_json("mastodon/x.json")`` reads one API example."""

    def load(name: str) -> Any:
        return json.loads((api_data / name).read_text(encoding="utf-8"))

    return load


class SleepRecorder:
    """Stands in for time.sleep: records the waits, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class _JsonResponse:
    def __init__(self, payload: Any) -> None:
        self.status_code, self.headers, self.content, self.url = 200, {}, b"", ""
        self._payload = payload

    def json(self) -> Any:
        """A fresh copy of the answer, as each decode of a body is."""
        return copy.deepcopy(self._payload)


class JsonAnswers:
    """Stands in for the HTTP layer without a server: a request gets the JSON of the
    first route whose text is in its URL (for tests that fetch many payloads)."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes

    def _answer(self, url: str) -> _JsonResponse:
        return _JsonResponse(next(v for k, v in self.routes.items() if k in url))

    def get(self, url: str, **_: Any) -> _JsonResponse:
        """The answer routed for ``url``."""
        return self._answer(url)

    def post(self, url: str, **_: Any) -> _JsonResponse:
        """The answer routed for ``url``."""
        return self._answer(url)


@pytest.fixture
def json_answers() -> type[JsonAnswers]:
    """``json_answers({"searchPosts": payload})``: a fetcher answering without a server."""
    return JsonAnswers


@pytest.fixture
def sleeps() -> SleepRecorder:
    """Recorded retry waits."""
    return SleepRecorder()


@pytest.fixture
def http(sleeps: SleepRecorder) -> Iterator[HttpClient]:
    """A trusted client for API sources talking to the local test server."""
    client = HttpClient(limits=HttpLimits(read_timeout=5, total_timeout=10), sleep=sleeps)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _fresh_credential_caches() -> Iterator[None]:
    """Sessions and tokens are cached process-wide; tests must not share them."""
    bluesky.SESSIONS.clear()
    reddit.TOKENS.clear()
    yield
    bluesky.SESSIONS.clear()
    reddit.TOKENS.clear()
