"""Pure renderers for watch and source management answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.i18n import has, network_name, t
from bot.messages.channel_refusal import refusal_advice
from bot.slack.budget import MESSAGE_TEXT_BUDGET, blocks_text_length
from bot.slack.escape import clip_mrkdwn, escape, slack_date, truncate

SECTION_LIMIT = 2900


def _date(moment: datetime | None, language: str) -> str:
    if moment is None:
        return t(language, "admin.never")
    return slack_date(moment)



class WatchLine(Protocol):
    """What a watch's line shows (``bot.services.watches.WatchView`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def channel_id(self) -> str: ...
    @property
    def alert_threshold(self) -> int: ...
    @property
    def learned_shift(self) -> int: ...
    @property
    def source_count(self) -> int: ...
    @property
    def mention_count(self) -> int: ...
    @property
    def paused(self) -> bool: ...
    @property
    def kind(self) -> str: ...
    @property
    def group(self) -> str | None: ...
    @property
    def query(self) -> str: ...
    @property
    def query_description(self) -> str: ...
    @property
    def refused(self) -> RefusedLine | None: ...


class RefusedLine(Protocol):
    """A channel Slack refuses a watch's alerts in."""

    @property
    def channel_id(self) -> str: ...
    @property
    def since(self) -> datetime: ...
    @property
    def error(self) -> str: ...
    @property
    def topic(self) -> str | None:
        """The topic whose route sends alerts there; None for the watch's own channel."""


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class GroupLine(Protocol):
    """What a watch group's line shows (``bot.services.competitors.GroupView`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def conquest(self) -> bool: ...
    @property
    def brands(self) -> Sequence[_Named]: ...
    @property
    def competitors(self) -> Sequence[_Named]: ...


class SourceLine(Protocol):
    """What a source's line shows (``bot.services.sources_admin.SourceView`` has it)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def watch_name(self) -> str: ...
    @property
    def settings(self) -> Mapping[str, str]: ...
    @property
    def interval_minutes(self) -> int: ...
    @property
    def paused(self) -> bool: ...
    @property
    def polled(self) -> bool: ...
    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def last_error(self) -> str | None: ...
    @property
    def last_error_reasons(self) -> Sequence[tuple[str, Mapping[str, str | int]]]: ...
    @property
    def consecutive_failures(self) -> int: ...
    @property
    def waiting_for_database(self) -> bool: ...
    @property
    def next_poll_at(self) -> datetime: ...
    @property
    def backfilled(self) -> int | None: ...
    @property
    def backfill_hours(self) -> int | None: ...


class _Author(Protocol):
    @property
    def handle(self) -> str: ...


class _Fetched(Protocol):
    @property
    def network(self) -> str: ...
    @property
    def author(self) -> _Author: ...
    @property
    def text(self) -> str: ...


class _Priority(Protocol):
    @property
    def priority(self) -> int: ...


class _Candidate(Protocol):
    @property
    def fetched(self) -> _Fetched: ...
    @property
    def analysis(self) -> _Priority: ...


class _Filtered(Protocol):
    @property
    def filtered(self) -> int: ...
    @property
    def forgotten(self) -> int: ...


class SourceTest(Protocol):
    """What a test fetch found (``bot.services.sources_admin.SourceTestResult`` has it)."""

    @property
    def fetched(self) -> int: ...
    @property
    def candidates(self) -> Sequence[_Candidate]: ...
    @property
    def report(self) -> _Filtered: ...


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, SECTION_LIMIT)}}


def threshold_words(own: int, shift: int, language: str) -> str:
    """The threshold ingest applies, e.g. "70 (50 + 20 learned from the team, `/cm triage`)"
    for a watch set at ``own`` with a learned ``shift``; just "50" without a shift."""
    if not shift:
        return str(own)
    return t(language, "admin.threshold_learned", applied=own + shift, own=own,
             sign="+" if shift > 0 else "−", points=abs(shift))


SHOWN = 45
"""The most sections a list shows (Slack takes 50 blocks per message): the rest are named
below. Fewer when their text would not fit the message (:func:`_fitting`)."""


def _rest(language: str, key: str, names: Sequence[str]) -> list[dict[str, Any]]:
    """A context line naming what a list had no room to show, or nothing."""
    if not names:
        return []
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(t(
        language, key, count=len(names), names=", ".join(names)), SECTION_LIMIT)}]}]


def _fitting(sections: Sequence[dict[str, Any]], names: Sequence[str], language: str,
             key: str) -> list[dict[str, Any]]:
    """The first of ``sections`` (one per entry of a list, in the order of ``names``, which
    names every entry) while they and the line naming the others (:func:`_rest`, with
    ``key``) hold at most :data:`~bot.slack.budget.MESSAGE_TEXT_BUDGET` of text, then that
    line. Without this, ``fitted`` clipped most sections of a long list to a few words."""
    shown, used = 0, 0
    for section in sections:
        size = blocks_text_length(section)
        if used + size + blocks_text_length(_rest(language, key, names[shown + 1:])) \
                > MESSAGE_TEXT_BUDGET:
            break
        shown, used = shown + 1, used + size
    return [*sections[:shown], *_rest(language, key, names[shown:])]


