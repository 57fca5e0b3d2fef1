"""Token buckets of expensive commands: per user, per workspace, refilled over time."""

from __future__ import annotations

import threading

from bot.services.ratelimit import Policy, Rate, RateLimiter, Refusal


class Clock:
    """A hand-moved monotonic clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


USER = Rate(2, 60)
WORKSPACE = Rate(3, 60)


def limiter(clock: Clock, user: Rate = USER, workspace: Rate = WORKSPACE) -> RateLimiter:
    return RateLimiter({"act": Policy(user=user, workspace=workspace)}, clock=clock)


def test_user_bucket_refuses_then_refills() -> None:
    clock = Clock()
    limits = limiter(clock)
    assert limits.check("act", "T1", "U1") is None
    assert limits.check("act", "T1", "U1") is None
    assert limits.check("act", "T1", "U1") == Refusal("user", 30)
    clock.now = 29.5
    assert limits.check("act", "T1", "U1") == Refusal("user", 1)
    clock.now = 30.0
    assert limits.check("act", "T1", "U1") is None


def test_workspace_bucket_is_shared_and_a_refusal_takes_no_token() -> None:
    clock = Clock()
    limits = limiter(clock)
    assert limits.check("act", "T1", "U1") is None
    assert limits.check("act", "T1", "U2") is None
    assert limits.check("act", "T1", "U3") is None
    assert limits.check("act", "T1", "U4") == Refusal("workspace", 20)
    assert limits.check("act", "T2", "U4") is None, "another workspace has its own bucket"
    clock.now = 20.0
    # U4's refused request took nothing from U4's own bucket: it still has 2 tokens.
    assert limits.check("act", "T1", "U4") is None


def test_unknown_actions_are_free_and_users_are_per_workspace() -> None:
    clock = Clock()
    limits = limiter(clock, user=Rate(1, 60), workspace=Rate(100, 60))
    assert all(limits.check("other", "T1", "U1") is None for _ in range(50))
    assert limits.check("act", "T1", "U1") is None
    assert limits.check("act", "T2", "U1") is None
    assert limits.check("act", "T1", "U1") is not None


def test_concurrent_checks_never_exceed_the_burst() -> None:
    limits = limiter(Clock(), user=Rate(5, 60), workspace=Rate(5, 60))
    allowed: list[bool] = []
    lock = threading.Lock()

    def hit() -> None:
        result = limits.check("act", "T1", "U1") is None
        with lock:
            allowed.append(result)

    threads = [threading.Thread(target=hit) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 5


def test_idle_buckets_are_forgotten_when_there_are_many() -> None:
    clock = Clock()
    limits = limiter(clock, user=Rate(1, 1), workspace=Rate(1000, 1))
    limits.MAX_BUCKETS = 10
    for n in range(30):
        limits.check("act", f"T{n}", "U")
    clock.now = 5.0
    limits.check("act", "T0", "U")
    assert len(limits._buckets) <= 12


def test_a_refund_gives_the_token_back_to_both_buckets_and_never_over_the_burst() -> None:
    clock = Clock()
    limits = limiter(clock)
    assert limits.check("act", "T1", "U1") is None
    assert limits.check("act", "T1", "U1") is None
    limits.refund("act", "T1", "U1")  # the second one was a usage error
    assert limits.check("act", "T1", "U1") is None
    assert limits.check("act", "T1", "U2") is None  # the workspace's third token
    assert limits.check("act", "T1", "U2") == Refusal("workspace", 20)
    for _ in range(3):
        limits.refund("act", "T1", "U9")  # U9's bucket is full: stays at its burst of 2
    assert limits.check("act", "T1", "U9") is None
    assert limits.check("act", "T1", "U9") is None
    assert limits.check("act", "T1", "U9") == Refusal("user", 30)
    limits.refund("other", "T1", "U1")  # no policy: nothing to give back
