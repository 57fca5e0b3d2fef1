"""Pure Block Kit renderers for reports: the daily digest and `/cm stats`, plus a plain-text
rendering of any of them for the terminal (`vigie digest --preview`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.i18n import day_month, network_name, number, plural_key, t, tally
from bot.i18n import percent as percent_words
from bot.messages.spikes import spike_kind
from bot.slack.budget import MESSAGE_TEXT_BUDGET, blocks_text_length
from bot.slack.durations import duration
from bot.slack.escape import (
    author_link,
    clip_mrkdwn,
    escape,
    escape_name,
    link,
    slack_len,
    truncate,
)
from bot.slack.mention_views import MentionBasics
from bot.slack.opportunity_blocks import sov_line
from bot.slack.plaintext import mrkdwn_to_plain
from bot.slack.signals import topic_words

SOV_GROUPS_SHOWN = 5
SECTION_LIMIT = 2900
HEADER_LIMIT = 150
TEXT_LIMIT = 120
EXCERPT_LIMITS = (60, 90, TEXT_LIMIT)
"""How much of a post a digest's mention line quotes, the shortest first: a day too busy
for the whole digest quotes less before it leaves out any mention (``_Cut.excerpt``)."""
SENTIMENT_EMOJI = {"negative": ":red_circle:", "neutral": ":white_circle:",
                   "positive": ":large_green_circle:", "unknown": ":grey_question:"}

class DigestMention(MentionBasics, Protocol):
    """A mention line of a report (``bot.services.reporting.queries.MentionLine``);
    ``topics`` is read when present."""

    @property
    def link(self) -> str: ...


class ReportAuthor(Protocol):
    """An author with their reach (``AuthorReach``)."""

    @property
    def handle(self) -> str: ...
    @property
    def network(self) -> str: ...
    @property
    def followers(self) -> int | None: ...
    @property
    def url(self) -> str | None: ...
    @property
    def mentions(self) -> int: ...


class Responses(Protocol):
    """Response times of a period (``ResponseTimes``)."""

    @property
    def actionable(self) -> int: ...
    @property
    def answered(self) -> int: ...
    @property
    def responded(self) -> int: ...
    @property
    def median_seconds(self) -> float | None: ...
    @property
    def p90_seconds(self) -> float | None: ...
    @property
    def answered_share(self) -> float | None: ...


class Count(Protocol):
    """A count and the previous period's (``bot.messages.digest.CountData``)."""

    @property
    def current(self) -> int: ...
    @property
    def previous(self) -> int: ...
    @property
    def delta(self) -> int: ...


class WaitedMentions(Protocol):
    """A watch's mentions that waited for the digest (``WaitedGroup``)."""

    @property
    def watch_name(self) -> str: ...
    @property
    def threshold(self) -> int: ...
    @property
    def count(self) -> int: ...
    @property
    def examples(self) -> Sequence[DigestMention]: ...
    @property
    def watch_id(self) -> int | None: ...


class SpikeLine(Protocol):
    """A spike of the day (``SpikeData``)."""

    @property
    def watch(self) -> str: ...
    @property
    def hour_start(self) -> datetime: ...
    @property
    def kind(self) -> str: ...
    @property
    def total(self) -> int: ...
    @property
    def baseline(self) -> float: ...
    @property
    def negative_share(self) -> float: ...
    @property
    def baseline_negative_share(self) -> float: ...


class DigestView(Protocol):
    """What the daily digest shows (``bot.services.reporting.digest_sections.DigestReport``
    has it; ``open_by_topic`` and ``share_of_voice`` are read when present)."""

    @property
    def timezone(self) -> str: ...
    @property
    def window_start(self) -> datetime: ...
    @property
    def window_end(self) -> datetime: ...
    @property
    def local_date(self) -> date: ...
    @property
    def empty(self) -> bool: ...
    @property
    def total(self) -> Count: ...
    @property
    def by_network(self) -> Sequence[tuple[str, Count]]: ...
    @property
    def by_sentiment(self) -> Sequence[tuple[str, Count]]: ...
    @property
    def responses(self) -> Responses: ...
    @property
    def open_total(self) -> int: ...
    @property
    def open_by_status(self) -> Mapping[str, int]: ...
    @property
    def overdue_count(self) -> int: ...
    @property
    def overdue(self) -> Sequence[DigestMention]: ...
    @property
    def top_authors(self) -> Sequence[ReportAuthor]: ...
    @property
    def top_priority(self) -> Sequence[DigestMention]: ...
    @property
    def waited(self) -> Sequence[WaitedMentions]: ...
    @property
    def spikes(self) -> Sequence[SpikeLine]: ...


