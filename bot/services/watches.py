"""Watches: named queries bound to a Slack channel, with an alert threshold and an SLA."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t
from bot.matching.query import QueryError, parse_query
from bot.messages.delivery import ChannelChecker
from bot.services import backfill
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError, Term, query_error
from bot.services.influencer_cache import forget_home_cache, home_ranking_changed
from bot.services.outbox import refused_channels, retarget_refused_cards
from bot.services.permissions import require_role
from bot.services.triage_learning import effective_threshold, workspace_offset
from bot.text_hygiene import storable
from storage.db import transaction
from storage.models import Role, SourceRow, Watch
from storage.models_competitors import (
    WATCH_BRAND,
    WATCH_COMPETITOR,
    WATCH_KINDS,
    WatchGroup,
    WatchGroupMember,
)
from storage.models_topics import TopicRoute
from storage.models_watches import MentionWatch
from storage.reporting_counts import release_watch

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}\Z")
CHANNEL_PATTERN = re.compile(r"^[CGD][A-Z0-9]{4,}\Z")


@dataclass(frozen=True, slots=True)
class WatchView:
    """A watch as listed to users."""

    id: int
    name: str
    query: str
    query_description: str
    channel_id: str
    alert_threshold: int
    paused: bool
    source_count: int
    mention_count: int
    kind: str = WATCH_BRAND
    group: str | None = None
    refused: RefusedChannel | None = None
    """Set when Slack refuses the channel its alerts go to (the watch's or a topic
    route's): its alerts are lost until someone invites the bot or moves the watch."""
    learned_shift: int = 0
    """Points triage learning adds to ``alert_threshold`` now (negative: takes off): ingest
    alerts from ``applied_threshold``. 0 when learning is off, for a threshold of 0 and
    for a competitor watch (it never alerts)."""
    not_member: bool = False
    """Just added: Slack says the bot is not in its (public) channel (``check_alert_channel``)."""

    @property
    def applied_threshold(self) -> int:
        """The priority from which ingest alerts for this watch now."""
        return self.alert_threshold + self.learned_shift


@dataclass(frozen=True, slots=True)
class RefusedChannel:
    """A channel Slack refuses Vigie's messages in, since when and why (Slack's code)."""

    channel_id: str
    since: datetime
    error: str
    topic: str | None = None
    """The topic whose route sends alerts there; None for the watch's own channel."""


def check_query(query: str, language: str = "en") -> str:
    """Validate a query; return its description in ``language`` or raise ServiceError with
    a pointer."""
    try:
        return parse_query(query).describe(language)
    except QueryError as err:
        raise ServiceError("watch.bad_query", error=query_error(err),
                           pointer=err.pointer()) from None


def _validate(name: str, channel_id: str, threshold: int) -> None:
    if not NAME_PATTERN.match(name):
        raise ServiceError("watch.bad_name", name=name)
    if not CHANNEL_PATTERN.match(channel_id):
        raise ServiceError("watch.bad_channel", channel=channel_id)
    if not 0 <= threshold <= 100:
        raise ServiceError("watch.bad_threshold", value=str(threshold))


def check_alert_channel(notifier: object, team_id: str | None, channel_id: str) -> bool:
    """Refuse ``channel_id`` when it is no channel id (``watch.bad_channel``), then, with
    what to do, a channel Slack says Vigie cannot post alerts in (private without the bot,
    deleted, archived): its alerts would all be lost. Slack is asked only through a Slack
    notifier (not the console one), and a channel it cannot tell about is not refused.

    True when it is a public channel the bot is not in: the alerts and the digest post
    there, but the digest's charts need the bot to join it (``channels:join``) or be
    invited, which the caller's answer says."""
    if not CHANNEL_PATTERN.match(channel_id):
        raise ServiceError("watch.bad_channel", channel=channel_id[:40])
    if not isinstance(notifier, ChannelChecker):
        return False
    problem = notifier.channel_problem(channel_id, team_id)
    if problem == "not_in_channel":
        return True
    if problem == "is_archived":
        raise ServiceError("watch.channel_archived", channel=channel_id)
    if problem is not None:
        raise ServiceError("watch.channel_unreachable", channel=channel_id)
    return False


def get_watch_by_name(session: Session, workspace_id: int, name: str, *,
                      lock: bool = False) -> Watch:
    """The watch called ``name`` (case-insensitive) or NotFound.

    ``lock``: its row stays locked until the caller's transaction ends, so that a check on
    what the watch holds (its sources) and the write it allows run as one: another admin's
    same change waits, then checks again (``FOR NO KEY UPDATE`` on PostgreSQL: rows merely
    referencing the watch are written meanwhile; SQLite serializes write transactions). A
    watch removed meanwhile is NotFound."""
    if not storable(name):  # a NUL or a lone surrogate: the statement would fail
        raise NotFound("watch.not_found", name=name)
    query = select(Watch).where(
        Watch.workspace_id == workspace_id, func.lower(Watch.name) == name.lower())
    if lock:
        query = (query.with_for_update(key_share=True)
                 .execution_options(populate_existing=True))
    watch = session.scalar(query)
    if watch is None:
        raise NotFound("watch.not_found", name=name)
    return watch


_WATCH_ID = (select(Watch.id)
             .where(Watch.workspace_id == bindparam("ws"),
                    func.lower(Watch.name) == bindparam("name"))
             .limit(1))


def watch_id_by_name(db: Session | Connection, workspace_id: int, name: str) -> int:
    """The id of the watch called ``name`` (case-insensitive) or NotFound; one cached
    column-only statement, for listings that need no more of the watch."""
    if not storable(name):  # as in get_watch_by_name
        raise NotFound("watch.not_found", name=name)
    watch_id = db.execute(_WATCH_ID, {"ws": workspace_id, "name": name.lower()}).scalar()
    if watch_id is None:
        raise NotFound("watch.not_found", name=name)
    return int(watch_id)


def _written_name(session: Session, workspace_id: int, name: str) -> str | None:
    """The name of the watch called ``name`` in any case, as it is written; None if none.
    A refusal names it so: the name as typed may differ, and removing that removes it."""
    return session.scalar(select(Watch.name).where(
        Watch.workspace_id == workspace_id, func.lower(Watch.name) == name.lower()))


def _learned_shift(watch: Watch, offset: int) -> int:
    """What the workspace's learned ``offset`` changes in ``watch``'s threshold (bounds
    applied), as ingest uses it; 0 for a competitor watch."""
    if watch.kind != WATCH_BRAND:
        return 0
    return effective_threshold(watch.alert_threshold, offset) - watch.alert_threshold


def do_add_watch(
    sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
    name: str, query: str, channel_id: str, alert_threshold: int = 50,
    kind: str = WATCH_BRAND, group: str | None = None,
    notifier: object = None, team_id: str | None = None, language: str = "en",
) -> WatchView:
    """Create a watch after checking its name, channel, threshold and query; ``kind`` is
    ``brand`` or ``competitor`` (see ``bot.services.competitors.parse_kind``), ``group`` an
    existing group it joins. With a Slack ``notifier``, a brand watch's channel is checked
    with Slack first (``check_alert_channel``; competitor watches never alert). The view's
    query description is in ``language``."""
    _validate(name, channel_id, alert_threshold)
    if kind not in WATCH_KINDS:
        raise ServiceError("compete.bad_kind", value=kind, hint="competitor")
    description = check_query(query, language)
    not_member = kind == WATCH_BRAND and check_alert_channel(notifier, team_id, channel_id)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        existing = _written_name(session, workspace_id, name)
        if existing is not None:
            raise ServiceError("watch.exists", name=existing)
        watch = Watch(workspace_id=workspace_id, name=name, query=query, channel_id=channel_id,
                      alert_threshold=alert_threshold, created_by=actor.user_id, kind=kind)
        try:
            # Another admin's add of the same name, in any case, may have passed the check
            # too: the unique name refuses the later insert, in its savepoint alone.
            with session.begin_nested():
                session.add(watch)
                session.flush()
        except IntegrityError:
            raise ServiceError("watch.exists",
                               name=_written_name(session, workspace_id, name) or name) from None
        group_name = None
        if group is not None:
            found = session.scalar(select(WatchGroup).where(
                WatchGroup.workspace_id == workspace_id,
                func.lower(WatchGroup.name) == group.lower()))
            if found is None:
                raise NotFound("compete.group_not_found", name=group)
            session.add(WatchGroupMember(group_id=found.id, watch_id=watch.id))
            session.flush()
            if missing_kinds(session, found.id):
                # Only a group an older Vigie emptied lacks one: joining it alone would
                # make no comparison and no opportunity, silently.
                raise ServiceError("compete.group_broken", name=found.name)
            group_name = found.name
        record(session, workspace_id, actor, "watch.added",
               detail={"watch": name, "query": query, "channel": channel_id,
                       "alert_threshold": alert_threshold, "kind": kind, "group": group_name})
        # Home's influencers rank the brand's watches' authors: a watch more changes them.
        home_ranking_changed(session, workspace_id)
        view = WatchView(watch.id, name, query, description, channel_id, alert_threshold,
                         False, 0, 0, kind, group_name,
                         learned_shift=_learned_shift(watch,
                                                      workspace_offset(session, workspace_id)),
                         not_member=not_member)
    forget_home_cache(sessions, workspace_id)
    return view


def list_watches(sessions: sessionmaker[Session], workspace_id: int,
                 language: str = "en") -> list[WatchView]:
    """Every watch of the workspace, with its source and mention counts, the shift triage
    learning applies to its threshold, and the channel Slack refuses its alerts in, if
    any; query descriptions in ``language``."""
    with sessions() as session:
        source_counts: dict[int | None, int] = {
            watch_id: count for watch_id, count in session.execute(
                select(SourceRow.watch_id, func.count()).where(
                    SourceRow.workspace_id == workspace_id).group_by(SourceRow.watch_id))}
        mention_counts: dict[int | None, int] = {
            watch_id: count for watch_id, count in session.execute(
                select(MentionWatch.watch_id, func.count()).where(
                    MentionWatch.workspace_id == workspace_id)
                .group_by(MentionWatch.watch_id))}
        groups: dict[int, str] = {
            watch_id: name for watch_id, name in session.execute(
                select(WatchGroupMember.watch_id, WatchGroup.name)
                .join(WatchGroup, WatchGroup.id == WatchGroupMember.group_id)
                .where(WatchGroup.workspace_id == workspace_id))}
        watches = session.scalars(
            select(Watch).where(Watch.workspace_id == workspace_id).order_by(Watch.name)).all()
        refused = _refused_by_watch(session, workspace_id, watches)
        offset = workspace_offset(session, workspace_id)
        return [
            WatchView(w.id, w.name, w.query, _describe(w.query, language), w.channel_id,
                      w.alert_threshold, w.paused, int(source_counts.get(w.id, 0)),
                      int(mention_counts.get(w.id, 0)), w.kind, groups.get(w.id),
                      refused.get(w.id), _learned_shift(w, offset))
            for w in watches
        ]


def _refused_by_watch(session: Session, workspace_id: int, watches: Sequence[Watch]
                      ) -> dict[int, RefusedChannel]:
    """Each watch whose alerts Slack refuses -> the refused channel (its own first, then
    its topic routes')."""
    refused = refused_channels(session, workspace_id)
    if not refused:
        return {}
    channels: dict[int, list[tuple[str, str | None]]] = {
        w.id: [(w.channel_id, None)] for w in watches}
    for watch_id, channel, topic in session.execute(
            select(TopicRoute.watch_id, TopicRoute.channel_id, TopicRoute.topic).where(
                TopicRoute.workspace_id == workspace_id).order_by(TopicRoute.id)):
        channels.setdefault(watch_id, []).append((channel, topic))
    found: dict[int, RefusedChannel] = {}
    for watch_id, watch_channels in channels.items():
        for channel, topic in watch_channels:
            if channel in refused:
                since, error = refused[channel]
                found[watch_id] = RefusedChannel(channel, since, error, topic)
                break
    return found


def _describe(query: str, language: str) -> str:
    try:
        return parse_query(query, stored=True).describe(language)
    except QueryError as err:
        return t(language, "describe.invalid", error=err.text(language))


def do_set_watch_paused(
    sessions: sessionmaker[Session], workspace_id: int, actor: Actor, name: str, paused: bool
) -> None:
    """Pause (no polling, no alerts) or resume a watch. Resumed, each of its sources
    backfills its pause quietly at its next poll, as a source resumed on its own does."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        watch = get_watch_by_name(session, workspace_id, name)
        if watch.paused and not paused:
            backfill.mark_resumed(session, session.scalars(
                select(SourceRow.id).where(SourceRow.watch_id == watch.id)).all())
        watch.paused = paused
        # The id: the spike checks match a pause to its watch, not to a later namesake.
        record(session, workspace_id, actor, "watch.paused" if paused else "watch.resumed",
               detail={"watch": watch.name, "watch_id": watch.id})


@dataclass(frozen=True, slots=True)
class ThresholdChange:
    """What `watch threshold` changed: the watch's own threshold before and after, and the
    shift triage learning adds to it now (``WatchView.learned_shift``)."""

    name: str
    before: int
    alert_threshold: int
    learned_shift: int

    @property
    def applied_threshold(self) -> int:
        """The priority from which ingest alerts for this watch now."""
        return self.alert_threshold + self.learned_shift


def do_set_watch_threshold(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                           name: str, threshold: int) -> ThresholdChange:
    """Set a brand watch's alert threshold (0 alerts on everything, up to 100) for the
    mentions found from now on; admins only. A competitor's watch never alerts: refused."""
    if not 0 <= threshold <= 100:
        raise ServiceError("watch.bad_threshold", value=str(threshold))
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        watch = get_watch_by_name(session, workspace_id, name, lock=True)
        if watch.kind != WATCH_BRAND:
            raise ServiceError("watch.threshold_competitor", name=watch.name)
        before, watch.alert_threshold = watch.alert_threshold, threshold
        session.flush()
        record(session, workspace_id, actor, "watch.threshold",
               detail={"watch": watch.name, "before": before, "after": threshold})
        return ThresholdChange(watch.name, before, threshold,
                               _learned_shift(watch, workspace_offset(session, workspace_id)))


@dataclass(frozen=True, slots=True)
class WatchMove:
    """What `watch channel` changed: the watch's alert channel before and after, and how
    many cards Slack refused in the old one now go to the new one."""

    name: str
    before: str
    channel_id: str
    retargeted: int
    not_member: bool = False
    """Slack says the bot is not in the (public) new channel (``check_alert_channel``)."""


def do_move_watch(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, name: str,
                  channel_id: str, *, notifier: object = None,
                  team_id: str | None = None) -> WatchMove:
    """Send watch ``name``'s alerts to ``channel_id`` from now on (admins). With a Slack
    ``notifier`` the channel is checked first (``check_alert_channel``), as when a watch is
    added. The cards Slack refused in the old channel for the channel itself (archived,
    deleted...), and those waiting for it, go to the new one
    (``outbox.retarget_refused_cards``); cards posted in the old channel stay there. A
    channel one of the watch's topic routes sends to is refused: remove the route first."""
    not_member = check_alert_channel(notifier, team_id, channel_id)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        watch = get_watch_by_name(session, workspace_id, name, lock=True)
        before = watch.channel_id
        if before == channel_id:
            raise ServiceError("watch.move_same", name=watch.name, channel=channel_id)
        route = session.scalar(select(TopicRoute).where(
            TopicRoute.watch_id == watch.id, TopicRoute.channel_id == channel_id)
            .order_by(TopicRoute.id).limit(1))
        if route is not None:
            raise ServiceError("watch.move_to_route", name=watch.name, channel=channel_id,
                               topic=Term(f"topics.{route.topic}"), topic_key=route.topic)
        watch.channel_id = channel_id
        session.flush()
        moved = retarget_refused_cards(session, workspace_id, watch.id, before, channel_id)
        record(session, workspace_id, actor, "watch.moved",
               detail={"watch": watch.name, "before": before, "channel": channel_id,
                       "cards": moved})
        return WatchMove(watch.name, before, channel_id, moved, not_member)


def do_remove_watch(
    sessions: sessionmaker[Session], workspace_id: int, actor: Actor, name: str
) -> None:
    """Delete a watch and its sources; its mentions stay (without a watch)."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        # The watch first: another admin removing it at the same moment waits here and
        # finds it gone, and one putting it in a group (which locks it first) has committed
        # its membership before the check below reads the group.
        watch = get_watch_by_name(session, workspace_id, name, lock=True)
        delete_watch(session, workspace_id, actor, watch)
        # Home's influencers rank the brand's watches' authors: its mentions leave them.
        home_ranking_changed(session, workspace_id)
    forget_home_cache(sessions, workspace_id)


def delete_watch(session: Session, workspace_id: int, actor: Actor, watch: Watch) -> None:
    """In the caller's transaction, delete ``watch`` (read with ``lock=True``) and its
    sources, after checking its groups keep a watch of each kind; its mentions stay."""
    _check_groups_keep_both_kinds(session, watch)
    record(session, workspace_id, actor, "watch.removed", detail={"watch": watch.name})
    # Sources first, then the watch: the order a poll locks them in (its source, then
    # the watch it ingests for), so a removal during a poll waits instead of deadlocking.
    session.execute(delete(SourceRow).where(SourceRow.watch_id == watch.id))
    # Its links keep its side: the brand's past figures stay what they were.
    release_watch(session, workspace_id, watch.id, competitor=watch.kind == WATCH_COMPETITOR)
    session.delete(watch)


def missing_kinds(session: Session, group_id: int, *, without: int | None = None
                  ) -> list[str]:
    """The kinds (brand, competitor) the group has no watch of, leaving out watch
    ``without``: a group needs one of each to compare and to find opportunities."""
    query = (select(Watch.kind).join(WatchGroupMember, WatchGroupMember.watch_id == Watch.id)
             .where(WatchGroupMember.group_id == group_id))
    if without is not None:
        query = query.where(Watch.id != without)
    present = set(session.scalars(query))
    return [kind for kind in WATCH_KINDS if kind not in present]


def lock_group(session: Session, *, group_id: int | None = None,
               watch_id: int | None = None) -> WatchGroup | None:
    """The group ``group_id``, or the group watch ``watch_id`` is in, locked until the
    caller's transaction ends (None when there is none).

    Whatever can take a brand or a competitor out of a group (``watch remove``, ``watch
    kind``, ``watch group drop``) locks the group, then checks what the group keeps: two
    admins taking the group's last two brands away at the same moment are served one after
    the other, and the second one's check sees the first one's change. ``watch remove`` and
    ``watch kind`` lock their watch before looking its group up: putting a watch in a
    group locks the watch first, so a membership being added is committed before it is
    looked for (a group found by watch is locked after that watch). On PostgreSQL
    this is ``FOR NO KEY UPDATE`` (it waits for another holder, not for a poll inserting an
    opportunity of the group, which only takes ``FOR KEY SHARE``); SQLite serializes write
    transactions (``storage.db.transaction`` begins IMMEDIATE), so the check already runs
    alone there."""
    query = select(WatchGroup)
    if watch_id is not None:
        query = query.join(WatchGroupMember, WatchGroupMember.group_id == WatchGroup.id).where(
            WatchGroupMember.watch_id == watch_id)
    if group_id is not None:
        query = query.where(WatchGroup.id == group_id)
    # populate_existing: a group read earlier in the session is refreshed by the locked read.
    return session.scalar(query.with_for_update(key_share=True, of=WatchGroup)
                          .execution_options(populate_existing=True))


def _check_groups_keep_both_kinds(session: Session, watch: Watch) -> None:
    """Refuse to remove the last brand watch or the last competitor watch of the group
    ``watch`` is in: a group holds one of each (``watch group drop`` and ``watch kind``
    keep the same rule). The group stays locked until the removal commits."""
    group = lock_group(session, watch_id=watch.id)
    if group is not None and watch.kind in missing_kinds(session, group.id, without=watch.id):
        raise ServiceError(f"compete.remove_last_{watch.kind}", watch=watch.name,
                           group=group.name)
