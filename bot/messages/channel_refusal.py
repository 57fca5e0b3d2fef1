"""What to tell admins to do about a channel Slack refuses Vigie's messages in: it depends
on Slack's reason (an archived channel cannot be joined; only a bot left out of a channel
can be invited) and on what sends messages there (a watch, a topic route, or neither)."""

from __future__ import annotations

from bot.i18n import t

_REASONS = {"is_archived": "archived", "not_in_channel": "not_in_channel",
            "channel_not_found": "not_found"}
"""Slack's codes with advice of their own; every other refusal (``restricted_action``...)
gets ``refusal.other``."""


def advice_key(error: str) -> str:
    """The catalogue key of what to do about a channel Slack refuses with ``error``; its
    ``{fix}`` is ``fix_text``."""
    return f"refusal.{_REASONS.get(error, 'other')}"


def fix_text(language: str, *, watch: str | None = None, topic: str | None = None) -> str:
    """How to send the alerts elsewhere, in ``language``: move ``watch`` (the refused
    channel is its own), route its ``topic`` elsewhere (the channel is that route's), or,
    with no watch, pick another channel."""
    if watch and topic:
        return t(language, "refusal.fix_route", watch=watch, topic=topic)
    if watch:
        return t(language, "refusal.fix_watch", watch=watch)
    return t(language, "refusal.fix_other")


def refusal_advice(language: str, error: str, *, watch: str | None = None,
                   topic: str | None = None) -> str:
    """The whole advice for a channel Slack refuses with ``error`` (``advice_key`` with
    ``fix_text``), in ``language``."""
    return t(language, advice_key(error), fix=fix_text(language, watch=watch, topic=topic))
