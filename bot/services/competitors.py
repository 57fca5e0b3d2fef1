"""Competitive listening: watch kinds (the brand's or a competitor's) and the groups that
compare the brand's watches with its competitors'.

A competitor watch stores and counts its mentions like any watch, but never alerts and never
gets an SLA: its mentions feed share of voice and, when its group asks for them, conquest
opportunities. A watch belongs to one group at most; a group holds at least one brand watch
and one competitor watch.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError
from bot.services.influencer_cache import forget_home_cache, home_ranking_changed
from bot.services.permissions import require_role
from bot.services.watches import get_watch_by_name, lock_group
from storage.db import transaction
from storage.models import Role, Watch
from storage.models_competitors import (
    WATCH_BRAND,
    WATCH_COMPETITOR,
    WATCH_KINDS,
    WatchGroup,
    WatchGroupMember,
)

GROUP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}\Z")
MAX_GROUP_WATCHES = 20


def parse_kind(text: str) -> str:
    """``brand`` or ``competitor`` (any case); ServiceError ``compete.bad_kind`` naming the
    closest one for a typo (``competitor``, ``competiter``)."""
    value = text.strip().lower()
    if value in WATCH_KINDS:
        return value
    close = difflib.get_close_matches(value, WATCH_KINDS, n=1, cutoff=0.5)
    raise ServiceError("compete.bad_kind", value=text,
                       hint=close[0] if close else WATCH_COMPETITOR)


def parse_switch(text: str) -> bool:
    """``on``/``off`` (also yes/no, true/false); ServiceError ``compete.bad_switch``."""
    value = text.strip().lower()
    if value in {"on", "yes", "true"}:
        return True
    if value in {"off", "no", "false"}:
        return False
    raise ServiceError("compete.bad_switch", value=text)


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A watch of a group."""

    watch_id: int
    name: str
    kind: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group as listed to users: its brand watches first, then its competitors."""

    id: int
    name: str
    conquest: bool
    members: tuple[GroupMember, ...]

    @property
    def brands(self) -> tuple[GroupMember, ...]:
        """The group's brand watches."""
        return tuple(m for m in self.members if m.kind == WATCH_BRAND)

    @property
    def competitors(self) -> tuple[GroupMember, ...]:
        """The group's competitor watches."""
        return tuple(m for m in self.members if m.kind == WATCH_COMPETITOR)

    @property
    def channel_id(self) -> str:
        """Where the group's opportunities go: its first brand watch's channel."""
        return self.brands[0].channel_id if self.brands else ""


def _get_group(session: Session, workspace_id: int, name: str, *, lock: bool = False
               ) -> WatchGroup:
    group = session.scalar(select(WatchGroup).where(
        WatchGroup.workspace_id == workspace_id, func.lower(WatchGroup.name) == name.lower()))
    if group is not None and lock:
        group = lock_group(session, group_id=group.id)
    if group is None:
        raise NotFound("compete.group_not_found", name=name)
    return group


def _view(session: Session, group: WatchGroup) -> GroupView:
    rows = session.execute(
        select(Watch.id, Watch.name, Watch.kind, Watch.channel_id)
        .join(WatchGroupMember, WatchGroupMember.watch_id == Watch.id)
        .where(WatchGroupMember.group_id == group.id)
        .order_by(Watch.kind, Watch.name)).all()
    return GroupView(group.id, group.name, group.conquest,
                     tuple(GroupMember(int(i), str(n), str(k), str(c)) for i, n, k, c in rows))


def _check_complete(view: GroupView) -> None:
    if not view.brands or not view.competitors:
        raise ServiceError("compete.group_incomplete", name=view.name)


def _watches(session: Session, workspace_id: int, names: list[str]) -> list[Watch]:
    if not names:
        raise ServiceError("compete.no_watches")
    if len(names) > MAX_GROUP_WATCHES:
        raise ServiceError("compete.too_many", limit=MAX_GROUP_WATCHES)
    found: dict[int, Watch] = {}
    for name in names:
        watch = get_watch_by_name(session, workspace_id, name)
        found[watch.id] = watch
    return list(found.values())


