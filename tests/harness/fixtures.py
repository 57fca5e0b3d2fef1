"""Pytest fixtures for the Slack harness.

Use them from a conftest with ``from tests.harness.fixtures import *``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.http_retry import builtin_handlers, handler

from tests.harness.constants import BOT_TOKEN
from tests.harness.slack_standin import SlackStandIn

__all__ = ["fast_retries", "slack_client", "slack_standin"]


@pytest.fixture
def slack_standin() -> Iterator[SlackStandIn]:
    """A started :class:`SlackStandIn`, fresh for each test (starting one takes ~1 ms)."""
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def slack_client(slack_standin: SlackStandIn) -> WebClient:
    """A ``WebClient`` with the default bot token, pointed at ``slack_standin``."""
    return WebClient(token=BOT_TOKEN, base_url=slack_standin.base_url, timeout=10)


class _RecordingTime:
    """Replaces the ``time`` module inside slack_sdk's retry handlers: records sleeps."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make slack_sdk's retry handlers skip their sleeps; returns the durations asked for.

    ``RateLimitErrorRetryHandler`` sleeps ``Retry-After`` + up to 1 s of jitter and
    ``ServerErrorRetryHandler`` backs off exponentially; with this fixture a test can
    assert on those durations without waiting for them.
    """
    recorder = _RecordingTime()
    monkeypatch.setattr(builtin_handlers, "time", recorder)
    monkeypatch.setattr(handler, "time", recorder)
    return recorder.sleeps
