"""Telling people about their work: direct messages and App Home refreshes.

Who hears what (never the person who did it, never someone who turned DMs off):
- the assignee, when a mention is given to them, and when a mention of theirs reopens (by
  someone's hand, or because the customer wrote again in its case);
- the approvers (approver or admin role), when drafts wait for them: one digest at most per
  window (``VIGIE_NOTIFY_DIGEST_MINUTES``) listing every draft then waiting, none written
  by them;
- the drafter, when their draft is approved, sent back (with the reason) or posted.

Each DM is an outbox row (kind ``notify``) written in the same transaction as the change,
addressed to the user id (the notifier delivers it to the user's DM with the app) and
rendered when it is sent, so it links to the card once the card exists and says nothing
if the user turned DMs off meanwhile. The same transaction marks the App Homes of the
people concerned stale; :func:`refresh_homes` publishes them again, one view per user
however many changes touched them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import language_for
from bot.messages.delivery import (
    DeliveryError,
    HomePublisher,
    OutgoingMessage,
    UserDirectories,
    UserDirectory,
)
from bot.messages.home import HomeSpec
from bot.messages.notes import MentionRef, NetworkName, Note, NoteWithMentions, Text, Who
from bot.services.actors import CUSTOMER, Actor
from bot.services.audit import record
from bot.services.outbox import EVENT_TYPE_MESSAGE, OutboxSender, do_enqueue, message_metadata
from bot.services.permissions import guest_without_role
from bot.services.reach import reachable
from bot.sources.base import anonymous_handle
from storage.claims import skip_locked
from storage.db import transaction
from storage.models import (
    Draft,
    DraftAuthor,
    Member,
    Mention,
    MentionStatus,
    OutboxMessage,
    Role,
    Workspace,
    utcnow,
)
from storage.models_notifications import NotificationState

log = logging.getLogger(__name__)

KIND_NOTIFY = "notify"
"""A DM to ``channel`` (a user id), rendered at send time from ``payload["event"]``."""
DEFAULT_DIGEST_MINUTES = 10
DIGEST_SIZE = 10
HOME_BATCH = 50
APPROVER_ROLES = (Role.APPROVER.value, Role.ADMIN.value)

ASSIGNED, APPROVED, REJECTED, POSTED, REOPENED, WITHDRAWN, WROTE_AGAIN = (
    "assigned", "approved", "rejected", "posted", "reopened", "withdrawn", "wrote_again")
APPROVAL_DIGEST = "approval_digest"


# --------------------------------------------------------------- state and preferences
def _state(session: Session, workspace_id: int, user_id: str) -> NotificationState:
    """The user's state row, created when missing (a concurrent creator's row wins)."""
    query = select(NotificationState).where(NotificationState.workspace_id == workspace_id,
                                            NotificationState.user_id == user_id)
    state = session.scalar(query)
    if state is not None:
        return state
    state = NotificationState(workspace_id=workspace_id, user_id=user_id)
    try:
        with session.begin_nested():
            session.add(state)
            session.flush()
    except IntegrityError:
        state = session.scalar(query)
        assert state is not None
    return state


def _wants_dms(session: Session, workspace_id: int, user_id: str) -> bool:
    enabled = session.scalar(select(NotificationState.dm_enabled).where(
        NotificationState.workspace_id == workspace_id, NotificationState.user_id == user_id))
    return enabled is None or bool(enabled)


def dms_enabled(sessions: sessionmaker[Session], workspace_id: int, user_id: str) -> bool:
    """Whether ``user_id`` gets notification DMs (on unless they turned them off)."""
    with sessions() as session:
        return _wants_dms(session, workspace_id, user_id)


def do_set_dms(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
               enabled: bool) -> None:
    """Turn the actor's notification DMs on or off (`/cm notify on|off`)."""
    if not actor.user_id:
        raise ValueError("only a Slack user has notification DMs")
    with transaction(sessions) as session:
        state = _state(session, workspace_id, actor.user_id)
        state.dm_enabled = enabled
        if not enabled:
            state.digest_owed = False
        record(session, workspace_id, actor, "notify.on" if enabled else "notify.off")


