"""Fault injection, and slack_sdk's retry handlers against it."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
from types import SimpleNamespace

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_handlers
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from tests.harness.constants import BOT_TOKEN, CHANNEL_ID
from tests.harness.slack_standin import ManualClock, SlackStandIn


def _client(standin: SlackStandIn, *handlers: object, timeout: float = 10) -> WebClient:
    client = WebClient(
        token=BOT_TOKEN,
        base_url=standin.base_url,
        timeout=timeout,  # type: ignore[arg-type]
    )
    client.retry_handlers = list(handlers)  # type: ignore[arg-type]
    return client


def test_429_is_retried_after_retry_after(
    slack_standin: SlackStandIn, fast_retries: list[float]
) -> None:
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=7)
    client = _client(slack_standin, RateLimitErrorRetryHandler(max_retry_count=1))

    response = client.chat_postMessage(channel=CHANNEL_ID, text="card")

    assert response["ok"]
    first, second = slack_standin.calls("chat.postMessage")
    assert (first.status, first.error) == (429, "ratelimited")
    assert second.ok
    assert 7 <= fast_retries[0] < 8  # Retry-After honoured (+ jitter)
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["card"]


def test_real_429_round_trip_with_retry_after_0(
    slack_standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real sleep of Retry-After (0) with the handler's jitter pinned at 0.
    monkeypatch.setattr(builtin_handlers, "random", SimpleNamespace(random=lambda: 0.0))
    slack_standin.fail_next("chat.postMessage", status=429, retry_after=0)
    client = _client(slack_standin, RateLimitErrorRetryHandler(max_retry_count=1))
    client.chat_postMessage(channel=CHANNEL_ID, text="card")
    assert [c.status for c in slack_standin.calls("chat.postMessage")] == [429, 200]


def test_429_without_retry_handler_surfaces(slack_standin: SlackStandIn) -> None:
    slack_standin.fail_next("chat.postMessage", retry_after=30)
    with pytest.raises(SlackApiError) as info:
        _client(slack_standin).chat_postMessage(channel=CHANNEL_ID, text="x")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "30"
    assert slack_standin.messages_in(CHANNEL_ID) == []


def test_500_is_retried_by_server_error_handler(
    slack_standin: SlackStandIn, fast_retries: list[float]
) -> None:
    slack_standin.fail_next("chat.postMessage", status=500, count=2)
    client = _client(slack_standin, ServerErrorRetryHandler(max_retry_count=2))

    assert client.chat_postMessage(channel=CHANNEL_ID, text="x")["ok"]
    assert [c.status for c in slack_standin.calls("chat.postMessage")] == [500, 500, 200]
    assert len(fast_retries) == 2
    assert len(slack_standin.messages_in(CHANNEL_ID)) == 1


def test_500_beyond_retries_raises(slack_standin: SlackStandIn, fast_retries: list[float]) -> None:
    slack_standin.fail_next("chat.postMessage", status=503, count=3)
    client = _client(slack_standin, ServerErrorRetryHandler(max_retry_count=1))
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=CHANNEL_ID, text="x")
    assert len(slack_standin.calls("chat.postMessage")) == 2
    assert slack_standin.messages_in(CHANNEL_ID) == []


def test_error_next(slack_standin: SlackStandIn) -> None:
    slack_standin.error_next("chat.postMessage", "missing_scope", extra={"needed": "chat:write"})
    client = _client(slack_standin)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel=CHANNEL_ID, text="x")
    assert info.value.response.status_code == 200
    assert info.value.response["needed"] == "chat:write"
    assert client.chat_postMessage(channel=CHANNEL_ID, text="y")["ok"]  # only the next one
    assert slack_standin.calls("chat.postMessage", ok=False)[0].error == "missing_scope"


def test_wildcard_fault_hits_whatever_comes_next(slack_standin: SlackStandIn) -> None:
    slack_standin.error_next("*", "fatal_error")
    with pytest.raises(SlackApiError):
        _client(slack_standin).auth_test()


def test_side_effect_fault_posts_but_reports_failure(
    slack_standin: SlackStandIn, slack_client: WebClient
) -> None:
    # Slack acted, the answer was lost: the app must find the card before re-posting.
    slack_standin.fail_next("chat.postMessage", status=500, side_effect=True)
    with pytest.raises(SlackApiError):
        _client(slack_standin).chat_postMessage(channel=CHANNEL_ID, text="card")
    (message,) = slack_standin.messages_in(CHANNEL_ID)
    history = slack_client.conversations_history(channel=CHANNEL_ID)
    assert history["messages"][0]["ts"] == message["ts"]


def test_disconnect(slack_standin: SlackStandIn, fast_retries: list[float]) -> None:
    slack_standin.fail_next("chat.postMessage", disconnect=True)
    client = _client(slack_standin, ConnectionErrorRetryHandler(max_retry_count=1))
    assert client.chat_postMessage(channel=CHANNEL_ID, text="x")["ok"]
    first, second = slack_standin.calls("chat.postMessage")
    assert first.response is None
    assert second.ok


def test_delay_causes_client_timeout(slack_standin: SlackStandIn) -> None:
    slack_standin.delay("chat.postMessage", 1.0)
    start = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        _client(slack_standin, timeout=0.2).chat_postMessage(channel=CHANNEL_ID, text="x")
    assert time.monotonic() - start < 0.9  # gave up before the answer came
    slack_standin.delay("chat.postMessage", 0)
    assert _client(slack_standin).chat_postMessage(channel=CHANNEL_ID, text="y")["ok"]


def test_delay_is_applied(slack_standin: SlackStandIn) -> None:
    slack_standin.delay("auth.test", 0.2)
    start = time.monotonic()
    _client(slack_standin).auth_test()
    assert time.monotonic() - start >= 0.2


def _outcomes(seed: int) -> list[int]:
    clock = ManualClock()
    with SlackStandIn(clock=clock) as standin:
        standin.fail_ratio(0.3, statuses=(429, 500), seed=seed, retry_after=0)
        client = _client(standin)
        for i in range(40):
            clock.advance(1.0)  # one message a second: only injected faults fail
            with contextlib.suppress(SlackApiError):
                client.chat_postMessage(channel=CHANNEL_ID, text=str(i))
        return [c.status for c in standin.calls("chat.postMessage")]


def test_fail_ratio_is_deterministic() -> None:
    first = _outcomes(seed=7)
    assert first == _outcomes(seed=7)
    assert first != _outcomes(seed=8)
    failures = [s for s in first if s != 200]
    assert 4 <= len(failures) <= 20
    assert set(failures) <= {429, 500}


def test_messages_in_keeps_order_and_skips_failed_attempts(
    slack_standin: SlackStandIn, fast_retries: list[float]
) -> None:
    # The retry handlers' sleeps are skipped: the stand-in's clock counts them as slept, so
    # its per-channel posting limit refills as it would while a real client waits.
    started = time.monotonic()
    slack_standin.clock = lambda: time.monotonic() - started + sum(fast_retries)
    slack_standin.fail_ratio(0.4, seed=3, methods=["chat.postMessage"])
    client = _client(
        slack_standin,
        RateLimitErrorRetryHandler(max_retry_count=50),
        ServerErrorRetryHandler(max_retry_count=50),
    )
    for i in range(15):
        client.chat_postMessage(channel=CHANNEL_ID, text=f"card {i}")

    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == [
        f"card {i}" for i in range(15)
    ]
    assert len(slack_standin.calls("chat.postMessage")) > 15
    assert len(slack_standin.calls("chat.postMessage", ok=True)) == 15


def test_a_held_call_takes_effect_only_once_released(slack_standin: SlackStandIn) -> None:
    held = slack_standin.hold("chat.postMessage")
    client = _client(slack_standin)
    answers: list[bool] = []
    poster = threading.Thread(target=lambda: answers.append(
        bool(client.chat_postMessage(channel=CHANNEL_ID, text="card")["ok"])))
    poster.start()
    held.wait_for_arrivals(1)
    assert slack_standin.messages_in(CHANNEL_ID) == []
    assert slack_standin.calls("chat.postMessage") == []
    held.release()
    poster.join(timeout=10)
    assert answers == [True]
    assert [m["text"] for m in slack_standin.messages_in(CHANNEL_ID)] == ["card"]
