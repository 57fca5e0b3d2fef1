"""The per-process cache of Slack's answers about users."""

from __future__ import annotations

from bot.messages.delivery import SlackAccount
from bot.slack.users import AccountCache

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
