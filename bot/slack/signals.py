"""The triage signals of a mention as one short line (pure), the same on every surface.

"complaint · billing · waiting for an answer": the stored priority reason with the
request's topics placed after what the mention is, a note when no model read its
language, and, where a surface asks for it, the brand account it was addressed to.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import t
from bot.slack.escape import escape, truncate

MAX_TOPICS_SHOWN = 3
"""A reason line names at most this many topics (a mention rarely has more)."""
LANGUAGE_NOT_ANALYSED = "language not analysed"
"""How the priority reason says no model read the words (bot.analysis.priority)."""


def topic_words(topics: Sequence[str], language: str, limit: int = MAX_TOPICS_SHOWN
                ) -> list[str]:
    """The topics' names in ``language`` (escaped), at most ``limit`` of them."""
    return [escape(t(language, f"topics.{name}")) for name in topics[:limit]]


def _leads_with_intent(first: str, intent: str | None) -> bool:
    """Whether the reason's first part names the intent ("complaint", "risk: legal")."""
    if not intent or intent == "other":
        return False
    word = intent.replace("_", " ")
    return first == word or first.startswith(word + ":")


def reason_line(reason: str | None, intent: str | None, topics: Sequence[str], language: str,
                *, language_analysed: bool = True, language_code: str | None = None,
                direct_to: str | None = None) -> str:
    """The mention's reason line as escaped mrkdwn, e.g. "complaint · billing · waiting
    for an answer"; empty when there is nothing to say.

    Topics follow the intent (or lead when the reason names none). A mention no model read
    says so even when its stored reason predates that note. ``direct_to`` adds the brand
    account it was addressed to (surfaces without the card's conversation line).
    """
    parts = [escape(part) for part in (reason or "").split(" · ") if part]
    at = 1 if parts and _leads_with_intent(parts[0], intent) else 0
    words = topic_words(topics, language)
    if not language_analysed and not any(LANGUAGE_NOT_ANALYSED in p for p in parts):
        # Where the analysis itself puts it: right after what the mention is.
        words.append(t(language, "card.language_not_analysed",
                       code=escape(truncate(language_code or "?", 12))))
    parts[at:at] = words
    if direct_to:
        parts.append(t(language, "signals.direct", handle=escape(truncate(direct_to, 80))))
    return " · ".join(parts)
