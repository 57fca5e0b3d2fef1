"""Pure renderers: mention listings (with a More button) and a mention's history."""

from __future__ import annotations

import json
from typing import Any

from bot.i18n import t
from bot.slack.cards import NETWORK_ICONS, SENTIMENT_ICONS
from bot.slack.escape import escape, link, slack_date, truncate

MORE_ACTION = "vigie.more"
PAGE_SIZE = 10


def build_mention_list(rows: list[Any], language: str, *, more_value: dict[str, Any] | None
                       ) -> tuple[str, list[dict[str, Any]]]:
    """One section per mention; a More button carrying the next page's filters."""
    if not rows:
        text = t(language, "list.empty")
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    blocks: list[dict[str, Any]] = []
    for row in rows:
        icon = NETWORK_ICONS.get(row.network, ":speech_balloon:")
        mood = SENTIMENT_ICONS.get(row.sentiment_label or "", ":white_circle:")
        who = escape(truncate(row.author or "?", 60))
        owner = f" · <@{row.assignee}>" if row.assignee else ""
        status = t(language, f"status.{row.status}")
        body = escape(truncate(" ".join((row.title or row.text).split()), 180))
        open_link = link(row.url, t(language, "card.open_post"))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*#{row.id}* {icon} {who} · {mood} {row.priority} · {status}{owner}\n"
            f"{body}\n{slack_date(row.published_at)} · {open_link}")[:2990]}})
    if more_value is not None:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "action_id": MORE_ACTION,
            "text": {"type": "plain_text", "text": t(language, "list.more")},
            "value": json.dumps(more_value, separators=(",", ":"))[:2000],
        }]})
    return t(language, "list.title", count=len(rows)), blocks


def build_history(entries: list[Any], language: str) -> list[dict[str, Any]]:
    """The audit trail as context lines (the newest 40)."""
    lines = []
    for entry in entries[-40:]:
        actor = f"<@{entry.actor}>" if entry.actor[:1] in {"U", "W"} else escape(entry.actor)
        change = (f" ({t(language, f'status.{entry.from_status}')} → "
                  f"{t(language, f'status.{entry.to_status}')})"
                  if entry.from_status and entry.to_status and entry.from_status != entry.to_status
                  else "")
        reason = f": {escape(truncate(entry.reason, 200))}" if entry.reason else ""
        lines.append(f"{slack_date(entry.at)} {actor} {escape(entry.action)}{change}{reason}"
                     f" _{escape(entry.surface)}_")
    text = "\n".join(lines) if lines else t(language, "list.no_history")
    return [{"type": "section", "text": {"type": "mrkdwn",
                                         "text": truncate(f"*{t(language, 'list.history')}*\n"
                                                          + text, 2990)}}]
