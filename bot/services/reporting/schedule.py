"""Where and when daily digests go: `/cm digest set|off|empty` and the channels due.

A channel gets a digest when a (not paused) watch alerts there, or when someone set a
digest time in it (a dedicated digest channel). The digest of a channel covers the watches
alerting in it and the topics routed to it (``/cm watch route``: that watch's mentions of
that topic, alerted or not, as the watch's own channel covers all of the watch's); a
channel with neither covers the whole workspace. The time zone is the
one given with `/cm digest set`, else the workspace's, else the configured default.

Its volumes (day total, networks, sentiment, chart), top-priority mentions and top authors
count the brand's posts (``DigestChannel.volume_scope``): a competitor's watch's posts are
compared with the brand's in share of voice only, as `/cm stats` counts them. A channel
whose only watches are competitors' was given them on purpose: its digest counts theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.topics import TOPICS, topic_mask
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.permissions import require_role
from bot.services.reporting.periods import parse_local_time, zone, zone_or_default
from bot.services.reporting.queries import Scope, brand_scope
from storage.db import transaction
from storage.models import Role, Watch, Workspace
from storage.models_competitors import WATCH_BRAND
from storage.models_reporting import DEFAULT_DIGEST_TIME, DigestSchedule
from storage.models_topics import TopicRoute


@dataclass(frozen=True, slots=True)
class DigestChannel:
    """Everything needed to build and schedule one channel's digest."""

    workspace_id: int
    channel_id: str
    local_time: time
    tz: ZoneInfo
    skip_empty: bool
    enabled: bool
    scope: Scope
    language: str
    active_since: datetime | None
    """The schedule's last change (or the first watch's creation): earlier times are
    not due, so setting 08:30 at noon does not post a digest at once."""
    counted: Scope | None = None
    """What the volumes count when it is not ``scope`` (see ``volume_scope``)."""

    @property
    def volume_scope(self) -> Scope:
        """The mentions the digest's volumes, chart, top priority and top authors count:
        the brand's part of ``scope`` (see the module docstring)."""
        return self.counted if self.counted is not None else self.scope

    @property
    def timezone_name(self) -> str:
        """The IANA name of the channel's zone."""
        return self.tz.key


def _check_channel(channel_id: str) -> None:
    if not channel_id or not channel_id[:1].isalpha() or not channel_id.isalnum():
        raise ServiceError("digest.bad_channel", channel=channel_id)


def _routes_by_channel(session: Session, workspace_id: int, channel_id: str | None = None
                       ) -> dict[str, tuple[tuple[int, int], ...]]:
    """Per channel that receives topic routes, the routes to it as (watch id, topic mask),
    by watch id. A route of a watch made a competitor's after it was added is left out
    (the channel stays a route channel, with nothing routed from that watch): a
    competitor's watch never alerts, and its mentions are not work for that channel."""
    query = (select(TopicRoute.channel_id, TopicRoute.watch_id, TopicRoute.topic, Watch.kind)
             .join(Watch, Watch.id == TopicRoute.watch_id)
             .where(TopicRoute.workspace_id == workspace_id))
    if channel_id is not None:
        query = query.where(TopicRoute.channel_id == channel_id)
    topics: dict[str, dict[int, list[str]]] = {}
    for channel, watch_id, topic, kind in session.execute(query):
        if topic in TOPICS:
            by_watch = topics.setdefault(channel, {})
            if kind == WATCH_BRAND:
                by_watch.setdefault(watch_id, []).append(topic)
    return {channel: tuple((watch_id, topic_mask(names))
                           for watch_id, names in sorted(by_watch.items()))
            for channel, by_watch in topics.items()}


def _config(workspace: Workspace, channel_id: str, schedule: DigestSchedule | None,
            watches: list[Watch], default_timezone: str, brand: Scope,
            routes: tuple[tuple[int, int], ...] | None = None) -> DigestChannel:
    """``routes``: the topic routes to the channel, None when it receives none (with no
    watch either, its digest covers the workspace; a route channel's covers its routes);
    ``brand``: the workspace's ``brand_scope``."""
    watch_ids = tuple(sorted(w.id for w in watches))
    # A watch alerting here covers all of its mentions: its routes here add nothing.
    scoped = bool(watch_ids) or routes is not None
    routes = tuple(route for route in routes or () if route[0] not in watch_ids)
    scope = Scope(workspace.id, watch_ids, routes) if scoped else Scope(workspace.id)
    counted = brand
    if scoped:
        brand_ids = tuple(sorted(w.id for w in watches if w.kind == WATCH_BRAND))
        # Routes only ever come from brand watches (``_routes_by_channel``).
        counted = Scope(workspace.id, brand_ids, routes) if brand_ids or routes else scope
    since_candidates = [w.created_at for w in watches]
    if schedule is not None:
        since_candidates = [schedule.updated_at]
    return DigestChannel(
        workspace_id=workspace.id,
        channel_id=channel_id,
        local_time=parse_local_time(schedule.local_time if schedule else DEFAULT_DIGEST_TIME),
        tz=zone_or_default(schedule.timezone if schedule else None, workspace.timezone,
                           default_timezone),
        skip_empty=bool(schedule and schedule.skip_empty),
        enabled=schedule.enabled if schedule is not None else bool(watches),
        scope=scope,
        language=workspace.locale or "en",
        active_since=min(since_candidates) if since_candidates else None,
        counted=None if counted == scope else counted,
    )


