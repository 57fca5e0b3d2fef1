"""Block Kit for conquest opportunities (pure): the card in the brand's channel, App Home's
list of them, the draft editor, and the share-of-voice lines of the digest and
`/cm stats sov`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from bot.analysis.reach import format_reach
from bot.i18n import compact, digits, network_name, percent, plural_key, t, tally
from bot.messages.opportunities import OpportunityView
from bot.slack.budget import MESSAGE_TEXT_BUDGET, blocks_text_length, fit_blocks
from bot.slack.cards import ACTION_PREFIX, quote
from bot.slack.escape import clip_mrkdwn, escape, escape_name, link, slack_date, truncate
from bot.slack.modals import REPLACED, risk_warnings, suggestion_block, text_digest

OPP_ACTIONS = ("opp_take", "opp_draft", "opp_contacted", "opp_dismiss", "opp_reopen")
ACTIVE_ACTIONS = ("opp_take", "opp_draft", "opp_contacted", "opp_dismiss")
DRAFT_CALLBACK = "vigie.opp_draft"
"""The draft editor's callback_id (outside ``vigie.modal.``, the mention modals' prefix)."""
DRAFT_BLOCK = "opp_draft"
DRAFT_ACTION = "text"
USE_SUGGESTION = "vigie.opp_draft_suggestion"
DRAFT_MAX = 3000
TEXT_BUDGET = 2900
SOV_MEMBERS_SHOWN = 8


class _Count(Protocol):
    @property
    def mentions(self) -> int: ...


class SovMember(Protocol):
    """One watch's share of voice (``bot.services.share_of_voice.SovShare`` has it)."""

    @property
    def watch(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def current(self) -> _Count: ...
    @property
    def share(self) -> Mapping[str, float | None]: ...

    def trend(self, metric: str) -> float | None:
        """The change of the share of ``metric`` since the previous period, in points."""


class SovGroup(Protocol):
    """A watch group's share of voice (``bot.services.share_of_voice.SovReport`` has it)."""

    @property
    def group(self) -> str: ...
    @property
    def conquest(self) -> bool: ...
    @property
    def members(self) -> Sequence[SovMember]: ...
    @property
    def by_network(self) -> Mapping[str, Sequence[SovMember]]: ...
    @property
    def opportunities(self) -> int: ...
    @property
    def total(self) -> _Count: ...


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip_mrkdwn(text, TEXT_BUDGET)}


def _button(action: str, opportunity_id: int, language: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button", "action_id": ACTION_PREFIX + action, "value": str(opportunity_id),
        "text": {"type": "plain_text", "text": t(language, f"opp.button_{action}")}}
    if action == "opp_take":
        button["style"] = "primary"
    return button


def _reach(language: str, key: str, followers: int | None) -> str:
    """The author's followers as ``key`` words them, or nothing when unknown."""
    reach = compact(format_reach(followers), language)
    return t(language, plural_key(language, key, followers or 0), reach=reach) if reach else ""


def build_opportunity_card(view: OpportunityView, language: str = "en"
                           ) -> tuple[str, list[dict[str, Any]]]:
    """The opportunity card's fallback text and blocks: who, what they said about which
    competitor, why it is an opportunity, its state, and the buttons of its workflow."""
    competitor = escape(view.competitor or "?")
    head = t(language, f"opp.reason_{view.reason}", competitor=competitor)
    author = t(language, "opp.author", network=escape(network_name(view.network, language)),
               handle=escape_name(truncate(view.author_handle, 80)),
               reach=_reach(language, "opp.author_reach", view.followers))
    body = quote(escape(truncate(view.text.strip() or (view.title or ""), 1200)))
    status = t(language, f"opp.status_{view.status}")
    if view.assignee_user_id:
        status += " · " + t(language, "opp.owner", user=f"<@{view.assignee_user_id}>")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(f":dart: *{head}*\n{author}")},
        {"type": "section", "text": _mrkdwn(body or "-")},
        {"type": "context", "elements": [
            _mrkdwn(f"*{t(language, 'opp.ref', id=view.id)}* · {status}"),
            _mrkdwn(" · ".join([slack_date(view.published_at),
                                link(view.url, t(language, "card.open_post")),
                                t(language, "opp.group", group=escape(view.group))]))]},
    ]
    if view.draft:
        blocks.append({"type": "section", "text": _mrkdwn(
            f"*{t(language, 'opp.draft_head')}*\n" + quote(escape(truncate(view.draft, 1500))))})
    blocks.append({"type": "context", "elements": [_mrkdwn(t(language, "opp.never_posted",
                                                             id=view.id))]})
    blocks.append(opportunity_actions(view, language, f"opp_{view.id}"))
    fallback = t(language, "opp.fallback", id=view.id, competitor=competitor,
                 author=escape_name(truncate(view.author_handle, 80)))
    return fallback, blocks


