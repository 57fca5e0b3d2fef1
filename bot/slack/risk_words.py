"""Risk flags in words (``pii_phone`` -> "a phone number") and the Approve button's
acknowledgement dialog for a draft that carries warnings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.i18n import has, t

CONFIRM_TEXT_LIMIT = 300
"""Slack's limit for a confirmation dialog's text."""


def flag_words(codes: Iterable[str], language: str) -> list[str]:
    """Each flag code as words; a code without words is shown with spaces for underscores."""
    words = []
    for code in codes:
        key = f"risk.{code}"
        words.append(t(language, key) if has(key) else code.replace("_", " "))
    return list(dict.fromkeys(words))


def approve_confirm(codes: Iterable[str], language: str) -> dict[str, Any] | None:
    """The confirmation Slack shows before an Approve click goes through, listing the
    draft's warnings in words (None when the draft has none)."""
    words = flag_words(codes, language)
    if not words:
        return None
    text = t(language, "risk_ack.text", warnings="; ".join(words))
    if len(text) > CONFIRM_TEXT_LIMIT:
        text = text[: CONFIRM_TEXT_LIMIT - 1] + "…"
    return {
        "title": {"type": "plain_text", "text": t(language, "risk_ack.title")},
        "text": {"type": "plain_text", "text": text},
        "confirm": {"type": "plain_text", "text": t(language, "risk_ack.confirm")},
        "deny": {"type": "plain_text", "text": t(language, "risk_ack.deny")},
        "style": "danger",
    }
