"""Risk flags and levels in words (``pii_phone`` -> "a phone number", ``warn`` ->
"to check") and the Approve button's
acknowledgement dialog for a draft that carries warnings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.i18n import has, plural_key, t
from bot.slack.escape import escape, slack_len, truncate

CONFIRM_TEXT_LIMIT = 300
"""Slack's limit for a confirmation dialog's text."""


def flag_words(codes: Iterable[str], language: str) -> list[str]:
    """Each flag code as words; a code without words is shown with spaces for underscores."""
    words = []
    for code in codes:
        key = f"risk.{code}"
        words.append(t(language, key) if has(key) else code.replace("_", " "))
    return list(dict.fromkeys(words))


def level_words(level: str, language: str) -> str:
    """A draft's risk level (``info``, ``warn``, ``high``) as a word of ``language``."""
    key = f"risk_level.{level}"
    return t(language, key) if has(key) else level


def risk_heading(level: str, flags: Iterable[str] | None, language: str) -> str:
    """`` · :warning: risk medium: a phone number``, after a draft's title (mrkdwn)."""
    heading = t(language, "card.risk", level=level_words(level, language))
    words = flag_words(flags or (), language)
    if words:
        heading = t(language, "punct.labelled", label=heading, value=escape(", ".join(words)))
    return f" · {heading}"


def approve_confirm(codes: Iterable[str], language: str) -> dict[str, Any] | None:
    """The confirmation Slack shows before an Approve click goes through, listing the
    draft's warnings in words (None when the draft has none)."""
    words = flag_words(codes, language)
    if not words:
        return None
    return {
        "title": {"type": "plain_text", "text": t(language, "risk_ack.title")},
        "text": {"type": "plain_text", "text": _confirm_text(words, language)},
        "confirm": {"type": "plain_text", "text": t(language, "risk_ack.confirm")},
        "deny": {"type": "plain_text", "text": t(language, "risk_ack.deny")},
        "style": "danger",
    }


def _confirm_text(words: list[str], language: str) -> str:
    """The dialog's text within Slack's limit: as many warnings as fit, then "and N more",
    and always the closing instruction (cutting the text would drop it)."""
    separator = t(language, "risk_ack.separator")
    for shown in range(len(words), 0, -1):
        text = t(language, "risk_ack.text",
                 warnings=separator.join(words[:shown]) + _more(len(words) - shown, language))
        if slack_len(text) <= CONFIRM_TEXT_LIMIT:
            return text
    # Even one warning and "and N more" do not fit: cut the first warning's words.
    more = _more(len(words) - 1, language)
    room = CONFIRM_TEXT_LIMIT - slack_len(t(language, "risk_ack.text", warnings=more))
    return t(language, "risk_ack.text", warnings=truncate(words[0], max(1, room)) + more)


def _more(hidden: int, language: str) -> str:
    """`` and 3 more`` after the listed warnings ("" when none is left out)."""
    if not hidden:
        return ""
    return " " + t(language, plural_key(language, "risk_ack.more", hidden), count=hidden)