def opportunity_actions(view: OpportunityView, language: str, block_id: str
                        ) -> dict[str, Any]:
    """The workflow's buttons, the same on the card and in App Home: take it, draft, mark
    contacted, dismiss (reopen once contacted or dismissed)."""
    actions = (("opp_reopen",) if view.status in {"contacted", "dismissed"}
               else ACTIVE_ACTIONS)
    return {"type": "actions", "block_id": block_id,
            "elements": [_button(a, view.id, language) for a in actions]}


class HomeList(Protocol):
    """App Home's opportunities (``bot.messages.opportunities.HomeOpportunities``)."""

    @property
    def shown(self) -> Sequence[OpportunityView]: ...
    @property
    def total(self) -> int: ...


def build_home_opportunities(home: HomeList, language: str) -> list[dict[str, Any]]:
    """App Home's section: a header, then per opportunity a line (why, who, where, its
    state, an excerpt) and the card's buttons; an empty state when none is open, and how
    many more `/cm opp list` shows. Two blocks per opportunity, at most 3 + 2 x shown."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "text": truncate(t(language, "opp.home_title", count=home.total),
                                               150)}}]
    if not home.shown:
        blocks.append({"type": "context", "elements": [_mrkdwn(t(language, "opp.home_empty"))]})
        return blocks
    for view in home.shown:
        competitor = escape(view.competitor or "?")
        status = t(language, f"opp.status_{view.status}")
        if view.assignee_user_id:
            status += " · " + t(language, "opp.owner", user=f"<@{view.assignee_user_id}>")
        head = t(language, "opp.home_line", id=view.id, competitor=competitor,
                 reason=t(language, f"opp.reason_short_{view.reason}"),
                 author=escape_name(truncate(view.author_handle, 80)),
                 network=escape(network_name(view.network, language)),
                 reach=_reach(language, "opp.home_reach", view.followers), status=status,
                 when=slack_date(view.published_at),
                 post=link(view.url, t(language, "card.open_post")))
        excerpt = escape(truncate(" ".join((view.text or view.title or "").split()), 200))
        text = f"{head}\n{quote(excerpt)}" if excerpt else head
        if view.draft:
            text += "\n" + t(language, "opp.home_has_draft")
        blocks.append({"type": "section", "text": _mrkdwn(text)})
        blocks.append(opportunity_actions(view, language, f"home_opp_{view.id}"))
    if home.total > len(home.shown):
        blocks.append({"type": "context", "elements": [_mrkdwn(t(
            language, "opp.home_more", count=home.total - len(home.shown)))]})
    return blocks


class DraftEditor(Protocol):
    """What the opportunity's draft editor shows (``bot.services.opportunities.DraftStart``)."""

    @property
    def opportunity_id(self) -> int: ...
    @property
    def network(self) -> str: ...
    @property
    def author_handle(self) -> str: ...
    @property
    def post_text(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def limit(self) -> int | None: ...
    @property
    def risk_keys(self) -> Sequence[str]: ...
    @property
    def base(self) -> str: ...


def draft_block_id(text: str) -> str:
    """The input's block_id, derived from the text it is pre-filled with: on
    ``views.update`` Slack keeps what an input shows while its block_id stays the same, so
    a suggestion replacing the text needs a new one (as ``bot.slack.modals``)."""
    return f"{DRAFT_BLOCK}.{text_digest(text)}"


def build_opportunity_draft_modal(editor: DraftEditor, language: str, *,
                                  note: str | None = None,
                                  suggestion: DraftEditor | None = None,
                                  replaced: bool = False) -> dict[str, Any]:
    """The draft editor: the author's post, the draft (pre-filled with the saved one or a
    chosen suggestion) and its risk warnings, the network's limit, and a reminder that
    Vigie never posts it.

    ``suggestion``: the LLM's text, shown under the input (which keeps its block_id, so
    Slack keeps what the user typed) with a button that puts it in the input, and its
    risk warnings.
    ``replaced``: the input takes a new block_id, so Slack shows ``editor.text`` in place
    of what the user typed (the button was pressed).
    """
    excerpt = "\n".join(f"> {line}" for line in escape(truncate(
        editor.post_text, 600)).splitlines()) or ">"
    hint = (t(language, "opp.draft_hint_limit", limit=editor.limit,
              network=network_name(editor.network, language))
            if editor.limit else t(language, "opp.draft_hint_free"))
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": DRAFT_ACTION,
                               "multiline": True, "max_length": DRAFT_MAX}
    if editor.text:
        element["initial_value"] = truncate(editor.text, DRAFT_MAX)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(t(language, "opp.draft_author", handle=escape_name(
            truncate(editor.author_handle, 80)),
            network=escape(network_name(editor.network, language))) + "\n"
            + excerpt)},
        {"type": "input", "block_id": draft_block_id(editor.text) + (REPLACED if replaced
                                                                     else ""),
         "label": {"type": "plain_text", "text": t(language, "opp.draft_label")},
         "hint": {"type": "plain_text", "text": truncate(hint, 2000)}, "element": element},
        *risk_warnings(editor.risk_keys, language),
        {"type": "context", "elements": [_mrkdwn(t(language, "opp.draft_never_posted"))]},
    ]
    if note:
        blocks.append({"type": "context", "elements": [_mrkdwn(truncate(note, 2000))]})
    if suggestion is not None and suggestion.text:
        blocks.append(suggestion_block(suggestion.text, t(language, "modal.use_suggestion"),
                                       USE_SUGGESTION))
        blocks += risk_warnings(suggestion.risk_keys, language)
    return {
        "type": "modal", "callback_id": DRAFT_CALLBACK,
        "private_metadata": json.dumps({"opportunity_id": editor.opportunity_id,
                                        "base": editor.base}),
        "title": {"type": "plain_text", "text": truncate(
            t(language, "opp.draft_title", id=editor.opportunity_id), 24)},
        "submit": {"type": "plain_text", "text": truncate(t(language, "opp.draft_submit"), 24)},
        "close": {"type": "plain_text", "text": t(language, "modal.cancel")},
        "blocks": blocks,
    }


