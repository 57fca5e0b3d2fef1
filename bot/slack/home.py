"""Pure renderer for the App Home tab."""

from __future__ import annotations

from typing import Any

from bot.i18n import has, t, tally
from bot.messages.home import HomeItem, HomeSummary, HomeTriage
from bot.messages.permalink import card_permalink
from bot.slack.digest_blocks import signed
from bot.slack.escape import clip_mrkdwn, escape, link, slack_date, slack_len, truncate
from bot.slack.influencer_blocks import build_home_influencers
from bot.slack.opportunity_blocks import build_home_opportunities
from bot.slack.signals import reason_line

HOME_BLOCK_LIMIT = 100
SECTION_TEXT_LIMIT = 3000
"""A section block's text holds at most 3,000 characters (Block Kit reference, section
block: https://api.slack.com/reference/block-kit/blocks#section)."""


def card_link(channel: str | None, ts: str | None, url: str, label: str) -> str:
    """A link to the card in Slack when it was posted, else to the post."""
    return link(card_permalink(channel, ts) or url, label)


def _fitting_lines(lines: list[str]) -> list[str]:
    """The first lines that fit whole in a section's text (never one cut mid-line; a first
    line too long alone is clipped rather than showing nothing)."""
    shown: list[str] = []
    used = 0
    for line in lines:
        used += slack_len(line) + (1 if shown else 0)
        if used > SECTION_TEXT_LIMIT:
            break
        shown.append(line)
    return shown or [clip_mrkdwn(lines[0], SECTION_TEXT_LIMIT)]


def _section(title: str, items: list[HomeItem], empty: str, language: str, *,
             total: int, more: str, counted_all: bool = True
             ) -> list[dict[str, Any]]:
    """A header, the items that fit, and how many more there are (``total``: all of them,
    ``more``: the string saying where the rest are listed; ``counted_all`` False: ``total``
    is a floor)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, 150)}}]
    if not items:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": empty}]})
        return blocks
    shown = _fitting_lines([_item_line(item, language) for item in items])
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(shown)}})
    hidden = max(total, len(items)) - len(shown)
    if hidden > 0 or not counted_all:
        key = more if counted_all else f"{more}_at_least" if hidden > 0 else f"{more}_maybe"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t(
            language, key, count=tally(hidden, language))}]})
    return blocks


def _item_line(item: HomeItem, language: str) -> str:
    """``• #12 [72] New · date``, the reason line with topics, then the text."""
    head = (f"• {card_link(item.channel, item.ts, item.url, f'#{item.id}')} [{item.priority}] "
            f"{t(language, f'status.{item.status}')} · {slack_date(item.created_at)}")
    reason = reason_line(item.reason, item.intent, item.topics, language,
                         language_analysed=item.language_analysed,
                         language_code=item.language, direct_to=item.direct_to,
                         status=item.status)
    lines = [head, f"   {reason}"] if reason else [head]
    lines.append(f"   {escape(truncate(' '.join(item.text.split()), 140))}")
    return "\n".join(lines)


def _triage_section(triage: HomeTriage, language: str) -> list[dict[str, Any]]:
    """Triage learning at a glance: the shift alerts use now and the last learning run."""
    state = "home.triage_on" if triage.enabled else "home.triage_off"
    lines = [t(language, state, offset=signed(triage.offset))]
    if triage.last_run_at is None:
        lines.append(t(language, "home.triage_never"))
    else:
        outcome = triage.last_run_outcome or ""
        key = f"home.triage_outcome_{outcome}"
        words = t(language, key if has(key) else "home.triage_outcome_other",
                  before=signed(triage.last_run_before), after=signed(triage.last_run_after))
        lines.append(t(language, "home.triage_last", when=slack_date(triage.last_run_at),
                       outcome=words))
    return [
        {"type": "header", "text": {"type": "plain_text", "text": t(language,
                                                                    "home.triage_title")}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t(language,
                                                                      "home.triage_more")}]},
    ]


def build_guest_home(language: str, refusal: str = "perm.guest") -> dict[str, Any]:
    """The Home view of a Slack guest no admin gave a role: no data, only how to get one;
    with ``refusal`` ``perm.unchecked``, of a user Slack could not tell about: to reopen it."""
    key = "home.unchecked" if refusal == "perm.unchecked" else "home.guest"
    return {"type": "home", "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": t(language, key)}}]}


def build_home(summary: HomeSummary, language: str) -> dict[str, Any]:
    """The Home view: my assigned mentions, drafts to approve, overdue items (each with
    its reason line and topics), team counts, the conquest opportunities to act on (when a
    group has them on), triage learning at a glance and the top influencers. Opening the
    tab and the refresh after a change both publish this view."""
    counts = " · ".join(t(language, "punct.labelled", label=t(language, f"status.{status}"),
                          value=f"*{count}*")
                        for status, count in sorted(summary.counts.items())) \
        or t(language, "home.nothing_open")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": t(
            language, "home.intro", role=summary.role)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(
            t(language, "home.team", counts=counts), 2900)}]},
        {"type": "divider"},
        *_section(t(language, "home.assigned"), summary.assigned,
                  t(language, "home.assigned_empty"), language,
                  total=summary.assigned_total, more="home.assigned_more"),
    ]
    if summary.role in {"approver", "admin"}:
        blocks += _section(t(language, "home.to_approve"), summary.to_approve,
                           t(language, "home.to_approve_empty"), language,
                           total=summary.to_approve_total, more="home.to_approve_more")
    blocks += _section(t(language, "home.overdue"), summary.overdue,
                       t(language, "home.overdue_empty"), language,
                       total=summary.overdue_total, more="home.overdue_more",
                       counted_all=summary.overdue_counted_all)
    if summary.opportunities is not None:
        blocks += build_home_opportunities(summary.opportunities, language)
    if summary.triage is not None:
        blocks += _triage_section(summary.triage, language)
    if summary.influencers is not None:
        blocks += build_home_influencers(summary.influencers, language)
    return {"type": "home", "blocks": blocks[:HOME_BLOCK_LIMIT]}
