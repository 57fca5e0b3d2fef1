"""The one backoff and Retry-After policy (bot.net.retry) every retry in Vigie uses."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from bot.net.retry import (
    added_jitter,
    call_with_retries,
    equal_jitter,
    exponential,
    parse_retry_after,
    retry_delay,
)

NOW = datetime(2015, 10, 21, 7, 28, tzinfo=UTC).timestamp()


# ------------------------------------------------------------------------------ backoff


def test_exponential_doubles_from_base_and_stops_at_its_caps() -> None:
    assert [exponential(n, base=5.0) for n in range(4)] == [5.0, 10.0, 20.0, 40.0]
    assert exponential(10, base=5.0, cap=900.0) == 900.0
    assert exponential(20, base=60, max_exponent=8) == 60 * 2**8
    assert exponential(20, base=60.0, cap=900.0, max_exponent=16) == 900.0


def test_exponential_keeps_integers_for_integer_callers() -> None:
    # Polling and replies compute whole seconds; a float would change nothing but the type.
    assert isinstance(exponential(3, base=30), int)


def test_jitters_stay_within_their_bounds() -> None:
    for _ in range(200):
        assert 4.0 <= equal_jitter(8.0) <= 8.0
        assert 8.0 <= added_jitter(8.0, 0.5) <= 8.5


@pytest.mark.parametrize(
    ("backoff", "asked", "options", "expected"),
    [
        (10.0, None, {}, 10.0),
        (10.0, 3.0, {}, 3.0),  # the server's ask replaces the backoff
        (10.0, 30.0, {}, 30.0),
        (10.0, 3.0, {"floor": True}, 10.0),  # ... or only lengthens it
        (10.0, 30.0, {"floor": True}, 30.0),
        (10.0, 4.0, {"floor": True, "trust_up_to": 5.0}, 4.0),  # a short ask taken as is
        (10.0, 6.0, {"floor": True, "trust_up_to": 5.0}, 10.0),
        (10.0, -1.0, {"floor": True}, 10.0),
    ],
)
def test_retry_delay_combines_backoff_and_the_servers_ask(
    backoff: float, asked: float | None, options: dict[str, object], expected: float
) -> None:
    assert retry_delay(backoff, asked, **options) == expected  # type: ignore[arg-type]


# ------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("headers", "options", "expected"),
    [
        ({"Retry-After": "120"}, {}, 120.0),
        ({"Retry-After": " 7 "}, {}, 7.0),
        ({"Retry-After": "-5"}, {}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, {}, 30.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:27:00 GMT"}, {}, 0.0),  # already past
        ({"Retry-After": "2015-10-21T07:29:00Z"}, {}, 60.0),
        ({"Retry-After": str(NOW + 45)}, {}, 45.0),  # an epoch timestamp, not 45 years
        ({"Retry-After": "nan"}, {}, None),
        ({"Retry-After": "soon"}, {"reset_headers": ("x-ratelimit-reset",)}, None),
        ({"Retry-After": "soon", "x-ratelimit-reset": "9"}, {}, None),  # said, unreadably
        ({"x-ratelimit-reset": "42"}, {}, 42.0),
        ({"x-rate-limit-reset": str(int(NOW) + 900)}, {}, 900.0),
        ({"ratelimit-reset": str(int(NOW) + 15)}, {}, 15.0),
        ({"x-ratelimit-reset": "2015-10-21T07:29:00.000Z"}, {}, 60.0),
        ({"x-ratelimit-reset": "42"}, {"reset_headers": ()}, None),
        ({"retry-after-ms": "1500"}, {}, None),  # only callers that ask read it
        ({"retry-after-ms": "1500", "Retry-After": "9"}, {"millis": True}, 1.5),
        ({"retry-after-ms": "-3"}, {"millis": True}, 0.0),
        ({"retry-after-ms": "soon", "Retry-After": "9"}, {"millis": True}, 9.0),
        ({"retry-after-ms": "", "Retry-After": "9"}, {"millis": True}, 9.0),
        ({}, {"millis": True}, None),
        # A spent daily cap (X) holds until its reset, past the shorter window's.
        ({"x-rate-limit-reset": str(int(NOW) + 600), "x-user-limit-24hour-remaining": "0",
          "x-user-limit-24hour-reset": str(int(NOW) + 72000)}, {}, 72000.0),
        ({"x-rate-limit-reset": str(int(NOW) + 600), "x-app-limit-24hour-remaining": "0",
          "x-app-limit-24hour-reset": str(int(NOW) + 3600)}, {}, 3600.0),
        ({"x-rate-limit-reset": str(int(NOW) + 600), "x-user-limit-24hour-remaining": "3",
          "x-user-limit-24hour-reset": str(int(NOW) + 72000)}, {}, 600.0),
        ({"Retry-After": "30", "x-user-limit-24hour-remaining": "0",
          "x-user-limit-24hour-reset": str(int(NOW) + 72000)}, {}, 72000.0),
        ({"x-user-limit-24hour-remaining": "0"}, {}, None),
    ],
)
def test_parse_retry_after(
    headers: dict[str, str], options: dict[str, object], expected: float | None
) -> None:
    assert parse_retry_after(httpx.Headers(headers), NOW, **options) == expected  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- the loop


class Flaky:
    """Fails with the given errors, in order, then answers ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Transient(Exception):
    pass


def test_retries_until_success_waiting_what_wait_says() -> None:
    slept: list[float] = []
    seen: list[tuple[str, int, float]] = []
    attempt = Flaky(Transient("a"), Transient("b"))
    result = call_with_retries(
        attempt,
        attempts=3,
        retry_if=lambda err: isinstance(err, Transient),
        wait=lambda err, n: 10.0 * n,
        before_sleep=lambda err, n, seconds: seen.append((str(err), n, seconds)),
        sleep=slept.append,
    )
    assert result == "ok" and attempt.calls == 3
    assert slept == [10.0, 20.0] and all(type(s) is float for s in slept)
    assert seen == [("a", 1, 10.0), ("b", 2, 20.0)]


def test_the_last_error_is_raised_as_is_when_attempts_run_out() -> None:
    slept: list[float] = []
    last = Transient("third")
    attempt = Flaky(Transient("first"), Transient("second"), last)
    with pytest.raises(Transient) as caught:
        call_with_retries(
            attempt, attempts=3, retry_if=lambda err: True, wait=lambda err, n: 1.0,
            sleep=slept.append,
        )
    assert caught.value is last and attempt.calls == 3 and slept == [1.0, 1.0]


def test_an_error_retry_if_refuses_is_raised_at_once() -> None:
    slept: list[float] = []
    fatal = ValueError("no")
    attempt = Flaky(fatal)
    with pytest.raises(ValueError) as caught:
        call_with_retries(
            attempt, attempts=5, retry_if=lambda err: isinstance(err, Transient),
            wait=lambda err, n: 1.0, sleep=slept.append,
        )
    assert caught.value is fatal and attempt.calls == 1 and slept == []


def test_before_sleep_may_give_up_instead_of_sleeping() -> None:
    slept: list[float] = []

    def over_budget(err: BaseException, n: int, seconds: float) -> None:
        raise TimeoutError("over budget")

    with pytest.raises(TimeoutError):
        call_with_retries(
            Flaky(Transient("a")), attempts=3, retry_if=lambda err: True,
            wait=lambda err, n: 5.0, before_sleep=over_budget, sleep=slept.append,
        )
    assert slept == []
