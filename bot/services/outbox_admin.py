"""Outbox health for operators: what waits, what failed, which workspaces are paused, and
requeuing failed rows (`vigie outbox`, `vigie doctor`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.delivery import POSTING_REFUSED
from bot.services.outbox import (
    CARD_LOST,
    KIND_CARD,
    card_on_its_way,
    card_ts,
    repost_lost_card,
)
from storage.db import integer_ids, transaction
from storage.models import Mention, OutboxMessage, OutboxStatus, Workspace, utcnow
from storage.models_outbox import OutboxPause

PENDING, FAILED = OutboxStatus.PENDING.value, OutboxStatus.FAILED.value
PAUSED = "paused"
"""How listings show a pending row of a paused workspace."""
FAILED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PauseView:
    """A workspace whose outbox waits for a working token, or for one that may post."""

    team_id: str
    error: str
    paused_at: datetime
    probes: int
    next_probe_at: datetime
    waiting: int
    detail: str | None = None
    """Slack's refusal as the outbox recorded it: for ``missing_scope``, with the scope
    Slack said is needed (``Slack refused the message: missing_scope (needed: chat:write)``)."""
    uninstalled_at: datetime | None = None
    """When Slack said the app was uninstalled from the workspace (``app_uninstalled``,
    ``tokens_revoked``); None while it is installed."""

    @property
    def posting_refused(self) -> bool:
        """True when Slack accepts the token but lets it post nothing (POSTING_REFUSED)."""
        return self.error in POSTING_REFUSED


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    """The outbox at a glance."""

    pending: int
    oldest_pending_at: datetime | None
    failed_last_day: int
    paused: list[PauseView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OutboxRowView:
    """One outbox row as `vigie outbox` lists it."""

    id: int
    team_id: str
    channel: str
    kind: str
    status: str
    attempts: int
    mention_id: int | None
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None


@dataclass
class RetryResult:
    """What `vigie outbox retry` did: rows requeued, rows left alone and why."""

    requeued: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def age(moment: datetime | None, now: datetime) -> str:
    """``moment`` as a short age (``45 s``, ``12 min``, ``3 h``, ``2 d``)."""
    if moment is None:
        return "-"
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def outbox_health(sessions: sessionmaker[Session], now: datetime | None = None) -> OutboxHealth:
    """Pending count, the oldest pending row's age, failures of the last 24 h, pauses."""
    now = now or utcnow()
    with sessions() as session:
        pending, oldest = session.execute(
            select(func.count(), func.min(OutboxMessage.created_at))
            .where(OutboxMessage.status == PENDING)).one()
        failed = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == FAILED,
            OutboxMessage.created_at >= now - FAILED_WINDOW))
        waiting = (select(func.count()).select_from(OutboxMessage)
                   .where(OutboxMessage.workspace_id == OutboxPause.workspace_id,
                          OutboxMessage.status == PENDING).scalar_subquery())
        pauses = [PauseView(team, error, paused_at, probes, next_probe_at, int(count or 0),
                            detail, uninstalled_at)
                  for team, error, paused_at, probes, next_probe_at, count, detail,
                  uninstalled_at in session.execute(
                      select(Workspace.team_id, OutboxPause.error, OutboxPause.paused_at,
                             OutboxPause.probes, OutboxPause.next_probe_at, waiting,
                             OutboxPause.detail, Workspace.uninstalled_at)
                      .join(Workspace, Workspace.id == OutboxPause.workspace_id)
                      .order_by(Workspace.team_id))]
    return OutboxHealth(int(pending or 0), oldest, int(failed or 0), pauses)


def list_rows(sessions: sessionmaker[Session], *, statuses: Iterable[str] = (FAILED, PENDING),
              limit: int = 200) -> list[OutboxRowView]:
    """Rows in ``statuses``, by channel then id; a paused workspace's pending rows show as
    ``paused``."""
    with sessions() as session:
        paused = set(session.scalars(select(OutboxPause.workspace_id)))
        rows = session.execute(
            select(OutboxMessage, Workspace.team_id)
            .join(Workspace, Workspace.id == OutboxMessage.workspace_id)
            .where(OutboxMessage.status.in_(list(statuses)))
            .order_by(OutboxMessage.channel, OutboxMessage.id).limit(limit)).all()
        return [OutboxRowView(
            id=row.id, team_id=team, channel=row.channel, kind=row.kind,
            status=PAUSED if row.status == PENDING and row.workspace_id in paused
            else row.status,
            attempts=row.attempts, mention_id=row.mention_id, created_at=row.created_at,
            next_attempt_at=row.next_attempt_at, last_error=row.last_error)
            for row, team in rows]


def do_retry_failed(sessions: sessionmaker[Session], *, ids: Iterable[int] = (),
                    all_failed_since: timedelta | None = None) -> RetryResult:
    """Queue failed rows again: those in ``ids``, or, with ``all_failed_since``, every failed
    row queued within that time (older ones are stale: yesterday's digest, a closed case).

    A card is requeued with the notes that failed waiting for it (and a thread note saying
    it was posted again), unless the mention's card is in Slack or on its way already; a
    note that waits for a card nobody requeues is left alone (it would fail at once). A row
    of a workspace Vigie is uninstalled from is left alone too: nothing can be sent there
    (its outbox waits), and a reinstall starts afresh.
    """
    result = RetryResult()
    with transaction(sessions) as session:
        uninstalled = dict(session.execute(
            select(Workspace.id, Workspace.uninstalled_at)
            .where(Workspace.uninstalled_at.is_not(None))).tuples().all())
        if all_failed_since is not None:
            rows = list(session.scalars(select(OutboxMessage).where(
                OutboxMessage.status == FAILED,
                OutboxMessage.created_at >= utcnow() - all_failed_since)
                .order_by(OutboxMessage.id)))
        else:
            wanted = sorted(set(ids))
            found = {row.id: row for row in session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(integer_ids(wanted))))}
            rows = []
            for row_id in wanted:
                row = found.get(row_id)
                if row is None:
                    result.skipped.append((row_id, "no such row"))
                elif row.status != FAILED:
                    result.skipped.append((row_id, f"it is {row.status}, not failed"))
                else:
                    rows.append(row)
        requeued: set[int] = set()
        for row in rows:
            if row.id in requeued:
                continue  # requeued with its card
            since = uninstalled.get(row.workspace_id)
            ids_or_reason = (_retry_one(session, row) if since is None else
                             f"Vigie was uninstalled from its workspace on {since:%Y-%m-%d}: "
                             "install the app there again first")
            if isinstance(ids_or_reason, str):
                result.skipped.append((row.id, ids_or_reason))
            else:
                requeued.update(ids_or_reason)
    result.requeued = sorted(requeued)
    result.skipped.sort()
    return result


def _retry_one(session: Session, row: OutboxMessage) -> list[int] | str:
    """Requeue ``row`` (and, for a card, its notes): the ids requeued, or why not."""
    mention = session.get(Mention, row.mention_id) if row.mention_id is not None else None
    if row.kind == KIND_CARD and mention is not None:
        if card_ts(session, mention, row.channel) is not None:
            return f"the card of mention {mention.id} is in Slack already"
        return (repost_lost_card(session, mention)
                or f"a newer card of mention {mention.id} is queued or failed")
    if (row.last_error or "").startswith(CARD_LOST) and not card_on_its_way(session, row):
        return (f"it waits for the card of mention {row.mention_id}, which is not queued: "
                "retry the card")
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = utcnow()
    return [row.id]
