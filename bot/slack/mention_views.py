"""Pure renderers: mention listings (with a More button) and a mention's history."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.i18n import has, t
from bot.messages.show import HistoryEntry
from bot.networks import icon_for
from bot.slack.budget import MESSAGE_TEXT_BUDGET, blocks_text_length, fit_blocks
from bot.slack.cards import SENTIMENT_ICONS
from bot.slack.escape import (
    clip_mrkdwn,
    escape,
    escape_name,
    link,
    slack_date,
    slack_len,
    truncate,
)
from bot.slack.signals import reason_line

MORE_ACTION = "vigie.more"
PAGE_SIZE = 10
HISTORY_MAX_ENTRIES = 40
# Slack's limits are 3,000 characters for a text and 2,000 for a button value, in a unit it
# does not document: lengths are measured in UTF-16 units (slack_len) and kept below these.
TEXT_BUDGET = 2900
MORE_VALUE_BUDGET = 1900


class MentionBasics(Protocol):
    """What every mention line shows: who wrote what, where, and how urgent it is."""

    @property
    def id(self) -> int: ...
    @property
    def network(self) -> str: ...
    @property
    def author(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def priority(self) -> int: ...
    @property
    def status(self) -> str: ...


class MentionListRow(MentionBasics, Protocol):
    """What a `/cm mentions` line shows (``bot.services.mention_search.MentionRow`` has it;
    ``topics``, ``direct_to`` and ``language_analysed`` are read when present)."""

    @property
    def url(self) -> str: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def language(self) -> str | None: ...
    @property
    def sentiment_label(self) -> str | None: ...
    @property
    def intent(self) -> str | None: ...
    @property
    def priority_reason(self) -> str | None: ...
    @property
    def assignee(self) -> str | None: ...


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, TEXT_BUDGET)}}


def _row_body(row: MentionListRow) -> str:
    """The mention's quoted words as a row shows them (escaped, at most 180 characters)."""
    return escape(truncate(" ".join((row.title or row.text).split()), 180))


def _row_text(row: MentionListRow, language: str, body_limit: int | None = None) -> str:
    icon = icon_for(row.network)
    mood = SENTIMENT_ICONS.get(row.sentiment_label or "", ":white_circle:")
    who = escape_name(truncate(row.author or "?", 60))
    owner = f" · <@{row.assignee}>" if row.assignee else ""
    status = t(language, f"status.{row.status}")
    body = _row_body(row)
    if body_limit is not None:  # the words give way; head, date and link stay whole
        body = clip_mrkdwn(body, max(1, body_limit))
    # Rows built before topics and flags were listed have none.
    language_analysed = getattr(row, "language_analysed", True)
    if not language_analysed and row.sentiment_label is None:  # no sentiment model read it
        mood = ":grey_question:"
    head = f"*#{row.id}* {icon} {who} · {mood} {row.priority} · {status}{owner}\n"
    reason = reason_line(row.priority_reason, row.intent, getattr(row, "topics", ()), language,
                         language_analysed=language_analysed, language_code=row.language,
                         direct_to=getattr(row, "direct_to", None), status=row.status)
    if reason:
        head += reason + "\n"
    label = t(language, "card.open_post")
    text = f"{head}{body}\n{slack_date(row.published_at)} · {link(row.url, label)}"
    if slack_len(text) > TEXT_BUDGET:  # a very long URL: the label without the link
        text = f"{head}{body}\n{slack_date(row.published_at)} · {escape(label)}"
    return text


def more_button_value(state: dict[str, Any]) -> str | None:
    """The More button's value: the next page's filters as compact JSON, whole and under
    Slack's 2,000-character limit, or None when they do not fit (no button then: a filter
    cut short would page through another search, e.g. one without its last -exclusion).
    Control characters are dropped (Slack's command text carries none)."""
    compact: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, str):
            value = "".join(ch for ch in value if ch >= " " and ch != "\x7f")
        compact[key] = value
    text = json.dumps(compact, separators=(",", ":"), ensure_ascii=False)
    return text if slack_len(text) <= MORE_VALUE_BUDGET else None


