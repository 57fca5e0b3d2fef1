"""Pure renderer of a spike alert: what happened, why, who, and three examples."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.analysis.reach import format_reach
from bot.i18n import compact, day_month, number, percent, t, tally
from bot.messages.spikes import SpikeAlertSpec, spike_kind
from bot.slack.escape import clip_mrkdwn, escape, escape_name, link, truncate


def spike_hour(spec: SpikeAlertSpec) -> str:
    """The hour the alert counts, in the workspace's zone: ``on 20 Nov, 15:00–15:15
    (Europe/Paris)`` while it was not over, ``... 15:00–16:00 ...`` once it was."""
    if spec.hour_start is None:
        return t(spec.language, "spike.unknown_hour")
    zone = ZoneInfo(spec.zone)
    start = spec.hour_start.astimezone(zone)
    end = (spec.counted_until or spec.hour_start + timedelta(hours=1)).astimezone(zone)
    return t(spec.language, "spike.hour", day=day_month(start, spec.language),
             start=f"{start:%H:%M}", end=f"{end:%H:%M}", zone=spec.zone)


def build_spike_alert(spec: SpikeAlertSpec) -> tuple[str, list[dict[str, Any]]]:
    """The alert's fallback text and blocks."""
    language = spec.language
    kind = spike_kind(spec.kind, language)
    head = t(language, "spike.title", watch=escape(spec.watch), kind=kind)
    numbers = t(language, "spike.numbers", total=tally(spec.total, language),
                when=spike_hour(spec),
                baseline=number(spec.baseline, language, decimals=1),
                share=percent(spec.negative_share, language),
                base_share=percent(spec.baseline_negative_share, language))
    lines = [f":rotating_light: *{head}*", numbers]
    if spec.terms:
        lines.append(t(language, "spike.terms", terms=", ".join(
            f"`{escape(truncate(term, 40))}` ×{tally(count, language)}"
            for term, count in spec.terms)))
    if spec.links:
        lines.append(t(language, "spike.links", links=", ".join(
            link(url, f"{truncate(url, 60)} ×{tally(count, language)}")
            for url, count in spec.links)))
    if spec.authors:
        lines.append(t(language, "spike.authors", authors=", ".join(
            f"{escape_name(truncate(handle, 40))} "
            f"({compact(format_reach(followers), language) or '?'})"
            for handle, followers in spec.authors)))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn("\n".join(lines),
                                                                          2900)}}]
    for sample in spec.samples:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(
            f"{escape(truncate(sample.author, 40))}: "
            f"{escape(truncate(' '.join(sample.text.split()), 240))} "
            f"{link(sample.url, t(language, 'card.open_post'))}", 2900)}]})
    return f"{head}: {numbers}", blocks
