"""Pure renderers for watch and source management answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import t
from bot.slack.escape import clip_mrkdwn, escape, slack_date, truncate

SECTION_LIMIT = 2900


def _date(moment: datetime | None, language: str) -> str:
    if moment is None:
        return t(language, "admin.never")
    return slack_date(moment)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, SECTION_LIMIT)}}


def build_watch_list(views: list[Any], language: str) -> tuple[str, list[dict[str, Any]]]:
    """One section per watch (at most 45), or how to add one."""
    if not views:
        text = t(language, "admin.no_watches")
        return text, [_section(text)]
    blocks = [_section(
        f"*{escape(v.name)}* · <#{v.channel_id}> · "
        + t(language, "admin.watch_line", threshold=v.alert_threshold, sources=v.source_count,
            mentions=v.mention_count)
        + (" · " + t(language, "admin.paused") if v.paused else "")
        + (" · " + t(language, "compete.competitor_tag") if v.kind == "competitor" else "")
        + (" · " + t(language, "compete.group_tag", group=escape(v.group)) if v.group else "")
        + f"\n`{escape(truncate(v.query, 300)) or '*'}` "
        + escape(truncate(v.query_description, 500))
    ) for v in views[:45]]
    return t(language, "admin.watches_title", count=len(views)), blocks


def build_group_list(views: list[Any], language: str) -> tuple[str, list[dict[str, Any]]]:
    """One section per watch group (at most 45): its brand watches, competitors, and
    whether conquest opportunities are on; or how to create one."""
    if not views:
        text = t(language, "compete.no_groups")
        return text, [_section(text)]
    blocks = [_section(
        f"*{escape(v.name)}* · "
        + t(language, "compete.group_line",
            brands=", ".join(escape(m.name) for m in v.brands) or "-",
            competitors=", ".join(escape(m.name) for m in v.competitors) or "-",
            conquest=t(language, "compete.on" if v.conquest else "compete.off"))
    ) for v in views[:45]]
    return t(language, "compete.groups_title", count=len(views)), blocks


def _backfill_line(view: Any, language: str) -> str:
    return t(language, "admin.source_backfilled", count=view.backfilled,
             hours=view.backfill_hours)


def build_source_list(views: list[Any], language: str) -> tuple[str, list[dict[str, Any]]]:
    """One section per source with its health (at most 45)."""
    if not views:
        text = t(language, "admin.no_sources")
        return text, [_section(text)]
    blocks = []
    for v in views[:45]:
        if v.paused:
            health = ":double_vertical_bar: " + t(language, "admin.paused")
        elif v.consecutive_failures:
            health = ":warning: " + t(language, "admin.failing", count=v.consecutive_failures,
                                      error=escape(truncate(v.last_error or "", 300)))
        else:
            health = ":white_check_mark: " + t(language, "admin.healthy")
        settings = ", ".join(f"{escape(k)}={escape(truncate(val, 80))}"
                             for k, val in v.settings.items())
        blocks.append(_section(
            f"*#{v.id}* {escape(v.kind)} → *{escape(v.watch_name)}* · {health}\n"
            + t(language, "admin.source_times" if v.polled else "admin.source_times_push",
                last=_date(v.last_success_at, language), next=_date(v.next_poll_at, language),
                minutes=v.interval_minutes, id=v.id)
            + (f"\n{settings}" if settings else "")
            + (f"\n{_backfill_line(v, language)}" if v.backfilled is not None else "")))
    return t(language, "admin.sources_title", count=len(views)), blocks


def build_source_test(source_id: int, result: Any, language: str
                      ) -> tuple[str, list[dict[str, Any]]]:
    """What a test fetch found: counts and up to ten matching mentions."""
    head = t(language, "admin.test_head", id=source_id, fetched=result.fetched,
             matched=len(result.candidates), filtered=result.report.filtered)
    lines = [head]
    for candidate in result.candidates[:10]:
        item = candidate.fetched
        lines.append(f"• [{candidate.analysis.priority}] {escape(item.network)} "
                     f"{escape(truncate(item.author.handle, 60))}: "
                     f"{escape(truncate(' '.join(item.text.split()), 160))}")
    return head, [_section("\n".join(lines))]
