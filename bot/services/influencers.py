"""Influencers: the authors who talked about the brand in a period (its watches' posts:
a competitor's watch's authors talk about the competitor), ranked, and the ones the team
tracks (`/cm influencers`, App Home, the monthly report).

Ranking: an author's score over the period is ``reach × engagement × frequency`` with

- reach = log10(10 + followers) (1 when the follower count is unknown),
- engagement = log10(10 + the average engagement of their posts in the period),
- frequency = their number of mentions in the period.

The logarithms keep one account with millions of followers from drowning everyone who
talks about the brand every day. The sentiment trend compares the average sentiment score
of their posts in the first and the second half of the period.

The period's figures come from one GROUP BY over ``ix_mentions_influencer_window`` (an
index-only read of the period's entries); last posts are read for the listed authors only,
through ``(author_id, published_at)``.

A tracked influencer's new posts alert whatever their priority: ingest asks
``tracked_authors`` once per batch. Agents (and above) may track and untrack: following
someone is everyday listening work, like assigning a mention.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, case, delete, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from bot.networks import normalize_network
from bot.services import forgotten
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError
from bot.services.influencer_cache import (
    cached_home_ranking,
    forget_home_cache,
    home_ranking_changed,
    home_ranking_version,
    keep_home_ranking,
)
from bot.services.permissions import require_role
from bot.services.reporting.periods import last_days, parse_days, zone_or_default
from bot.services.reporting.queries import brand_scope
from bot.sources import handles
from bot.sources.base import byline
from bot.sources.registry import SOURCES
from storage.db import transaction
from storage.models import AuditEvent, Author, Mention, Role, Workspace
from storage.models_influencers import TrackedInfluencer

PERIODS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "30d"
DEFAULT_LIMIT = 10
LAST_POSTS = 3
TREND_STEP = 0.15
"""A change of average sentiment (scores in [-1, 1]) smaller than this is "stable"."""
NETWORK_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")
HANDLE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class PostLine:
    """One of an influencer's recent posts."""

    mention_id: int
    url: str
    text: str
    published_at: datetime
    sentiment_label: str | None


@dataclass(frozen=True, slots=True)
class Influencer:
    """An author's standing over a period."""

    author_id: int
    handle: str
    name: str | None
    network: str
    url: str | None
    followers: int | None
    mentions: int
    engagement: int
    score: float
    sentiment_before: float | None
    sentiment_after: float | None
    tracked: bool
    last_posts: list[PostLine] = field(default_factory=list)

    @property
    def trend(self) -> str:
        """``improving``, ``worsening``, ``stable``, or ``new`` (no post in the first half)."""
        if self.sentiment_after is None and self.sentiment_before is None:
            return "unknown"
        if self.sentiment_before is None:
            return "new"
        if self.sentiment_after is None:
            return "quiet"
        delta = self.sentiment_after - self.sentiment_before
        if delta >= TREND_STEP:
            return "improving"
        if delta <= -TREND_STEP:
            return "worsening"
        return "stable"


@dataclass(frozen=True)
class InfluencerReport:
    """What `/cm influencers` shows: the ranking of a period, and who is tracked."""

    days: int
    start: datetime
    end: datetime
    ranked: list[Influencer]
    tracked: list[tuple[str, str]]
    """(network, handle) of every tracked author, tracked or not active in the period."""


def score(followers: int | None, engagement: int, mentions: int) -> float:
    """reach × engagement × frequency (see the module docstring)."""
    if mentions <= 0:
        return 0.0
    reach = math.log10(10 + max(followers or 0, 0))
    average = max(engagement, 0) / mentions
    return reach * math.log10(10 + average) * mentions


def parse_period(text: str | None) -> int:
    """``7d``, ``30d`` or ``90d`` (default 30d) -> days; ServiceError
    ``influencers.bad_period`` otherwise."""
    return parse_days(text, PERIODS, DEFAULT_PERIOD, "influencers.bad_period")