class _UserCount(Protocol):
    @property
    def user_id(self) -> str: ...


class AgentWork(_UserCount, Protocol):
    """An agent's workload (``AgentLoad``)."""

    @property
    def assigned(self) -> int: ...
    @property
    def open(self) -> int: ...
    @property
    def answered(self) -> int: ...


class ApproverWork(_UserCount, Protocol):
    """An approver's decisions (``ApproverLoad``)."""

    @property
    def approved(self) -> int: ...
    @property
    def rejected(self) -> int: ...


class StatsView(Protocol):
    """What `/cm stats` shows (``bot.services.reporting.stats.StatsReport`` has it;
    ``opportunities`` is read when present)."""

    @property
    def days(self) -> int: ...
    @property
    def timezone(self) -> str: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def total(self) -> int: ...
    @property
    def by_sentiment(self) -> Mapping[str, int]: ...
    @property
    def by_network(self) -> Sequence[tuple[str, int]]: ...
    @property
    def trend(self) -> Sequence[tuple[date, float | None]]: ...
    @property
    def responses(self) -> Responses: ...
    @property
    def workload(self) -> Sequence[AgentWork]: ...
    @property
    def approvals(self) -> Sequence[ApproverWork]: ...
    @property
    def top_authors(self) -> Sequence[ReportAuthor]: ...
    @property
    def busiest_hours(self) -> Sequence[tuple[int, int]]: ...


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section, cut to Slack's limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip_mrkdwn(text, SECTION_LIMIT)}}


def context(text: str) -> dict[str, Any]:
    """A small-print context block."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(text, 2900)}]}


def header(text: str) -> dict[str, Any]:
    """A header block (plain text, 150 characters at most)."""
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT)}}


def signed(delta: int) -> str:
    """``+3``, ``-2`` or ``±0``."""
    return f"{delta:+d}" if delta else "±0"


def percent(share: float | None, language: str) -> str:
    """A share as a whole percentage, or a dash."""
    if share is None:
        return "–"
    return percent_words(share, language)


def spike_line(spike: SpikeLine, zone: str, language: str) -> str:
    """A spike of the day: when (in ``zone``), which watch, what stood out, and the hour's
    numbers against their usual level, as its alert gave them."""
    return t(language, "digest.spike_line", when=local_time(spike.hour_start, zone, language),
             watch=escape(spike.watch), kind=spike_kind(spike.kind, language),
             total=tally(spike.total, language),
             baseline=number(spike.baseline, language, decimals=1),
             share=percent_words(spike.negative_share, language),
             base_share=percent_words(spike.baseline_negative_share, language))


def local_time(moment: datetime, zone: str, language: str) -> str:
    """``25 Oct 09:00`` in ``zone``, the month in ``language``."""
    return day_month(moment.astimezone(ZoneInfo(zone)), language, clock=True)


def mention_line(line: DigestMention, language: str, *, show_status: bool = False,
                 text_limit: int = TEXT_LIMIT) -> str:
    """``• #12 [85] _billing_ Mastodon @ana: text… · story: 60 posts`` linking to the card
    (or the post), quoting at most ``text_limit`` characters of the post; a story's count
    when it is a story's first post."""
    who = f" {escape_name(truncate(line.author, 60))}" if line.author else ""
    topics = topic_words(getattr(line, "topics", ()), language)
    about = f" _{', '.join(topics)}_" if topics else ""
    body = escape(truncate(" ".join((line.title or line.text or "").split()), text_limit))
    status = f" · {t(language, f'status.{line.status}')}" if show_status else ""
    posts = getattr(line, "story_posts", 0)
    story = f" · {t(language, 'digest.story', count=posts)}" if posts > 1 else ""
    network = escape(network_name(line.network, language))
    head = f"{link(line.link, f'#{line.id}')} [{line.priority}]{about} {network}{who}"
    return f"• {t(language, 'punct.labelled', label=head, value=body)}{story}{status}"


def _volume_line(report: DigestView, language: str) -> str:
    # A window that is not one local day (23 to 25 hours: a daily run catching up after a
    # host down) is compared with the period as long before it: say so, not "the day before".
    hours = round((report.window_end - report.window_start).total_seconds() / 3600)
    key = "digest.volume" if 23 <= hours <= 25 else "digest.volume_period"
    return t(language, key, total=report.total.current, delta=signed(report.total.delta),
             previous=report.total.previous, hours=hours)


