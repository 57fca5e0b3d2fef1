"""The card's part for replies Vigie cannot post: a link button and a line that says so."""

from __future__ import annotations

from typing import Any, Protocol

from bot.i18n import network_name, t
from bot.slack.escape import escape

OPEN_REPLY_ACTION = "vigie.open_reply"
URL_LIMIT = 3000
"""Slack's limit for a button's url."""
WAITING = frozenset({"new", "assigned", "drafting", "awaiting_approval", "approved"})
"""Statuses in which someone still has to reply."""


class _ReplyView(Protocol):
    @property
    def network(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def reply_elsewhere(self) -> bool: ...


def _offered(view: _ReplyView) -> bool:
    return view.reply_elsewhere and view.status in WAITING


def open_reply_buttons(view: _ReplyView, language: str) -> list[dict[str, Any]]:
    """"Open and reply there" (a link to the post), when Vigie cannot post the reply."""
    url = view.url or ""
    if not _offered(view) or not url.lower().startswith(("https://", "http://")) or len(
            url) > URL_LIMIT:
        return []
    return [{"type": "button", "action_id": OPEN_REPLY_ACTION, "url": url,
             "text": {"type": "plain_text", "text": t(language, "card.button_open_reply")}}]


def reply_elsewhere_note(view: _ReplyView, language: str) -> list[dict[str, Any]]:
    """A context line saying Vigie cannot post here and what to do instead."""
    if not _offered(view):
        return []
    key = "card.reply_elsewhere_approved" if view.status == "approved" else "card.reply_elsewhere"
    text = t(language, key, network=escape(network_name(view.network, language)[:40]))
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}]