def _points(value: float | None, language: str) -> str:
    if value is None:
        return "–"
    return digits(f"{value:+.1f}".replace("+0.0", "±0.0").replace("-0.0", "±0.0"), language)


def _percent(share: float | None, language: str) -> str:
    return "–" if share is None else percent(share, language)


def sov_line(report: SovGroup, language: str) -> str:
    """One line per group: each member's share of mentions and its trend in points, the
    share of the negative mentions, and the period's opportunities."""
    parts = [t(language, "sov.member", watch=escape(m.watch),
               share=_percent(m.share["mentions"], language),
               trend=_points(m.trend("mentions"), language))
             for m in report.members[:SOV_MEMBERS_SHOWN]]
    line = t(language, "sov.line", group=escape(report.group), members=", ".join(parts),
             total=tally(report.total.mentions, language))
    if report.conquest:
        line += " · " + t(language, "sov.opportunities",
                          count=tally(report.opportunities, language))
    return line


def sov_table(report: SovGroup, language: str) -> str:
    """Each member's shares of mentions, reach, positive and negative mentions (trend in
    points), all networks, then one line per network with the shares of mentions."""
    lines = [t(language, "sov.table_head", group=escape(report.group))]
    for m in report.members[:SOV_MEMBERS_SHOWN]:
        tag = " " + t(language, "compete.competitor_tag") if m.kind == "competitor" else ""
        lines.append(t(language, "sov.table_line", watch=escape(m.watch), tag=tag,
                       mentions=tally(m.current.mentions, language),
                       **{f"{k}_share": _percent(m.share[k], language) for k in
                          ("mentions", "reach", "positive", "negative")},
                       **{f"{k}_trend": _points(m.trend(k), language) for k in
                          ("mentions", "reach", "positive", "negative")}))
    for network, members in sorted(report.by_network.items()):
        lines.append(t(language, "sov.network_line",
                       network=escape(network_name(network, language)), shares=", ".join(
            f"{escape(m.watch)} {_percent(m.share['mentions'], language)}"
            for m in members[:SOV_MEMBERS_SHOWN])))
    if report.conquest:
        lines.append(t(language, "sov.opportunities",
                       count=tally(report.opportunities, language)))
    return "\n".join(lines)


def build_sov_blocks(days: int, reports: Sequence[SovGroup], language: str
                     ) -> tuple[str, list[dict[str, Any]]]:
    """`/cm stats sov`: one section per group (at most 20), or how to make a group."""
    title = t(language, "sov.title", days=days)
    if not reports:
        text = t(language, "sov.no_groups")
        return text, [{"type": "section", "text": _mrkdwn(text)}]
    head: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}}]
    tail = [{"type": "context", "elements": [_mrkdwn(t(language, "sov.definitions"))]}]
    tables = [{"type": "section", "text": _mrkdwn(sov_table(report, language))}
              for report in reports[:20]]
    # Within MESSAGE_TEXT_BUDGET: the last groups give way, and a line says how to see one.
    shown = len(tables)
    while shown > 1 and blocks_text_length([*head, *tables[:shown], *tail]) + len(
            t(language, "sov.more", count=len(tables), days=days)) > MESSAGE_TEXT_BUDGET:
        shown -= 1
    more = ([{"type": "context", "elements": [_mrkdwn(t(
        language, "sov.more", count=len(reports[:20]) - shown, days=days))]}]
        if shown < len(tables) else [])
    blocks = [*head, *tables[:shown], *more, *tail]
    fit_blocks(blocks, tables[:shown][::-1])
    return title, blocks
