"""A case's conversation (customer posts and brand replies, oldest first) as Block Kit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import t
from bot.messages.show import ConversationPost
from bot.slack.cards import quote
from bot.slack.escape import (
    clip_mrkdwn,
    escape,
    escape_name,
    link,
    safe_url,
    slack_date,
    slack_len,
    truncate,
)

TEXT_BUDGET = 2900
POST_TEXT = 300
MAX_POSTS = 40


def build_conversation(posts: Sequence[ConversationPost], language: str) -> list[dict[str, Any]]:
    """One section listing the posts in order (the newest that fit, when many); nothing
    when the mention is in no conversation."""
    if len(posts) < 2:
        return []
    header = f"*{t(language, 'cases.conversation_title', count=len(posts))}*"
    brand = t(language, "cases.brand_label")
    lines: list[str] = []
    used = slack_len(header) + 1
    for post in reversed(posts[-MAX_POSTS:]):
        who = escape_name(truncate(post.author, 60)) + (f" ({brand})" if post.by_brand else "")
        ref = f"#{post.mention_id} · " if post.mention_id else ""
        # A date code cannot sit in a link's label (Slack shows it as text): the link to
        # the post stands beside the date, as on a card.
        when = slack_date(post.published_at)
        if safe_url(post.url):
            when += " · " + link(post.url, t(language, "card.open_post"))
        line = clip_mrkdwn(f"{ref}*{who}* · {when}\n"
                           + (quote(escape(truncate(post.text, POST_TEXT))) or ">"),
                           TEXT_BUDGET // 4)
        if used + slack_len(line) + 1 > TEXT_BUDGET:
            break
        lines.append(line)
        used += slack_len(line) + 1
    lines.reverse()
    return [{"type": "section", "text": {"type": "mrkdwn",
                                         "text": "\n".join([header, *lines])}}]