def channel_config(session: Session, workspace_id: int, channel_id: str,
                   default_timezone: str = "UTC") -> DigestChannel:
    """The digest settings of one channel (defaults when it has none)."""
    workspace = session.get(Workspace, workspace_id)
    if workspace is None:
        raise ServiceError("digest.no_workspace")
    schedule = session.scalar(select(DigestSchedule).where(
        DigestSchedule.workspace_id == workspace_id, DigestSchedule.channel_id == channel_id))
    watches = list(session.scalars(select(Watch).where(
        Watch.workspace_id == workspace_id, Watch.channel_id == channel_id)))
    routes = _routes_by_channel(session, workspace_id, channel_id).get(channel_id)
    return _config(workspace, channel_id, schedule, watches, default_timezone,
                   brand_scope(session, workspace_id), routes)


def digest_channels(session: Session, workspace: Workspace, default_timezone: str
                    ) -> list[DigestChannel]:
    """Every channel of ``workspace`` that gets a daily digest (enabled ones only)."""
    schedules = {row.channel_id: row for row in session.scalars(
        select(DigestSchedule).where(DigestSchedule.workspace_id == workspace.id))}
    by_channel: dict[str, list[Watch]] = {}
    for watch in session.scalars(select(Watch).where(Watch.workspace_id == workspace.id)):
        by_channel.setdefault(watch.channel_id, []).append(watch)
    channels = {channel for channel, watches in by_channel.items()
                if any(not w.paused for w in watches)} | set(schedules)
    routes = _routes_by_channel(session, workspace.id)
    brand = brand_scope(session, workspace.id)
    configs = [_config(workspace, channel, schedules.get(channel), by_channel.get(channel, []),
                       default_timezone, brand, routes.get(channel))
               for channel in sorted(channels)]
    return [config for config in configs if config.enabled]


def _upsert(session: Session, workspace_id: int, channel_id: str) -> DigestSchedule:
    row = session.scalar(select(DigestSchedule).where(
        DigestSchedule.workspace_id == workspace_id, DigestSchedule.channel_id == channel_id))
    if row is None:
        # A new row keeps the channel's default: a digest only where a watch alerts.
        alerting = session.scalar(select(Watch.id).where(
            Watch.workspace_id == workspace_id, Watch.channel_id == channel_id,
            Watch.paused.is_(False)).limit(1))
        row = DigestSchedule(workspace_id=workspace_id, channel_id=channel_id,
                             local_time=DEFAULT_DIGEST_TIME, enabled=alerting is not None,
                             skip_empty=False)
        session.add(row)
    return row


def do_set_digest_time(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                       channel_id: str, local_time: str, zone_name: str | None = None,
                       default_timezone: str = "UTC") -> DigestChannel:
    """Send ``channel_id`` a digest every day at ``local_time`` (HH:MM) in ``zone_name``
    (an IANA zone; None keeps the channel's zone, else the workspace's). Admins only."""
    _check_channel(channel_id)
    moment = parse_local_time(local_time)
    tz = zone(zone_name) if zone_name else None
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row = _upsert(session, workspace_id, channel_id)
        row.local_time = moment.strftime("%H:%M")
        if tz is not None:
            row.timezone = tz.key
        row.enabled = True
        row.updated_by = actor.user_id
        record(session, workspace_id, actor, "digest.scheduled",
               detail={"channel": channel_id, "time": row.local_time, "timezone": row.timezone})
        session.flush()
        return channel_config(session, workspace_id, channel_id, default_timezone)


def do_disable_digest(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                      channel_id: str) -> None:
    """Stop the daily digest in ``channel_id`` (`/cm digest set` turns it back on)."""
    _check_channel(channel_id)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row = _upsert(session, workspace_id, channel_id)
        row.enabled = False
        row.updated_by = actor.user_id
        record(session, workspace_id, actor, "digest.disabled", detail={"channel": channel_id})


def do_set_digest_skip_empty(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                             *, channel_id: str, skip: bool) -> None:
    """Choose whether a day without mentions posts one line (False) or nothing (True)."""
    _check_channel(channel_id)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        row = _upsert(session, workspace_id, channel_id)
        row.skip_empty = skip
        row.updated_by = actor.user_id
        record(session, workspace_id, actor, "digest.empty_days",
               detail={"channel": channel_id, "skip": skip})


def get_channel_config(sessions: sessionmaker[Session], workspace_id: int, channel_id: str,
                       default_timezone: str = "UTC") -> DigestChannel:
    """The digest settings of ``channel_id`` as `/cm digest` shows them."""
    with sessions() as session:
        return channel_config(session, workspace_id, channel_id, default_timezone)
