"""The alert card: one pure function from a mention's state to Block Kit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.analysis.reach import format_reach
from bot.i18n import compact, network_name, plural_key, t
from bot.link_labels import is_network_site
from bot.messages.cards import CardView
from bot.messages.notes import Phrase
from bot.networks import icon_for
from bot.slack.budget import fit_blocks
from bot.slack.card_reply import open_reply_buttons, reply_elsewhere_note
from bot.slack.durations import duration
from bot.slack.escape import (
    author_link,
    clip_mrkdwn,
    escape,
    escape_name,
    fit_source,
    labelled_link,
    link,
    safe_url,
    shown_host,
    slack_date,
    slack_len,
    truncate,
)
from bot.slack.phrases import render_phrase
from bot.slack.risk_words import approve_confirm, risk_heading
from bot.slack.signals import reason_line

CARD_TEXT_LIMIT = 700
# Slack allows 3,000 characters in a text object; its unit is not documented, so texts are
# measured in UTF-16 units (slack_len) and kept under this budget.
TEXT_BUDGET = 2900
ACTION_PREFIX = "vigie."
OPEN_STATUSES = frozenset({"new", "assigned", "drafting", "awaiting_approval", "approved"})
FOUND_LATE = timedelta(hours=1)
"""A post Vigie found this long after it was published says so on its card."""
BUTTON_STYLES = {"approve": "primary", "reject": "danger"}
SENTIMENT_ICONS = {"negative": ":red_circle:", "neutral": ":white_circle:",
                   "positive": ":large_green_circle:"}


def _author_line(view: CardView, language: str) -> str:
    icon = icon_for(view.network)
    who = escape_name(truncate(view.author_name, 80)) if view.author_name else ""
    handle = escape_name(truncate(_handle_shown(view), 80))
    label = f"*{who}* ({handle})" if who else f"*{handle}*"
    reach = compact(format_reach(view.followers), language)
    parts = [f"{icon} {label}"]
    if reach:
        parts.append(t(language, plural_key(language, "card.followers", view.followers or 0),
                       reach=reach))
    if view.story:
        parts.append(t(language, "card.story", count=_story_count(view) + 1,
                       reach=compact(format_reach((view.followers or 0) + _story_reach(view)),
                                     language)))
    return " · ".join(parts)


def _handle_shown(view: CardView) -> str:
    """The author's handle, or for a feed's byline keyed on its site ("julie_m@blog.example")
    the site it writes on: beside the byline, not something that reads as an email address."""
    if view.author_name and view.author_handle.startswith(view.author_name + "@"):
        return view.author_handle[len(view.author_name) + 1:]
    return view.author_handle


def _fallback_author(view: CardView) -> str:
    """Who wrote the post, in the card's plain-text fallback."""
    shown = _handle_shown(view)
    if shown == view.author_handle:
        return escape_name(truncate(shown, 80))
    return (f"{escape_name(truncate(view.author_name or '', 80))} "
            f"({escape_name(truncate(shown, 80))})")


def _story_count(view: CardView) -> int:
    """How many posts join the card's story (all of them, not only those it names)."""
    return len(view.story) if view.story_count is None else view.story_count


def _story_reach(view: CardView) -> int:
    """The summed followers of all the posts joining the card's story."""
    if view.story_reach is None:
        return sum(member.followers or 0 for member in view.story)
    return view.story_reach


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


