"""Mention volumes over report windows, read from the hourly counts the database keeps.

``mention_hour_counts`` and ``mention_priority_counts`` hold, per watch and UTC hour of
publication, exactly what a GROUP BY over the mention-watch links would give (database
triggers keep them in step). A mention counts once in each watch it belongs to, and once in
a workspace-wide figure. A scope of several watches sums its watches' counts, then takes
off the *doubles*: each link of a mention beyond its one link the scope counts (the first
link when the scope holds it, else the link of the scope's lowest watch id), read from the
links through a partial index that holds only links other than a mention's first (posts
in several watches), so a post counts once per scope. Mentions retention deleted stay in
the counts (``keep_counts_of``); the links of those that were in several watches are kept
in ``purged_links`` for the same correction, over the whole hours they are counted in.

A window is read as its whole UTC hours from those tables plus, from the links themselves,
the fringes at either end that do not fill an hour (a digest asked for at 14:37, a zone
offset by 30 minutes): a day costs a few hundred count rows instead of a pass over its
mentions. Over many days, the whole UTC days inside a window come from
``mention_day_counts`` (the hourly counts summed per UTC day, kept by the same triggers)
and only the hours at their edges from ``mention_hour_counts``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from storage.dialect import is_postgresql
from storage.models import Mention, Watch
from storage.models_privacy import PurgedLink
from storage.models_reporting import MentionDayCount, MentionHourCount, MentionPriorityCount
from storage.models_watches import MentionWatch
from storage.reporting_sql import beyond_first

UNKNOWN_SENTIMENT = "unknown"
NO_WATCH = 0
"""The ``watch_id`` the count tables use for mentions without a watch: the links of a
removed brand watch (or stored without one)."""
NO_COMPETITOR_WATCH = -1
"""The ``watch_id`` the count tables use for the links of a removed competitor's watch
(``mention_watches.competitor``, migration 0068): they stay out of the brand's figures."""
PLACEHOLDERS = (NO_WATCH, NO_COMPETITOR_WATCH)

VolumeKey = tuple[int | None, str, str]
"""(watch id or None, network, sentiment label or ``unknown``)."""


def hour_of(moment: datetime) -> int:
    """Hours since 1970-01-01 UTC of ``moment`` (aware), as the count tables store them."""
    return math.floor(moment.timestamp() / 3600)


def hour_start(hour: int) -> datetime:
    """The aware UTC start of a count-table hour."""
    return datetime.fromtimestamp(hour * 3600, tz=UTC)


@dataclass(frozen=True, slots=True)
class _Split:
    """A bucket [start, end) as whole hours [first, last) plus the fringes outside them."""

    first: int
    last: int
    fringes: tuple[tuple[datetime, datetime], ...]


def _split(start: datetime, end: datetime) -> _Split:
    first, last = math.ceil(start.timestamp() / 3600), math.floor(end.timestamp() / 3600)
    if first >= last:
        return _Split(0, 0, ((start, end),) if start < end else ())
    fringes = []
    if hour_start(first) > start:
        fringes.append((start, hour_start(first)))
    if hour_start(last) < end:
        fringes.append((hour_start(last), end))
    return _Split(first, last, tuple(fringes))


def counted_watch(link: Any) -> Any:
    """The count tables' watch id of a link (a ``MentionWatch`` or ``PurgedLink`` row), in
    SQL, as the triggers of migration 0068 compute it: its watch, else its side's
    placeholder."""
    return func.coalesce(link.watch_id, case((link.competitor.is_(True), NO_COMPETITOR_WATCH),
                                             else_=NO_WATCH))


def in_watches(link: Any, watch_ids: Sequence[int]) -> ColumnElement[bool]:
    """The links (``MentionWatch`` or ``PurgedLink``) counted under one of ``watch_ids``,
    which may hold the placeholders: a removed watch's links, of the side they name."""
    real = [watch_id for watch_id in watch_ids if watch_id not in PLACEHOLDERS]
    parts: list[ColumnElement[bool]] = [link.watch_id.in_(real)] if real else []
    for placeholder in PLACEHOLDERS:
        if placeholder in watch_ids:
            parts.append(and_(link.watch_id.is_(None),
                              link.competitor.is_(placeholder == NO_COMPETITOR_WATCH)))
    return or_(*parts) if parts else false()


