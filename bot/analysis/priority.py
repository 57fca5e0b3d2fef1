"""How urgently a mention needs a human: a 0-100 score with a one-line reason.

A community manager's rule: what asks the brand something, complains or threatens to
leave must reach the channel now, whoever wrote it; praise, thanks, chit-chat and noise
wait for the digest. So the points start from what the mention is (risk first, then a
complaint, which alone reaches ``DEFAULT_ALERT_THRESHOLD``), add what the customer is
owed ("waiting for an answer": written to the brand, with something to answer), then
how negative it is, who wrote it and how far it travelled; age takes points away (never
taking a mention that owes an answer below ``DEFAULT_ALERT_THRESHOLD``: a complaint found
late still needs one) and the watch's weight scales the sum. Reach and engagement raise a
mention but no mention needs them to alert. The reason lists what carried weight, e.g.
"complaint · waiting for an answer · 48k followers". A pure function of its inputs: pass ``now``.

The points were set, and the default threshold checked, on the tuning part of
``intent/twcs_attention_dev.tsv`` (see the README, "How priority is decided"). A remark
waiting for an answer scores exactly the threshold (15 + 35) and alerts; one that reads
friendlier than aggrieved owes no answer (``attention.friendly_remark``, the tie-break
``training/cv_attention.py`` cross-validates), so it scores 15.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.analysis.reach import format_reach, reach_points

DEFAULT_ALERT_THRESHOLD = 50
INTENT_POINTS = {
    "risk": 65.0,
    "complaint": 50.0,
    "purchase_intent": 35.0,
    "question": 35.0,
    "praise": 10.0,
    "other": 15.0,
    "spam": 0.0,
}
EXTRA_RISK_POINTS = 5.0
WAITING_POINTS = 35.0
REPEAT_CONTACT_POINTS = 10.0
NEGATIVE_POINTS = 15.0
NEGATIVE_EMOJI_POINTS = 10.0
ORDER_NUMBER_POINTS = 5.0
REACH_POINTS = 20.0
ENGAGEMENT_POINTS = 10.0
STALE_POINTS = 10.0
RECENCY_HOURS = 24.0
SPAM_CAP = 10
OWED_INTENTS = frozenset({"complaint", "risk"})
"""Intents that owe an answer whoever wrote them (with any mention waiting for one): age
never takes them below ``DEFAULT_ALERT_THRESHOLD``."""
REACH_SHOWN_FROM = 1_000
WAITING_REASON = "waiting for an answer"
WRITES_AGAIN_REASON = "writes again"
"""The reason parts of a mention that waits for the brand's answer (``waiting``): the
stored reason is how a stored mention tells it (a story never folds one in)."""
LANGUAGE_NOT_ANALYSED_REASON = "language not analysed"
SENTIMENT_ONLY_REASON = "sentiment only"
"""The reason part of a mention whose words only a sentiment model read (Spanish, German,
Portuguese): its tone counts, no intent rule or classifier read the rest."""
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
    waiting: bool = False,
    repeat_contact: bool = False,
    language_analysed: bool = True,
    negative_emoji: int = 0,
    order_number: bool = False,
    sentiment_analysed: bool = False,
) -> tuple[int, str]:
    """``(score, reason)``: score in 0..100, reason like "complaint · waiting for an answer".

    ``sentiment_score`` is in [-1, 1]; ``engagement`` counts likes, replies and reposts;
    naive datetimes are taken as UTC. ``waiting``: the author wrote to the brand and
    waits for its answer; ``repeat_contact``: they write again in an open case, which adds
    weight only to a mention that waits ("👍" or "solved, thanks!" in a case owes no
    answer). Age takes up to ``STALE_POINTS`` over ``RECENCY_HOURS``, but never takes a
    mention that owes an answer (waiting, complaint, risk) below the default threshold. When
    ``language_analysed`` is false no model read the words, so the sentiment is ignored
    and negative emoji stand for it, unless ``sentiment_analysed`` says a sentiment model
    did (Spanish, German, Portuguese): then the sentiment counts as in English, negative
    emoji too when they weigh more, and the reason says "sentiment only" instead of
    "language not analysed". Spam never scores above ``SPAM_CAP``.
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
    sentiment_read = language_analysed or sentiment_analysed
    if not language_analysed:
        reasons.append(SENTIMENT_ONLY_REASON if sentiment_read else LANGUAGE_NOT_ANALYSED_REASON)

    if not sentiment_read:
        if negative_emoji:
            points += NEGATIVE_EMOJI_POINTS
            reasons.append("negative emoji")
    elif sentiment_label == "negative":
        negative = NEGATIVE_POINTS * max(max(0.0, -sentiment_score), 1 / 3)
        if not language_analysed and negative_emoji:
            negative = max(negative, NEGATIVE_EMOJI_POINTS)  # the stronger sign, not both
        points += negative
        if intent not in ("complaint", "risk"):  # a complaint is negative: say it once
            reasons.append("negative")
    elif not language_analysed and negative_emoji:
        # A sentiment model with no word lexicon (Spanish, German, Portuguese) can miss
        # what an angry emoji says: "... no tiene un número de contacto 😩" reads neutral.
        points += NEGATIVE_EMOJI_POINTS
        reasons.append("negative emoji")
    elif sentiment_label == "positive" and intent in ("praise", "other"):
        reasons.append("positive")
    if order_number:
        points += ORDER_NUMBER_POINTS
        reasons.append("order number")

    if waiting:
        points += WAITING_POINTS
        if repeat_contact:
            # Only what waits for an answer: "👍" or "solved, thanks!" in a case owes none.
            points += REPEAT_CONTACT_POINTS
            reasons.append(WRITES_AGAIN_REASON)
        else:
            reasons.append(WAITING_REASON)

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
        stale = STALE_POINTS * min(1.0, age / RECENCY_HOURS)
        if waiting or intent in OWED_INTENTS:
            # Old news is less urgent, but an answer owed does not expire: a complaint
            # found two hours late (a feed polled late, a catch-up) still needs one, so
            # age only takes what the mention has above the default threshold.
            stale = min(stale, max(0.0, points - DEFAULT_ALERT_THRESHOLD))
        points -= stale
        if age >= RECENCY_HOURS:
            reasons.append(_age_text(age))

    points *= max(0.0, watch_weight)
    if watch_weight != 1.0:
        reasons.append(f"watch ×{watch_weight:g}")
    score = round(min(100.0, max(0.0, points)))
    if intent == "spam":
        score = min(score, SPAM_CAP)
    return score, " · ".join(reasons) if reasons else "routine mention"