def rank_influencers(session: Session, workspace_id: int, start: datetime, end: datetime,
                     limit: int = DEFAULT_LIMIT, *, last_posts: int = LAST_POSTS,
                     among: Sequence[ColumnElement[bool]] = ()) -> list[Influencer]:
    """The ``limit`` authors with the highest score among the mentions published in
    [start, end), best first (ties: more mentions, then the older author); ``among``: more
    conditions on those mentions (a report's scope)."""
    middle = start + (end - start) / 2
    # Grouped by an expression: with the author index able to hand rows over in author
    # order, SQLite's planner walks every author's history (5 s at 1M mentions) instead
    # of the period's entries in ix_mentions_influencer_window (index only, one sort).
    author = (Mention.author_id + 0).label("author_id")
    grouped = (
        select(author, func.count().label("n"),
               func.coalesce(func.sum(Mention.engagement), 0).label("engagement"),
               func.avg(case((Mention.published_at < middle, Mention.sentiment))).label("s1"),
               func.avg(case((Mention.published_at >= middle, Mention.sentiment))).label("s2"))
        .where(Mention.workspace_id == workspace_id, Mention.published_at >= start,
               Mention.published_at < end, Mention.author_id.is_not(None), *among)
        .group_by(author)
    ).subquery()
    rows = session.execute(
        select(grouped.c.author_id, grouped.c.n, grouped.c.engagement, grouped.c.s1,
               grouped.c.s2, Author.followers)
        .join(Author, Author.id == grouped.c.author_id)).all()
    scored = sorted(((score(followers, int(eng), int(n)), int(n), author_id, int(eng), s1, s2)
                     for author_id, n, eng, s1, s2, followers in rows),
                    key=lambda item: (-item[0], -item[1], item[2]))[:limit]
    if not scored:
        return []
    ids = [item[2] for item in scored]
    authors = {a.id: a for a in session.scalars(select(Author).where(Author.id.in_(ids)))}
    tracked = tracked_authors(session, workspace_id, ids)
    posts = _last_posts(session, ids, start, end, last_posts) if last_posts else {}
    return [Influencer(
        author_id=author_id, handle=authors[author_id].handle, name=authors[author_id].name,
        network=authors[author_id].network, url=authors[author_id].url,
        followers=authors[author_id].followers, mentions=n, engagement=eng,
        score=round(value, 3), sentiment_before=_rounded(s1), sentiment_after=_rounded(s2),
        tracked=author_id in tracked, last_posts=posts.get(author_id, []))
        for value, n, author_id, eng, s1, s2 in scored]


def _rounded(value: object) -> float | None:
    return None if value is None else round(float(value), 3)  # type: ignore[arg-type]


def _last_posts(session: Session, author_ids: list[int], start: datetime, end: datetime,
                count: int) -> dict[int, list[PostLine]]:
    # A few index probes per listed author (author_id, published_at), newest first.
    out: dict[int, list[PostLine]] = {}
    for author_id in author_ids:
        out[author_id] = [PostLine(m.id, m.url, m.title or m.text, m.published_at,
                                   m.sentiment_label)
                          for m in session.scalars(
                              select(Mention).where(Mention.author_id == author_id,
                                                    Mention.published_at >= start,
                                                    Mention.published_at < end)
                              .order_by(Mention.published_at.desc()).limit(count))]
    return out


def tracked_authors(session: Session, workspace_id: int, author_ids: Iterable[int]
                    ) -> set[int]:
    """Which of ``author_ids`` the workspace tracks: one query, whatever their number."""
    ids = sorted(set(author_ids))
    if not ids:
        return set()
    return set(session.scalars(select(TrackedInfluencer.author_id).where(
        TrackedInfluencer.workspace_id == workspace_id, TrackedInfluencer.author_id.in_(ids))))


def tracked_list(session: Session, workspace_id: int) -> list[tuple[str, str]]:
    """(network, handle) of every tracked author, sorted."""
    return [(network, handle) for network, handle in session.execute(
        select(Author.network, Author.handle).join(
            TrackedInfluencer, TrackedInfluencer.author_id == Author.id)
        .where(TrackedInfluencer.workspace_id == workspace_id)
        .order_by(Author.network, Author.handle))]


def period_window(now: datetime, days: int, timezone: str) -> tuple[datetime, datetime]:
    """The last ``days`` local days up to ``now`` (as `/cm stats` counts them)."""
    return last_days(now, days, timezone)


