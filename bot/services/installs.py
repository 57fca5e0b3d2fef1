"""A workspace's installation ending and starting again: Slack's ``app_uninstalled`` and
``tokens_revoked`` events, and a reinstall.

Uninstalled (``Workspace.uninstalled_at`` set): its sources are not polled
(``bot.services.polling``), its queued Slack messages are dropped (``failed``, with the
reason) and its outbox is paused (``outbox_pauses``) so that what is queued later (a
webhook source) waits. Its data stays, under the retention rules. A reinstall clears the
mark and ends the pause (``do_reinstalled``), as it ends a pause on a refused token when
Slack's events never reached Vigie.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services import backfill
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.outbox import drop_stale_reports
from bot.services.reach import DEAD_TOKEN_PAUSES
from bot.services.sla import skip_stale_breaches
from storage import repositories as repo
from storage.db import transaction
from storage.models import AuditEvent, OutboxMessage, OutboxStatus, SourceRow, Workspace
from storage.models_base import as_utc, utcnow
from storage.models_outbox import OutboxPause

log = logging.getLogger(__name__)

SLACK_ACTOR = Actor(None, "slack")
"""Who uninstalls, as the audit trail tells it: Slack said so (its event names nobody)."""


@dataclass(frozen=True, slots=True)
class Uninstalled:
    """What ``do_uninstalled`` did."""

    known: bool
    """Vigie knew the workspace."""
    already: bool
    """It was already marked uninstalled (Slack retried, or sent both events)."""
    dropped: int
    """Queued Slack messages dropped."""
    stale: bool = False
    """Slack's word predates a reinstall, or Slack accepts the bot token (a late retry):
    nothing was done."""


def do_uninstalled(sessions: sessionmaker[Session], team_id: str, reason: str, *,
                   forget_tokens: Callable[[], None] | None = None,
                   told_at: datetime | None = None,
                   token_accepted: Callable[[], bool | None] | None = None,
                   now: datetime | None = None) -> Uninstalled:
    """Slack says Vigie is uninstalled from ``team_id`` (``reason``: ``app_uninstalled``
    or ``tokens_revoked``; ``told_at``: when it happened, Slack's ``event_time``):
    ``forget_tokens`` deletes its stored tokens (several workspaces), then the workspace is
    marked, its queued messages dropped, its outbox paused and one WARNING line logged.
    Telling it again changes nothing, nor does an event older than a reinstall (Slack
    retries an event for up to an hour).

    ``token_accepted`` (one bot token: Slack asked whether it accepts SLACK_BOT_TOKEN,
    ``auth.test``): when it does, Slack's word is a late retry of an event Vigie missed
    while down, the app installed again since with the token it runs with; nothing is
    done. When it cannot tell (None), Slack's word stands."""
    if told_at is not None and _reinstalled_since(sessions, team_id, told_at):
        log.info("ignored %s for %s: Vigie was installed again since", reason, team_id)
        return Uninstalled(known=True, already=False, dropped=0, stale=True)
    if token_accepted is not None and token_accepted():
        log.info("ignored %s for %s: Slack accepts the bot token (installed again since)",
                 reason, team_id)
        return Uninstalled(known=True, already=False, dropped=0, stale=True)
    if forget_tokens is not None:
        forget_tokens()
    now = now or utcnow()
    with transaction(sessions) as session:
        workspace = repo.get_workspace_by_team(session, team_id)
        if workspace is None:
            log.warning("Slack says Vigie was uninstalled from %s (%s); Vigie had no data "
                        "for it", team_id, reason)
            return Uninstalled(known=False, already=False, dropped=0)
        session.refresh(workspace, with_for_update=True)
        if workspace.uninstalled_at is not None:
            return Uninstalled(known=True, already=True, dropped=0)
        workspace.uninstalled_at = now
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.workspace_id == workspace.id,
                   OutboxMessage.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.FAILED.value, last_error=f"dropped: {reason}")
            .execution_options(synchronize_session=False))
        dropped = int(result.rowcount or 0)  # type: ignore[attr-defined]
        pause = session.get(OutboxPause, workspace.id, with_for_update=True)
        if pause is None:
            session.add(OutboxPause(workspace_id=workspace.id, error=reason,
                                    detail="Slack said the app was uninstalled",
                                    paused_at=now, probes=0, last_probe_at=now,
                                    next_probe_at=now))
        else:
            pause.error = reason
        record(session, workspace.id, SLACK_ACTOR, "workspace.uninstalled", reason=reason,
               detail={"dropped": int(dropped)})
    log.warning("Vigie was uninstalled from workspace %s (%s): its sources are no longer "
                "polled, %d queued Slack messages were dropped and its outbox waits; its data "
                "is kept (retention rules apply). Reinstalling the app resumes it.",
                team_id, reason, dropped)
    return Uninstalled(known=True, already=False, dropped=int(dropped))