# ------------------------------------------------------------------ the workflow hook
def on_transition(session: Session, workspace_id: int, mention: Mention, actor: Actor,
                  action: str, *, reason: str | None = None,
                  detail: dict[str, Any] | None = None) -> None:
    """Inside the transition's transaction: queue the DMs it calls for and mark the App
    Homes it changes."""
    assignee = mention.assignee_user_id
    previous_assignee = (detail or {}).get("previous")
    concerned = [assignee, previous_assignee]
    drafter = None
    approvers: list[str] = []
    if action in {"approve", "reject", "replied", "withdraw"}:
        drafter = session.scalar(select(Draft.author_user_id).where(
            Draft.mention_id == mention.id).order_by(Draft.version.desc()).limit(1))
        concerned.append(drafter)
    if action in {"draft", "approve", "reject", "replied", "ignore"}:
        approvers = _approvers(session, workspace_id)
    # One read for everyone concerned: a transition stays a handful of statements.
    states = _states(session, workspace_id, [*concerned, *approvers])
    recipient, event = None, None
    if action == "assign" and assignee != previous_assignee:
        recipient, event = assignee, ASSIGNED
    elif action in {"approve", "reject"}:
        recipient, event = drafter, APPROVED if action == "approve" else REJECTED
    elif action == "withdraw":
        recipient, event = drafter, WITHDRAWN
    elif action == "replied" and actor.surface == "network":
        recipient, event = drafter, POSTED
    elif action == "reopen":
        recipient, event = assignee, WROTE_AGAIN if actor == CUSTOMER else REOPENED
    if recipient and event and recipient != actor.user_id and states[recipient].dm_enabled:
        payload: dict[str, Any] = {"event": event, "mention_id": mention.id,
                                   "actor": actor.name}
        if reason:
            payload["reason"] = reason
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_NOTIFY, channel=recipient,
                   payload=payload)
    if action == "draft":
        for user_id in approvers:
            if user_id != actor.user_id and states[user_id].dm_enabled:
                states[user_id].digest_owed = True
    _mark_stale(states.values())


def _approvers(session: Session, workspace_id: int) -> list[str]:
    return list(session.scalars(select(Member.user_id).where(
        Member.workspace_id == workspace_id, Member.role.in_(APPROVER_ROLES))))


def _states(session: Session, workspace_id: int, user_ids: list[str | None]
            ) -> dict[str, NotificationState]:
    """The state rows of ``user_ids`` (created when missing), by user id."""
    wanted = list(dict.fromkeys(u for u in user_ids if u))
    states = {state.user_id: state for state in session.scalars(select(NotificationState).where(
        NotificationState.workspace_id == workspace_id,
        NotificationState.user_id.in_(wanted)))} if wanted else {}
    for user_id in wanted:
        if user_id not in states:
            states[user_id] = _state(session, workspace_id, user_id)
    return states


def _mark_stale(states: Iterable[NotificationState]) -> None:
    now = utcnow()
    for state in states:
        # A new time even when already stale: a refresh that read the old one must not
        # clear this change (see refresh_homes).
        state.home_stale_at = now


def mark_homes_stale(session: Session, workspace_id: int, user_ids: list[str]) -> None:
    """Inside the caller's transaction: these users' App Homes must be published again."""
    _mark_stale(_states(session, workspace_id, list(user_ids)).values())


# -------------------------------------------------------------------- approval digests
def waiting_for(session: Session, workspace_id: int, user_id: str,
                limit: int = DIGEST_SIZE) -> list[Mention]:
    """Mentions whose latest draft waits for approval and has none of ``user_id``'s words
    (the four-eyes rule would refuse their approval; the Home tab lists the same)."""
    latest = (select(Draft.mention_id, func.max(Draft.version).label("version"))
              .group_by(Draft.mention_id).subquery())
    theirs = select(Draft.mention_id).join(latest, and_(
        Draft.mention_id == latest.c.mention_id, Draft.version == latest.c.version)
    ).join(DraftAuthor, DraftAuthor.draft_id == Draft.id).where(DraftAuthor.user_id == user_id)
    return list(session.scalars(select(Mention).where(
        Mention.workspace_id == workspace_id,
        Mention.status == MentionStatus.AWAITING_APPROVAL.value,
        Mention.id.not_in(theirs)).order_by(Mention.priority.desc(), Mention.id)
        .limit(limit)))