def _join(session: Session, group: WatchGroup, watches: list[Watch]) -> None:
    """Put ``watches`` in ``group`` (those already in it stay as they are); a watch in
    another group is refused with that group's name.

    The watches' rows are locked first (``FOR NO KEY UPDATE`` on PostgreSQL, in id order),
    so two admins putting the same watch in a group at the same moment are served one after
    the other: the second sees the first's membership (refused, or nothing to add) instead
    of breaking the one-group rule's unique key. A watch removed meanwhile is NotFound.
    SQLite serializes write transactions: the check already runs alone there."""
    ids = sorted(w.id for w in watches)
    locked = set(session.scalars(select(Watch.id).where(Watch.id.in_(ids)).order_by(Watch.id)
                                 .with_for_update(key_share=True)))
    for watch in watches:
        if watch.id not in locked:
            raise NotFound("watch.not_found", name=watch.name)
    taken = {watch_id: (group_id, name) for watch_id, group_id, name in session.execute(
        select(WatchGroupMember.watch_id, WatchGroup.id, WatchGroup.name)
        .join(WatchGroup, WatchGroup.id == WatchGroupMember.group_id)
        .where(WatchGroupMember.watch_id.in_(ids)))}
    for watch in watches:
        if watch.id in taken and taken[watch.id][0] != group.id:
            raise ServiceError("compete.watch_taken", watch=watch.name, group=taken[watch.id][1])
    session.add_all([WatchGroupMember(group_id=group.id, watch_id=w.id)
                     for w in watches if w.id not in taken])
    session.flush()


def _written_group_name(session: Session, workspace_id: int, name: str) -> str | None:
    """The name of the group called ``name`` in any case, as it is written; None if none."""
    return session.scalar(select(WatchGroup.name).where(
        WatchGroup.workspace_id == workspace_id, func.lower(WatchGroup.name) == name.lower()))


def do_create_group(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                    name: str, watch_names: list[str], conquest: bool = False) -> GroupView:
    """Create a group of watches (at least one brand watch and one competitor watch, none
    already in a group); admins only."""
    if not GROUP_NAME.match(name):
        raise ServiceError("compete.bad_group_name", name=name)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        existing = _written_group_name(session, workspace_id, name)
        if existing is not None:
            raise ServiceError("compete.group_exists", name=existing)
        watches = _watches(session, workspace_id, watch_names)
        group = WatchGroup(workspace_id=workspace_id, name=name, conquest=conquest,
                           created_by=actor.user_id)
        try:
            # Another admin's group of the same name, in any case, may have passed the
            # check too: the unique name refuses the later insert, in its savepoint alone.
            with session.begin_nested():
                session.add(group)
                session.flush()
        except IntegrityError:
            raise ServiceError("compete.group_exists",
                               name=_written_group_name(session, workspace_id, name) or name
                               ) from None
        _join(session, group, watches)
        view = _view(session, group)
        _check_complete(view)
        record(session, workspace_id, actor, "group.created",
               detail={"group": name, "watches": [m.name for m in view.members],
                       "conquest": conquest})
        return view


