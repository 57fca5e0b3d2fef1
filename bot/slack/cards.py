"""The alert card: one pure function from a mention's state to Block Kit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.i18n import t
from bot.slack.escape import escape, link, slack_date, truncate

CARD_TEXT_LIMIT = 700
NETWORK_ICONS = {
    "rss": ":newspaper:", "mastodon": ":elephant:", "bluesky": ":butterfly:",
    "hackernews": ":large_orange_square:", "reddit": ":speech_balloon:", "x": ":bird:",
    "webhook": ":inbox_tray:",
}
ACTION_PREFIX = "vigie."
OPEN_STATUSES = frozenset({"new", "assigned", "drafting", "awaiting_approval", "approved"})
BUTTON_STYLES = {"approve": "primary", "reject": "danger"}
SENTIMENT_ICONS = {"negative": ":red_circle:", "neutral": ":white_circle:",
                   "positive": ":large_green_circle:"}


@dataclass(frozen=True, slots=True)
class StoryMember:
    """Another mention carrying the same link."""

    network: str
    author: str
    url: str
    followers: int | None


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything the card shows, read from the database."""

    mention_id: int
    network: str
    url: str
    author_handle: str
    author_name: str | None
    followers: int | None
    title: str | None
    text: str
    published_at: datetime
    watch_name: str | None
    status: str
    sentiment_label: str | None
    intent: str | None
    priority: int
    priority_reason: str | None
    assignee_user_id: str | None = None
    story: list[StoryMember] = field(default_factory=list)
    actions: tuple[str, ...] = ()
    draft_text: str | None = None
    draft_version: int | None = None
    draft_risk: str | None = None
    draft_hash: str | None = None
    reply_url: str | None = None
    sla_due: datetime | None = None
    reply_state: str | None = None
    reply_error: str | None = None


def format_reach(followers: int | None) -> str:
    """48213 -> "48k", 1200000 -> "1.2M"; empty when unknown."""
    if followers is None:
        return ""
    if followers >= 1_000_000:
        return f"{followers / 1_000_000:.1f}M".replace(".0M", "M")
    if followers >= 10_000:
        return f"{followers // 1000}k"
    if followers >= 1000:
        return f"{followers / 1000:.1f}k".replace(".0k", "k")
    return str(followers)


def _author_line(view: CardView, language: str) -> str:
    icon = NETWORK_ICONS.get(view.network, ":speech_balloon:")
    who = escape(truncate(view.author_name, 80)) if view.author_name else ""
    handle = escape(truncate(view.author_handle, 80))
    label = f"*{who}* ({handle})" if who else f"*{handle}*"
    reach = format_reach(view.followers)
    story_reach = sum(member.followers or 0 for member in view.story)
    parts = [f"{icon} {label}"]
    if reach:
        parts.append(t(language, "card.followers", reach=reach))
    if view.story:
        parts.append(t(language, "card.story", count=len(view.story) + 1,
                       reach=format_reach((view.followers or 0) + story_reach)))
    return " · ".join(parts)


def approve_value(mention_id: int, version: int | None, text_hash: str | None) -> str:
    """What an Approve button carries: the mention and the draft version and text hash the
    approver sees, so a click approves that text or nothing."""
    if version is None or not text_hash:
        return str(mention_id)
    return f"{mention_id}:v{version}:{text_hash[:16]}"


def _button(action: str, mention_id: int, language: str, value: str | None = None
            ) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button", "action_id": ACTION_PREFIX + action,
        "value": value or str(mention_id),
        "text": {"type": "plain_text", "text": t(language, f"card.button_{action}")},
    }
    if action in BUTTON_STYLES:
        button["style"] = BUTTON_STYLES[action]
    return button


def build_card(view: CardView, language: str = "en") -> tuple[str, list[dict[str, Any]]]:
    """The card's fallback text and blocks."""
    body = truncate(view.text.strip(), CARD_TEXT_LIMIT)
    quoted = "\n".join(f"> {line}" if line else ">" for line in escape(body).splitlines())
    if len(view.text.strip()) > CARD_TEXT_LIMIT:
        quoted += "\n" + link(view.url, t(language, "card.read_more"))
    title = f"*{link(view.url, truncate(view.title, 150))}*\n" if view.title else ""
    analysis = [
        f"{SENTIMENT_ICONS.get(view.sentiment_label or '', ':white_circle:')} "
        f"{t(language, 'card.priority', priority=view.priority)}",
    ]
    if view.priority_reason:
        analysis.append(escape(view.priority_reason))
    status = t(language, f"status.{view.status}")
    if view.assignee_user_id:
        status += " · " + t(language, "card.assigned_to", user=f"<@{view.assignee_user_id}>")
    if view.sla_due is not None and view.status in OPEN_STATUSES:
        status += " · " + t(language, "card.sla_due", due=slack_date(view.sla_due))
    context = [
        slack_date(view.published_at),
        link(view.url, t(language, "card.open_post")),
    ]
    if view.watch_name:
        context.append(t(language, "card.watch", watch=escape(view.watch_name)))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _author_line(view, language)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": (title + quoted)[:2990]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(analysis)}]},
        {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"*#{view.mention_id}* · {status}"},
            {"type": "mrkdwn", "text": " · ".join(context)},
        ]},
    ]
    draft_whole = False
    if view.draft_text and view.status in {"awaiting_approval", "approved", "drafting"}:
        risk = f" · {t(language, 'card.risk', level=view.draft_risk)}" if view.draft_risk not in (
            None, "none") else ""
        draft = (f"*{t(language, 'card.draft', version=view.draft_version)}*{risk}\n"
                 + "\n".join(f"> {line}" for line in escape(truncate(view.draft_text, 1500))
                              .splitlines()))
        draft_whole = len(view.draft_text) <= 1500 and len(draft) <= 2990
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": draft[:2990]}})
    if view.reply_state == "pending":
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t(
            language, "replies.posting")}]})
    elif view.reply_state == "failed":
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(t(
            language, "replies.failed", error=escape(view.reply_error or "?")), 2990)}]})
    if view.reply_url:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": link(
            view.reply_url, t(language, "card.reply_link"))}]})
    # Approve binds to the draft shown, and only if all of it is shown; a cut draft's
    # button answers with the whole text and a button bound to it.
    buttons = [_button(action, view.mention_id, language,
                       approve_value(view.mention_id, view.draft_version, view.draft_hash)
                       if action == "approve" and draft_whole else None)
               for action in view.actions]
    if buttons:
        blocks.append({"type": "actions", "block_id": f"card_{view.mention_id}",
                       "elements": buttons})
    if view.story:
        others = ", ".join(link(m.url, f"{m.network} {truncate(m.author, 40)}")
                           for m in view.story[:8])
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": t(language, "card.also_on", others=others)[:2990]}]})
    fallback = t(language, "card.fallback", id=view.mention_id, network=view.network,
                 author=escape(truncate(view.author_handle, 80)),
                 text=escape(truncate(view.text, 150)))
    return fallback, blocks
