"""The triage signals of a mention as one short line (pure), the same on every surface.

"complaint · billing · waiting for an answer": the stored priority reason with the
request's topics placed after what the mention is, a note when no model read its
language, and, where a surface asks for it, the brand account it was addressed to. Once
the mention is replied, closed or ignored, the parts saying it waits for the brand go.
The reason is stored in English (``bot.analysis.priority`` writes it; exports read it)
and worded in the reader's language here, part by part.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.i18n import compact, has, t
from bot.slack.escape import escape, truncate

MAX_TOPICS_SHOWN = 3
"""A reason line names at most this many topics (a mention rarely has more)."""
LANGUAGE_NOT_ANALYSED = "language not analysed"
"""How the priority reason says no model read the words (bot.analysis.priority)."""
SENTIMENT_ONLY = "sentiment only"
"""How it says only a sentiment model read them (Spanish, German, Portuguese)."""

_PLAIN_PARTS = {
    "complaint": "complaint", "question": "question", "praise": "praise", "spam": "spam",
    "purchase intent": "purchase_intent", "risk": "risk",
    LANGUAGE_NOT_ANALYSED: "language_not_analysed", SENTIMENT_ONLY: "sentiment_only",
    "negative emoji": "negative_emoji",
    "negative": "negative", "positive": "positive", "order number": "order_number",
    "writes again": "writes_again", "waiting for an answer": "waiting",
    "verified": "verified", "routine mention": "routine",
}
"""The fixed parts ``score_priority`` writes, and their keys under ``signals.reason``."""
_WHILE_OPEN = frozenset({"waiting for an answer", "writes again"})
"""Parts that describe a mention still awaiting the brand: stored when it was scored,
they stop being true once it is replied, closed or ignored."""
SETTLED_STATUSES = frozenset({"replied", "closed", "ignored"})
"""Statuses in which nobody waits for the brand any more."""
_COUNT = r"(\d+(?:\.\d+)?[kMB]?)"
_COUNTED_PARTS = (
    (re.compile(_COUNT + " followers"), "followers", "reach"),
    (re.compile(_COUNT + " interactions"), "interactions", "count"),
    (re.compile(r"(\d+) h old"), "hours_old", "hours"),
    (re.compile(r"(\d+) d old"), "days_old", "days"),
    (re.compile(r"watch ×(\d+(?:\.\d+)?)"), "watch", "weight"),
)
"""The parts with a number: pattern, key under ``signals.reason``, the key's placeholder."""
_RISK_PREFIX = "risk: "


def topic_words(topics: Sequence[str], language: str, limit: int = MAX_TOPICS_SHOWN
                ) -> list[str]:
    """The topics' names in ``language`` (escaped), at most ``limit`` of them."""
    return [escape(t(language, f"topics.{name}")) for name in topics[:limit]]


def _risk_kind_words(kind: str, language: str) -> str:
    key = f"signals.risk_kind.{kind.replace(' ', '_')}"
    return t(language, key) if has(key) else kind


def reason_part_words(part: str, language: str) -> str:
    """One part of a stored priority reason ("waiting for an answer", "48k followers",
    "risk: legal, data breach") in ``language``, its numbers with that language's
    separators; a part Vigie does not know comes back as it is. Not escaped."""
    if part in _PLAIN_PARTS:
        return t(language, f"signals.reason.{_PLAIN_PARTS[part]}")
    if part.startswith(_RISK_PREFIX):
        kinds = part.removeprefix(_RISK_PREFIX).split(", ")
        return t(language, "signals.reason.risk_kinds",
                 kinds=", ".join(_risk_kind_words(kind, language) for kind in kinds))
    for pattern, key, name in _COUNTED_PARTS:
        match = pattern.fullmatch(part)
        if match:
            return t(language, f"signals.reason.{key}",
                     **{name: compact(match.group(1), language)})
    return part


def _leads_with_intent(first: str, intent: str | None) -> bool:
    """Whether the reason's first part names the intent ("complaint", "risk: legal")."""
    if not intent or intent == "other":
        return False
    word = intent.replace("_", " ")
    return first == word or first.startswith(word + ":")


def reason_line(reason: str | None, intent: str | None, topics: Sequence[str], language: str,
                *, language_analysed: bool = True, language_code: str | None = None,
                direct_to: str | None = None, status: str | None = None) -> str:
    """The mention's reason line as escaped mrkdwn, e.g. "complaint · billing · waiting
    for an answer"; empty when there is nothing to say.

    Topics follow the intent (or lead when the reason names none). A mention no model read
    says so even when its stored reason predates that note (one whose reason says "sentiment
    only" already says what read it). ``direct_to`` adds the brand
    account it was addressed to (surfaces without the card's conversation line).
    ``status``: the mention's status now; once replied, closed or ignored the line no
    longer says "waiting for an answer" or "writes again" (the rest of the reason stays).
    """
    settled = status in SETTLED_STATUSES
    stored = [part for part in (reason or "").split(" · ")
              if part and not (settled and part in _WHILE_OPEN)]
    at = 1 if stored and _leads_with_intent(stored[0], intent) else 0
    parts = [escape(reason_part_words(part, language)) for part in stored]
    words = topic_words(topics, language)
    if not language_analysed and not any(
            LANGUAGE_NOT_ANALYSED in p or p == SENTIMENT_ONLY for p in stored):
        # Where the analysis itself puts it: right after what the mention is.
        words.append(t(language, "card.language_not_analysed",
                       code=escape(truncate(language_code or "?", 12))))
    parts[at:at] = words
    if direct_to:
        parts.append(t(language, "signals.direct", handle=escape(truncate(direct_to, 80))))
    return " · ".join(parts)
