"""SQL aggregates shared by the digest and the statistics (GROUP BY, COUNT, conditional sums).

Definitions used everywhere in reports:

- A mention is *actionable* when it was not ignored (status other than ``ignored``) and its
  intent is not ``spam``: the mentions someone could reasonably be expected to answer.
- A follow-up that joined a case (``bot.services.cases``) is not counted as actionable on
  its own: the case's first mention carries whether the case was answered.
- A mention *needed an answer* when it is actionable, not a follow-up, and in the reply
  workflow as open work is (alerted as a card, or taken up: status other than new), or
  was answered. The answered share is counted over these, so praise and news that only
  waited for the digest do not lower it.
- A mention is *answered* when it has a first response or a reply time
  (``first_response_at`` or ``replied_at`` set, which "mark replied" and posting do).
  A person reopening a mention marked replied by hand takes that mark back: nothing was
  seen going out, so it no longer counts as answered, nor gives a response time. A reply
  Vigie posted or saw on the brand's account stays counted (``workflow.do_simple``).
- The *first-response time* is ``first_response_at`` less when Vigie received the mention
  (``bot.services.sla.RECEIVED_AT``, its stored first-seen time: the moment the team could
  first see it, however long before that the post was published), or less when it was
  published when the brand answered it before Vigie found it (``sla.response_seconds``:
  never negative).
- A mention is *open* when it is actionable, its status is one of new, assigned, drafting,
  awaiting_approval or approved, and it is in the reply workflow: it was alerted as a card
  or someone took it up (status other than new). Alerted is the decision, made when the
  card is queued (``bot.services.watch_links.do_mark_alerting``), not Slack's acceptance:
  a card still in the outbox (a backlog, rate limits, a paused workspace) is open work, as
  is one Slack refused for good. Low-priority mentions that only waited for
  the digest are not counted as open work until someone picks one up.
- For a scope of some watches (a channel's digest), *alerted* means alerted by one of the
  scope's watches, or by a watch routed to it for one of the mention's routed topics
  (``Scope.alerts_here``): a post in two watches that alerted only in another channel is
  not this channel's open work, nor needed an answer here, while nobody takes it up; it
  waited for this channel's digest, which lists it as such. Taken up (status other than
  new) or answered counts in every scope holding the mention: the team did act on it.
  The whole workspace's scope counts every alert. (``alerted_elsewhere``, ``open_here``.)
- It is *overdue* when it has been open longer than its SLA: the strictest target among
  the watches that alerted on it (all its watches when none did), each watch's for the
  mention's priority in that watch: priority >= 80 uses ``sla_urgent_minutes``, >= 60
  ``sla_high_minutes``, else ``sla_normal_minutes`` (``bot.services.sla``), counted, like
  the first-response time, from when Vigie received it.

Report windows select on ``published_at`` (indexed with the workspace): a post counts in
the period it was published (its discovery time when that is unknown or in the future, as
ingest stores it). A mention belongs to every watch it
matches: a scope of some watches holds the mentions linked to any of them, once each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from bot.analysis.topics import TOPICS, topic_mask
from bot.messages.permalink import card_permalink
from bot.messages.spikes import SpikeFigures
from bot.services.mention_search import topic_names_of
from bot.services.sla import RECEIVED_AT, response_seconds
from bot.services.watch_links import linked_to
from storage import reporting_sql
from storage.bulk import one_of
from storage.models import Author, Mention, MentionStatus, Watch
from storage.models_cases import Case, QuietMention
from storage.models_competitors import WATCH_BRAND
from storage.models_spikes import Spike
from storage.models_watches import MentionWatch
from storage.reporting_counts import (
    NO_COMPETITOR_WATCH,
    NO_WATCH,
    VolumeKey,
    placeholders_counted,
    utc_hour_totals,
    volume_by_bucket,
)

OPEN_STATUSES = (
    MentionStatus.NEW.value, MentionStatus.ASSIGNED.value, MentionStatus.DRAFTING.value,
    MentionStatus.AWAITING_APPROVAL.value, MentionStatus.APPROVED.value,
)
SENTIMENT_LABELS = ("negative", "neutral", "positive")
UNKNOWN = "unknown"
URGENT_PRIORITY = 80
HIGH_PRIORITY = 60
MAX_PRIORITY = 100
MAX_LISTED_AUTHORS = 1000
"""Priorities are scores from 0 to 100 (``bot.analysis.priority``)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which mentions a report covers: a workspace, and some of its watches (None: all),
    plus, with some watches, the mentions of some topics in other watches (``routes``: a
    topic route's channel covers the topics routed to it, ``bot.services.topic_routes``)."""

    workspace_id: int
    watch_ids: tuple[int, ...] | None = None
    routes: tuple[tuple[int, int], ...] = ()
    """(watch id, topic mask): that watch's mentions with one of those topics."""

    def where(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses selecting this scope's mentions."""
        clauses: list[ColumnElement[bool]] = [Mention.workspace_id == self.workspace_id]
        if self.watch_ids is not None:
            parts = [linked_to(self.watch_ids)] if self.watch_ids else []
            parts += [routed(watch_id, mask) for watch_id, mask in self.routes]
            clauses.append(or_(*parts) if parts else false())
        return clauses

    def alerts_here(self, watch_id: int | None, topic_mask: int) -> bool:
        """Whether an alert of ``watch_id`` on a mention with ``topic_mask`` is one of this
        scope's: one of its watches (every watch for the whole workspace), or a route's
        watch on a mention of one of the topics routed here."""
        if self.watch_ids is None or watch_id in self.watch_ids:
            return True
        return any(watch_id == routed_watch and topic_mask & mask
                   for routed_watch, mask in self.routes)

    @property
    def by_topic(self) -> bool:
        """Whether part of the scope is chosen by topic: the hourly counts, kept per watch,
        cannot give its figures, which are counted from its mentions (their topics' part of
        the window, through ``ix_mentions_topic_window``: see ``routed``)."""
        return self.watch_ids is not None and bool(self.routes)


def brand_scope(session: Session, workspace_id: int) -> Scope:
    """The workspace's own mentions: those of its brand watches, and of the brand watches
    it removed (``NO_WATCH``: their links keep their side, ``release_watch``). A
    competitor's watch is only compared with the brand in share of voice, so its posts are
    not the brand's volume, sentiment, topics nor authors, nor are those of a competitor's
    watch since removed; a post in both kinds of watches is the brand's too. A workspace
    that never counted a competitor's post keeps the whole workspace's scope (the hourly
    counts and indexes it reads need no watch filter)."""
    kinds = session.execute(select(Watch.id, Watch.kind).where(
        Watch.workspace_id == workspace_id).order_by(Watch.id)).all()
    removed = placeholders_counted(session, workspace_id)
    if all(kind == WATCH_BRAND for _watch_id, kind in kinds) and \
            NO_COMPETITOR_WATCH not in removed:
        return Scope(workspace_id)
    brand = tuple(watch_id for watch_id, kind in kinds if kind == WATCH_BRAND)
    return Scope(workspace_id, (NO_WATCH, *brand) if NO_WATCH in removed else brand)


def routed(watch_id: int, mask: int) -> ColumnElement[bool]:
    """The mentions of ``watch_id`` with one of the topics of ``mask``.

    ``topic_mask & mask <> 0`` spelled as the stored masks holding one of those topics
    (``topic_mask`` only ever holds bits of ``TOPICS``), which ``ix_mentions_topic_window``
    reads as one range per mask over a window, with its predicate written out so both
    planners see the index holds them; the watch is probed per mention through the links'
    unique (mention, watch) key instead of listing every link the watch ever had."""
    masks = [value for value in range(1, 1 << len(TOPICS)) if value & mask]
    if not masks:
        return false()
    # The literal 0 (not a bound parameter) is what lets the planners match the predicate.
    return and_(Mention.topic_mask != literal_column("0"), Mention.topic_mask.in_(masks),
                exists().where(MentionWatch.mention_id == Mention.id,
                               MentionWatch.watch_id == watch_id).correlate(Mention))


def scope_volume(session: Session, scope: Scope, edges: Sequence[datetime]
                 ) -> list[dict[VolumeKey, int]]:
    """``volume_by_bucket`` of ``scope``: from the hourly counts, or for a scope chosen in
    part by topic (``Scope.by_topic``), from its mentions (the stored ones: mentions
    retention deleted left no topics behind), keyed without a watch; those are read from
    ``ix_mentions_topic_window`` alone, the window's mentions of the routed topics only."""
    if not scope.by_topic:
        return volume_by_bucket(session, scope.workspace_id, scope.watch_ids, edges)
    buckets: list[dict[VolumeKey, int]] = [{} for _ in edges[1:]]
    if len(edges) < 2:
        return buckets
    bucket = bucket_case(edges).label("bucket")
    for index, network, sentiment, count in session.execute(
            select(bucket, Mention.network, Mention.sentiment_label, func.count())
            .where(*scope.where(), *in_window(edges[0], edges[-1]))
            .group_by(bucket, Mention.network, Mention.sentiment_label)):
        if 0 <= index < len(buckets):
            key = (None, network, sentiment or UNKNOWN)
            buckets[index][key] = buckets[index].get(key, 0) + int(count)
    return buckets


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
    topics: tuple[str, ...] = ()
    story_posts: int = 0
    """The posts of the story it is the first post of, itself included (0: no story)."""

    @property
    def link(self) -> str:
        """The card when there is one, else the post."""
        return self.card_url or self.url


def in_window(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Mentions published in [start, end)."""
    return [Mention.published_at >= start, Mention.published_at < end]


def actionable() -> ColumnElement[bool]:
    """See the module docstring."""
    return and_(Mention.status != MentionStatus.IGNORED.value,
                func.coalesce(Mention.intent, "") != "spam")


def needs_answer() -> ColumnElement[bool]:
    """See the module docstring: the mentions the answered share is counted over."""
    return and_(actionable(), Mention.status != MentionStatus.FOLLOW_UP.value,
                or_(Mention.alerted.is_(True), Mention.status != MentionStatus.NEW.value,
                    answered()))


def answered() -> ColumnElement[bool]:
    """See the module docstring."""
    return or_(Mention.first_response_at.is_not(None), Mention.replied_at.is_not(None))


def open_work() -> ColumnElement[bool]:
    """See the module docstring (the SQL is the partial index's predicate, verbatim)."""
    return reporting_sql.open_work()


def open_here(elsewhere: Sequence[int]) -> ColumnElement[bool]:
    """Open work of a scope (see the module docstring): ``open_work()`` less ``elsewhere``,
    the ids ``alerted_elsewhere`` listed (the partial index holds the id: still read from
    it alone)."""
    listed = sorted(set(elsewhere))
    return and_(open_work(), Mention.id.not_in(listed)) if listed else open_work()


def alerted_elsewhere(session: Session, scope: Scope) -> list[int]:
    """The ids of the scope's open mentions that are open work only through another
    channel's alert: nobody took them up (status new), and the watches that alerted on
    them are none of the scope's (``Scope.alerts_here``). None for the whole workspace.

    Such a mention is in several watches (one of the scope's that did not alert, one
    outside that did): the candidates are the scope's new open work with a link beyond its
    first, read through that partial index as ``open_in_several_watches`` does, then their
    few alerted links decide. A mention alerted before watches' decisions were recorded
    (no link alerted) stays the scope's, as ``bot.services.watch_links.deciders_in`` makes
    every watch a decider then."""
    if scope.watch_ids is None:
        return []
    watches = list(session.scalars(select(Watch.id).where(
        Watch.workspace_id == scope.workspace_id)))
    if not watches:
        return []
    beyond = MentionWatch
    still_new = select(Mention.id, Mention.topic_mask).where(
        *scope.where(), open_work(), Mention.status == MentionStatus.NEW.value).subquery()
    candidates = dict(session.execute(
        select(still_new.c.id, still_new.c.topic_mask).distinct()
        .join(beyond, beyond.mention_id == still_new.c.id)
        .where(beyond.workspace_id == scope.workspace_id, reporting_sql.beyond_first(),
               beyond.watch_id.in_(watches))).tuples().all())
    if not candidates:
        return []
    alerts: dict[int, list[int | None]] = {}
    for mention_id, watch_id in session.execute(
            select(MentionWatch.mention_id, MentionWatch.watch_id).where(
                one_of(session, MentionWatch.mention_id, sorted(candidates)),
                MentionWatch.alerted.is_(True))):
        alerts.setdefault(mention_id, []).append(watch_id)
    return sorted(mention_id for mention_id, watch_ids in alerts.items()
                  if not any(scope.alerts_here(watch_id, candidates[mention_id] or 0)
                             for watch_id in watch_ids))


def count_if(condition: ColumnElement[bool]) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), portable conditional count."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)




def sla_overdue(watches: Sequence[tuple[int | None, int, int, int]],
                now: datetime, several: Sequence[int] = (),
                restarted: Sequence[int] = (),
                quiet: Sequence[int] | None = None) -> ColumnElement[bool]:
    """Open longer than the mention's SLA: the strictest target among the watches that
    alerted on it (among all its watches when none did), each for the mention's priority
    in that watch, counted from when Vigie received it or, for a case that reopened or a
    story's post that took the story over, from when its current wait began
    (``bot.services.sla.clock_starts`` in SQL); backfilled mentions have none
    (``bot.services.sla``).

    ``watches`` holds (watch id, urgent, high, normal minutes) of the brand watches
    (``scope_slas``; a None id would stand for links whose watch was deleted); ``several``
    the ids of the mentions in several watches (see ``open_in_several_watches``): the
    others are in one watch, whose id and priority for them are their own, compared
    without a subquery; ``restarted`` the ids of the root
    mentions of reopened cases (``reopened_cases``), the few whose wait is read from their
    case; ``quiet`` the ids of the mentions stored quietly (``quiet_open``) when the caller
    listed them, else each mention is looked up among them. The cut-offs are computed
    here, so the SQL only compares times with constants and works the same on both engines.
    """
    if not watches:
        return false()
    restarted_at = func.coalesce(
        select(Case.sla_started_at).where(Case.root_mention_id == Mention.id)
        .order_by(Case.id.desc()).limit(1).correlate(Mention).scalar_subquery(),
        Mention.waiting_since, RECEIVED_AT)
    listed = sorted(set(restarted))
    if not listed:
        late = _late_from(RECEIVED_AT, watches, now, several)
    else:
        late = or_(
            and_(Mention.id.not_in(listed), _late_from(RECEIVED_AT, watches, now, several)),
            and_(Mention.id.in_(listed), _late_from(restarted_at, watches, now, several)))
    if quiet is None:
        return and_(~exists().where(QuietMention.mention_id == Mention.id), late)
    return and_(Mention.id.not_in(sorted(set(quiet))), late) if quiet else late


def _late_from(start: ColumnElement[Any] | InstrumentedAttribute[datetime],
               watches: Sequence[tuple[int | None, int, int, int]], now: datetime,
               several: Sequence[int]) -> ColumnElement[bool]:
    link, other = aliased(MentionWatch), aliased(MentionWatch)
    single: list[ColumnElement[bool]] = []
    clauses: list[ColumnElement[bool]] = []
    for watch_id, urgent, high, normal in watches:
        for clause, watch, priority in (
                (single, Mention.watch_id, Mention.priority),
                (clauses, link.watch_id, link.priority)):
            clause.append(and_(watch.is_(None) if watch_id is None else (watch == watch_id), or_(
                and_(priority >= URGENT_PRIORITY, start < now - timedelta(minutes=urgent)),
                and_(priority >= HIGH_PRIORITY, priority < URGENT_PRIORITY,
                     start < now - timedelta(minutes=high)),
                and_(priority < HIGH_PRIORITY, start < now - timedelta(minutes=normal)),
            )))
    if not several:
        return or_(*single)
    listed = sorted(set(several))
    # Correlated to the outer mention explicitly: nested in the exists() below, SQLAlchemy
    # would otherwise add ``mentions`` to this subquery's FROM.
    # Only brand watches' alerts count (a competitor's watch gives no SLA, bot.services.sla).
    brand = [watch_id for watch_id, *_minutes in watches if watch_id is not None]
    none_alerted = ~exists().where(other.mention_id == Mention.id, other.watch_id.in_(brand),
                                   other.alerted.is_(True)).correlate(Mention)
    return or_(
        and_(Mention.id.not_in(listed), or_(*single)),
        and_(Mention.id.in_(listed), exists().where(
            link.mention_id == Mention.id, or_(link.alerted.is_(True), none_alerted),
            or_(*clauses))))


def overdue_work(session: Session, scope: Scope, now: datetime) -> ColumnElement[bool]:
    """Overdue (see the module docstring) among the scope's open work: ``sla_overdue`` with
    the scope's SLAs, its mentions in several watches and its reopened cases. Combined with
    ``open_work()`` (``open_here`` in a channel's digest), the one rule the digest and App
    Home count late work by."""
    slas = scope_slas(session, scope)
    return sla_overdue(slas, now,
                       open_in_several_watches(session, scope, [row[0] for row in slas]),
                       reopened_cases(session, scope), quiet_open(session, scope))


def quiet_open(session: Session, scope: Scope) -> list[int]:
    """The ids of the scope's open mentions stored quietly (without SLA: ``QuietMention``),
    few once someone took them up. A join, so each planner starts from the smaller side,
    and listed once instead of looked up for every open mention."""
    still_open = select(Mention.id).where(*scope.where(), open_work()).subquery()
    return sorted(set(session.scalars(
        select(QuietMention.mention_id)
        .join(still_open, still_open.c.id == QuietMention.mention_id))))


def reopened_cases(session: Session, scope: Scope) -> list[int]:
    """The ids of the scope's open mentions whose SLA clock is not their received time:
    those that root a case which reopened (its SLA restarted when the customer wrote
    again), read through the cases, and the few that took a story over with its clock
    (``Mention.waiting_since``)."""
    still_open = select(Mention.id).where(*scope.where(), open_work())
    return sorted(set(session.scalars(
        select(Case.root_mention_id).where(Case.workspace_id == scope.workspace_id,
                                           Case.sla_started_at.is_not(None),
                                           Case.root_mention_id.in_(still_open))))
                  | set(session.scalars(still_open.where(Mention.waiting_since.is_not(None)))))


def open_in_several_watches(session: Session, scope: Scope,
                            brand_watches: Sequence[int | None] | None = None) -> list[int]:
    """The ids of the scope's open mentions that are in several watches as the SLA sees it
    (a link beyond their first to a brand watch, read through its partial index): the few
    whose SLA several watches decide. A competitor watch's link gives no SLA, so a mention
    whose extra links all go to competitors is decided by its first watch alone.

    ``brand_watches``: the workspace's brand watch ids (``scope_slas``), read when None."""
    if brand_watches is None:
        brand_watches = [row[0] for row in scope_slas(session, scope)]
    brand = [watch_id for watch_id in brand_watches if watch_id is not None]
    if not brand:
        return []
    beyond = MentionWatch
    # A join, not ``IN (open ids)``: each planner starts from the smaller side, the links
    # beyond a first (their partial index, whose predicate SQLite needs spelled as it is)
    # or the open work, instead of probing every open mention's links watch by watch.
    still_open = select(Mention.id).where(*scope.where(), open_work()).subquery()
    return sorted(set(session.scalars(
        select(beyond.mention_id).join(still_open, still_open.c.id == beyond.mention_id)
        .where(beyond.workspace_id == scope.workspace_id, reporting_sql.beyond_first(),
               beyond.watch_id.in_(brand)))))


def scope_slas(session: Session, scope: Scope) -> list[tuple[int | None, int, int, int]]:
    """SLA minutes of the workspace's brand watches. A mention whose watch was deleted
    has none, as ``bot.services.sla`` says (it reads targets from the watches)."""
    # Every brand watch of the workspace: a mention of the scope may run on the SLA of a
    # watch outside the scope (the strictest of those that alerted); competitors' watches
    # never give one (bot.services.sla).
    query = select(Watch.id, Watch.sla_urgent_minutes, Watch.sla_high_minutes,
                   Watch.sla_normal_minutes).where(Watch.workspace_id == scope.workspace_id,
                                                   Watch.kind == WATCH_BRAND)
    return [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]


def response_times(session: Session, scope: Scope, start: datetime, end: datetime,
                   still_open: int | None = None, elsewhere: Sequence[int] | None = None
                   ) -> ResponseTimes:
    """Answered share and median/p90 first-response time of the mentions stored in
    [start, end) that needed an answer (``needs_answer``, with the scope's open work).

    Those are the window's open work (its partial index) and the answered ones that are not
    open work (the answered mentions' partial index): neither reads the whole window.
    ``still_open``: the window's open work, and ``elsewhere`` the scope's
    ``alerted_elsewhere``, when the caller counted them already.
    """
    window = [*scope.where(), *in_window(start, end)]
    if elsewhere is None:
        elsewhere = alerted_elsewhere(session, scope)
    if still_open is None:
        still_open = int(session.scalar(
            select(func.count()).select_from(Mention).where(*window, open_here(elsewhere)))
            or 0)
    not_alerted_here: ColumnElement[bool] = Mention.alerted.is_(False)
    if elsewhere:
        not_alerted_here = or_(not_alerted_here, Mention.id.in_(sorted(set(elsewhere))))
    counts = session.execute(
        select(count_if(or_(Mention.status.not_in(OPEN_STATUSES),
                            and_(Mention.status == MentionStatus.NEW.value,
                                 not_alerted_here))),
               func.count(),
               count_if(Mention.first_response_at.is_not(None)))
        .where(*window, reporting_sql.answered_indexed(), needs_answer())
    ).one()
    answered_closed, total_answered, total_responded = (int(value) for value in counts)
    median, p90 = response_percentiles(session, scope, start, end, total_responded)
    return ResponseTimes(still_open + answered_closed, total_answered, total_responded,
                         median, p90)


def response_percentiles(session: Session, scope: Scope, start: datetime, end: datetime,
                         responded: int) -> tuple[float | None, float | None]:
    """Median and p90 first-response times (seconds, ``percentile_cont`` semantics) of the
    ``responded`` mentions stored in [start, end) that needed an answer and have a first
    response."""
    if not responded:
        return None, None
    duration = response_seconds(session, Mention.first_response_at)
    # The partial index's predicate, repeated so both engines read only answered rows.
    condition = and_(reporting_sql.answered_indexed(), needs_answer(),
                     Mention.first_response_at.is_not(None))
    median, p90 = reporting_sql.percentiles(
        session, duration, [*scope.where(), *in_window(start, end), condition], responded,
        (0.5, 0.9))
    return _rounded(median), _rounded(p90)


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def top_authors(session: Session, scope: Scope, start: datetime, end: datetime,
                limit: int = 5) -> list[AuthorReach]:
    """The authors with the largest reach among the mentions stored in [start, end).

    Ordered by followers (unknown last), then mentions in the window, then first seen.
    Authors are walked by followers through their index and each is probed for a mention
    in the window, so a busy day costs a few index lookups, not a GROUP BY over the day.
    """
    in_scope = select(Mention.id).where(Mention.author_id == Author.id, *scope.where(),
                                        *in_window(start, end)).exists()
    known = list(session.scalars(
        select(Author.id).where(Author.workspace_id == scope.workspace_id,
                                Author.followers.is_not(None), in_scope)
        .order_by(Author.followers.desc()).limit(limit)))
    in_workspace = select(Author.id).where(Author.workspace_id == scope.workspace_id, in_scope)
    if len(known) < limit:
        # Fewer known reaches than places: authors without a follower count fill the rest.
        candidates = in_workspace.where(or_(Author.id.in_(known), Author.followers.is_(None)))
    else:
        # Authors tied with the last place compete on their number of mentions.
        last = select(Author.followers).where(Author.id == known[-1]).scalar_subquery()
        candidates = in_workspace.where(Author.followers >= last)
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    counts = (
        select(Mention.author_id.label("author_id"), func.count().label("n"))
        .where(*scope.where(), *in_window(start, end), Mention.author_id.in_(
            # Ties (many authors with 0 or unknown followers) can be thousands: too many
            # to pass as parameters, so those stay a subquery.
            ids if len(ids) <= MAX_LISTED_AUTHORS else candidates))
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
    # The ids first, from the mentions alone (an index often covers it), then the joins for
    # those few rows only: one statement, one round trip.
    top = select(Mention.id.label("id")).where(*where).order_by(*order_by).limit(limit) \
        .subquery()
    rows = session.execute(
        select(Mention.id, Mention.network, Author.handle, Mention.text, Mention.title,
               Mention.priority, Mention.status, Mention.created_at, Watch.name, Mention.url,
               Mention.slack_channel, Mention.slack_ts, Mention.topics)
        .select_from(top).join(Mention, Mention.id == top.c.id)
        .join(Author, Author.id == Mention.author_id, isouter=True)
        .join(Watch, Watch.id == Mention.watch_id, isouter=True)
        .order_by(*order_by)
    ).all()
    joined = story_sizes(session, [int(row[0]) for row in rows])
    return [MentionLine(id=row[0], network=row[1], author=row[2], text=row[3], title=row[4],
                        priority=row[5], status=row[6], created_at=row[7], watch_name=row[8],
                        url=row[9], card_url=card_permalink(row[10], row[11]),
                        topics=topic_names_of(row[12]),
                        story_posts=joined[row[0]] + 1 if row[0] in joined else 0)
            for row in rows]


def story_sizes(session: Session, mention_ids: Sequence[int]) -> dict[int, int]:
    """Of ``mention_ids``, those that are a story's first post: id -> how many posts
    joined its story (``Mention.story_id``, its index), as its card counts them."""
    if not mention_ids:
        return {}
    return {int(story): int(count) for story, count in session.execute(
        select(Mention.story_id, func.count()).where(
            Mention.story_id.in_(sorted(set(mention_ids)))).group_by(Mention.story_id))}


def first_posts() -> ColumnElement[bool]:
    """Mentions that are not a post that joined another's story: a story (a copy-paste
    campaign, a link shared by many) is listed once, through its first post, which holds
    its card and its count (``MentionLine.story_posts``)."""
    return Mention.story_id.is_(None)


def topic_counts(session: Session, *where: ColumnElement[bool]) -> list[tuple[str, int]]:
    """How many mentions matching ``where`` have each topic, most first (topics with none
    left out); one pass, a conditional count per topic bit."""
    row = session.execute(select(*topic_columns()).where(*where, Mention.topic_mask != 0)).one()
    return ranked_topics(row)


def topic_columns() -> list[Any]:
    """A conditional count per topic (in ``TOPICS`` order), for a query's select list."""
    return [count_if(Mention.topic_mask.op("&")(topic_mask((name,))) != 0) for name in TOPICS]


def ranked_topics(counts: Sequence[Any]) -> list[tuple[str, int]]:
    """``topic_columns`` counts as (topic, count), most first, topics with none left out."""
    ranked = [(name, int(count)) for name, count in zip(TOPICS, counts, strict=True) if count]
    return sorted(ranked, key=lambda item: -item[1])


def bucket_case(edges: Sequence[datetime]) -> Any:
    """The index of the [edges[i], edges[i+1]) bucket ``published_at`` falls in (SQL CASE).

    Rows outside [edges[0], edges[-1]) get -1.
    """
    whens = [(Mention.published_at < edge, literal(index - 1)) for index, edge in enumerate(edges)]
    return case(*whens, else_=literal(-1))


def sentiment_series(session: Session, scope: Scope, edges: Sequence[datetime]
                     ) -> list[dict[str, int]]:
    """Counts by sentiment for each [edges[i], edges[i+1]) bucket (from the hourly counts)."""
    buckets = [dict.fromkeys((*SENTIMENT_LABELS, UNKNOWN), 0) for _ in edges[1:]]
    for bucket, volume in zip(buckets, scope_volume(session, scope, edges), strict=True):
        for (_watch, _network, sentiment), count in volume.items():
            bucket[sentiment if sentiment in bucket else UNKNOWN] += count
    return buckets


def hour_histogram(session: Session, scope: Scope, segments: Sequence[tuple[datetime, int]],
                   end: datetime) -> list[int]:
    """Mentions per local hour of day (0-23) over [segments[0] start, end).

    ``segments`` cut the period where the UTC offset changes. In zones offset by whole
    hours, the whole UTC hours are read from the hourly counts (which keep the hours of
    mentions retention deleted) and only the parts of an hour at a segment's edges from
    the mentions. Otherwise SQL groups the mentions by segment and UTC quarter-hour of the
    day; each group maps to exactly one local hour, whatever the offset (zones are offset
    by multiples of 15 minutes).
    """
    if scope.by_topic or any(offset % 60 for _start, offset in segments):
        return _hour_histogram_from_mentions(session, scope, segments, end)
    hours = [0] * 24
    bounds = [start for start, _offset in segments] + [end]
    for (start, offset), stop in zip(segments, bounds[1:], strict=True):
        if start >= stop:
            continue
        first, last = _next_hour(start), _hour_floor(stop)
        parts = [(start, stop)]
        if first < last:
            totals = utc_hour_totals(session, scope.workspace_id, scope.watch_ids, first, last)
            for hour, count in (totals or {}).items():
                hours[(hour.hour + offset // 60) % 24] += count
            parts = [(a, b) for a, b in ((start, first), (last, stop)) if a < b]
        for part_start, part_end in parts:
            fringe = _hour_histogram_from_mentions(session, scope, [(part_start, offset)],
                                                   part_end)
            hours = [a + b for a, b in zip(hours, fringe, strict=True)]
    return hours


def _hour_floor(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment - timedelta(minutes=moment.minute, seconds=moment.second,
                              microseconds=moment.microsecond)


def _next_hour(moment: datetime) -> datetime:
    floor = _hour_floor(moment)
    return floor if floor == moment else floor + timedelta(hours=1)


def _hour_histogram_from_mentions(session: Session, scope: Scope,
                                  segments: Sequence[tuple[datetime, int]], end: datetime
                                  ) -> list[int]:
    quarter = reporting_sql.utc_quarter_of_day(session, Mention.published_at)
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


def largest_spikes(session: Session, scope: Scope, start: datetime, end: datetime,
                   limit: int) -> list[SpikeFigures]:
    """The ``limit`` largest spike events (by their largest hour's mentions) the detection
    stored for the scope's watches in hours that began in [start, end), largest first.

    An event is one line however many watches and hours it covers: the figures of its
    largest hour, the names of all its watches (that hour's first). Spikes stored before
    events existed are each their own event."""
    query = (select(Spike.event_id, Spike.id, Watch.name, Spike.hour_start, Spike.kind,
                    Spike.total, Spike.baseline, Spike.negative_share,
                    Spike.baseline_negative_share)
             .join(Watch, Watch.id == Spike.watch_id)
             .where(Spike.workspace_id == scope.workspace_id, Spike.hour_start >= start,
                    Spike.hour_start < end))
    if scope.watch_ids is not None:
        query = query.where(Spike.watch_id.in_(scope.watch_ids))
    events: dict[tuple[str, int], list[SpikeFigures]] = {}
    for event_id, spike_id, *figures in session.execute(query):
        key = ("event", event_id) if event_id is not None else ("spike", spike_id)
        events.setdefault(key, []).append(SpikeFigures(*figures))
    largest = []
    for spikes in events.values():
        peak = min(spikes, key=_largest_first)
        others = sorted({spike.watch for spike in spikes} - {peak.watch})
        largest.append(replace(peak, watch=", ".join([peak.watch, *others])))
    return sorted(largest, key=_largest_first)[:limit]


def _largest_first(spike: SpikeFigures) -> tuple[int, datetime, str]:
    return -spike.total, spike.hour_start, spike.watch
