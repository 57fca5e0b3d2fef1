"""Per-user and per-workspace rate limits on expensive commands (token buckets).

Expensive commands (``source test`` fetches over the network, ``export`` and ``stats``
scan the period, ``digest now`` posts, an LLM draft costs money and seconds) each have
two buckets: one per user, one per workspace. A request takes a token from both or from
neither, and a refusal says how many seconds until it would pass.

The buckets live in the process, not in the database, on purpose: what they protect
(this process's listener threads, its CPU, its LLM calls) is per process; a check costs
no database round trip on the commands that already load the database most; and no
schema is needed. With several web processes a user gets at most that many times the
limit, a known bound. State is lost on restart, which only forgives past bursts.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SOURCE_TEST = "source_test"
EXPORT = "export"
STATS = "stats"
DIGEST_NOW = "digest_now"
LLM_DRAFT = "llm_draft"
INFLUENCERS = "influencers"
REPORT = "report"


@dataclass(frozen=True, slots=True)
class Rate:
    """``burst`` requests at once, then one more every ``per / burst`` seconds."""

    burst: int
    per: float

    @property
    def refill(self) -> float:
        """Tokens added per second."""
        return self.burst / self.per


@dataclass(frozen=True, slots=True)
class Policy:
    """The limits of one action: per user and per workspace."""

    user: Rate
    workspace: Rate


DEFAULT_POLICIES: dict[str, Policy] = {
    SOURCE_TEST: Policy(user=Rate(3, 60), workspace=Rate(10, 60)),
    EXPORT: Policy(user=Rate(2, 300), workspace=Rate(6, 300)),
    STATS: Policy(user=Rate(5, 60), workspace=Rate(20, 60)),
    DIGEST_NOW: Policy(user=Rate(2, 300), workspace=Rate(6, 300)),
    LLM_DRAFT: Policy(user=Rate(10, 60), workspace=Rate(40, 60)),
    INFLUENCERS: Policy(user=Rate(5, 60), workspace=Rate(20, 60)),
    REPORT: Policy(user=Rate(2, 300), workspace=Rate(6, 300)),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request waits: whose bucket is empty and for how many whole seconds."""

    scope: str
    """``user`` or ``workspace``."""
    retry_after: int


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per (action, user) and (action, workspace); thread-safe."""

    MAX_BUCKETS = 20_000
    """Above this, full buckets (idle users) are forgotten: they hold no information."""

    def __init__(self, policies: dict[str, Policy] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Use ``policies`` (default: DEFAULT_POLICIES); ``clock`` is injectable for tests."""
        self._policies = dict(DEFAULT_POLICIES if policies is None else policies)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}

    def check(self, action: str, workspace: str | int, user: str) -> Refusal | None:
        """Take a token for ``user`` in ``workspace``; None if allowed, else the refusal."""
        policy = self._policies.get(action)
        if policy is None:
            return None
        now = self._clock()
        with self._lock:
            if len(self._buckets) > self.MAX_BUCKETS:
                self._forget_full(now)
            scoped = [("user", self._bucket(action, "user", f"{workspace}:{user}",
                                            policy.user, now), policy.user),
                      ("workspace", self._bucket(action, "workspace", str(workspace),
                                                 policy.workspace, now), policy.workspace)]
            for scope, bucket, rate in scoped:
                if bucket.tokens < 1:
                    wait = (1 - bucket.tokens) / rate.refill
                    return Refusal(scope, max(1, math.ceil(wait)))
            for _, bucket, _ in scoped:
                bucket.tokens -= 1
            return None

    def refund(self, action: str, workspace: str | int, user: str) -> None:
        """Give back the token ``check`` took, for a request that turned out to do no work
        (a usage error or a refusal): a mistyped command must not lock its user out."""
        policy = self._policies.get(action)
        if policy is None:
            return
        now = self._clock()
        with self._lock:
            for scope, key, rate in (("user", f"{workspace}:{user}", policy.user),
                                     ("workspace", str(workspace), policy.workspace)):
                bucket = self._bucket(action, scope, key, rate, now)
                bucket.tokens = min(float(rate.burst), bucket.tokens + 1)

    def _bucket(self, action: str, scope: str, key: str, rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.get((action, scope, key))
        if bucket is None:
            bucket = self._buckets[(action, scope, key)] = _Bucket(float(rate.burst), now)
        else:
            bucket.tokens = min(float(rate.burst),
                                bucket.tokens + (now - bucket.updated) * rate.refill)
            bucket.updated = now
        return bucket

    def _forget_full(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            policy = self._policies[key[0]]
            rate = policy.user if key[1] == "user" else policy.workspace
            if bucket.tokens + (now - bucket.updated) * rate.refill >= rate.burst:
                del self._buckets[key]
