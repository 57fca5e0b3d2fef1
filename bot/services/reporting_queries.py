"""SQL aggregates shared by the digest and the statistics (GROUP BY, COUNT, conditional sums).

Definitions used everywhere in reports:

- A mention is *actionable* when it was not ignored (status other than ``ignored``) and its
  intent is not ``spam``: the mentions someone could reasonably be expected to answer.
- A mention is *answered* when it has a first response or a reply time
  (``first_response_at`` or ``replied_at`` set, which "mark replied" and posting do).
- The *first-response time* is ``first_response_at - created_at`` (``created_at`` is when
  Vigie stored the mention, the moment the team could first see it).
- A mention is *open* when it is actionable, its status is one of new, assigned, drafting,
  awaiting_approval or approved, and it is in the reply workflow: it was alerted as a card
  or someone took it up (status other than new). Low-priority mentions that only waited for
  the digest are not counted as open work until someone picks one up.
- It is *overdue* when it has been open longer than its watch's SLA for its priority:
  priority >= 80 uses ``sla_urgent_minutes``, >= 60 ``sla_high_minutes``, else
  ``sla_normal_minutes``.

Report windows always select on ``created_at`` (indexed with the workspace), so a mention
published late is counted on the day Vigie found it, once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, false, func, literal, or_, select, text
from sqlalchemy.orm import Session

from storage.models import Author, Mention, MentionStatus, Watch
from storage.models_reporting import OPEN_WORK_SQL

OPEN_STATUSES = (
    MentionStatus.NEW.value, MentionStatus.ASSIGNED.value, MentionStatus.DRAFTING.value,
    MentionStatus.AWAITING_APPROVAL.value, MentionStatus.APPROVED.value,
)
SENTIMENT_LABELS = ("negative", "neutral", "positive")
UNKNOWN = "unknown"
URGENT_PRIORITY = 80
HIGH_PRIORITY = 60
DEFAULT_SLA_MINUTES = (60, 240, 1440)
"""Urgent, high, normal: the Watch defaults, used for mentions without a watch."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which mentions a report covers: a workspace, and some of its watches (None: all)."""

    workspace_id: int
    watch_ids: tuple[int, ...] | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses selecting this scope's mentions."""
        clauses: list[ColumnElement[bool]] = [Mention.workspace_id == self.workspace_id]
        if self.watch_ids is not None:
            clauses.append(Mention.watch_id.in_(self.watch_ids) if self.watch_ids else false())
        return clauses


@dataclass(frozen=True, slots=True)
class ResponseTimes:
    """Answered share and first-response times (seconds) of a set of mentions."""

    actionable: int
    answered: int
    responded: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def answered_share(self) -> float | None:
        """answered / actionable, or None when nothing was actionable."""
        return self.answered / self.actionable if self.actionable else None


@dataclass(frozen=True, slots=True)
class AuthorReach:
    """An author of mentions in a period, with their reach."""

    handle: str
    name: str | None
    network: str
    followers: int | None
    url: str | None
    mentions: int


@dataclass(frozen=True, slots=True)
class MentionLine:
    """One mention as reports list it, with a link to its card (or to the post)."""

    id: int
    network: str
    author: str | None
    text: str
    title: str | None
    priority: int
    status: str
    created_at: datetime
    watch_name: str | None
    url: str
    card_url: str | None

    @property
    def link(self) -> str:
        """The card when there is one, else the post."""
        return self.card_url or self.url