def send_approval_digests(sessions: sessionmaker[Session], now: datetime,
                          window_minutes: int = DEFAULT_DIGEST_MINUTES) -> int:
    """Queue the approval digests that are owed and whose window has passed; returns how
    many. A draft that starts waiting inside an approver's window is told in the digest at
    the window's end, with every other draft then waiting."""
    window = timedelta(minutes=window_minutes)
    queued = 0
    with transaction(sessions) as session:
        # Not for a workspace out of reach (uninstalled, its token refused): the digest
        # would wait in its paused outbox. It stays owed, and goes once Slack takes it.
        states = session.scalars(skip_locked(session, select(NotificationState).where(
            NotificationState.digest_owed.is_(True),
            NotificationState.workspace_id.in_(select(Workspace.id).where(reachable())))
            .order_by(NotificationState.id))).all()
        for state in states:
            if state.digest_sent_at is not None and state.digest_sent_at + window > now:
                continue
            state.digest_owed = False
            role = session.scalar(select(Member.role).where(
                Member.workspace_id == state.workspace_id, Member.user_id == state.user_id))
            if (not state.dm_enabled or role not in APPROVER_ROLES
                    or not waiting_for(session, state.workspace_id, state.user_id, 1)):
                continue
            state.digest_sent_at = now
            do_enqueue(session, workspace_id=state.workspace_id, kind=KIND_NOTIFY,
                       channel=state.user_id, payload={"event": APPROVAL_DIGEST})
            queued += 1
    return queued


# ------------------------------------------------------------------------- rendering
def _language(session: Session, workspace_id: int, user_id: str) -> str:
    stored = session.scalar(select(Member.locale).where(Member.workspace_id == workspace_id,
                                                       Member.user_id == user_id))
    workspace = session.scalar(select(Workspace.locale).where(Workspace.id == workspace_id))
    return language_for(stored, workspace)


def mention_ref(mention: Mention) -> MentionRef:
    """What a DM shows of ``mention``: its card (or post), author, network and text."""
    author = (mention.author.handle if mention.author is not None
              else anonymous_handle(mention.network))
    return MentionRef(mention.id, mention.slack_channel, mention.slack_ts, mention.url, author,
                      mention.network, " ".join((mention.title or mention.text or "").split()))


def render_notification(session: Session, row: OutboxMessage) -> OutgoingMessage | None:
    """Outbox renderer for ``notify`` rows: None (nothing sent) when the user turned DMs
    off, the mention is gone, or no draft waits any more."""
    user_id = row.channel
    if not _wants_dms(session, row.workspace_id, user_id):
        return None
    language = _language(session, row.workspace_id, user_id)
    event = str(row.payload.get("event"))
    if event == APPROVAL_DIGEST:
        waiting = waiting_for(session, row.workspace_id, user_id)
        if not waiting:
            return None
        # Which mentions the DM shows, for a forget to find it (bot.services.forget_messages).
        shown = sorted({*row.payload.get("mention_ids", []), *(m.id for m in waiting)})
        row.payload = {**row.payload, "mention_ids": shown}
        spec = NoteWithMentions(
            Note.of(language, "notify.approval_digest", count=len(waiting)),
            tuple(mention_ref(m) for m in waiting), bullets=True)
    else:
        mention = session.get(Mention, row.payload.get("mention_id"))
        if mention is None or mention.workspace_id != row.workspace_id:
            return None
        note = Note.of(language, f"notify.{event}", id=mention.id,
                       actor=Who(str(row.payload.get("actor") or "")),
                       network=NetworkName(mention.network),
                       reason=Text(str(row.payload.get("reason") or "")))
        spec = NoteWithMentions(note, (mention_ref(mention),))
    return OutgoingMessage(channel=user_id, spec=spec, event_type=EVENT_TYPE_MESSAGE,
                           event_payload=message_metadata(row))