def _count_scope(table: Any, workspace_id: int, watch_ids: tuple[int, ...] | None
                 ) -> list[ColumnElement[bool]]:
    """Count rows (or links) of some watches, or of the workspace: each mention once, by
    its first watch's link."""
    clauses: list[ColumnElement[bool]] = [table.workspace_id == workspace_id]
    if watch_ids is not None and table in (MentionWatch, PurgedLink):
        clauses.append(in_watches(table, watch_ids))
    elif watch_ids is not None:
        clauses.append(table.watch_id.in_(watch_ids) if watch_ids else false())
    else:
        clauses.append(table.is_first.is_(True))
    return clauses


def _doubles(workspace_id: int, watch_ids: tuple[int, ...] | None, link: Any = MentionWatch
             ) -> list[ColumnElement[bool]] | None:
    """The links a sum over ``watch_ids`` counts more than once (see the module docstring),
    or None when the scope cannot count a mention twice (the workspace, one watch).
    ``link`` is ``MentionWatch`` (stored mentions) or ``PurgedLink`` (mentions retention
    deleted, still in the counts: their links grouped by the id they had and their time)."""
    if watch_ids is None or len(watch_ids) < 2:
        return None
    other = aliased(link)
    same = [other.mention_id == link.mention_id]
    if link is PurgedLink:
        same += [other.workspace_id == link.workspace_id,
                 other.published_at == link.published_at]
    # The stored links' predicate spelled as ix_mention_watches_doubles's (``NOT
    # is_first``): SQLite reads that partial index only then, not for ``is_first = 0``, and
    # would otherwise walk every link of the window.
    beyond = beyond_first() if link is MentionWatch else ~link.is_first
    if not set(watch_ids) & set(PLACEHOLDERS):
        return [link.workspace_id == workspace_id, link.watch_id.in_(watch_ids), beyond,
                exists().where(*same, other.watch_id.in_(watch_ids),
                               or_(other.is_first.is_(True), other.watch_id < link.watch_id))]
    # Removed watches' links have no watch id, and a mention may have several of them
    # under one placeholder: ordered by counted watch, then by link.
    mine, theirs = counted_watch(link), counted_watch(other)
    return [link.workspace_id == workspace_id, in_watches(link, watch_ids), beyond,
            exists().where(*same, in_watches(other, watch_ids),
                           or_(other.is_first.is_(True), theirs < mine,
                               and_(theirs == mine, other.id < link.id)))]


def _link_hour(session: Session, table: str = "mention_watches") -> Any:
    """The count tables' hour of a link's published time (a row of ``table``), in SQL (as
    the triggers of migration 0016 compute it)."""
    return _link_period(session, 3600, table)


def _link_period(session: Session, seconds: int, table: str = "mention_watches") -> Any:
    """The count tables' hour (``seconds`` 3600) or day (86400) of the published time of a
    link (a row of ``table``), as a column, computed as the triggers of migrations 0025 and
    0030 do."""
    if is_postgresql(session):
        return literal_column(
            f"floor(extract(epoch FROM {table}.published_at) / {seconds})::integer", Integer)
    return literal_column(f"CAST(strftime('%s', substr({table}.published_at, 1, 19))"
                          f" AS INTEGER) / {seconds}", Integer)