def dialect(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def in_window(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Mentions stored in [start, end)."""
    return [Mention.created_at >= start, Mention.created_at < end]


def actionable() -> ColumnElement[bool]:
    """See the module docstring."""
    return and_(Mention.status != MentionStatus.IGNORED.value,
                func.coalesce(Mention.intent, "") != "spam")


def answered() -> ColumnElement[bool]:
    """See the module docstring."""
    return or_(Mention.first_response_at.is_not(None), Mention.replied_at.is_not(None))


def open_work() -> ColumnElement[bool]:
    """See the module docstring (the SQL is the partial index's predicate, verbatim)."""
    return text(OPEN_WORK_SQL)  # type: ignore[return-value]


def count_if(condition: ColumnElement[bool]) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), portable conditional count."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def seconds_between(later: Any, earlier: Any, dialect_name: str) -> Any:
    """``later - earlier`` in seconds as a SQL expression."""
    if dialect_name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def card_url(channel: str | None, ts: str | None) -> str | None:
    """The permalink of a posted card, built without calling ``chat.getPermalink``."""
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def sla_overdue(watches: Sequence[tuple[int | None, int, int, int]],
                now: datetime) -> ColumnElement[bool]:
    """Open longer than the SLA of the mention's watch and priority band.

    ``watches`` holds (watch id or None for mentions without a watch, urgent, high, normal
    minutes). The cut-offs are computed here, so the SQL only compares ``created_at`` with
    constants and works the same on both engines.
    """
    clauses: list[ColumnElement[bool]] = []
    for watch_id, urgent, high, normal in watches:
        same_watch = Mention.watch_id.is_(None) if watch_id is None else (
            Mention.watch_id == watch_id)
        clauses.append(and_(same_watch, or_(
            and_(Mention.priority >= URGENT_PRIORITY,
                 Mention.created_at < now - timedelta(minutes=urgent)),
            and_(Mention.priority >= HIGH_PRIORITY, Mention.priority < URGENT_PRIORITY,
                 Mention.created_at < now - timedelta(minutes=high)),
            and_(Mention.priority < HIGH_PRIORITY,
                 Mention.created_at < now - timedelta(minutes=normal)),
        )))
    return or_(*clauses) if clauses else false()


def scope_slas(session: Session, scope: Scope) -> list[tuple[int | None, int, int, int]]:
    """SLA minutes of the watches in ``scope`` (plus the defaults for watch-less mentions)."""
    query = select(Watch.id, Watch.sla_urgent_minutes, Watch.sla_high_minutes,
                   Watch.sla_normal_minutes).where(Watch.workspace_id == scope.workspace_id)
    if scope.watch_ids is not None:
        query = query.where(Watch.id.in_(scope.watch_ids))
    rows: list[tuple[int | None, int, int, int]] = [
        (row[0], row[1], row[2], row[3]) for row in session.execute(query)]
    if scope.watch_ids is None:
        rows.append((None, *DEFAULT_SLA_MINUTES))
    return rows


def response_times(session: Session, scope: Scope, start: datetime, end: datetime
                   ) -> ResponseTimes:
    """Answered share and median/p90 first-response time of the actionable mentions stored
    in [start, end)."""
    responded = and_(actionable(), Mention.first_response_at.is_not(None))
    counts = session.execute(
        select(count_if(actionable()), count_if(and_(actionable(), answered())),
               count_if(responded))
        .where(*scope.where(), *in_window(start, end))
    ).one()
    total_actionable, total_answered, total_responded = (int(value) for value in counts)
    median, p90 = response_percentiles(session, scope, start, end, total_responded)
    return ResponseTimes(total_actionable, total_answered, total_responded, median, p90)


def response_percentiles(session: Session, scope: Scope, start: datetime, end: datetime,
                         responded: int) -> tuple[float | None, float | None]:
    """Median and p90 first-response times (seconds, ``percentile_cont`` semantics) of the
    ``responded`` actionable mentions stored in [start, end) that have a first response."""
    if not responded:
        return None, None
    name = dialect(session)
    duration = seconds_between(Mention.first_response_at, Mention.created_at, name)
    condition = and_(actionable(), Mention.first_response_at.is_not(None))
    if name == "postgresql":
        median, p90 = session.execute(
            select(func.percentile_cont(0.5).within_group(duration),
                   func.percentile_cont(0.9).within_group(duration))
            .where(*scope.where(), *in_window(start, end), condition)
        ).one()
    else:
        median, p90 = _percentiles_by_rank(session, scope, start, end, duration, condition,
                                           responded, (0.5, 0.9))
    return _rounded(median), _rounded(p90)


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _percentiles_by_rank(session: Session, scope: Scope, start: datetime, end: datetime,
                         duration: Any, condition: ColumnElement[bool], count: int,
                         fractions: tuple[float, ...]) -> tuple[float, ...]:
    # percentile_cont semantics (linear interpolation between closest ranks), computed from
    # the two ranks around each fraction: the database sorts, only a few rows come back.
    ranks: set[int] = set()
    for fraction in fractions:
        position = fraction * (count - 1)
        ranks.update({math.floor(position) + 1, math.ceil(position) + 1})
    ranked = (
        select(duration.label("d"), func.row_number().over(order_by=duration).label("rn"))
        .where(*scope.where(), *in_window(start, end), condition)
    ).subquery()
    values = dict(session.execute(
        select(ranked.c.rn, ranked.c.d).where(ranked.c.rn.in_(sorted(ranks)))).tuples().all())
    results = []
    for fraction in fractions:
        position = fraction * (count - 1)
        low = float(values[math.floor(position) + 1])
        high = float(values[math.ceil(position) + 1])
        results.append(low + (position - math.floor(position)) * (high - low))
    return tuple(results)


def top_authors(session: Session, scope: Scope, start: datetime, end: datetime,
                limit: int = 5) -> list[AuthorReach]:
    """The authors with the largest reach among the mentions stored in [start, end)."""
    counts = (
        select(Mention.author_id.label("author_id"), func.count().label("n"))
        .where(*scope.where(), *in_window(start, end), Mention.author_id.is_not(None))
        .group_by(Mention.author_id)
    ).subquery()
    rows = session.execute(
        select(Author.handle, Author.name, Author.network, Author.followers, Author.url,
               counts.c.n)
        .join(counts, counts.c.author_id == Author.id)
        .order_by(func.coalesce(Author.followers, -1).desc(), counts.c.n.desc(), Author.id)
        .limit(limit)
    ).all()
    return [AuthorReach(handle, name, network, followers, url, int(n))
            for handle, name, network, followers, url, n in rows]


def mention_lines(session: Session, *where: ColumnElement[bool], order_by: Sequence[Any],
                  limit: int) -> list[MentionLine]:
    """Mentions matching ``where`` as report lines (with author, watch and card link)."""
    rows = session.execute(
        select(Mention.id, Mention.network, Author.handle, Mention.text, Mention.title,
               Mention.priority, Mention.status, Mention.created_at, Watch.name, Mention.url,
               Mention.slack_channel, Mention.slack_ts)
        .join(Author, Author.id == Mention.author_id, isouter=True)
        .join(Watch, Watch.id == Mention.watch_id, isouter=True)
        .where(*where).order_by(*order_by).limit(limit)
    ).all()
    return [MentionLine(id=row[0], network=row[1], author=row[2], text=row[3], title=row[4],
                        priority=row[5], status=row[6], created_at=row[7], watch_name=row[8],
                        url=row[9], card_url=card_url(row[10], row[11])) for row in rows]


def bucket_case(edges: Sequence[datetime]) -> Any:
    """The index of the [edges[i], edges[i+1]) bucket ``created_at`` falls in (SQL CASE).

    Rows outside [edges[0], edges[-1]) get -1.
    """
    whens = [(Mention.created_at < edge, literal(index - 1)) for index, edge in enumerate(edges)]
    return case(*whens, else_=literal(-1))


def sentiment_series(session: Session, scope: Scope, edges: Sequence[datetime]
                     ) -> list[dict[str, int]]:
    """Counts by sentiment for each [edges[i], edges[i+1]) bucket, in one GROUP BY."""
    buckets = [dict.fromkeys((*SENTIMENT_LABELS, UNKNOWN), 0) for _ in edges[1:]]
    if len(edges) < 2:
        return buckets
    bucket = bucket_case(edges).label("bucket")
    label = func.coalesce(Mention.sentiment_label, UNKNOWN).label("label")
    rows = session.execute(
        select(bucket, label, func.count())
        .where(*scope.where(), *in_window(edges[0], edges[-1]))
        .group_by(bucket, label)
    ).all()
    for index, sentiment, count in rows:
        if 0 <= index < len(buckets):
            key = sentiment if sentiment in buckets[index] else UNKNOWN
            buckets[index][key] += int(count)
    return buckets


def hour_histogram(session: Session, scope: Scope, segments: Sequence[tuple[datetime, int]],
                   end: datetime) -> list[int]:
    """Mentions per local hour of day (0-23) over [segments[0] start, end).

    ``segments`` cut the period where the UTC offset changes. SQL groups by segment and UTC
    quarter-hour of the day; each group maps to exactly one local hour, whatever the offset
    (zones are offset by multiples of 15 minutes).
    """
    name = dialect(session)
    if name == "postgresql":
        utc_time = func.timezone("UTC", Mention.created_at)
        quarter = (func.extract("hour", utc_time) * 4
                   + func.floor(func.extract("minute", utc_time) / 15))
    else:
        quarter = (func.cast(func.strftime("%H", Mention.created_at), Integer()) * 4
                   + func.cast(func.strftime("%M", Mention.created_at), Integer()) / 15)
    edges = [start for start, _offset in segments] + [end]
    segment = bucket_case(edges).label("segment")
    quarter_label = quarter.label("quarter")
    rows = session.execute(
        select(segment, quarter_label, func.count())
        .where(*scope.where(), *in_window(edges[0], end))
        .group_by(segment, quarter_label)
    ).all()
    hours = [0] * 24
    for index, utc_quarter, count in rows:
        if 0 <= index < len(segments):
            local_quarter = (int(utc_quarter) + segments[index][1] // 15) % 96
            hours[local_quarter // 4] += int(count)
    return hours

