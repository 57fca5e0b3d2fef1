"""Pure renderer: a draft version shown in full to an approver, with an Approve button bound
to that version and its text (the answer to a stale click or to `/cm approve ID`)."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from bot.messages.show import DraftToApprove
from bot.slack.cards import ACTION_PREFIX, approve_value
from bot.slack.escape import escape, truncate
from bot.slack.risk_words import approve_confirm, risk_heading

SECTION_LIMIT = 2900
"""Slack cuts a section's text at 3000 characters; leave room for the quote marks."""


def _quoted_sections(text: str) -> list[dict[str, Any]]:
    """The whole text, quoted, over as many sections as it needs (nothing is cut: the
    approver approves what they can read)."""
    sections: list[str] = []
    current = ""
    for line in text.splitlines() or [""]:
        for piece in _pieces(line):
            quoted = f"> {escape(piece)}"
            if current and len(current) + 1 + len(quoted) > SECTION_LIMIT:
                sections.append(current)
                current = ""
            current = f"{current}\n{quoted}" if current else quoted
    sections.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in sections]


def _pieces(line: str) -> list[str]:
    """``line`` cut so that each piece, escaped and quoted, fits in one section."""
    pieces: list[str] = []
    start = size = 0
    for index, char in enumerate(line):
        cost = len(escape(char))
        if size + cost > SECTION_LIMIT - 2:
            pieces.append(line[start:index])
            start, size = index, 0
        size += cost
    pieces.append(line[start:])
    return pieces


def build_draft_to_approve(message: str, draft: DraftToApprove, language: str
                           ) -> tuple[str, list[dict[str, Any]]]:
    """``message``, then draft ``draft.version`` in full and a button approving exactly it."""
    heading = f"*{t(language, 'card.draft', version=draft.version)}*"
    flags = draft.risk_flags
    if draft.risk_level not in (None, "none"):
        heading += risk_heading(draft.risk_level or "", flags, language)
    button = {
        "type": "button", "action_id": ACTION_PREFIX + "approve", "style": "primary",
        "value": approve_value(draft.mention_id, draft.version, draft.text_hash),
        "text": {"type": "plain_text",
                 "text": t(language, "card.button_approve_version", version=draft.version)},
    }
    confirm = approve_confirm(flags, language)
    if confirm:
        button["confirm"] = confirm
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": truncate(message, 2990)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": heading}},
        *_quoted_sections(draft.text),
        {"type": "actions", "block_id": f"approve_{draft.mention_id}_v{draft.version}",
         "elements": [button]},
    ]
    fallback = f"{message}\n{escape(truncate(draft.text, 2500))}"
    return fallback, blocks