def keep_counts_of(session: Session, mention_ids: Sequence[int]) -> None:
    """Count the links of the mentions ``mention_ids`` once more in the hourly, daily and
    priority counts, before the caller deletes those mentions: the links' delete triggers
    then count them down by as much, and every figure read from the count tables stays
    what it was. Retention deletes a mention's details, not its place in the figures. The
    links of those in several watches are copied to ``purged_links`` (what a report over
    several watches takes off so that a post counts once)."""
    if not mention_ids:
        return
    link = MentionWatch
    shared = (select(link.mention_id).where(link.mention_id.in_(list(mention_ids)))
              .group_by(link.mention_id).having(func.count() > 1))
    kept = ("workspace_id", "mention_id", "watch_id", "is_first", "network", "sentiment",
            "published_at", "priority", "competitor")
    session.execute(insert(PurgedLink).from_select(kept, select(
        *(getattr(link, name) for name in kept)).where(link.mention_id.in_(shared))
        .order_by(link.id)))
    watch = counted_watch(link)
    hour, day = _link_period(session, 3600), _link_period(session, 86400)
    upsert = postgresql.insert if is_postgresql(session) else sqlite.insert
    tables: tuple[tuple[Any, tuple[str, ...], list[Any], bool], ...] = (
        (MentionHourCount, ("workspace_id", "watch_id", "hour", "network", "sentiment",
                            "is_first"),
         [link.workspace_id, watch, hour, link.network, link.sentiment, link.is_first], True),
        (MentionDayCount, ("workspace_id", "watch_id", "day", "network", "sentiment",
                           "is_first"),
         [link.workspace_id, watch, day, link.network, link.sentiment, link.is_first], True),
        (MentionPriorityCount, ("workspace_id", "watch_id", "hour", "priority", "alerted",
                                "is_first"),
         [link.workspace_id, watch, hour, link.priority, link.alerted, link.is_first], False))
    for table, key, values, with_reach in tables:
        sums: list[Any] = [func.count()]
        summed = ["mentions"]
        if with_reach:
            sums.append(func.coalesce(func.sum(link.reach), 0))
            summed.append("reach")
        query = (select(*values, *sums).where(link.mention_id.in_(list(mention_ids)))
                 .group_by(*values).order_by(*values))  # rows in key order: no deadlock
        statement = upsert(table).from_select([*key, *summed], query)
        session.execute(statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: getattr(table, name) + statement.excluded[name] for name in summed}))


def _count_tables() -> tuple[tuple[Any, tuple[str, ...], tuple[str, ...]], ...]:
    """Each count table, its key and its summed columns."""
    return ((MentionHourCount, ("workspace_id", "watch_id", "hour", "network", "sentiment",
                                "is_first"), ("mentions", "reach")),
            (MentionDayCount, ("workspace_id", "watch_id", "day", "network", "sentiment",
                               "is_first"), ("mentions", "reach")),
            (MentionPriorityCount, ("workspace_id", "watch_id", "hour", "priority", "alerted",
                                    "is_first"), ("mentions",)))


def release_watch(session: Session, workspace_id: int, watch_id: int, *,
                  competitor: bool) -> None:
    """Before the watch ``watch_id`` (a competitor's when ``competitor``) is deleted, in
    the caller's transaction: its links (and the purged ones) lose their watch and keep its
    side, and every count of it moves to that side's placeholder (the links' through the
    triggers, those of mentions retention deleted here), so no figure of the brand or of
    the workspace changes with the removal."""
    for link in (MentionWatch, PurgedLink):
        session.execute(update(link).where(link.watch_id == watch_id)
                        .values(watch_id=None, competitor=competitor)
                        .execution_options(synchronize_session=False))
    side = NO_COMPETITOR_WATCH if competitor else NO_WATCH
    upsert = postgresql.insert if is_postgresql(session) else sqlite.insert
    for table, key, summed in _count_tables():
        rest = [getattr(table, name) for name in key if name != "watch_id"]
        values = [literal(side) if name == "watch_id" else getattr(table, name)
                  for name in key]
        query = (select(*values, *(func.sum(getattr(table, name)) for name in summed))
                 .where(table.workspace_id == workspace_id, table.watch_id == watch_id)
                 .group_by(*rest).having(func.sum(table.mentions) != 0)
                 .order_by(*rest))  # rows in key order: no deadlock
        statement = upsert(table).from_select([*key, *summed], query)
        session.execute(statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: getattr(table, name) + statement.excluded[name] for name in summed}))
        session.execute(delete(table).where(table.workspace_id == workspace_id,
                                            table.watch_id == watch_id))


