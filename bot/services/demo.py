"""`vigie demo`: a watch fed once from a sample feed, so a newcomer sees Vigie work.

The demo watch stays (with its mentions) for the newcomer to explore with `vigie mentions`,
`vigie watch test` and `vigie digest --preview`; the source does not, since its feed is
served only while the demo runs. `vigie demo --remove` (``do_remove_demo``) deletes the
watch and the fictional mentions, so they do not stay in the counts, reports and exports
of the real ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.demo import SAMPLE_LINK
from bot.services import sources_admin, watches
from bot.services.actors import CLI
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError
from bot.services.influencer_cache import home_ranking_changed
from bot.services.polling import HttpFactory, run_poll_tick
from bot.services.watches import WatchView
from storage.db import transaction
from storage.models import Author, Mention, SourceRow
from storage.models_watches import MentionWatch

DEMO_WATCH = "demo"
DEMO_QUERY = "acme -jobs -hiring"
DEMO_THRESHOLD = 40
"""Low enough that complaints and questions alert; praise and news wait for the digest."""


@dataclass(frozen=True, slots=True)
class DemoWatch:
    """What became of the demo watch before the poll."""

    created: bool
    moved_from: str | None
    """The channel it alerted in before it was moved to the one asked for (None: stayed)."""
    watch: WatchView
    """The watch as it is now: a reused one keeps its own query and threshold."""


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo poll did."""

    fetched: int
    stored: int
    filtered: int
    alerts: int
    error: str | None


def do_bind_demo_watch(sessions: sessionmaker[Session], workspace_id: int,
                       channel_id: str | None, default_channel: str, *,
                       notifier: object = None, team_id: str | None = None) -> DemoWatch:
    """Make sure the demo watch exists and alerts in ``channel_id`` when given: created
    there (or in ``default_channel``) the first time, moved there when it alerts elsewhere.
    A ``channel_id`` that is no channel id, or that Slack says Vigie cannot post in (with a
    Slack ``notifier``: ``watches.check_alert_channel``), is a ServiceError, before
    anything changes."""
    if channel_id is not None and not watches.CHANNEL_PATTERN.match(channel_id):
        raise ServiceError("watch.bad_channel", channel=channel_id)
    if channel_id is not None:
        watches.check_alert_channel(notifier, team_id, channel_id)
    with transaction(sessions) as session:
        try:
            watch = watches.get_watch_by_name(session, workspace_id, DEMO_WATCH)
        except NotFound:
            watch = None
        if watch is not None and channel_id is not None and watch.channel_id != channel_id:
            moved_from, watch.channel_id = watch.channel_id, channel_id
            record(session, workspace_id, CLI, "watch.moved",
                   detail={"watch": watch.name, "from": moved_from, "to": channel_id})
        else:
            moved_from = None
    created = watch is None
    if created:
        watches.do_add_watch(sessions, workspace_id, CLI, name=DEMO_WATCH, query=DEMO_QUERY,
                             channel_id=channel_id or default_channel,
                             alert_threshold=DEMO_THRESHOLD)
    view = next(view for view in watches.list_watches(sessions, workspace_id)
                if view.name.lower() == DEMO_WATCH)
    return DemoWatch(created, moved_from, view)


def do_run_demo(sessions: sessionmaker[Session], workspace_id: int, http_factory: HttpFactory,
                *, feed_url: str, budget: float) -> DemoResult:
    """Poll ``feed_url`` once for the demo watch (``do_bind_demo_watch`` first), then drop
    the source."""
    source = sources_admin.do_add_source(sessions, workspace_id, CLI, kind="rss",
                                         watch_name=DEMO_WATCH, values={"url": feed_url})
    try:
        report = run_poll_tick(sessions, http_factory, only_ids=[source.id], force=True,
                               budget=budget)
    finally:
        sources_admin.do_remove_source(sessions, workspace_id, CLI, source.id)
    totals = report.totals
    outcome = report.outcomes[0] if report.outcomes else None
    return DemoResult(outcome.fetched if outcome else 0, totals.stored,
                      totals.filtered, totals.alerts, outcome.error if outcome else "not polled")


@dataclass(frozen=True, slots=True)
class DemoRemoval:
    """What ``do_remove_demo`` deleted, and what it kept."""

    mentions: int
    authors: int
    kept: int
    """Demo mentions another watch holds too: that watch keeps them."""


def do_remove_demo(sessions: sessionmaker[Session], workspace_id: int) -> DemoRemoval:
    """Delete the demo watch, the mentions it alone holds (the sample feed's fictional
    posts, with their drafts, cases and history) and their authors that have nothing else
    left, in one transaction. A mention another watch also holds stays, for that watch.
    NotFound when there is no demo watch; a ServiceError, deleting nothing, when the watch
    called demo has sources or posts other than the sample feed's (someone's real watch)."""
    with transaction(sessions) as session:
        watch = watches.get_watch_by_name(session, workspace_id, DEMO_WATCH, lock=True)
        held = select(MentionWatch.mention_id).where(MentionWatch.watch_id == watch.id)
        # A watch called demo that has sources, or posts other than the sample feed's, is
        # someone's real watch now: its mentions are not the demo's to delete.
        sources = session.scalar(select(func.count()).select_from(SourceRow).where(
            SourceRow.watch_id == watch.id)) or 0
        real = session.scalar(select(func.count()).select_from(Mention).where(
            Mention.id.in_(held), Mention.url.not_like(f"{SAMPLE_LINK}%"))) or 0
        if sources or real:
            raise ServiceError("demo.real_watch", watch=watch.name, mentions=str(real),
                               sources=str(sources))
        shared = set(session.scalars(select(MentionWatch.mention_id).where(
            MentionWatch.mention_id.in_(held), MentionWatch.watch_id != watch.id)))
        ids = sorted(set(session.scalars(held)) - shared)
        author_ids = {a for a in session.scalars(select(Mention.author_id).where(
            Mention.id.in_(ids))) if a is not None}
        if ids:
            session.execute(delete(Mention).where(Mention.id.in_(ids)))
        orphans = sorted(author_ids - set(session.scalars(select(Mention.author_id).where(
            Mention.author_id.in_(author_ids))))) if author_ids else []
        if orphans:
            session.execute(delete(Author).where(Author.id.in_(orphans)))
        watches.delete_watch(session, workspace_id, CLI, watch)
        record(session, workspace_id, CLI, "demo.removed",
               detail={"mentions": len(ids), "authors": len(orphans), "kept": len(shared)})
        # Home's influencers ranked the fictional authors (a watch removed, as do_remove_watch).
        home_ranking_changed(session, workspace_id)
        return DemoRemoval(len(ids), len(orphans), len(shared))