def _volume(report: DigestView, language: str) -> str:
    lines = [_volume_line(report, language)]
    lines.append("  ".join(
        f"{SENTIMENT_EMOJI.get(key, '')} {t(language, f'report.sentiment_{key}')} "
        f"{change.current} ({signed(change.delta)})" for key, change in report.by_sentiment))
    lines += ["• " + t(language, "punct.labelled", label=escape(network_name(name, language)),
                       value=f"{change.current} ({signed(change.delta)})")
              for name, change in report.by_network[:15]]
    return "\n".join(lines)


def _responses(responses: Responses, language: str) -> str:
    needed = t(language, plural_key(language, "digest.responses_needed", responses.actionable),
               count=responses.actionable)
    responded = t(language, plural_key(language, "digest.responses_answered",
                                       responses.responded), count=responses.responded)
    return t(language, "digest.responses", answered=responses.answered, of_needed=needed,
             share=percent(responses.answered_share, language),
             median=duration(responses.median_seconds, language),
             p90=duration(responses.p90_seconds, language), responded=responded)


def more_line(language: str, count: int, command: str) -> str:
    """``…and 3 more — `/cm mentions` to see them``: what a message left out to fit."""
    return t(language, "digest.more", count=tally(count, language), command=command)


def sections(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Lines as mrkdwn sections, as many lines in each as fit whole in its text (a line
    too long alone is clipped), so a long list runs on rather than losing its last lines."""
    blocks: list[dict[str, Any]] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and slack_len("\n".join([*chunk, line])) > SECTION_LIMIT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks


def _open(report: DigestView, language: str, cut: _Cut) -> list[str]:
    if not report.open_total:
        return [t(language, "digest.nothing_open")]
    statuses = ", ".join(
        t(language, plural_key(language, f"status_count.{status}", count),
          count=tally(count, language))
        for status, count in sorted(report.open_by_status.items()))
    lines = [t(language, "digest.open", count=report.open_total, statuses=statuses)]
    by_topic = getattr(report, "open_by_topic", [])
    if by_topic:
        lines.append(t(language, "digest.open_topics", topics=" · ".join(
            f"{word} {count}" for word, (_name, count) in zip(
                topic_words([name for name, _c in by_topic], language, len(by_topic)),
                by_topic, strict=True))))
    if report.overdue_count:
        lines.append(t(language, "digest.overdue", count=report.overdue_count))
        shown = report.overdue[:cut.overdue]
        lines += [mention_line(line, language, show_status=True,
                               text_limit=cut.text_limit) for line in shown]
        if len(shown) < len(report.overdue):
            lines.append(more_line(language, len(report.overdue) - len(shown),
                                   t(language, "digest.more_open")))
    else:
        lines.append(t(language, "digest.none_overdue"))
    return lines


def author_lines(authors: Sequence[ReportAuthor], language: str) -> str:
    """``• @ana (Mastodon) · 48,213 followers · 3 mentions`` per author."""
    return "\n".join(
        f"• {author_link(a.url, a.handle) if a.url else escape_name(a.handle)} "
        f"({escape(network_name(a.network, language))}) · "
        + t(language, "report.author_line" if a.followers is None
            else plural_key(language, "report.author_line", a.followers),
            followers=number(a.followers, language) if a.followers is not None else "?",
            mentions=a.mentions) for a in authors)


WAITED_GROUPS_SHOWN = 8


def _waited(report: DigestView, language: str, cut: _Cut) -> list[dict[str, Any]]:
    blocks = []
    left_out = 0
    groups = report.waited[:WAITED_GROUPS_SHOWN]
    for group in groups[:cut.waited_groups]:
        lines = [t(language, "digest.waited_group", watch=escape(group.watch_name),
                   count=group.count, threshold=group.threshold)]
        examples = group.examples[:cut.waited_examples]
        left_out += len(group.examples) - len(examples)
        lines += [mention_line(line, language, text_limit=cut.text_limit)
                  for line in examples]
        blocks.append(section("\n".join(lines)))
        if examples:
            blocks.append(should_alert_buttons([line.id for line in examples], language,
                                               watch_id=group.watch_id))
    left_out += sum(len(group.examples) or 1 for group in groups[cut.waited_groups:])
    if left_out:
        blocks.append(context(more_line(language, left_out, t(language, "digest.more_waited"))))
    return blocks


@dataclass(frozen=True, slots=True)
class _Cut:
    """How much of each part a digest shows; the fields are in the order the parts are
    cut to fit :data:`MESSAGE_TEXT_BUDGET`, the least important first: the glossary, then
    what a command or the channel shows again (share of voice, top authors, spikes),
    shorter quotes, the day's highest priority, and last the mentions still waiting for
    an answer: the examples that waited (no alert showed them, the digest is where the
    team sees them), those watches, the overdue ones."""

    definitions: int
    share_of_voice: int
    top_authors: int
    spikes: int
    excerpt: int
    """An index in :data:`EXCERPT_LIMITS`."""
    top_priority: int
    waited_examples: int
    waited_groups: int
    overdue: int

    @classmethod
    def whole(cls, report: DigestView) -> _Cut:
        """Everything the digest shows when it fits."""
        return cls(
            definitions=1,
            share_of_voice=len(getattr(report, "share_of_voice", [])[:SOV_GROUPS_SHOWN]),
            top_authors=len(report.top_authors), spikes=len(report.spikes[:SPIKES_SHOWN]),
            excerpt=len(EXCERPT_LIMITS) - 1, top_priority=len(report.top_priority),
            waited_examples=max((len(g.examples) for g in report.waited), default=0),
            waited_groups=len(report.waited[:WAITED_GROUPS_SHOWN]),
            overdue=len(report.overdue))

    @property
    def text_limit(self) -> int:
        """How much of a post its mention lines quote."""
        return EXCERPT_LIMITS[self.excerpt]

    def smaller(self) -> Iterator[_Cut]:
        """Ever smaller digests: one item less of the least important part left."""
        cut = self
        for part in fields(self):
            while getattr(cut, part.name) > 0:
                cut = replace(cut, **{part.name: getattr(cut, part.name) - 1})
                yield cut


SHOULD_ALERT_ACTION = "vigie.should_alert"


def should_alert_buttons(mention_ids: list[int], language: str, *,
                         watch_id: int | None = None) -> dict[str, Any]:
    """One "Should have alerted #N" button per mention that waited (feeds triage learning);
    action ids differ per button, as Slack wants within a block. ``watch_id``: the watch
    whose decision let them wait (the value says ``ID:wWATCH``), which the label judges
    rather than another watch the mention is in."""
    suffix = f":w{watch_id}" if watch_id is not None else ""
    return {"type": "actions", "elements": [
        {"type": "button", "action_id": f"{SHOULD_ALERT_ACTION}.{mention_id}",
         "value": f"{mention_id}{suffix}",
         "text": {"type": "plain_text", "text": t(language, "triage.button_should_alert",
                                                  id=mention_id)}}
        for mention_id in mention_ids[:5]]}


SPIKES_SHOWN = 10


def _more_section(shown: int, total: int, language: str, command_key: str | None) -> str:
    """The line that says a part's ``total - shown`` items were left out (none: "")."""
    if shown >= total:
        return ""
    if command_key is None:
        return "\n" + t(language, "digest.more_spikes", count=tally(total - shown, language))
    return "\n" + more_line(language, total - shown, t(language, command_key))


def build_digest_blocks(report: DigestView, language: str
                        ) -> tuple[str, list[dict[str, Any]]]:
    """The digest message: fallback text and blocks (one line when the day was empty).

    A busy day's digest keeps within :data:`MESSAGE_TEXT_BUDGET`: it drops the least
    important parts first (the definitions, share of voice, top authors, spikes, then
    shorter quotes, highest priority, and last the mentions still waiting for an answer:
    examples that waited, those watches, overdue mentions), each part saying what it
    left out and where to see it."""
    whole = _Cut.whole(report)
    fallback, blocks = _digest(report, language, whole)
    if blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET:
        return fallback, blocks
    for cut in whole.smaller():
        fallback, blocks = _digest(report, language, cut)
        if blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET:
            break
    return fallback, blocks


def _digest(report: DigestView, language: str, cut: _Cut
            ) -> tuple[str, list[dict[str, Any]]]:
    zone = report.timezone
    window = t(language, "digest.window", start=local_time(report.window_start, zone, language),
               end=local_time(report.window_end, zone, language), zone=zone)
    title = t(language, "digest.title", date=day_month(report.local_date, language, year=True))
    if report.empty:
        text = t(language, "digest.empty", window=window, open=report.open_total,
                 overdue=report.overdue_count)
        return text, [section(text)]
    blocks: list[dict[str, Any]] = [header(title), context(window),
                                    section(_volume(report, language)),
                                    section(_responses(report.responses, language)),
                                    *sections(_open(report, language, cut))]
    groups = getattr(report, "share_of_voice", [])[:SOV_GROUPS_SHOWN]
    blocks += [section(sov_line(sov, language)) for sov in groups[:cut.share_of_voice]]
    if cut.share_of_voice < len(groups):
        blocks.append(context(more_line(language, len(groups) - cut.share_of_voice,
                                        t(language, "digest.more_sov"))))
    if report.top_authors:
        blocks.append(section(t(language, "digest.top_authors") + "\n"
                              + author_lines(report.top_authors[:cut.top_authors], language)
                              + _more_section(cut.top_authors, len(report.top_authors),
                                              language, "digest.more_authors")))
    if report.spikes:
        spikes = report.spikes[:SPIKES_SHOWN]
        blocks.append(section(t(language, "digest.spikes") + "\n" + "\n".join(
            "• " + spike_line(s, zone, language) for s in spikes[:cut.spikes])
            + _more_section(cut.spikes, len(spikes), language, None)))
    if report.top_priority:
        blocks.append(section(t(language, "digest.top_priority") + "\n" + "\n".join(
            mention_line(line, language, text_limit=cut.text_limit)
            for line in report.top_priority[:cut.top_priority])
            + _more_section(cut.top_priority, len(report.top_priority), language,
                            "digest.more_open")))
    if report.waited:
        blocks.append(section(t(language, "digest.waited")))
        blocks += _waited(report, language, cut)
    if cut.definitions:
        blocks.append(context(t(language, "report.definitions")))
    fallback = t(language, "punct.labelled", label=title,
                 value=_volume_line(report, language))
    return fallback, blocks


def blocks_as_text(blocks: list[dict[str, Any]], zone: tzinfo = UTC) -> str:
    """Blocks rendered for a terminal: headers underlined, links as ``label (url)``, no
    Slack markup, dates in ``zone``."""
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            out += [title, "=" * len(title)]
        elif kind == "section":
            out += [mrkdwn_to_plain(block["text"]["text"], zone), ""]
        elif kind == "context":
            out += [mrkdwn_to_plain(" ".join(e.get("text", "") for e in block["elements"]),
                                    zone), ""]
    return "\n".join(out).rstrip() + "\n"


def build_stats_blocks(report: StatsView, language: str
                       ) -> tuple[str, list[dict[str, Any]]]:
    """`/cm stats`: volume, sentiment trend, responses, workload, approvals, authors, hours."""
    title = t(language, "stats.title", days=report.days)
    window = t(language, "digest.window",
               start=local_time(report.start, report.timezone, language),
               end=local_time(report.end, report.timezone, language), zone=report.timezone)
    blocks: list[dict[str, Any]] = [header(title), context(window)]
    if not report.total:
        text = t(language, "stats.empty", days=report.days)
        return text, [*blocks, section(text)]
    sentiments = "  ".join(
        f"{SENTIMENT_EMOJI.get(key, '')} {t(language, f'report.sentiment_{key}')} {count} "
        f"({percent(count / report.total, language)})"
        for key, count in report.by_sentiment.items() if count or key != "unknown")
    networks = ", ".join(f"{escape(network_name(name, language))} {count}"
                         for name, count in report.by_network[:12])
    blocks.append(section(t(language, "stats.volume", total=report.total,
                            per_day=number(report.total / report.days, language,
                                           decimals=1)) + "\n" + sentiments
                          + "\n" + networks))
    trend = report.trend
    if trend:
        blocks.append(section(t(language, "stats.trend", first=day_month(trend[0][0], language),
                                last=day_month(trend[-1][0], language),
                                before=percent(trend[0][1], language),
                                after=percent(trend[-1][1], language))))
    blocks.append(section(_responses(report.responses, language)))
    workload = "\n".join(
        "• " + t(language, "stats.agent_line", user=f"<@{row.user_id}>", assigned=row.assigned,
                 open=row.open, answered=row.answered) for row in report.workload[:15])
    blocks.append(section(t(language, "stats.workload") + "\n"
                          + (workload or t(language, "stats.no_workload"))))
    approvals = "\n".join(
        "• " + t(language, "stats.approval_line", user=f"<@{row.user_id}>",
                 approved=row.approved, rejected=row.rejected) for row in report.approvals[:15])
    blocks.append(section(t(language, "stats.approvals") + "\n"
                          + (approvals or t(language, "stats.no_approvals"))))
    found = getattr(report, "opportunities", {})
    if sum(found.values()):
        blocks.append(section(t(language, "opp.stats_line", total=sum(found.values()),
                                **{k: found.get(k, 0) for k in
                                   ("open", "assigned", "drafted", "contacted",
                                    "dismissed")})))
    if report.top_authors:
        blocks.append(section(t(language, "digest.top_authors") + "\n"
                              + author_lines(report.top_authors, language)))
    busiest = ", ".join(f"{hour:02d}:00 ({count})" for hour, count in report.busiest_hours)
    blocks.append(section(t(language, "stats.hours", zone=report.timezone, hours=busiest)))
    blocks.append(context(t(language, "report.definitions")))
    return title, blocks
