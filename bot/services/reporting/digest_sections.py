"""The numbers of a channel's daily digest, computed with SQL aggregates (build_digest_report).

Definitions (actionable, answered, open, overdue, first-response time) are those of
``bot.services.reporting.queries``. The digest's day is the local day ending at ``end``:
from the same wall-clock time the day before (23 or 25 hours when clocks change), compared
with the local day before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from bot.analysis.topics import TOPICS
from bot.messages.digest import CountData
from bot.messages.spikes import SpikeFigures
from bot.services.competitors import groups_of
from bot.services.reporting.overdue import overdue_now
from bot.services.reporting.periods import day_window, local_days
from bot.services.reporting.queries import (
    MAX_PRIORITY,
    SENTIMENT_LABELS,
    UNKNOWN,
    AuthorReach,
    MentionLine,
    ResponseTimes,
    Scope,
    alerted_elsewhere,
    count_if,
    first_posts,
    in_window,
    largest_spikes,
    mention_lines,
    open_here,
    ranked_topics,
    response_times,
    scope_volume,
    sentiment_series,
    top_authors,
    topic_columns,
)
from bot.services.reporting.schedule import DigestChannel
from bot.services.reporting.share_of_voice import SovReport, share_of_voice
from bot.services.triage_learning import effective_threshold, shifts_in_force
from storage.bulk import one_of
from storage.models import Mention, MentionStatus, Watch
from storage.models_competitors import WATCH_BRAND
from storage.models_watches import MentionWatch
from storage.reporting_counts import (
    priority_floor,
    waited_by_watch,
    waiting_floors,
)
from storage.reporting_sql import beyond_first, not_alerted_link

CHART_DAYS = 14
TOP_PRIORITY = 5
TOP_AUTHORS = 5
OVERDUE_SHOWN = 10
MAX_SPIKES = 10
WAITED_EXAMPLES = 3
SERIES_KEYS = (*SENTIMENT_LABELS, UNKNOWN)
DAY = timedelta(days=1)
DST_SLACK = timedelta(hours=1)
"""A local day is 23 to 25 hours long (Lord Howe's half-hour change included)."""


def day_spikes(session: Session, scope: Scope, start: datetime, end: datetime
               ) -> list[SpikeFigures]:
    """The spikes of the scope's watches whose hour began in [start, end), in the order
    they happened: the ``MAX_SPIKES`` largest when there were more."""
    return sorted(largest_spikes(session, scope, start, end, MAX_SPIKES),
                  key=lambda spike: (spike.hour_start, spike.watch))


@dataclass(frozen=True, slots=True)
class WaitedGroup:
    """Mentions of one watch that stayed below its alert threshold: they waited for this."""

    watch_name: str
    threshold: int
    """The threshold they waited under: the highest the learned shift took the watch's to
    over the window (``_watches``)."""
    count: int
    examples: list[MentionLine]
    watch_id: int | None = None
    """The watch whose decision let them wait: what their "Should have alerted" judges."""


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One local day of the chart: mentions by sentiment."""

    day: date
    counts: dict[str, int]


@dataclass(frozen=True)
class DigestReport:
    """Everything a digest shows, for one channel and one local day."""

    channel_id: str
    timezone: str
    window_start: datetime
    window_end: datetime
    as_of: datetime
    total: CountData
    by_network: list[tuple[str, CountData]]
    by_sentiment: list[tuple[str, CountData]]
    responses: ResponseTimes
    open_by_status: dict[str, int]
    overdue_count: int
    overdue: list[MentionLine]
    top_authors: list[AuthorReach]
    top_priority: list[MentionLine]
    waited: list[WaitedGroup]
    chart: list[DayCounts]
    spikes: list[SpikeFigures] = field(default_factory=list)
    open_by_topic: list[tuple[str, int]] = field(default_factory=list)
    """Open work by request topic (billing, outage...), most first."""
    share_of_voice: list[SovReport] = field(default_factory=list)
    """The day's share of voice of the groups holding one of the channel's watches, against
    the day before."""

    @property
    def empty(self) -> bool:
        """True when no mention arrived in the digest's day."""
        return self.total.current == 0

    @property
    def open_total(self) -> int:
        """All open mentions."""
        return sum(self.open_by_status.values())

    @property
    def local_date(self) -> date:
        """The local date the digest is for (the day its window ends)."""
        return self.window_end.astimezone(ZoneInfo(self.timezone)).date()


@dataclass
class _DayCounts:
    """Volumes of the digest's day (slot 0) and the day before (slot 1), and what waited."""

    totals: list[int] = field(default_factory=lambda: [0, 0])
    networks: dict[str, list[int]] = field(default_factory=dict)
    sentiments: dict[str, list[int]] = field(
        default_factory=lambda: {key: [0, 0] for key in SERIES_KEYS})
    waited: dict[int, int] = field(default_factory=dict)
    alerted_here: dict[int, list[int]] = field(default_factory=dict)
    """Per watch, its waited mentions (stored) that another of the scope's alerts covers."""


def _found_late(workspace_id: int, previous_start: datetime, start: datetime,
                found_after: datetime) -> ColumnElement[bool]:
    """The links (``mention_watches``) of the mentions published in [previous_start, start)
    that Vigie found after ``found_after``, when the digest of that period was built: no
    digest showed them (read by ``Mention``'s (workspace_id, created_at) index)."""
    return MentionWatch.mention_id.in_(select(Mention.id).where(
        Mention.workspace_id == workspace_id, Mention.created_at > found_after,
        Mention.published_at >= previous_start, Mention.published_at < start))


def _day_pass(session: Session, scope: Scope, counted: Scope, thresholds: dict[int, int],
              previous_start: datetime, start: datetime, end: datetime,
              found_after: datetime | None = None) -> _DayCounts:
    # Volumes of both days (``counted``: the brand's part of the scope) and what waited,
    # from the hourly counts; the answered figures through their partial indexes: nothing
    # here reads every mention of the day.
    previous, current = scope_volume(session, counted, [previous_start, start, end])
    out = _DayCounts()
    for slot, volume in ((0, current), (1, previous)):
        for (_watch, network, label), count in volume.items():
            label = label if label in out.sentiments else UNKNOWN
            out.totals[slot] += count
            out.networks.setdefault(network, [0, 0])[slot] += count
            out.sentiments[label][slot] += count
    if found_after is not None:
        # Found after the previous digest was built: counted here, not in the period
        # before, so each mention is in one digest's figures and the "day before" is what
        # that digest said.
        for network, label, count in session.execute(
                select(Mention.network, Mention.sentiment_label, func.count())
                .where(*counted.where(), Mention.created_at > found_after,
                       Mention.published_at >= previous_start, Mention.published_at < start)
                .group_by(Mention.network, Mention.sentiment_label)):
            label = label if label in out.sentiments else UNKNOWN
            for slot, sign in ((0, 1), (1, -1)):
                out.totals[slot] += sign * count
                out.networks.setdefault(network, [0, 0])[slot] += sign * count
                out.sentiments[label][slot] += sign * count
    waited = waited_by_watch(session, scope.workspace_id, thresholds, start, end)
    if found_after is not None and thresholds:
        link = MentionWatch
        threshold = case(thresholds, value=link.watch_id, else_=-1)
        for watch_id, count in session.execute(
                select(link.watch_id, func.count())
                .where(link.workspace_id == scope.workspace_id,
                       link.watch_id.in_(sorted(thresholds)), not_alerted_link(),
                       link.priority < threshold,
                       _found_late(scope.workspace_id, previous_start, start, found_after))
                .group_by(link.watch_id)):
            waited[watch_id] = waited.get(watch_id, 0) + int(count)
    out.alerted_here = _alerted_here_too(session, scope, thresholds, start, end)
    out.waited = {watch_id: count - len(out.alerted_here.get(watch_id, ()))
                  for watch_id, count in waited.items()}
    out.waited = {watch_id: count for watch_id, count in out.waited.items() if count > 0}
    return out


def _alerted_here_too(session: Session, scope: Scope, thresholds: dict[int, int],
                      start: datetime, end: datetime) -> dict[int, list[int]]:
    """Per watch of ``thresholds``, the ids of its mentions of [start, end) that it held
    below its threshold while another of the scope's alerts (``Scope.alerts_here``: a
    watch of the same channel, or a route to it) covered them: the digest counts those as
    alerted, so they did not wait for it. Such a mention is in several watches: the
    candidates are the window's links beyond a first (their partial index) of the scope's
    watches and routes' watches that have another link among those, whose links then
    decide. With one such watch (a channel of one watch, no route) there are none."""
    watches = sorted({*thresholds, *(watch_id for watch_id, _mask in scope.routes)})
    if not thresholds or len(watches) < 2:
        return {}
    beyond, other = MentionWatch, aliased(MentionWatch)
    candidates = list(session.scalars(
        select(beyond.mention_id).distinct().where(
            beyond.watch_id.in_(watches), beyond.published_at >= start,
            beyond.published_at < end, beyond_first(),
            exists().where(other.mention_id == beyond.mention_id, other.watch_id.in_(watches),
                           other.watch_id != beyond.watch_id))))
    if not candidates:
        return {}
    links: dict[int, list[tuple[int | None, bool, int, bool]]] = {}
    masks: dict[int, int] = {}
    for mention_id, watch_id, alerted, priority, first, mask in session.execute(
            select(MentionWatch.mention_id, MentionWatch.watch_id, MentionWatch.alerted,
                   MentionWatch.priority, MentionWatch.is_first, Mention.topic_mask)
            .join(Mention, Mention.id == MentionWatch.mention_id)
            .where(one_of(session, MentionWatch.mention_id, sorted(candidates)))):
        links.setdefault(mention_id, []).append(
            (watch_id, bool(alerted), int(priority), bool(first)))
        masks[mention_id] = int(mask or 0)
    covered: dict[int, list[int]] = {}
    for mention_id, held in links.items():
        if not any(alerted and scope.alerts_here(watch_id, masks[mention_id])
                   for watch_id, alerted, _priority, _first in held):
            continue
        for watch_id, alerted, priority, first in held:
            # The whole workspace's counts hold each mention once, by its first link.
            counted = first or scope.watch_ids is not None
            if (counted and watch_id is not None and watch_id in thresholds and not alerted
                    and priority < thresholds[watch_id]):
                covered.setdefault(watch_id, []).append(mention_id)
    return covered


def _volume(counts: _DayCounts
            ) -> tuple[CountData, list[tuple[str, CountData]], list[tuple[str, CountData]]]:
    by_network = sorted(((name, CountData(*pair)) for name, pair in counts.networks.items()),
                        key=lambda item: (-item[1].current, -item[1].previous, item[0]))
    by_sentiment = [(key, CountData(*counts.sentiments[key])) for key in SERIES_KEYS
                    if key != UNKNOWN or any(counts.sentiments[UNKNOWN])]
    return CountData(*counts.totals), by_network, by_sentiment


@dataclass(frozen=True, slots=True)
class _OpenWork:
    """The open-work figures of a digest (``_open``)."""

    by_status: dict[str, int]
    overdue_count: int
    overdue: list[MentionLine]
    by_topic: list[tuple[str, int]]
    in_window: int | None
    """Open work published in the digest's window, when counted with the rest."""
    elsewhere: list[int]
    """The scope's open work alerted only elsewhere, left out (``alerted_elsewhere``)."""


def _open(session: Session, scope: Scope, now: datetime, start: datetime, end: datetime
          ) -> _OpenWork:
    # The channel's open work: a mention alerted only in another channel, that nobody took
    # up, is not (``bot.services.reporting.queries``); it waited for this digest.
    elsewhere = alerted_elsewhere(session, scope)
    still_open = and_(*scope.where(), open_here(elsewhere), Mention.published_at <= now)
    # One pass over the open-work partial index counts them all (by status, by topic, in
    # the window), grouped in the index's order (status, watch, priority): no sort, no
    # temporary table, and the index holds every column read (no row visited). The
    # window's open work is all of it published in [start, end): counted here when none of
    # that is after ``now``.
    windowed = end <= now
    by_status: dict[str, int] = {}
    windowed_count = 0
    topics = [0] * len(TOPICS)
    for status, _watch, _priority, count, recent, *by_topic in session.execute(
            select(Mention.status, Mention.watch_id, Mention.priority, func.count(),
                   count_if(and_(*in_window(start, end)))
                   if windowed else literal(0), *topic_columns())
            .where(still_open).group_by(Mention.status, Mention.watch_id, Mention.priority)):
        by_status[status] = by_status.get(status, 0) + int(count)
        windowed_count += int(recent)
        topics = [total + int(more) for total, more in zip(topics, by_topic, strict=True)]
    # Overdue as Home, the cards and the breach notices say it: business hours respected.
    late = overdue_now(session, scope, still_open, now, keep=OVERDUE_SHOWN)
    order = (Mention.priority.desc(), Mention.published_at, Mention.id)
    lines = mention_lines(session, Mention.id.in_([m.id for m in late.first]),
                          order_by=order, limit=OVERDUE_SHOWN) if late.first else []
    return _OpenWork(by_status, late.count, lines, ranked_topics(topics),
                     windowed_count if windowed else None, elsewhere)


def _top_priority(session: Session, scope: Scope, start: datetime, end: datetime
                  ) -> list[MentionLine]:
    # The counts hold no topics: a route's scope has no floor, and needs none, its window
    # being only its topics' mentions, read through ix_mentions_topic_window (``routed``).
    floor = None if scope.by_topic else priority_floor(
        session, scope.workspace_id, scope.watch_ids, start, end, TOP_PRIORITY)
    # Bounded on both sides so the planner walks ix_mentions_priority over the few top
    # priorities instead of sorting the day (a lone lower bound reads as unselective).
    # A follow-up is listed through its case's first mention, and a story's post through
    # its first post (with the story's count), not on their own: a copy-paste campaign
    # would take every place.
    where = [*scope.where(), *in_window(start, end),
             Mention.status != MentionStatus.FOLLOW_UP.value, first_posts()]
    order = (Mention.priority.desc(), Mention.published_at.desc(), Mention.id.desc())
    lines = mention_lines(session, *where, *([] if floor is None else
                                             [Mention.priority.between(floor, MAX_PRIORITY)]),
                          order_by=order, limit=TOP_PRIORITY)
    if floor is not None and len(lines) < TOP_PRIORITY:
        # The floor counted the follow-ups and story posts left out, and the counts still
        # hold mentions retention deleted: the rest lies below it, or it is above all that
        # is stored.
        lines = mention_lines(session, *where, order_by=order, limit=TOP_PRIORITY)
    return lines


# The priority as an expression no index orders by: the planners then start from the
# watch's links of the window (few above the floor) and sort those, instead of walking
# ix_mentions_priority down from the workspace's highest priorities, probing every mention
# for a link (PostgreSQL did: seconds at a million mentions).
_WAITED_ORDER = ((Mention.priority + literal_column("0")).desc(), Mention.id.desc())


def _waited(session: Session, scope: Scope, watches: dict[int, tuple[str, int]],
            counts: dict[int, int], start: datetime, end: datetime,
            alerted_here: dict[int, list[int]],
            late: ColumnElement[bool] | None = None) -> list[WaitedGroup]:
    groups = []
    floors = waiting_floors(session, scope.workspace_id,
                            {watch_id: watches[watch_id][1] for watch_id in counts},
                            start, end, WAITED_EXAMPLES)
    for watch_id, count in sorted(counts.items(),
                                  key=lambda item: (-item[1], watches[item[0]][0])):
        name, threshold = watches[watch_id]
        floor = floors.get(watch_id)
        # What waited in this watch: its own links' priority and alert decision.
        link = MentionWatch
        window = and_(link.published_at >= start, link.published_at < end)
        waited = [link.watch_id == watch_id, window if late is None else or_(window, late),
                  not_alerted_link(), link.priority < threshold]
        # Less what another of the channel's alerts covered (``_alerted_here_too``).
        covered = alerted_here.get(watch_id)
        if covered:
            waited.append(link.mention_id.not_in(sorted(covered)))
        # A story's examples are its first post alone (with the story's count).
        examples = mention_lines(
            session, Mention.workspace_id == scope.workspace_id, first_posts(),
            Mention.id.in_(select(link.mention_id).where(
                *waited, *([] if floor is None else [link.priority >= floor]))),
            order_by=_WAITED_ORDER, limit=WAITED_EXAMPLES)
        if floor is not None and len(examples) < WAITED_EXAMPLES:
            # Counted mentions retention deleted, or the story posts left out, can put the
            # floor above what is listed.
            examples = mention_lines(
                session, Mention.workspace_id == scope.workspace_id, first_posts(),
                Mention.id.in_(select(link.mention_id).where(*waited)),
                order_by=_WAITED_ORDER, limit=WAITED_EXAMPLES)
        groups.append(WaitedGroup(name, threshold, count, examples, watch_id))
    return groups


def chart_series(session: Session, config: DigestChannel, end: datetime,
                 cached: dict[str, list[int]] | None = None) -> list[DayCounts]:
    """Mentions by sentiment for each of the last 14 local days (the last one ends at ``end``).

    ``cached`` maps ISO dates of complete days to counts kept by an earlier run; the other
    days are read from the hourly counts in one query.
    """
    days = local_days(end.astimezone(config.tz).date(), CHART_DAYS, config.tz)
    cached = cached or {}
    known = {day: dict(zip(SERIES_KEYS, cached[day.isoformat()], strict=True))
             for day, _s, day_end in days if day.isoformat() in cached and day_end <= end}
    missing = [(day, day_start, min(day_end, end)) for day, day_start, day_end in days
               if day not in known]
    if missing:
        first, last = missing[0][1], missing[-1][2]
        span = [(day, day_start) for day, day_start, _e in days
                if first <= day_start < last]
        series = sentiment_series(session, config.volume_scope,
                                  [s for _d, s in span] + [last])
        for (day, _start), day_counts in zip(span, series, strict=True):
            known.setdefault(day, day_counts)
    return [DayCounts(day, known.get(day, dict.fromkeys(SERIES_KEYS, 0)))
            for day, _s, _e in days]


def complete_days(report_chart: list[DayCounts], config: DigestChannel, end: datetime
                  ) -> dict[str, list[int]]:
    """The chart's days that are over at ``end``, in the form ``chart_series`` reuses."""
    over = {day for day, _start, day_end in local_days(
        end.astimezone(config.tz).date(), CHART_DAYS, config.tz) if day_end <= end}
    return {item.day.isoformat(): [item.counts[key] for key in SERIES_KEYS]
            for item in report_chart if item.day in over}


def build_digest_report(session: Session, config: DigestChannel, *, end: datetime,
                        now: datetime, cached_days: dict[str, list[int]] | None = None,
                        start: datetime | None = None, found_after: datetime | None = None
                        ) -> DigestReport:
    """The digest of ``config``'s channel for [``start``, ``end``), by default the local
    day ending at ``end``; open and overdue work is as of ``now``. Volumes, the chart, top
    priority and top authors count the brand's part of the channel's scope
    (``DigestChannel.volume_scope``); open work, answers and what waited, the whole scope.
    Volumes compare with the previous local day, or, for a window that is not a day (a
    daily run catching up: ``bot.services.reporting.digest``), the period as long just
    before it. ``found_after``: when the digest ending at ``start`` was built; the mentions
    of the period before found after it (a post of 08:55 found at 09:05, after the 09:00
    digest) are in no digest yet: they count in this one's volumes and what waited, and
    leave the period before's figures, which stay those that digest showed."""
    scope, counted = config.scope, config.volume_scope
    day_start, end = day_window(end, config.tz)
    start = day_start if start is None else start.astimezone(UTC)
    if abs((end - start) - DAY) <= DST_SLACK:
        previous_start, _ = day_window(start, config.tz)
    else:
        previous_start = start - (end - start)
    watches = _watches(session, scope, start, end)
    counts = _day_pass(session, scope, counted,
                       {wid: th for wid, (_n, th) in watches.items()}, previous_start, start,
                       end, found_after)
    late = None if found_after is None else _found_late(
        scope.workspace_id, previous_start, start, found_after)
    total, by_network, by_sentiment = _volume(counts)
    open_work_now = _open(session, scope, now, start, end)
    top = _top_priority(session, counted, start, end) if total.current else []
    return DigestReport(
        channel_id=config.channel_id, timezone=config.timezone_name, window_start=start,
        window_end=end, as_of=now, total=total, by_network=by_network,
        by_sentiment=by_sentiment,
        responses=response_times(session, scope, start, end, open_work_now.in_window,
                                 open_work_now.elsewhere),
        open_by_status=open_work_now.by_status, overdue_count=open_work_now.overdue_count,
        overdue=open_work_now.overdue, open_by_topic=open_work_now.by_topic,
        top_authors=top_authors(session, counted, start, end, TOP_AUTHORS)
        if total.current else [],
        top_priority=top,
        waited=_waited(session, scope, watches, counts.waited, start, end,
                       counts.alerted_here, late),
        chart=chart_series(session, config, end, cached_days),
        spikes=day_spikes(session, scope, start, end),
        share_of_voice=_share_of_voice(session, scope, previous_start, start, end),
    )


def _share_of_voice(session: Session, scope: Scope, previous_start: datetime,
                    start: datetime, end: datetime) -> list[SovReport]:
    """Share of voice of the groups one of the channel's watches belongs to."""
    groups = [g for g in groups_of(session, scope.workspace_id)
              if scope.watch_ids is None or any(m.watch_id in scope.watch_ids
                                                for m in g.members)]
    return [share_of_voice(session, scope.workspace_id, g, start, end, previous_start)
            for g in groups]


def _watches(session: Session, scope: Scope, start: datetime, end: datetime
             ) -> dict[int, tuple[str, int]]:
    # Brand watches only: a competitor's watch never alerts, so nothing of it "waited".
    query = select(Watch.id, Watch.name, Watch.alert_threshold).where(
        Watch.workspace_id == scope.workspace_id, Watch.kind == WATCH_BRAND)
    if scope.watch_ids is not None:
        query = query.where(Watch.id.in_(scope.watch_ids))
    # What waited is what ingest held (the link's ``alerted``) below the threshold it
    # used: the highest the learned shift took it to in the window, not today's (after a
    # reset or a step down, what waited under the higher one is above it). Below it, a
    # link that did not alert waited; above it, it was carded another way (its story's or
    # its case's card), or never meant to alert (backfill).
    offset = max(shifts_in_force(session, scope.workspace_id, start, end))
    return {wid: (name, effective_threshold(threshold, offset))
            for wid, name, threshold in session.execute(query)}


def series_key(config: DigestChannel) -> dict[str, Any]:
    """What a cached chart series depends on: the zone and the watches counted."""
    counted = config.volume_scope
    ids = counted.watch_ids
    key: dict[str, Any] = {"tz": config.timezone_name,
                           "watches": list(ids) if ids is not None else None}
    if counted.routes:
        key["routes"] = [list(route) for route in counted.routes]
    return key
