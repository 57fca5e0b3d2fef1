"""A workspace's installation ending and starting again: Slack's ``app_uninstalled`` and
``tokens_revoked`` events, and a reinstall.

Uninstalled (``Workspace.uninstalled_at`` set): its sources are not polled
(``bot.services.polling``), its queued Slack messages are dropped (``failed``, with the
reason) and its outbox is paused (``outbox_pauses``) so that what is queued later (a
webhook source) waits. Its data stays, under the retention rules. A reinstall clears the
mark, and the outbox probes the new token at its next flush.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services import backfill
from bot.services.actors import Actor
from bot.services.audit import record
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
    """Slack's word predates a reinstall (a late retry): nothing was done."""


def do_uninstalled(sessions: sessionmaker[Session], team_id: str, reason: str, *,
                   forget_tokens: Callable[[], None] | None = None,
                   told_at: datetime | None = None,
                   now: datetime | None = None) -> Uninstalled:
    """Slack says Vigie is uninstalled from ``team_id`` (``reason``: ``app_uninstalled``
    or ``tokens_revoked``; ``told_at``: when it happened, Slack's ``event_time``):
    ``forget_tokens`` deletes its stored tokens (several workspaces), then the workspace is
    marked, its queued messages dropped, its outbox paused and one WARNING line logged.
    Telling it again changes nothing, nor does an event older than a reinstall (Slack
    retries an event for up to an hour)."""
    if told_at is not None and _reinstalled_since(sessions, team_id, told_at):
        log.info("ignored %s for %s: Vigie was installed again since", reason, team_id)
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


STALE_REPORTS = timedelta(days=1)
"""A queued daily digest or monthly report older than this is dropped on a reinstall."""
REPORT_KEYS = ("digest:", "report:")
"""The outbox ``dedupe_key`` prefixes of scheduled digests and monthly reports."""


def do_reinstalled(sessions: sessionmaker[Session], team_id: str, *,
                   now: datetime | None = None) -> bool:
    """Vigie has a working token for ``team_id`` again (an OAuth install, or a bot token
    Slack accepts at start): clear the uninstalled mark, and have the outbox try the token
    at its next flush, whether or not the workspace was marked (a paused outbox tries it
    at once, not after its probe's backoff). Returns whether the workspace was marked.

    Daily digests and monthly reports still queued from more than ``STALE_REPORTS`` ago
    are dropped (``failed``, with the reason): while uninstalled none is queued, but one
    queued by a job that read the workspace just before the mark (or by a release before
    that check) would reach the channel days late, several at once, each telling numbers
    the next digest tells better (a report can be asked for again:
    `/cm report month YYYY-MM`). Cards and other messages are sent as queued.

    The workspace's sources were not polled meanwhile: each backfills the gap quietly at
    its next poll, as a source resumed after a pause does."""
    now = now or utcnow()
    with transaction(sessions) as session:
        workspace = repo.get_workspace_by_team(session, team_id)
        if workspace is None:
            return False
        session.refresh(workspace, with_for_update=True)
        pause = session.get(OutboxPause, workspace.id, with_for_update=True)
        if pause is not None:
            # Installed again, not uninstalled before: a pause on a token that lacked a
            # scope (``missing_scope``) ends with an install that grants it.
            pause.next_probe_at = now
        if workspace.uninstalled_at is None:
            return False
        since, workspace.uninstalled_at = workspace.uninstalled_at, None
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.workspace_id == workspace.id,
                   OutboxMessage.status == OutboxStatus.PENDING.value,
                   or_(*(OutboxMessage.dedupe_key.startswith(key) for key in REPORT_KEYS)),
                   OutboxMessage.created_at < now - STALE_REPORTS)
            .values(status=OutboxStatus.FAILED.value,
                    last_error="dropped: stale digest or report after a reinstall")
            .execution_options(synchronize_session=False))
        dropped = int(result.rowcount or 0)  # type: ignore[attr-defined]
        # None was polled while uninstalled: each backfills that gap quietly.
        backfill.mark_resumed(session, session.scalars(
            select(SourceRow.id).where(SourceRow.workspace_id == workspace.id)).all())
        record(session, workspace.id, SLACK_ACTOR, "workspace.reinstalled",
               detail={"uninstalled_at": since.isoformat() if since else None,
                       "dropped_stale_reports": dropped})
    log.warning("Vigie is installed again in workspace %s: its sources are polled again",
                team_id)
    return True



def _reinstalled_since(sessions: sessionmaker[Session], team_id: str, when: datetime) -> bool:
    with sessions() as session:
        latest = session.scalar(
            select(func.max(AuditEvent.created_at)).join(
                Workspace, Workspace.id == AuditEvent.workspace_id)
            .where(Workspace.team_id == team_id,
                   AuditEvent.action == "workspace.reinstalled"))
    # Slack's event_time is in whole seconds.
    return latest is not None and as_utc(latest) >= when + timedelta(seconds=1)