def do_add_to_group(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                    name: str, watch_names: list[str]) -> GroupView:
    """Add watches to a group (none may be in another group); a group left without a brand
    or a competitor watch (by an older Vigie) must get what it lacks. Admins only."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        group = _get_group(session, workspace_id, name)
        watches = _watches(session, workspace_id, watch_names)
        _join(session, group, watches)
        view = _view(session, group)
        if len(view.members) > MAX_GROUP_WATCHES:
            raise ServiceError("compete.too_many", limit=MAX_GROUP_WATCHES)
        if not view.brands or not view.competitors:
            # Only a group an older Vigie emptied lacks one: adding must repair it.
            raise ServiceError("compete.group_broken", name=group.name)
        record(session, workspace_id, actor, "group.watches_added",
               detail={"group": group.name, "watches": [w.name for w in watches]})
        return view


def do_remove_from_group(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                         name: str, watch_name: str) -> GroupView:
    """Take a watch out of a group; refused when it would leave the group without a brand
    watch or without a competitor (delete the group instead). Admins only."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        group = _get_group(session, workspace_id, name, lock=True)
        watch = get_watch_by_name(session, workspace_id, watch_name)
        member = session.scalar(select(WatchGroupMember).where(
            WatchGroupMember.group_id == group.id, WatchGroupMember.watch_id == watch.id))
        if member is None:
            raise ServiceError("compete.not_member", watch=watch.name, group=group.name)
        session.delete(member)
        session.flush()
        view = _view(session, group)
        _check_complete(view)
        record(session, workspace_id, actor, "group.watch_removed",
               detail={"group": group.name, "watch": watch.name})
        return view


def do_delete_group(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                    name: str) -> str:
    """Delete a group (its watches and their mentions stay); returns its name."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        group = _get_group(session, workspace_id, name)
        record(session, workspace_id, actor, "group.deleted", detail={"group": group.name})
        session.delete(group)
        return group.name


def do_set_conquest(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                    name: str, enabled: bool) -> GroupView:
    """Turn conquest opportunities on or off for a group; admins only."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        group = _get_group(session, workspace_id, name)
        group.conquest = enabled
        record(session, workspace_id, actor, "group.conquest",
               detail={"group": group.name, "enabled": enabled})
        session.flush()
        return _view(session, group)


def do_set_watch_kind(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                      watch_name: str, kind: str) -> str:
    """Mark a watch as the brand's or a competitor's; refused when it would leave its group
    without a brand watch or a competitor. Returns the kind set."""
    kind = parse_kind(kind)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        watch = get_watch_by_name(session, workspace_id, watch_name, lock=True)
        group = lock_group(session, watch_id=watch.id)  # before the change: see lock_group
        watch.kind = kind
        session.flush()
        if group is not None:
            _check_complete(_view(session, group))
        record(session, workspace_id, actor, "watch.kind",
               detail={"watch": watch.name, "kind": kind})
        # Home's influencers rank the brand's watches' authors: a watch changing side
        # changes them.
        home_ranking_changed(session, workspace_id)
    forget_home_cache(sessions, workspace_id)
    return kind


def list_groups(sessions: sessionmaker[Session], workspace_id: int) -> list[GroupView]:
    """Every group of the workspace, by name."""
    with sessions() as session:
        return groups_of(session, workspace_id)


def groups_of(session: Session, workspace_id: int) -> list[GroupView]:
    """Every group of the workspace, by name, in the caller's session."""
    return [_view(session, g) for g in session.scalars(
        select(WatchGroup).where(WatchGroup.workspace_id == workspace_id)
        .order_by(WatchGroup.name))]


def get_group(session: Session, workspace_id: int, name: str) -> GroupView:
    """The group called ``name`` (case-insensitive) or NotFound."""
    return _view(session, _get_group(session, workspace_id, name))


def group_names(session: Session, watch_ids: list[int]) -> dict[int, str]:
    """The group of each of ``watch_ids`` that is in one."""
    return {int(w): str(n) for w, n in session.execute(
        select(WatchGroupMember.watch_id, WatchGroup.name)
        .join(WatchGroup, WatchGroup.id == WatchGroupMember.group_id)
        .where(WatchGroupMember.watch_id.in_(watch_ids)))}


def join_group(session: Session, workspace_id: int, group_name: str, watch: Watch) -> None:
    """Put a watch just created into an existing group (``watch add ... group:G``)."""
    _join(session, _get_group(session, workspace_id, group_name), [watch])
