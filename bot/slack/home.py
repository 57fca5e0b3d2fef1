"""Pure renderer for the App Home tab."""

from __future__ import annotations

from typing import Any

from bot.i18n import has, t
from bot.messages.home import HomeItem, HomeSummary, HomeTriage
from bot.messages.permalink import card_permalink
from bot.slack.digest_blocks import signed
from bot.slack.escape import clip_mrkdwn, escape, link, slack_date, truncate
from bot.slack.influencer_blocks import build_home_influencers
from bot.slack.opportunity_blocks import build_home_opportunities
from bot.slack.signals import reason_line

HOME_BLOCK_LIMIT = 100


def card_link(channel: str | None, ts: str | None, url: str, label: str) -> str:
    """A link to the card in Slack when it was posted, else to the post."""
    return link(card_permalink(channel, ts) or url, label)


def _section(title: str, items: list[HomeItem], empty: str, language: str
             ) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, 150)}}]
    if not items:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": empty}]})
        return blocks
    lines = [_item_line(item, language) for item in items]
    blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                               "text": clip_mrkdwn("\n".join(lines), 2900)}})
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


def build_home(summary: HomeSummary, language: str) -> dict[str, Any]:
    """The Home view: my assigned mentions, drafts to approve, overdue items (each with
    its reason line and topics), team counts, the conquest opportunities to act on (when a
    group has them on), triage learning at a glance and the top influencers. Opening the
    tab and the refresh after a change both publish this view."""
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
    if summary.opportunities is not None:
        blocks += build_home_opportunities(summary.opportunities, language)
    if summary.triage is not None:
        blocks += _triage_section(summary.triage, language)
    if summary.influencers is not None:
        blocks += build_home_influencers(summary.influencers, language)
    return {"type": "home", "blocks": blocks[:HOME_BLOCK_LIMIT]}
