"""Pure renderer of a spike alert: what happened, why, who, and three examples."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.analysis.reach import format_reach
from bot.i18n import compact, day_month, number, percent, t, tally
from bot.messages.spikes import (
    STAGE_ALERT,
    STAGE_OVER,
    STAGE_STOPPED,
    STAGE_UPDATE,
    SpikeAlertSpec,
    SpikeWatchFigures,
    spike_kind,
)
from bot.slack.escape import clip_mrkdwn, escape, escape_name, labelled_link, link, truncate


def hour_words(language: str, zone_name: str, start: datetime,
               until: datetime | None = None) -> str:
    """An hour in ``zone_name``: ``on 20 Nov, 15:00–16:00 (Europe/Paris)``, or up to
    ``until`` while it was not over (``15:00–15:15``)."""
    zone = ZoneInfo(zone_name)
    local = start.astimezone(zone)
    end = (until or start + timedelta(hours=1)).astimezone(zone)
    return t(language, "spike.hour", day=day_month(local, language), start=f"{local:%H:%M}",
             end=f"{end:%H:%M}", zone=zone_name)


def spike_hour(spec: SpikeAlertSpec) -> str:
    """The hour the alert counts, in the workspace's zone (see ``hour_words``)."""
    if spec.hour_start is None:
        return t(spec.language, "spike.unknown_hour")
    return hour_words(spec.language, spec.zone, spec.hour_start, spec.counted_until)


def watch_line(figures: SpikeWatchFigures, language: str) -> str:
    """``*acme*: 440 mentions vs 2.0 usual; 90% negative vs 10% usual``."""
    return t(language, "spike.watch_line", watch=escape(figures.watch),
             total=tally(figures.total, language),
             baseline=number(figures.baseline, language, decimals=1),
             share=percent(figures.negative_share, language),
             base_share=percent(figures.baseline_negative_share, language))


def _section(lines: list[str]) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn("\n".join(lines),
                                                                          2900)}}


def _build_thread_note(spec: SpikeAlertSpec) -> tuple[str, list[dict[str, Any]]]:
    """An update (a complete hour still a spike) or the "over" note, in the alert's thread."""
    language = spec.language
    when = spike_hour(spec)
    names = ", ".join(escape(figures.watch) for figures in spec.watches) or escape(spec.watch)
    if spec.stage == STAGE_UPDATE:
        head = t(language, "spike.update_title", when=when)
        lines = [f":chart_with_upwards_trend: *{head}*"]
    elif spec.stage == STAGE_STOPPED:
        head = t(language, "spike.stopped_title")
        lines = [f":double_vertical_bar: *{head}*"]
    else:
        head = t(language, "spike.over_title", watches=names, when=when)
        lines = [f":white_check_mark: *{head}*"]
    lines += ["• " + watch_line(figures, language) for figures in spec.watches]
    if spec.stage in (STAGE_OVER, STAGE_STOPPED) and spec.peak is not None \
            and spec.peak_hour is not None:
        lines.append(t(language, "spike.peak", watch=escape(spec.peak.watch),
                       total=tally(spec.peak.total, language),
                       when=hour_words(language, spec.zone, spec.peak_hour)))
    if spec.stage in (STAGE_OVER, STAGE_STOPPED) and spec.first_hour is not None \
            and spec.last_hour is not None \
            and (spec.peak is not None or spec.stage == STAGE_STOPPED):
        hours = round((spec.last_hour - spec.first_hour) / timedelta(hours=1)) + 1
        lines.append(t(language, "spike.lasted", hours=tally(hours, language),
                       span=hour_words(language, spec.zone, spec.first_hour,
                                       spec.last_hour + timedelta(hours=1))))
    return f"{head} {lines[1] if len(lines) > 1 else ''}".strip(), [_section(lines)]


def build_spike_alert(spec: SpikeAlertSpec) -> tuple[str, list[dict[str, Any]]]:
    """The alert's fallback text and blocks (or its thread note's: see ``stage``)."""
    if spec.stage != STAGE_ALERT:
        return _build_thread_note(spec)
    language = spec.language
    kind = spike_kind(spec.kind, language)
    if spec.watches:
        head = t(language, "spike.title_many", kind=kind, watches=", ".join(
            escape(name) for name in (spec.watch, *(w.watch for w in spec.watches))))
    else:
        head = t(language, "spike.title", watch=escape(spec.watch), kind=kind)
    numbers = t(language, "spike.numbers", total=tally(spec.total, language),
                when=spike_hour(spec),
                baseline=number(spec.baseline, language, decimals=1),
                share=percent(spec.negative_share, language),
                base_share=percent(spec.baseline_negative_share, language))
    if spec.watches:
        numbers = f"*{escape(spec.watch)}*: {numbers}\n" + "\n".join(
            "• " + watch_line(figures, language) for figures in spec.watches)
    lines = [f":rotating_light: *{head}*", numbers]
    if spec.first_hour is not None and spec.hour_start is not None \
            and spec.first_hour < spec.hour_start:
        lines.append(t(language, "spike.began", when=hour_words(language, spec.zone,
                                                                 spec.first_hour)))
    if spec.terms:
        lines.append(t(language, "spike.terms", terms=", ".join(
            f"`{escape(truncate(term, 40))}` ×{tally(count, language)}"
            for term, count in spec.terms)))
    if spec.links:
        lines.append(t(language, "spike.links", links=", ".join(
            # A post's link is outside text: its address may name the brand and lead
            # elsewhere, so the host it leads to is shown (the count stays outside the link).
            f"{labelled_link(url, truncate(url, 60))} ×{tally(count, language)}"
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
            t(language, "punct.labelled", label=escape(truncate(sample.author, 40)),
              value=f"{escape(truncate(' '.join(sample.text.split()), 240))} "
                    f"{link(sample.url, t(language, 'card.open_post'))}"), 2900)}]})
    return t(language, "punct.labelled", label=head, value=numbers), blocks