def build_mention_list(rows: Sequence[MentionListRow], language: str, *,
                       more_value: dict[str, Any] | None) -> tuple[str, list[dict[str, Any]]]:
    """One section per mention; a More button carrying the next page's filters."""
    if not rows:
        text = t(language, "list.empty")
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    blocks: list[dict[str, Any]] = [_mrkdwn_section(_row_text(row, language)) for row in rows]
    value = more_button_value(more_value) if more_value is not None else None
    if value is not None:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "action_id": MORE_ACTION,
            "text": {"type": "plain_text", "text": t(language, "list.more")},
            "value": value,
        }]})
    elif more_value is not None:  # older mentions match, but no button can carry the search
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": t(language, "list.more_too_long")}]})
    # Within MESSAGE_TEXT_BUDGET, the last rows' quoted words clipped first: every row stays
    # (the More button pages on from the last one) with its date and link to the post.
    excess = blocks_text_length(blocks) - MESSAGE_TEXT_BUDGET
    for index in reversed(range(len(rows))):
        if excess <= 0:
            break
        text = blocks[index]["text"]
        clipped = _mrkdwn_section(_row_text(
            rows[index], language, body_limit=len(_row_body(rows[index])) - excess))["text"]
        excess -= len(text["text"]) - len(clipped["text"])
        text["text"] = clipped["text"]
    # Only rows whose head or link alone is too long (a huge URL) are still cut from the end.
    fit_blocks(blocks, blocks[:len(rows)][::-1])
    title = "list_page.title_more" if value is not None else "list.title"
    return t(language, title, count=len(rows)), blocks


def _history_line(entry: HistoryEntry, language: str) -> str:
    actor = f"<@{entry.actor}>" if entry.actor[:1] in {"U", "W"} else escape(entry.actor)
    change = (f" ({t(language, f'status.{entry.from_status}')} → "
              f"{t(language, f'status.{entry.to_status}')})"
              if entry.from_status and entry.to_status and entry.from_status != entry.to_status
              else "")
    reason = f": {escape(truncate(entry.reason, 200))}" if entry.reason else ""
    return (f"{slack_date(entry.at)} {actor} {_action_words(entry.action, language)}{change}"
            f"{reason} _{_surface_words(entry.surface, language)}_")


def _action_words(action: str, language: str) -> str:
    """``mention.assign`` -> "assigned"; an action without words is shown readable."""
    key = f"history.action.{action.removeprefix('mention.')}"
    return t(language, key) if has(key) else escape(action.replace(".", " ").replace("_", " "))


def _surface_words(surface: str, language: str) -> str:
    """``modal`` -> "in a dialog"; an unknown surface is shown as it is."""
    key = f"history.surface.{surface}"
    return t(language, key) if has(key) else escape(surface.replace("_", " "))


def build_history(entries: Sequence[HistoryEntry], language: str) -> list[dict[str, Any]]:
    """The audit trail (oldest first) as one section: the newest entries that fit, whole,
    after a line saying how many earlier ones are left out."""
    header = f"*{t(language, 'list.history')}*"
    if not entries:
        return [_mrkdwn_section(f"{header}\n{t(language, 'list.no_history')}")]
    # Room for the header and the "N earlier entries" line, whatever N.
    used = slack_len(header) + slack_len(t(language, "list.earlier", count=10**6)) + 2
    kept: list[str] = []
    for entry in reversed(entries[-HISTORY_MAX_ENTRIES:]):
        line = clip_mrkdwn(_history_line(entry, language), TEXT_BUDGET // 4)
        if used + slack_len(line) + 1 > TEXT_BUDGET:
            break
        kept.append(line)
        used += slack_len(line) + 1
    kept.reverse()
    lines = [header]
    if len(entries) > len(kept):
        lines.append(t(language, "list.earlier", count=len(entries) - len(kept)))
    return [_mrkdwn_section("\n".join([*lines, *kept]))]