def placeholders_counted(session: Session, workspace_id: int) -> set[int]:
    """The placeholders (``NO_WATCH``, ``NO_COMPETITOR_WATCH``) the workspace has counts
    under: a removed watch of that side, or mentions stored without a watch."""
    table = MentionHourCount
    return {placeholder for placeholder in PLACEHOLDERS if session.scalar(
        select(table.id).where(table.workspace_id == workspace_id,
                               table.watch_id == placeholder, table.mentions > 0).limit(1))
        is not None}


def _hour_bucket(column: Any, splits: Sequence[_Split]) -> Any:
    whens = [(and_(column >= split.first, column < split.last), literal(index))
             for index, split in enumerate(splits) if split.first < split.last]
    return case(*whens, else_=literal(-1)) if whens else literal(-1)


def _fringe_bucket(splits: Sequence[_Split], at: Any
                   ) -> tuple[Any, ColumnElement[bool]] | None:
    ranges = [(index, start, end) for index, split in enumerate(splits)
              for start, end in split.fringes]
    if not ranges:
        return None
    bucket = case(*[(and_(at >= start, at < end), literal(index))
                    for index, start, end in ranges], else_=literal(-1))
    where = or_(*[and_(at >= start, at < end) for _index, start, end in ranges])
    return bucket, where


HOURS_PER_DAY = 24