def build_watch_list(views: Sequence[WatchLine], language: str) -> tuple[str, list[dict[str, Any]]]:
    """One section per watch (the first that fit the message, at most ``SHOWN``; the others
    named), or how to add one."""
    if not views:
        text = t(language, "admin.no_watches")
        return text, [_section(text)]
    blocks = [_section(
        f"*{escape(v.name)}* · <#{v.channel_id}> · "
        + (t(language, "admin.watch_line_competitor", sources=v.source_count,
             mentions=v.mention_count) if v.kind == "competitor"
           else t(language, "admin.watch_line",
                  threshold=threshold_words(v.alert_threshold, v.learned_shift, language),
                  sources=v.source_count, mentions=v.mention_count))
        + (" · " + t(language, "admin.paused") if v.paused else "")
        + (" · " + t(language, "compete.group_tag", group=escape(v.group)) if v.group else "")
        + f"\n`{escape(truncate(v.query, 300)) or '*'}` "
        + escape(truncate(v.query_description, 500))
        + ("\n" + t(language, "watch.channel_refused", channel=v.refused.channel_id,
                     since=slack_date(v.refused.since), error=escape(v.refused.error),
                     advice=refusal_advice(language, v.refused.error, watch=v.name,
                                           topic=v.refused.topic))
           if v.refused else "")
    ) for v in views[:SHOWN]]
    return t(language, "admin.watches_title", count=len(views)), _fitting(
        blocks, [f"*{escape(v.name)}*" for v in views], language, "admin.more_watches")


def build_group_list(views: Sequence[GroupLine], language: str) -> tuple[str, list[dict[str, Any]]]:
    """One section per watch group (the first that fit the message, at most ``SHOWN``; the
    others named): its brand watches, competitors, and whether conquest opportunities are
    on; or how to create one."""
    if not views:
        text = t(language, "compete.no_groups")
        return text, [_section(text)]
    blocks = [_section(
        f"*{escape(v.name)}* · "
        + t(language, "compete.group_line",
            brands=", ".join(escape(m.name) for m in v.brands) or "-",
            competitors=", ".join(escape(m.name) for m in v.competitors) or "-",
            conquest=t(language, "compete.on" if v.conquest else "compete.off"))
    ) for v in views[:SHOWN]]
    return t(language, "compete.groups_title", count=len(views)), _fitting(
        blocks, [f"*{escape(v.name)}*" for v in views], language, "admin.more_groups")


def _backfill_line(view: SourceLine, language: str) -> str:
    return t(language, "admin.source_backfilled", count=view.backfilled,
             hours=view.backfill_hours)


def _error_text(view: SourceLine, language: str) -> str:
    """The source's last error (or note on items it skipped) in ``language`` when its
    reasons are all in the catalogue, else as stored (English)."""
    reasons = view.last_error_reasons
    if reasons and all(has(f"source_error.{key}") for key, _ in reasons):
        try:
            return t(language, "source_error.separator").join(
                t(language, f"source_error.{key}", **params) for key, params in reasons)
        except (KeyError, IndexError, ValueError):
            pass  # stored by another version, with other parameters: the English stands
    return view.last_error or ""


def build_source_list(views: Sequence[SourceLine], language: str
                      ) -> tuple[str, list[dict[str, Any]]]:
    """One section per source with its health (the first that fit the message, at most
    ``SHOWN``; the others named)."""
    if not views:
        text = t(language, "admin.no_sources")
        return text, [_section(text)]
    blocks = []
    for v in views[:SHOWN]:
        if v.paused:
            health = ":double_vertical_bar: " + t(language, "admin.paused")
        elif v.consecutive_failures:
            health = ":warning: " + t(language, "admin.failing", count=v.consecutive_failures,
                                      error=escape(truncate(_error_text(v, language), 300)))
        elif v.waiting_for_database:  # its last poll stored nothing: not "healthy"
            health = ":hourglass_flowing_sand: " + t(language, "admin.waiting_for_database")
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
            + (f"\n{_backfill_line(v, language)}" if v.backfilled is not None else "")
            # A poll that stored its posts but had to skip some says which, and one the
            # database could not store says so (its failures say so in the health above).
            + (f"\n:information_source: {escape(truncate(_error_text(v, language), 300))}"
               if v.last_error and not v.consecutive_failures else "")))
    return t(language, "admin.sources_title", count=len(views)), _fitting(
        blocks, [f"#{v.id} ({escape(v.watch_name)})" for v in views], language,
        "admin.more_sources")


def build_source_test(source_id: int, result: SourceTest, language: str
                      ) -> tuple[str, list[dict[str, Any]]]:
    """What a test fetch found: counts and up to ten matching mentions."""
    head = t(language, "admin.test_head", id=source_id, fetched=result.fetched,
             matched=len(result.candidates), filtered=result.report.filtered)
    lines = [head]
    if result.report.forgotten:
        lines.append(t(language, "admin.test_forgotten", count=result.report.forgotten))
    for candidate in result.candidates[:10]:
        item = candidate.fetched
        who = (f"[{candidate.analysis.priority}] {escape(network_name(item.network, language))} "
               f"{escape(truncate(item.author.handle, 60))}")
        lines.append("• " + t(language, "punct.labelled", label=who,
                              value=escape(truncate(" ".join(item.text.split()), 160))))
    return head, [_section("\n".join(lines))]