def get_influencers(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                    period: str | None, now: datetime, default_timezone: str = "UTC",
                    limit: int = DEFAULT_LIMIT) -> InfluencerReport:
    """The influencers of the last period (any member may see them): the authors of the
    brand's watches (``brand_scope``), as `/cm stats` counts them; a competitor's watch's
    authors talk about the competitor."""
    days = parse_period(period)
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.VIEWER)
        workspace = session.get(Workspace, workspace_id)
        zone_name = workspace.timezone if workspace and workspace.timezone else default_timezone
        start, end = period_window(now, days, zone_or_default(zone_name, default_timezone).key)
        ranked = rank_influencers(session, workspace_id, start, end, limit,
                                  among=brand_scope(session, workspace_id).where())
        return InfluencerReport(days, start, end, ranked, tracked_list(session, workspace_id))


def network_name(text: str) -> str:
    """The network name the sources store, from what a person types: the source kinds and
    the aliases `source:` accepts in queries (``hn``, ``twitter``, ``bsky``...)."""
    return normalize_network(text.strip()[:40])


def _clean(session: Session, workspace_id: int, handle: str, network: str
           ) -> tuple[str, str]:
    handle = " ".join(handle.split())
    if not handle or len(handle) > HANDLE_LIMIT or handle.startswith("<"):
        raise ServiceError("influencers.bad_handle", value=handle[:80])
    typed = network.strip().lower()
    network = network_name(typed)
    # RSS feeds and webhooks may name their own network ("news"): known once seen.
    if network not in SOURCES and (not NETWORK_NAME.fullmatch(network) or session.scalar(
            select(Author.id).where(Author.workspace_id == workspace_id,
                                    Author.network == network).limit(1)) is None):
        raise ServiceError("influencers.bad_network", value=typed[:40],
                           valid=", ".join(sorted(SOURCES)))
    return handle, network


def _find_author(session: Session, workspace_id: int, handle: str, network: str
                 ) -> tuple[str, Author | None]:
    """(the stored form of ``handle``, its author if already known)."""
    try:
        stored = handles.stored_handle(network, handle)
    except handles.HandleError as err:
        if err.reason == "no_instance":
            return _mastodon_without_instance(session, workspace_id, err)
        raise ServiceError("influencers.bad_handle_form", value=err.value[:80],
                           network=network, example=err.example) from None
    if network in handles.CASE_INSENSITIVE:
        found = session.scalars(select(Author).where(
            Author.workspace_id == workspace_id, Author.network == network,
            func.lower(Author.handle) == stored.lower()).order_by(Author.id)).first()
        return (found.handle, found) if found else (stored, None)
    if network in handles.STORED_FORMS:
        found = session.scalar(select(Author).where(
            Author.workspace_id == workspace_id, Author.network == network,
            Author.handle == stored))
        return (stored, found)
    # Free-text authors (feeds, webhooks): people type "@alice" for "alice" and back.
    bare = stored.lstrip("@")
    candidates = list(dict.fromkeys((stored, bare, f"@{bare}")))
    by_handle = {a.handle: a for a in session.scalars(select(Author).where(
        Author.workspace_id == workspace_id, Author.network == network,
        Author.handle.in_(candidates)))}
    author = next((by_handle[c] for c in candidates if c in by_handle), None)
    if author is None:
        author = _by_byline(session, workspace_id, network, candidates)
    return (author.handle, author) if author else (stored, None)


def _by_byline(session: Session, workspace_id: int, network: str, candidates: list[str]
               ) -> Author | None:
    """The feed author whose byline is one of ``candidates`` (a feed stores "Admin" of
    blog.example as ``Admin@blog.example``): None when no one's is, ServiceError when
    several sites' are (which one is meant is for the person to say)."""
    found = [a for a in session.scalars(select(Author).where(
        Author.workspace_id == workspace_id, Author.network == network,
        Author.site.is_not(None), or_(*(Author.handle.startswith(f"{c}@", autoescape=True)
                                        for c in candidates))).order_by(Author.handle))
        if byline(a.handle, a.site) in candidates]
    if len(found) > 1:
        raise ServiceError("influencers.byline_sites", value=candidates[0][:80],
                           example=found[0].handle, known=str(len(found)))
    return found[0] if found else None


def _mastodon_without_instance(session: Session, workspace_id: int,
                               err: handles.HandleError) -> tuple[str, Author | None]:
    # "@alice" is fine when exactly one known Mastodon author is alice on some instance
    # (or was stored without one, as a webhook may send it).
    bare = "@" + err.value.strip().lstrip("@").lower()
    found = session.scalars(select(Author).where(
        Author.workspace_id == workspace_id, Author.network == err.network,
        or_(func.lower(Author.handle) == bare,
            func.lower(Author.handle).startswith(bare + "@", autoescape=True))).limit(2)).all()
    if len(found) == 1:
        return found[0].handle, found[0]
    raise ServiceError("influencers.no_instance", value=err.value.strip()[:80],
                       example=err.example, known=str(len(found)))