def quote(mrkdwn: str) -> str:
    """Each line of finished mrkdwn as a block quote."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in mrkdwn.splitlines())


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip_mrkdwn(text, TEXT_BUDGET)}


def _body(view: CardView, language: str) -> str:
    """Title, quoted text and "read more", cut in the source text so no link, date or
    entity is ever split; a post without text (media only) says so, since Slack refuses
    an empty section."""
    source = view.text.strip()
    title = f"*{labelled_link(view.url, truncate(view.title, 150))}*\n" if view.title else ""
    more = "\n" + link(view.url, t(language, "card.read_more"))
    if slack_len(title) + slack_len(more) > TEXT_BUDGET // 2:  # very long URL: no links
        host = shown_host(view.url)
        site = f" ({escape_name(host)})" if host else ""
        title = f"*{escape(truncate(view.title, 150))}{site}*\n" if view.title else ""
        more = "\n" + escape(t(language, "card.read_more"))
    if view.context and not view.title:  # a comment: what it answers, not its words
        # Outside words: escaped and unformatted ("*", "_" of a thread title show as typed).
        title = t(language, "card.context",
                  title=escape_name(truncate(" ".join(view.context.split()), 150))) + "\n"
    if not source:
        return title + t(language, "card.no_text")
    body = truncate(source, CARD_TEXT_LIMIT)
    whole = title + quote(escape(body))
    if body == source and slack_len(whole) <= TEXT_BUDGET:
        return whole
    rendered, _ = fit_source(body, TEXT_BUDGET, lambda b: title + quote(escape(b)) + more)
    return rendered


def _also_on(view: CardView, language: str) -> str | None:
    """"Same link also posted by ..." with as many story members as fit ("and N more"
    counts the others)."""
    total = _story_count(view)

    def line(named: list[str]) -> str:
        more = total - len(named)
        if more > 0:
            return t(language, "card.also_on_more", others=", ".join(named), more=more)
        return t(language, "card.also_on", others=", ".join(named))

    others: list[str] = []
    for member in view.story[:8]:
        author = truncate(member.author, 40)
        label = f"{member.network} {author}"
        # On the network's own site the host beside the link names the network already.
        linked = (author_link(member.url, author) if is_network_site(member.network, member.url)
                  else labelled_link(member.url, label))
        for item in (linked, escape(label)):
            if slack_len(line([*others, item])) <= TEXT_BUDGET:
                others.append(item)
                break
        else:
            break
    return line(others) if others else None


def _analysis_line(view: CardView, language: str) -> list[str]:
    """Sentiment icon, priority and the reason line (with the topics); a mention in a
    language no model reads gets a question mark instead of a sentiment icon and says so,
    rather than look routine (one only a sentiment model read keeps its icon)."""
    icon = SENTIMENT_ICONS.get(view.sentiment_label or "", ":white_circle:")
    if not view.language_analysed and view.sentiment_label is None:
        icon = ":grey_question:"
    parts = [f"{icon} {t(language, 'card.priority', priority=view.priority)}"]
    # The reason is stored text; the flag is what says no model read the words.
    reason = reason_line(view.priority_reason, view.intent, view.topics, language,
                         language_analysed=view.language_analysed, language_code=view.language,
                         status=view.status)
    if reason:
        parts.append(reason)
    return parts


def conversation_line(view: CardView, language: str) -> str | None:
    """"Direct: addressed to @acmecare" and the case's conversation, when there is one."""
    parts = []
    if view.direct_to:
        parts.append(t(language, "cases.card_direct", handle=escape(truncate(view.direct_to,
                                                                            80))))
    if view.case_posts:
        case = t(language, "cases.card_case", posts=view.case_posts,
                 follow_ups=view.case_follow_ups)
        if view.case_reopened:
            case += " · " + t(language, "cases.card_reopened", count=view.case_reopened)
        parts.append(case)
    return " · ".join(parts) or None


