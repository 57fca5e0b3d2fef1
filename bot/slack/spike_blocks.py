"""Pure renderer of a spike alert: what happened, why, who, and three examples."""

from __future__ import annotations

from typing import Any

from bot.analysis.reach import format_reach
from bot.i18n import t
from bot.slack.escape import clip_mrkdwn, escape, link, truncate


def build_spike_alert(watch: str, decision: Any, explanation: Any, language: str
                      ) -> tuple[str, list[dict[str, Any]]]:
    """The alert's fallback text and blocks."""
    kind_key = {"volume": "volume", "negative_share": "negative"}.get(decision.kind, "both")
    kind = t(language, f"spike.kind_{kind_key}")
    head = t(language, "spike.title", watch=escape(watch), kind=kind)
    numbers = t(language, "spike.numbers", total=decision.total,
                baseline=f"{decision.baseline:.1f}",
                share=f"{decision.negative_share:.0%}",
                base_share=f"{decision.baseline_negative_share:.0%}")
    lines = [f":rotating_light: *{head}*", numbers]
    if explanation.terms:
        lines.append(t(language, "spike.terms", terms=", ".join(
            f"`{escape(truncate(term.term, 40))}` ×{term.count}" for term in explanation.terms)))
    if explanation.links:
        lines.append(t(language, "spike.links", links=", ".join(
            link(item.url, f"{truncate(item.url, 60)} ×{item.count}")
            for item in explanation.links)))
    if explanation.negative_authors:
        lines.append(t(language, "spike.authors", authors=", ".join(
            f"{escape(truncate(a.handle, 40))} ({format_reach(a.followers) or '?'})"
            for a in explanation.negative_authors)))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn("\n".join(lines),
                                                                          2900)}}]
    for sample in explanation.samples:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(
            f"{escape(truncate(sample.author, 40))}: "
            f"{escape(truncate(' '.join(sample.text.split()), 240))} "
            f"{link(sample.url, t(language, 'card.open_post'))}", 2900)}]})
    return f"{head}: {numbers}", blocks