def do_track(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
             handle: str, network: str, now: datetime) -> tuple[str, bool]:
    """Track the author ``handle`` on ``network`` (created in the form ingest stores when
    not seen yet, so their first post alerts too); returns (the stored handle, False when
    already tracked)."""
    with transaction(sessions) as session:
        _hold_sweeps(session, workspace_id)
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.AGENT)
        handle, network = _clean(session, workspace_id, handle, network)
        handle, author = _find_author(session, workspace_id, handle, network)
        if author is None:
            author = Author(workspace_id=workspace_id, network=network, handle=handle,
                            mention_count=0, first_seen_at=now, last_seen_at=now)
            session.add(author)
            session.flush()
        added = _start_tracking(session, workspace_id, actor, author, now)
        handle = author.handle
    if added:
        forget_home_cache(sessions, workspace_id)
    return handle, added


def _hold_sweeps(session: Session, workspace_id: int) -> None:
    """Before tracking reads the author (PostgreSQL): wait for the retention sweep's batch
    or the forget deleting authors of the workspace, and hold the next one back until the
    tracking row is committed. Without it a sweep whose delete started before the commit
    did not see the new row, deleted the author and the tracking with it (cascade), or
    deleted the author this transaction had found (a foreign-key error). Shared, as
    ingest's: tracking waits for nobody else."""
    forgotten.hold_for_ingest(session, workspace_id)


def _start_tracking(session: Session, workspace_id: int, actor: Actor, author: Author,
                    now: datetime) -> bool:
    if tracked_authors(session, workspace_id, [author.id]):
        return False
    session.add(TrackedInfluencer(workspace_id=workspace_id, author_id=author.id,
                                  tracked_by=actor.user_id, created_at=now))
    record(session, workspace_id, actor, "influencer.tracked",
           detail={"network": author.network, "handle_digest": _audited(session, author)})
    home_ranking_changed(session, workspace_id)  # the mark shows in every process
    return True