def build_card(view: CardView, language: str = "en") -> tuple[str, list[dict[str, Any]]]:
    """The card's fallback text and blocks, within ``MESSAGE_TEXT_BUDGET``: past it the
    story's other posts, a posting error, the conversation and analysis lines, then the
    author and the post are clipped, in that order; never the draft, which Approve binds
    to, nor the buttons."""
    analysis = _analysis_line(view, language)
    status = t(language, f"status.{view.status}")
    if view.assignee_user_id:
        status += " · " + t(language, "card.assigned_to", user=f"<@{view.assignee_user_id}>")
    if view.sla_due is not None and view.status in OPEN_STATUSES:
        status += " · " + t(language, "card.sla_due", due=slack_date(view.sla_due))
    context = [slack_date(view.published_at)]
    if view.received_at is not None and view.received_at - view.published_at >= FOUND_LATE:
        # The post's date stays the one shown; this says why its SLA runs later than it.
        context.append(t(language, "card.found_late", delay=duration(
            (view.received_at - view.published_at).total_seconds(), language)))
    context.append(link(view.url, t(language, "card.open_post")))
    if view.watch_name:
        context.append(t(language, "card.watch", watch=escape(view.watch_name)))
    author: dict[str, Any] = {"type": "section", "text": _mrkdwn(_author_line(view, language))}
    body: dict[str, Any] = {"type": "section", "text": _mrkdwn(_body(view, language))}
    analysed: dict[str, Any] = {"type": "context", "elements": [_mrkdwn(" · ".join(analysis))]}
    clippable: list[dict[str, Any]] = [analysed, author, body]
    blocks: list[dict[str, Any]] = [
        author, body, analysed,
        {"type": "context", "elements": [
            _mrkdwn(f"*#{view.mention_id}* · {status}"),
            _mrkdwn(" · ".join(context)),
        ]},
    ]
    if view.aside:  # the words its watch matched may be only there: say where
        blocks.insert(blocks.index(body) + 1, {"type": "context", "elements": [_mrkdwn(t(
            language, "card.aside",
            lines=escape_name(truncate(" · ".join(view.aside.split("\n")), 300))))]})
        clippable.insert(0, blocks[blocks.index(body) + 1])
    conversation = conversation_line(view, language)
    if conversation:
        blocks.append({"type": "context", "elements": [_mrkdwn(conversation)]})
        clippable.insert(0, blocks[-1])
    draft_whole = False
    if view.draft_text and view.status in {"awaiting_approval", "approved", "drafting"}:
        risk = ""
        if view.draft_risk not in (None, "none"):
            risk = risk_heading(view.draft_risk or "", view.draft_flags, language)
        header = f"*{t(language, 'card.draft', version=view.draft_version)}*{risk}\n"
        draft, cut = fit_source(truncate(view.draft_text, 1500), TEXT_BUDGET,
                                lambda d: header + quote(escape(d)))
        draft_whole = len(view.draft_text) <= 1500 and not cut
        blocks.append({"type": "section", "text": _mrkdwn(draft)})
    if view.reply_state == "pending" and view.reply_waiting_until is not None:
        blocks.append({"type": "context", "elements": [_mrkdwn(t(
            language, "replies.rate_limited",
            network=escape(network_name(view.network, language)[:40]),
            until=slack_date(view.reply_waiting_until)))]})
    elif view.reply_state == "pending" and view.reply_retry_at is not None:
        # An attempt failed and another is due: say why and when, the network's words
        # escaped (and cut short enough to fit, like a failure's).
        until = slack_date(view.reply_retry_at)
        if isinstance(view.reply_error, Phrase):
            retrying = t(language, "replies.retrying", until=until,
                         error=render_phrase(view.reply_error, language))
        else:
            retrying, _ = fit_source(str(view.reply_error or "?"), TEXT_BUDGET, lambda e: t(
                language, "replies.retrying", until=until, error=escape(e)))
        blocks.append({"type": "context", "elements": [_mrkdwn(retrying)]})
        clippable.insert(0, blocks[-1])
    elif view.reply_state == "pending":
        blocks.append({"type": "context", "elements": [_mrkdwn(t(language, "replies.posting"))]})
    elif view.reply_state == "failed" and isinstance(view.reply_error, Phrase):
        # Its outside text (a network's own words) is cut short enough to fit.
        blocks.append({"type": "context", "elements": [_mrkdwn(t(
            language, "replies.failed", error=render_phrase(view.reply_error, language)))]})
    elif view.reply_state == "failed":
        failed, _ = fit_source(str(view.reply_error or "?"), TEXT_BUDGET,
                               lambda e: t(language, "replies.failed", error=escape(e)))
        blocks.append({"type": "context", "elements": [_mrkdwn(failed)]})
        clippable.insert(0, blocks[-1])
    if safe_url(view.reply_url):  # a label linking nowhere would only mislead
        blocks.append({"type": "context", "elements": [_mrkdwn(link(
            view.reply_url, t(language, "card.reply_link")))]})
    # Approve binds to the draft shown, and only if all of it is shown; a cut draft's
    # button answers with the whole text and a button bound to it. Reject binds to the
    # version shown, whole or not: its reason is about that text.
    bound = approve_value(view.mention_id, view.draft_version, view.draft_hash)
    buttons = [_button(action, view.mention_id, language,
                       bound if (action == "approve" and draft_whole) or action == "reject"
                       else None)
               for action in view.actions]
    confirm = approve_confirm(view.draft_flags, language)
    for button in buttons:
        if confirm and button["action_id"] == ACTION_PREFIX + "approve":
            button["confirm"] = confirm
    buttons = open_reply_buttons(view, language) + buttons
    blocks += reply_elsewhere_note(view, language)
    if buttons:
        blocks.append({"type": "actions", "block_id": f"card_{view.mention_id}",
                       "elements": buttons})
    also_on = _also_on(view, language) if view.story else None
    if also_on:
        blocks.append({"type": "context", "elements": [_mrkdwn(also_on)]})
        clippable.insert(0, blocks[-1])
    fit_blocks(blocks, clippable)
    fallback = t(language, "card.fallback", id=view.mention_id,
                 network=escape(network_name(view.network, language)[:40]),
                 author=_fallback_author(view),
                 text=escape(truncate(view.text, 150)))
    return fallback, blocks
