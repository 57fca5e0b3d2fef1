"""Pure renderer for the App Home tab."""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from bot.slack.escape import clip_mrkdwn, escape, link, slack_date, truncate

HOME_BLOCK_LIMIT = 100


def card_link(channel: str | None, ts: str | None, url: str, label: str) -> str:
    """A link to the card in Slack when it was posted, else to the post."""
    if channel and ts:
        return link(f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}", label)
    return link(url, label)


def _section(title: str, items: list[Any], empty: str, language: str
             ) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, 150)}}]
    if not items:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": empty}]})
        return blocks
    lines = [f"• {card_link(i.channel, i.ts, i.url, f'#{i.id}')} [{i.priority}] "
             f"{t(language, f'status.{i.status}')} · {slack_date(i.created_at)}\n"
             f"   {escape(truncate(' '.join(i.text.split()), 140))}" for i in items]
    blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                               "text": clip_mrkdwn("\n".join(lines), 2900)}})
    return blocks


def build_home(summary: Any, language: str) -> dict[str, Any]:
    """The Home view: my assigned mentions, drafts to approve, overdue items, team counts."""
    counts = " · ".join(f"{t(language, f'status.{status}')}: *{count}*"
                        for status, count in sorted(summary.counts.items())) \
        or t(language, "home.nothing_open")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": t(
            language, "home.intro", role=summary.role)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(
            t(language, "home.team", counts=counts), 2900)}]},
        {"type": "divider"},
        *_section(t(language, "home.assigned"), summary.assigned,
                  t(language, "home.assigned_empty"), language),
    ]
    if summary.role in {"approver", "admin"}:
        blocks += _section(t(language, "home.to_approve"), summary.to_approve,
                           t(language, "home.to_approve_empty"), language)
    blocks += _section(t(language, "home.overdue"), summary.overdue,
                       t(language, "home.overdue_empty"), language)
    return {"type": "home", "blocks": blocks[:HOME_BLOCK_LIMIT]}