def do_untrack(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
               handle: str, network: str) -> str:
    """Stop tracking ``handle`` on ``network``; NotFound when it was not tracked."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.AGENT)
        handle, network = _clean(session, workspace_id, handle, network)
        handle, author = _find_author(session, workspace_id, handle, network)
        row = None if author is None else session.scalar(select(TrackedInfluencer).where(
            TrackedInfluencer.workspace_id == workspace_id,
            TrackedInfluencer.author_id == author.id))
        if author is None or row is None:
            raise NotFound("influencers.not_tracked", handle=handle, network=network)
        session.delete(row)
        record(session, workspace_id, actor, "influencer.untracked",
               detail={"network": network, "handle_digest": _audited(session, author)})
        handle = author.handle
        home_ranking_changed(session, workspace_id)
    forget_home_cache(sessions, workspace_id)
    return handle


TRACKING_EVENTS = ("influencer.tracked", "influencer.untracked")
"""The audit events that name a person (by the keyed digest of their handle)."""


def _audited(session: Session, author: Author) -> str:
    """How the audit trail names ``author``: the keyed digest of their handle, as
    ``do_forget`` names whom it forgot; not the handle, which the trail would keep after
    the person is forgotten."""
    return forgotten.subject_digest(session, author.workspace_id, author.handle)


def forget_tracking_handles(session: Session, workspace_id: int, author_ids: Sequence[int],
                            handle: str) -> int:
    """Replace by its keyed digest the handle that the tracking events older versions
    audited name in clear, for the person ``do_forget`` forgets (``handle``, and the
    authors ``author_ids`` it found, before they are deleted); returns how many rows
    changed. Tracking is rare: the workspace's tracking events are read in Python, where
    ``forgotten.is_called`` compares handles as the forget finds them."""
    authors = set(session.execute(select(Author.network, Author.handle).where(
        Author.id.in_(author_ids))).tuples())
    changed = 0
    for event in session.scalars(select(AuditEvent).where(
            AuditEvent.workspace_id == workspace_id,
            AuditEvent.action.in_(TRACKING_EVENTS))):
        detail = dict(event.detail or {})
        network, stored = detail.get("network"), detail.get("handle")
        if not isinstance(network, str) or not isinstance(stored, str):
            continue
        if (network, stored) in authors or forgotten.is_called(network, stored, handle):
            del detail["handle"]
            detail["handle_digest"] = forgotten.subject_digest(session, workspace_id, stored)
            event.detail = detail
            changed += 1
    return changed


def do_track_author(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                    author_id: int, now: datetime) -> tuple[str, str]:
    """Track an author by id (the button on `/cm influencers`); returns (handle, network).
    By id, not by handle: a stored handle need not be one a person could type
    (``u/[deleted]``, ``id:123``)."""
    with transaction(sessions) as session:
        _hold_sweeps(session, workspace_id)
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.AGENT)
        author = session.get(Author, author_id)
        if author is None or author.workspace_id != workspace_id:
            raise NotFound("influencers.no_author")
        handle, network = author.handle, author.network
        added = _start_tracking(session, workspace_id, actor, author, now)
    if added:
        forget_home_cache(sessions, workspace_id)
    return handle, network


def tracked_posts(session: Session, workspace_id: int, authors: dict[int, int | None]
                  ) -> set[int]:
    """The mentions (id -> author id) written by a tracked author: one query per batch.

    An author tracked before Vigie saw them is stored as typed; on the networks whose
    handles ignore case the network may write them otherwise ("@AcmeFan" typed, "@acmefan"
    sent), and a feed writes a byline with its site ("Admin" typed, ``Admin@blog.example``
    stored), so their first post under the network's spelling takes the tracking over."""
    ids = sorted({a for a in authors.values() if a is not None})
    if not ids:
        return set()
    tracked: set[int] = set()
    unseen: dict[tuple[str, str], TrackedInfluencer] = {}
    for row, network, handle, count in session.execute(
            select(TrackedInfluencer, Author.network, Author.handle, Author.mention_count)
            .join(Author, Author.id == TrackedInfluencer.author_id)
            .where(TrackedInfluencer.workspace_id == workspace_id, or_(
                TrackedInfluencer.author_id.in_(ids),
                (Author.mention_count == 0) & or_(
                    Author.network.in_(sorted(handles.CASE_INSENSITIVE)),
                    Author.network.not_in(sorted(handles.STORED_FORMS))
                    & Author.site.is_(None))))):
        if row.author_id in authors.values():
            tracked.add(row.author_id)
        elif not count:
            unseen[(network, handle.lower() if network in handles.CASE_INSENSITIVE
                    else handle)] = row
    others = [a for a in ids if a not in tracked]
    if unseen and others:
        for author_id, network, handle, site in session.execute(
                select(Author.id, Author.network, Author.handle, Author.site).where(
                    Author.id.in_(others))):
            typed = (handle.lower() if network in handles.CASE_INSENSITIVE
                     else byline(handle, site))
            row = unseen.pop((network, typed), None) if typed is not None else None
            if row is not None:
                placeholder, row.author_id = row.author_id, author_id
                tracked.add(author_id)
                session.flush()
                # The typed spelling wrote nothing: one author row, found by untrack and
                # track, is the network's.
                session.execute(delete(Author).where(Author.id == placeholder,
                                                     Author.mention_count == 0))
    return {mention_id for mention_id, author_id in authors.items() if author_id in tracked}


HOME_DAYS = 30


def home_influencers(sessions: sessionmaker[Session], workspace_id: int, *, now: datetime,
                     default_timezone: str = "UTC", limit: int = 5) -> list[Influencer]:
    """The top influencers of the last 30 days for App Home (the brand's watches' authors,
    as `/cm influencers` ranks them), computed at most every 15 minutes per workspace and
    process (Home is opened often; the ranking moves slowly)."""
    cached = cached_home_ranking(sessions, workspace_id, now)
    if cached is not None:
        return cached
    with sessions() as session:
        workspace = session.get(Workspace, workspace_id)
        zone_name = workspace.timezone if workspace and workspace.timezone else default_timezone
        start, end = period_window(now, HOME_DAYS,
                                   zone_or_default(zone_name, default_timezone).key)
        version = home_ranking_version(session, workspace_id)
        ranked = rank_influencers(session, workspace_id, start, end, limit, last_posts=0,
                                  among=brand_scope(session, workspace_id).where())
    keep_home_ranking(sessions, workspace_id, now, version, ranked)
    return ranked


