"""How urgently a mention needs a human: a 0-100 score with a one-line reason.

Points add up from what the mention is (risk first), how negative it is, who wrote
it, how far it travelled and how fresh it is; the watch's weight scales the sum.
The reason lists the factors that carried weight, e.g. "complaint · negative · 48k
followers". A pure function of its inputs: pass ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.analysis.reach import format_reach, reach_points

INTENT_POINTS = {
    "risk": 40.0,
    "complaint": 30.0,
    "purchase_intent": 28.0,
    "question": 22.0,
    "praise": 10.0,
    "other": 6.0,
    "spam": 0.0,
}
EXTRA_RISK_POINTS = 5.0
NEGATIVE_POINTS = 15.0
REACH_POINTS = 20.0
ENGAGEMENT_POINTS = 10.0
RECENCY_POINTS = 10.0
RECENCY_HOURS = 24.0
SPAM_CAP = 10
REACH_SHOWN_FROM = 1_000
ENGAGEMENT_SHOWN_FROM = 10

_INTENT_WORDS = {"purchase_intent": "purchase intent", "other": ""}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _age_hours(published_at: datetime | None, now: datetime) -> float | None:
    if published_at is None:
        return None
    seconds = (_aware(now) - _aware(published_at)).total_seconds()
    return max(0.0, seconds / 3600.0)


def _age_text(hours: float) -> str:
    if hours < 48:
        return f"{int(hours)} h old"
    return f"{int(hours // 24)} d old"


def score_priority(
    *,
    intent: str,
    sentiment_score: float,
    sentiment_label: str,
    followers: int | None = None,
    verified: bool = False,
    engagement: int = 0,
    published_at: datetime | None = None,
    now: datetime,
    watch_weight: float = 1.0,
    risk_kinds: Sequence[str] = (),
) -> tuple[int, str]:
    """``(score, reason)``: score in 0..100, reason like "complaint · negative · 48k followers".

    ``sentiment_score`` is in [-1, 1]; ``engagement`` counts likes, replies and reposts;
    naive datetimes are taken as UTC. Spam never scores above ``SPAM_CAP``.
    """
    if intent not in INTENT_POINTS:
        raise ValueError(f"unknown intent {intent!r}")
    reasons: list[str] = []
    points = INTENT_POINTS[intent]
    if intent == "risk":
        points += EXTRA_RISK_POINTS * max(0, len(risk_kinds) - 1)
        kinds = ", ".join(k.replace("_", " ") for k in risk_kinds)
        reasons.append(f"risk: {kinds}" if kinds else "risk")
    else:
        word = _INTENT_WORDS.get(intent, intent)
        if word:
            reasons.append(word)

    negativity = max(0.0, -sentiment_score)
    if sentiment_label == "negative":
        points += NEGATIVE_POINTS * max(negativity, 1 / 3)
        reasons.append("negative")
    elif sentiment_label == "positive":
        reasons.append("positive")

    points += REACH_POINTS * reach_points(followers, verified)
    if followers is not None and followers >= REACH_SHOWN_FROM:
        reasons.append(f"{format_reach(followers)} followers")
    if verified:
        reasons.append("verified")

    engagement = max(0, engagement)
    points += ENGAGEMENT_POINTS * min(1.0, math.log10(1 + engagement) / 3.0)
    if engagement >= ENGAGEMENT_SHOWN_FROM:
        reasons.append(f"{format_reach(engagement)} interactions")

    age = _age_hours(published_at, now)
    if age is not None:
        points += RECENCY_POINTS * max(0.0, 1.0 - age / RECENCY_HOURS)
        if age >= RECENCY_HOURS:
            reasons.append(_age_text(age))

    points *= max(0.0, watch_weight)
    if watch_weight != 1.0:
        reasons.append(f"watch ×{watch_weight:g}")
    score = round(min(100.0, max(0.0, points)))
    if intent == "spam":
        score = min(score, SPAM_CAP)
    return score, " · ".join(reasons) if reasons else "routine mention"