def do_reinstalled(sessions: sessionmaker[Session], team_id: str, *,
                   now: datetime | None = None, default_tz: str = "UTC") -> bool:
    """Vigie has a token Slack accepts for ``team_id`` again (an OAuth install, or a bot
    token ``auth.test`` accepts at start): the workspace is reachable again. Returns
    whether it was marked uninstalled.

    The mark is cleared, and an outbox paused on a refused token resumes (its pause ends:
    the token was just checked), whether or not Slack's events had marked it: Vigie may
    have been down when the app was uninstalled, the outbox's refusal then the only sign. A
    pause on a token that lacked a scope (``missing_scope``) is probed at once instead: only
    a message posted proves ``chat:write``.

    When it was out of reach (marked, or its outbox paused on a refused token), from then
    to now: daily digests and monthly reports still queued from more than
    ``STALE_REPORTS`` ago are dropped (``drop_stale_reports``), and the SLA breach notices
    that came due meanwhile more than ``STALE_REPORTS`` ago are marked sent, none posted
    (``skip_stale_breaches``, as when a pause on a refused token ends): the checks skipped
    the workspace, and its first check would otherwise post every breach and escalation
    of those days at once. Those due within the last ``STALE_REPORTS``, like the digests
    queued then, are still sent. Cards and other messages are sent as queued.

    The workspace's sources were not polled while it was marked: each backfills the gap
    quietly at its next poll, as a source resumed after a pause does."""
    now = now or utcnow()
    with transaction(sessions) as session:
        workspace = repo.get_workspace_by_team(session, team_id)
        if workspace is None:
            return False
        session.refresh(workspace, with_for_update=True)
        marked = workspace.uninstalled_at
        pause = session.get(OutboxPause, workspace.id, with_for_update=True)
        refused_since = None
        if pause is not None and pause.error in DEAD_TOKEN_PAUSES:
            refused_since = as_utc(pause.paused_at)
            session.delete(pause)
            record(session, workspace.id, SLACK_ACTOR, "outbox.resumed", reason=pause.error,
                   detail={"paused_at": refused_since.isoformat(), "reinstalled": True})
        elif pause is not None:
            pause.next_probe_at = now
        if marked is None and refused_since is None:
            return False
        since = min(t for t in (as_utc(marked) if marked else None, refused_since) if t)
        workspace.uninstalled_at = None
        session.flush()
        dropped = drop_stale_reports(session, workspace.id, now,
                                     "dropped: stale digest or report after a reinstall")
        skipped = skip_stale_breaches(session, workspace.id, since, now,
                                      workspace.timezone or default_tz)
        if marked is not None:
            # None was polled while uninstalled: each backfills that gap quietly.
            backfill.mark_resumed(session, session.scalars(
                select(SourceRow.id).where(SourceRow.workspace_id == workspace.id)).all())
        record(session, workspace.id, SLACK_ACTOR, "workspace.reinstalled",
               detail={"uninstalled_at": marked.isoformat() if marked else None,
                       "token_refused_since": refused_since.isoformat()
                       if refused_since else None,
                       "dropped_stale_reports": dropped, "skipped_sla_breaches": skipped})
    if marked is not None:
        log.warning("Vigie is installed again in workspace %s: its sources are polled again",
                    team_id)
    else:
        log.warning("Vigie has a token Slack accepts for workspace %s again: its outbox "
                    "resumes", team_id)
    return marked is not None


def _reinstalled_since(sessions: sessionmaker[Session], team_id: str, when: datetime) -> bool:
    with sessions() as session:
        latest = session.scalar(
            select(func.max(AuditEvent.created_at)).join(
                Workspace, Workspace.id == AuditEvent.workspace_id)
            .where(Workspace.team_id == team_id,
                   AuditEvent.action == "workspace.reinstalled"))
    # Slack's event_time is in whole seconds.
    return latest is not None and as_utc(latest) >= when + timedelta(seconds=1)
