"""One backoff and ``Retry-After`` policy for every retry in Vigie.

Every place that waits before trying again (the shared HTTP client, the LLM client, a
source's next poll, the Slack outbox, replies posted to a network) computes its wait with
the functions below; each keeps its own numbers (base, cap, jitter), so the policy is one
implementation, not one set of numbers:

- :func:`exponential` is ``base * 2**attempt``, with an optional cap on the exponent and
  on the result;
- :func:`equal_jitter` and :func:`added_jitter` spread the retries of many workers;
- :func:`parse_retry_after` reads what a server asked for: ``Retry-After`` (seconds or an
  HTTP date), ``retry-after-ms`` and the rate-limit reset headers networks send instead;
- :func:`retry_delay` combines the backoff with that hint;
- :func:`call_with_retries` is the retry loop of the two HTTP clients, on tenacity.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

__all__ = [
    "DAILY_CAP_HEADERS",
    "RATE_LIMIT_RESET_HEADERS",
    "added_jitter",
    "call_with_retries",
    "equal_jitter",
    "exponential",
    "parse_retry_after",
    "retry_delay",
]

T = TypeVar("T")

RATE_LIMIT_RESET_HEADERS = ("x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset")
"""Where networks say when a rate limit resets, read when there is no ``Retry-After``:
``x-ratelimit-reset`` (Mastodon: ISO time; Reddit: seconds left), ``x-rate-limit-reset``
(X: epoch seconds) and ``ratelimit-reset`` (Bluesky: epoch seconds)."""

DAILY_CAP_HEADERS = (
    ("x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
    ("x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),
)
"""(remaining, reset) header pairs of daily caps, read beside the others: a cap with 0
remaining holds until its reset (epoch seconds), however soon the shorter window resets.
X sends them on a write over its 24-hour posting cap, with ``x-rate-limit-reset`` naming
only the 15-minute window (X's rate-limit page lists only the ``x-rate-limit-*`` headers;
these names are as X sends them, reported in "The X API Rate Limit That Doesn't Exist in
the Docs", nabbilkhan.com, 2026-02-13, and read by X API clients such as x-api-sdk-ts's
``parseRateLimitHeaders``)."""

_EPOCH_THRESHOLD = 1_000_000_000
"""A number of seconds larger than this (31 years) is an epoch timestamp, not a delay."""


def exponential(
    attempt: int, *, base: float, cap: float | None = None, max_exponent: int | None = None
) -> float:
    """``base * 2**attempt``: the exponent stops growing at ``max_exponent``, the result at ``cap``.

    ``attempt`` counts from 0 for the first wait (callers pass ``failures - 1`` and the like).
    """
    exponent = attempt if max_exponent is None else min(attempt, max_exponent)
    delay = base * 2**exponent
    return delay if cap is None else min(cap, delay)


def equal_jitter(delay: float) -> float:
    """A random wait from half of ``delay`` to ``delay``: many workers do not retry together."""
    return random.uniform(delay / 2, delay)


def added_jitter(delay: float, spread: float) -> float:
    """``delay`` plus a random part of up to ``spread`` seconds (it may pass a cap on ``delay``)."""
    return delay + random.uniform(0, spread)


def retry_delay(
    backoff: float,
    retry_after: float | None,
    *,
    floor: bool = False,
    trust_up_to: float | None = None,
) -> float:
    """The wait before the next try, given our ``backoff`` and the server's ``retry_after``.

    By default the server's hint replaces the backoff. With ``floor`` the hint only makes
    the wait longer (the longer of the two), except a hint of at most ``trust_up_to``
    seconds, taken as is (a short, explicit ask beats our own guess).
    """
    if retry_after is None:
        return backoff
    if not floor or (trust_up_to is not None and retry_after <= trust_up_to):
        return retry_after
    return max(retry_after, backoff)


def parse_retry_after(
    headers: Mapping[str, str],
    now: float,
    *,
    millis: bool = False,
    reset_headers: Sequence[str] = RATE_LIMIT_RESET_HEADERS,
    daily_caps: Sequence[tuple[str, str]] = DAILY_CAP_HEADERS,
) -> float | None:
    """Seconds the server asked us to wait (never negative), or None when it did not say.

    Reads, in order: ``retry-after-ms`` (only with ``millis``; OpenAI-style APIs send it),
    ``Retry-After`` (seconds, an HTTP date, or an ISO time), then the first of
    ``reset_headers`` present (seconds, an epoch timestamp or an ISO time). A ``Retry-After``
    that cannot be read is a server that said nothing: the reset headers are not consulted.
    A daily cap of ``daily_caps`` with none remaining makes the wait last at least until
    its reset. ``now`` is the current time in epoch seconds.
    """
    hint = _asked_wait(headers, now, millis=millis, reset_headers=reset_headers)
    daily = [_seconds_until(headers[reset].strip(), now, allow_http_date=False)
             for remaining, reset in daily_caps
             if headers.get(remaining, "").strip() == "0" and headers.get(reset)]
    waits = [wait for wait in (hint, *daily) if wait is not None]
    return max(waits) if waits else None


def _asked_wait(headers: Mapping[str, str], now: float, *, millis: bool,
                reset_headers: Sequence[str]) -> float | None:
    if millis:
        value = headers.get("retry-after-ms")
        if value:
            try:
                wait = float(value) / 1000
            except ValueError:
                wait = None
            if wait is not None and wait == wait:  # NaN is no answer
                return max(0.0, wait)
    value = headers.get("retry-after")
    if value is not None:
        return _seconds_until(value.strip(), now, allow_http_date=True)
    for name in reset_headers:
        value = headers.get(name)
        if value is not None:
            return _seconds_until(value.strip(), now, allow_http_date=False)
    return None


def _seconds_until(value: str, now: float, *, allow_http_date: bool) -> float | None:
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        if number != number:  # NaN is no answer
            return None
        if number > _EPOCH_THRESHOLD:
            return max(0.0, number - now)
        return max(0.0, number)
    try:
        when = (
            parsedate_to_datetime(value)
            if allow_http_date and not value[:4].isdigit()
            else datetime.fromisoformat(value.replace("Z", "+00:00"))
        )
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def call_with_retries(
    attempt: Callable[[], T],
    *,
    attempts: int,
    retry_if: Callable[[BaseException], bool],
    wait: Callable[[BaseException, int], float],
    before_sleep: Callable[[BaseException, int, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``attempt`` until it returns, at most ``attempts`` times in all.

    After a failure ``error`` of attempt ``n`` (from 1) that ``retry_if(error)`` accepts,
    waits ``wait(error, n)`` seconds (computed before deciding whether to stop, as the
    clients always did), calls ``before_sleep(error, n, seconds)`` (which may raise to give
    up, e.g. past a time budget) and sleeps with ``sleep``. An error ``retry_if`` refuses,
    or the error of the last attempt, is raised as is.
    """

    def failure(state: tenacity.RetryCallState) -> BaseException:
        error = state.outcome.exception() if state.outcome is not None else None
        assert error is not None  # tenacity only waits after a failed attempt
        return error

    def announce(state: tenacity.RetryCallState) -> None:
        if before_sleep is not None:
            before_sleep(failure(state), state.attempt_number, state.upcoming_sleep)

    # Most calls succeed at once: they skip tenacity's bookkeeping (a Future, a lock and
    # a dozen thread-local reads per call). A first failure is handed to tenacity as its
    # first attempt, so counting and waits are the same as if it had run from the start.
    try:
        return attempt()
    except BaseException as error:  # noqa: BLE001 - tenacity decides, as for later attempts
        first: list[BaseException] = [error]

    def replay() -> T:
        if first:
            raise first.pop()
        return attempt()

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts),
        retry=tenacity.retry_if_exception(retry_if),
        wait=lambda state: wait(failure(state), state.attempt_number),
        before_sleep=announce,
        sleep=lambda seconds: sleep(float(seconds)),  # tenacity hands a float subclass
        reraise=True,
    )
    return retrying(replay)
