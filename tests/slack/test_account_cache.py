"""The per-process cache of Slack's answers about users."""

from __future__ import annotations

from bot.messages.delivery import SlackAccount
from bot.slack.users import (
    RETRY_AFTER_DEFAULT_SECONDS,
    RETRY_AFTER_MAX_SECONDS,
    AccountCache,
    retry_after,
)

GUEST = SlackAccount(found=True, guest=True)
MEMBER = SlackAccount(found=True)


def test_an_answer_is_kept_for_a_while_per_workspace_and_user() -> None:
    now = [0.0]
    cache = AccountCache(seconds=600, size=10, clock=lambda: now[0])
    cache.put(1, "U1", GUEST)
    assert cache.get(1, "U1") == GUEST
    assert cache.get(2, "U1") is None  # another workspace
    now[0] = 599
    assert cache.get(1, "U1") == GUEST
    now[0] = 600
    assert cache.get(1, "U1") is None  # asked again after 10 minutes


def test_the_cache_is_bounded_and_drops_the_least_recently_asked() -> None:
    cache = AccountCache(seconds=600, size=2, clock=lambda: 0.0)
    cache.put(1, "U1", GUEST)
    cache.put(1, "U2", MEMBER)
    assert cache.get(1, "U1") == GUEST
    cache.put(1, "U3", MEMBER)
    assert cache.get(1, "U2") is None
    assert cache.get(1, "U1") == GUEST and cache.get(1, "U3") == MEMBER


def test_an_answer_past_its_time_is_still_the_last_known_one() -> None:
    """For when Slack cannot answer: the last thing it said, however old, until the size
    bound drops it."""
    now = [0.0]
    cache = AccountCache(seconds=300, size=1, clock=lambda: now[0])
    cache.put(1, "U1", GUEST)
    now[0] = 10_000
    assert cache.get(1, "U1") is None
    assert cache.last_known(1, "U1") == GUEST
    assert cache.last_known(2, "U1") is None
    cache.put(1, "U2", MEMBER)
    assert cache.last_known(1, "U1") is None


def test_a_rate_limited_workspace_is_not_asked_until_retry_after() -> None:
    """After a 429 in workspace 1, no look-up there calls Slack (the last answer stands,
    or none) until Retry-After has passed; workspace 2 is asked as usual."""
    now = [0.0]
    cache = AccountCache(seconds=300, size=10, clock=lambda: now[0])
    asked: list[tuple[int, str]] = []

    def ask(workspace: int, user: str) -> SlackAccount | None:
        asked.append((workspace, user))
        return MEMBER

    cache.put(1, "U1", GUEST)
    now[0] = 1_000  # U1's answer is stale
    cache.hold_off(1, 30)
    cache.hold_off(1, 10)  # a shorter window does not end the longer one
    assert cache.lookup(1, "U1", lambda: ask(1, "U1")) == GUEST
    assert cache.lookup(1, "U2", lambda: ask(1, "U2")) is None
    assert cache.lookup(2, "U2", lambda: ask(2, "U2")) == MEMBER
    now[0] = 1_029.9
    assert cache.lookup(1, "U2", lambda: ask(1, "U2")) is None
    assert asked == [(2, "U2")]
    now[0] = 1_030
    assert cache.lookup(1, "U2", lambda: ask(1, "U2")) == MEMBER
    assert asked == [(2, "U2"), (1, "U2")]


def test_retry_after_is_read_as_slack_sends_it() -> None:
    assert retry_after({"Retry-After": "30"}) == 30
    assert retry_after({"retry-after": "7"}) == 7
    assert retry_after({"Retry-After": ["12"]}) == 12
    assert retry_after({}) == retry_after(None) == RETRY_AFTER_DEFAULT_SECONDS
    assert retry_after({"Retry-After": "soon"}) == RETRY_AFTER_DEFAULT_SECONDS
    assert retry_after({"Retry-After": "-5"}) == 0
    assert retry_after({"Retry-After": "86400"}) == RETRY_AFTER_MAX_SECONDS