def _day_and_hour_ranges(split: _Split) -> list[tuple[Any, Any, int, int]]:
    """A split's whole hours as (table, column, first, last) ranges: its whole UTC days in
    ``mention_day_counts``, the hours before the first and after the last of them in
    ``mention_hour_counts``."""
    if split.first >= split.last:
        return []
    first_day = -(-split.first // HOURS_PER_DAY)
    last_day = split.last // HOURS_PER_DAY
    if first_day >= last_day:
        return [(MentionHourCount, MentionHourCount.hour, split.first, split.last)]
    ranges: list[tuple[Any, Any, int, int]] = [
        (MentionDayCount, MentionDayCount.day, first_day, last_day)]
    for first, last in ((split.first, first_day * HOURS_PER_DAY),
                        (last_day * HOURS_PER_DAY, split.last)):
        if first < last:
            ranges.append((MentionHourCount, MentionHourCount.hour, first, last))
    return ranges


def _count_scope_by_watch(session: Session, workspace_id: int,
                          watch_ids: tuple[int, ...] | None) -> list[int]:
    """The count tables' watch ids a scope reads: its watches, or the workspace's watches
    and the placeholders (the links of a deleted watch move there). Listing them lets a
    read of a few hours use the count tables' (workspace, watch, hour) index instead of
    scanning every row of the workspace."""
    if watch_ids is not None:
        return list(watch_ids)
    return [*PLACEHOLDERS, *session.scalars(select(Watch.id).where(
        Watch.workspace_id == workspace_id))]


def volume_by_bucket(session: Session, workspace_id: int, watch_ids: tuple[int, ...] | None,
                     edges: Sequence[datetime], *, days: bool = True
                     ) -> list[dict[VolumeKey, int]]:
    """Mentions per (watch, network, sentiment) in each [edges[i], edges[i+1]) bucket.

    The whole UTC days inside a bucket are read from ``mention_day_counts``, its other
    whole hours from ``mention_hour_counts`` (``days=False``: every whole hour from the
    hourly counts, the same figures; kept to compare the two), the fringes from the links.
    """
    buckets: list[dict[VolumeKey, int]] = [{} for _ in edges[1:]]
    if len(edges) < 2:
        return buckets
    splits = [_split(start, end) for start, end in itertools.pairwise(edges)]

    def add(index: int, watch_id: int | None, network: str, sentiment: str | None,
            count: int) -> None:
        if 0 <= index < len(buckets) and count:  # count rows emptied by deletes stay at 0
            key = (None if watch_id is None or watch_id in PLACEHOLDERS else watch_id, network,
                   sentiment or UNKNOWN_SENTIMENT)
            buckets[index][key] = buckets[index].get(key, 0) + int(count)

    whole = [split for split in splits if split.first < split.last]
    ranges = [(index, *part) for index, split in enumerate(splits)
              for part in _day_and_hour_ranges(split)] if days else []
    if ranges:
        # Whole UTC days from the day counts, the other whole hours from the hour counts:
        # one read of each table, every row placed in its bucket by a CASE.
        scope_watches = _count_scope_by_watch(session, workspace_id, watch_ids)
        for count_table in (MentionDayCount, MentionHourCount):
            mine = [(index, column, first, last)
                    for index, table, column, first, last in ranges if table is count_table]
            if not mine:
                continue
            column = mine[0][1]
            mine.sort(key=lambda part: part[2])
            # The WHERE keeps rows inside the ranges (adjacent ones merged: few terms), so
            # the CASE places a row by its first range ending after it.
            spans: list[list[int]] = []
            for _index, _column, first, last in mine:
                if spans and spans[-1][1] == first:
                    spans[-1][1] = last
                else:
                    spans.append([first, last])
            bucket = case(*[(column < last, literal(index))
                            for index, _column, _first, last in mine],
                          else_=literal(-1)).label("bucket")
            rows = session.execute(
                select(bucket, count_table.watch_id, count_table.network,
                       count_table.sentiment, func.sum(count_table.mentions))
                .where(*_count_scope(count_table, workspace_id, watch_ids),
                       count_table.watch_id.in_(scope_watches),
                       or_(*[and_(column >= first, column < last) for first, last in spans]))
                .group_by(bucket, count_table.watch_id, count_table.network,
                          count_table.sentiment)).all()
            for row in rows:
                add(*row)
    elif whole:
        # Hour by hour, as before the day counts (kept to compare the two).
        table = MentionHourCount
        bucket = _hour_bucket(table.hour, splits).label("bucket")
        rows = session.execute(
            select(bucket, table.watch_id, table.network, table.sentiment,
                   func.sum(table.mentions))
            .where(*_count_scope(table, workspace_id, watch_ids),
                   table.hour >= min(s.first for s in whole),
                   table.hour < max(s.last for s in whole))
            .group_by(bucket, table.watch_id, table.network, table.sentiment)).all()
        for row in rows:
            add(*row)
    # The fringes from some watches' links, or, workspace-wide, from the mentions (each
    # once, with its first watch): the columns counted are the same.
    if watch_ids is None:
        columns: tuple[Any, ...] = (Mention.published_at, Mention.watch_id, Mention.network,
                                    Mention.sentiment_label)
        scope = [Mention.workspace_id == workspace_id]
    else:
        link = MentionWatch
        columns = (link.published_at, link.watch_id, link.network, link.sentiment)
        scope = _count_scope(link, workspace_id, watch_ids)
    fringe = _fringe_bucket(splits, columns[0])
    if fringe is not None:
        bucket_expr, where = fringe
        bucket = bucket_expr.label("bucket")
        rows = session.execute(
            select(bucket, *columns[1:], func.count()).where(*scope, where)
            .group_by(bucket, *columns[1:])).all()
        for row in rows:
            add(*row)
    doubles = _doubles(workspace_id, watch_ids)
    if doubles is not None:
        link = MentionWatch
        whens = [(and_(link.published_at >= start, link.published_at < end), literal(index))
                 for index, (start, end) in enumerate(itertools.pairwise(edges))]
        bucket = case(*whens, else_=literal(-1)).label("bucket")
        for index, watch_id, network, sentiment, count in session.execute(
                select(bucket, link.watch_id, link.network, link.sentiment, func.count())
                .where(*doubles, link.published_at >= edges[0], link.published_at < edges[-1])
                .group_by(bucket, link.watch_id, link.network, link.sentiment)):
            add(index, watch_id, network, sentiment, -int(count))
        # Purged mentions count in the whole hours only (their fringes went with them).
        purged = PurgedLink
        inside = [(and_(purged.published_at >= hour_start(split.first),
                        purged.published_at < hour_start(split.last)), literal(index))
                  for index, split in enumerate(splits) if split.first < split.last]
        purged_doubles = _doubles(workspace_id, watch_ids, purged)
        if inside and purged_doubles is not None:
            bucket = case(*inside, else_=literal(-1)).label("bucket")
            for index, watch_id, network, sentiment, count in session.execute(
                    select(bucket, purged.watch_id, purged.network, purged.sentiment,
                           func.count())
                    .where(*purged_doubles, or_(*[when for when, _index in inside]))
                    .group_by(bucket, purged.watch_id, purged.network, purged.sentiment)):
                add(index, watch_id, network, sentiment, -int(count))
    return buckets


def waited_by_watch(session: Session, workspace_id: int, thresholds: dict[int, int],
                    start: datetime, end: datetime) -> dict[int, int]:
    """Per watch, the mentions of [start, end) not alerted and below its alert threshold."""
    if not thresholds:
        return {}
    split = _split(start, end)
    watch_ids = tuple(thresholds)
    counts: dict[int, int] = {}
    if split.first < split.last:
        table = MentionPriorityCount
        threshold = case(thresholds, value=table.watch_id, else_=-1)
        for watch_id, count in session.execute(
                select(table.watch_id, func.sum(table.mentions))
                .where(*_count_scope(table, workspace_id, watch_ids),
                       table.hour >= split.first, table.hour < split.last,
                       table.alerted.is_(False), table.priority < threshold)
                .group_by(table.watch_id)):
            counts[watch_id] = counts.get(watch_id, 0) + int(count)
    if split.fringes:
        link = MentionWatch
        threshold = case(thresholds, value=link.watch_id, else_=-1)
        for watch_id, count in session.execute(
                select(link.watch_id, func.count())
                .where(*_count_scope(link, workspace_id, watch_ids),
                       or_(*[and_(link.published_at >= a, link.published_at < b)
                             for a, b in split.fringes]),
                       link.alerted.is_(False), link.priority < threshold)
                .group_by(link.watch_id)):
            counts[watch_id] = counts.get(watch_id, 0) + int(count)
    return {watch_id: count for watch_id, count in counts.items() if count}


def utc_hour_totals(session: Session, workspace_id: int, watch_ids: tuple[int, ...] | None,
                    start: datetime, end: datetime) -> dict[datetime, int] | None:
    """Mentions per UTC hour (keyed by the hour's start) when [start, end) is whole hours.

    None when ``start`` or ``end`` falls inside an hour: the caller counts from mentions.
    """
    split = _split(start, end)
    if split.fringes or split.first >= split.last:
        return None
    table = MentionHourCount
    totals = {hour_start(hour): int(count) for hour, count in session.execute(
        select(table.hour, func.sum(table.mentions))
        .where(*_count_scope(table, workspace_id, watch_ids), table.hour >= split.first,
               table.hour < split.last)
        .group_by(table.hour))}
    for link in (MentionWatch, PurgedLink):
        doubles = _doubles(workspace_id, watch_ids, link)
        if doubles is None:
            break
        hour = _link_hour(session, link.__tablename__)
        for value, count in session.execute(
                select(hour, func.count()).where(
                    *doubles, link.published_at >= start,
                    link.published_at < end).group_by(hour)):
            key = hour_start(int(value))
            totals[key] = totals.get(key, 0) - int(count)
    return {key: count for key, count in totals.items() if count}



def priority_floor(session: Session, workspace_id: int, watch_ids: tuple[int, ...] | None,
                   start: datetime, end: datetime, needed: int) -> int | None:
    """A priority at or above which at least ``needed`` mentions of [start, end) are, so a
    query for the top ``needed`` by priority can skip everything below it.

    None when the window's whole hours do not hold ``needed`` mentions (no floor).
    """
    split = _split(start, end)
    if split.first >= split.last:
        return None
    table = MentionPriorityCount
    by_priority: dict[int, int] = {}
    for priority, count in session.execute(
            select(table.priority, func.sum(table.mentions))
            .where(*_count_scope(table, workspace_id, watch_ids), table.hour >= split.first,
                   table.hour < split.last)
            .group_by(table.priority)):
        by_priority[int(priority)] = int(count)
    for link in (MentionWatch, PurgedLink):
        doubles = _doubles(workspace_id, watch_ids, link)
        if doubles is None:
            break
        for priority, count in session.execute(
                select(link.priority, func.count()).where(
                    *doubles, link.published_at >= hour_start(split.first),
                    link.published_at < hour_start(split.last)).group_by(link.priority)):
            by_priority[int(priority)] = by_priority.get(int(priority), 0) - int(count)
    seen = 0
    for priority in sorted(by_priority, reverse=True):
        seen += by_priority[priority]
        if seen >= needed:
            return priority
    return None


def waiting_floors(session: Session, workspace_id: int, thresholds: dict[int, int],
                   start: datetime, end: datetime, needed: int) -> dict[int, int]:
    """Per watch, a priority floor (see ``priority_floor``) for its mentions of [start, end)
    not alerted and below its alert threshold; watches without one are left out."""
    split = _split(start, end)
    if split.first >= split.last or not thresholds:
        return {}
    table = MentionPriorityCount
    seen: dict[int, int] = {}
    floors: dict[int, int] = {}
    for watch_id, priority, count in session.execute(
            select(table.watch_id, table.priority, func.sum(table.mentions))
            .where(*_count_scope(table, workspace_id, tuple(thresholds)),
                   table.hour >= split.first, table.hour < split.last,
                   table.alerted.is_(False),
                   table.priority < case(thresholds, value=table.watch_id, else_=-1))
            .group_by(table.watch_id, table.priority)
            .order_by(table.watch_id, table.priority.desc())):
        if watch_id in floors:
            continue
        seen[watch_id] = seen.get(watch_id, 0) + int(count)
        if seen[watch_id] >= needed:
            floors[watch_id] = int(priority)
    return floors


Measures = tuple[int, int]
"""(mentions, summed reach)."""


def measures_by_bucket(session: Session, workspace_id: int, watch_ids: tuple[int, ...],
                       edges: Sequence[datetime]) -> list[dict[VolumeKey, Measures]]:
    """Per (watch, network, sentiment), the links of ``watch_ids`` and their summed reach in
    each [edges[i], edges[i+1]) bucket: whole UTC days from ``mention_day_counts``, the
    other whole hours from ``mention_hour_counts``, the fringes from the links. A mention
    linked to two of the watches counts in each."""
    buckets: list[dict[VolumeKey, Measures]] = [{} for _ in edges[1:]]
    if len(edges) < 2 or not watch_ids:
        return buckets
    splits = [_split(start, end) for start, end in itertools.pairwise(edges)]

    def add(index: int, watch_id: int, network: str, sentiment: str | None, count: int,
            reach: int | None) -> None:
        if 0 <= index < len(buckets) and count:
            key = (watch_id, network, sentiment or UNKNOWN_SENTIMENT)
            old = buckets[index].get(key, (0, 0))
            buckets[index][key] = (old[0] + int(count), old[1] + int(reach or 0))

    # Each bucket's whole UTC days from the day counts, the hours at its edges from the
    # hour counts, every part a range read of its own (cheaper than bucketing each row with
    # a CASE), and the fringes from the links: one statement.
    parts = []
    for index, split in enumerate(splits):
        for table, column, first, last in _day_and_hour_ranges(split):
            parts.append(
                select(literal(index).label("bucket"), table.watch_id, table.network,
                       table.sentiment, func.sum(table.mentions).label("mentions"),
                       func.sum(table.reach).label("reach"))
                .where(*_count_scope(table, workspace_id, watch_ids), column >= first,
                       column < last)
                .group_by(table.watch_id, table.network, table.sentiment))
    link = MentionWatch
    fringe = _fringe_bucket(splits, link.published_at)
    if fringe is not None:
        bucket_expr, where = fringe
        bucket = bucket_expr.label("bucket")
        parts.append(select(bucket, link.watch_id, link.network, link.sentiment,
                            func.count().label("mentions"), func.sum(link.reach).label("reach"))
                     .where(*_count_scope(link, workspace_id, watch_ids), where)
                     .group_by(bucket, link.watch_id, link.network, link.sentiment))
    if parts:
        for row in session.execute(union_all(*parts)):
            add(*row)
    return buckets