def register_notification_renderers(sender: OutboxSender) -> None:
    """Teach the outbox sender to render notification DMs."""
    sender.register_renderer(KIND_NOTIFY, render_notification)


# ---------------------------------------------------------------------- App Home
def refresh_homes(sessions: sessionmaker[Session], publisher: HomePublisher,
                  now: datetime, *, limit: int = HOME_BATCH,
                  default_timezone: str = "UTC", users: UserDirectories | None = None,
                  installed: Callable[[str], bool] | None = None) -> int:
    """Publish again the App Homes marked stale; returns how many were published (the
    same summary as opening the tab reads: ``bot.services.home.home_summary``). A Slack
    guest no admin gave a role (Slack's directories ``users``, when there are) gets the
    view opening the tab gives them: no data, only how to get a role.

    Homes of a workspace Vigie was uninstalled from, or (``installed``: whether a team's
    bot token is stored, several workspaces) that has no token, are left stale and not
    taken: nothing could publish them, and they would fill every batch. A Home left stale
    because Slack cannot say now whether its user is a guest waits behind the others
    (its stale time becomes ``now``)."""
    # Imported here: the Home summary reads workflow states, and workflow calls this module.
    from bot.services.home import home_summary

    with sessions() as session:
        serving = (select(Workspace.id, Workspace.team_id)
                   .where(Workspace.uninstalled_at.is_(None),
                          Workspace.id.in_(select(NotificationState.workspace_id).where(
                              NotificationState.home_stale_at.is_not(None)))))
        workspaces = [ws for ws, team in session.execute(serving).all()
                      if installed is None or installed(team)]
        stale = session.execute(
            select(NotificationState.id, NotificationState.workspace_id,
                   NotificationState.user_id, NotificationState.home_stale_at,
                   Workspace.team_id)
            .join(Workspace, Workspace.id == NotificationState.workspace_id)
            .where(NotificationState.home_stale_at.is_not(None),
                   NotificationState.workspace_id.in_(workspaces))
            .order_by(NotificationState.home_stale_at, NotificationState.id)
            .limit(limit)).all() if workspaces else []
        languages = {(ws, user): _language(session, ws, user) for _, ws, user, _, _ in stale}
    published = 0
    directories: dict[int, UserDirectory] = {}
    for state_id, workspace_id, user_id, stale_at, team_id in stale:
        if users is not None and workspace_id not in directories:
            directories[workspace_id] = users.for_workspace(workspace_id, team_id)
        guest = guest_without_role(sessions, workspace_id, user_id,
                                   directories.get(workspace_id))
        if guest is None:
            # Slack cannot say whether they are a guest: stays stale, tried again after
            # the others.
            _stale_again(sessions, state_id, stale_at, now)
            continue
        summary = (None if guest
                   else home_summary(sessions, workspace_id, user_id, now,
                                     default_timezone=default_timezone))
        try:
            publisher.publish_home(team_id, user_id,
                                   HomeSpec(summary, languages[(workspace_id, user_id)]))
            published += 1
        except DeliveryError as err:
            log.warning("App Home of %s not refreshed: %s", user_id, err)
            if err.retryable:
                _stale_again(sessions, state_id, stale_at, now)
                continue
        with transaction(sessions) as session:
            # Only if no change marked it again meanwhile: that one needs its own refresh.
            session.execute(update(NotificationState).where(
                NotificationState.id == state_id, NotificationState.home_stale_at == stale_at)
                .values(home_stale_at=None).execution_options(synchronize_session=False))
    return published


def _stale_again(sessions: sessionmaker[Session], state_id: int, stale_at: datetime,
                 now: datetime) -> None:
    """A Home that could not be published now goes behind the others still stale (unless
    a change marked it again meanwhile: it is already behind them)."""
    with transaction(sessions) as session:
        session.execute(update(NotificationState).where(
            NotificationState.id == state_id, NotificationState.home_stale_at == stale_at)
            .values(home_stale_at=now)
            .execution_options(synchronize_session=False))
