"""Retention of the outbox: the messages Vigie delivered (or gave up on) go with the window.

A row of the outbox holds what its message said (a digest's lines and top authors, a spike
alert's examples, a DM's note, an export's CSV, a story card...), so sent rows kept for
ever would keep customers' words and names past ``VIGIE_RETENTION_DAYS``. The rows of a
mention go with it (cascade); ``purge_outbox`` deletes the others, of every kind, that
were written before the cut-off and are settled (sent, or failed for good). A pending row
is never deleted: it has yet to reach Slack.

Some settled rows are the only record of a message a later action still needs:

- the first alert of a spike event still open (``spike_events.alert_outbox_id``): its ts
  is the thread of the event's follow-ups and the message each hour brings up to date;
- the card of a conquest opportunity still stored: its ts is the card an action updates
  (``opportunities._refresh_card``, found by its dedupe key);
- the newest message sent in a channel: ``outbox.refused_channels`` reads it to know that
  messages went through after Slack last refused the channel (the refusals stay in the
  audit trail). It is kept with its ts and times, its payload emptied: only when it was
  sent is needed.

Each batch is read through ``ix_outbox_workspace_id_kind_created_at`` (one workspace and
kind at a time, oldest first, from where the last batch stopped) and deleted in its own
short transaction, so a large outbox is never locked for long.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, null, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import KIND_OPPORTUNITY
from storage.db import transaction
from storage.models import OutboxMessage, OutboxStatus, Workspace
from storage.models_competitors import Opportunity
from storage.models_spikes import SpikeEvent

BATCH = 2000
"""Rows read and deleted per transaction: about a tenth of a second of row locks on
PostgreSQL (98,000 rows of 200,000 went in 4.5 to 6 s on a busy 2-core machine)."""
SETTLED = (OutboxStatus.SENT.value, OutboxStatus.FAILED.value)
CHANNEL_PREFIXES = ("C", "G")
"""Channels (not DMs) whose refusals ``refused_channels`` reports: their newest sent row
stays."""

_KINDS = text(
    "WITH RECURSIVE kinds(kind) AS ("
    " SELECT min(kind) FROM outbox WHERE workspace_id = :ws"
    " UNION ALL"
    " SELECT (SELECT min(o.kind) FROM outbox AS o"
    "         WHERE o.workspace_id = :ws AND o.kind > kinds.kind)"
    " FROM kinds WHERE kinds.kind IS NOT NULL)"
    " SELECT kind FROM kinds WHERE kind IS NOT NULL")
"""The kinds a workspace's outbox holds, one index probe each (a loose index scan of
``(workspace_id, kind, created_at)``), not a read of all its rows."""


def purge_outbox(sessions: sessionmaker[Session], cutoff: datetime) -> int:
    """Delete the settled outbox rows without a mention written before ``cutoff``, but
    those a later action still needs (see the module docstring); empty the payload of the
    newest sent row of each channel instead. Returns how many rows went."""
    with sessions() as session:
        workspaces = list(session.scalars(select(Workspace.id).order_by(Workspace.id)))
    deleted = 0
    for workspace_id in workspaces:
        with sessions() as session:
            kinds = stored_kinds(session, workspace_id)
        newest: dict[str, int | None] = {}
        for kind in kinds:
            deleted += _purge_kind(sessions, workspace_id, kind, cutoff, newest)
    return deleted


def stored_kinds(session: Session, workspace_id: int) -> list[str]:
    """The kinds of the rows the workspace's outbox holds, each read from the index."""
    return [str(kind) for kind in session.scalars(_KINDS, {"ws": workspace_id})]


def _purge_kind(sessions: sessionmaker[Session], workspace_id: int, kind: str,
                cutoff: datetime, newest: dict[str, int | None]) -> int:
    """Purge the rows of one kind of one workspace, a batch per transaction, oldest first
    from where the last batch stopped: the rows kept are read once. In the index's own
    order (``created_at``; ordering by id too made PostgreSQL read and sort the whole
    range for each batch); the rows kept at the time a batch stopped are left out by id."""
    row = OutboxMessage
    with sessions() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
    # SQLite would read every row of the kind without a mention through the mention index
    # (``mention_id IS NULL AND kind = ?``); the coalesce hides it. PostgreSQL then guesses
    # almost no row matches, and sorts the whole range for each batch instead of reading
    # the index in order: it gets the column, whose share of NULLs it knows.
    no_mention = (func.coalesce(row.mention_id, row.mention_id).is_(None) if sqlite
                  else row.mention_id.is_(None))
    after: datetime | None = None
    tied: set[int] = set()
    """The rows read (and kept) whose time is ``after``."""
    deleted = 0
    while True:
        # A payload is read only for what it says of an opportunity's card: an export's
        # holds a whole CSV.
        query = (select(row.id, row.created_at, row.channel, row.status,
                        row.payload if kind == KIND_OPPORTUNITY else null().label("payload"))
                 .where(row.workspace_id == workspace_id, row.kind == kind,
                        row.created_at < cutoff, row.status.in_(SETTLED), no_mention))
        if after is not None:
            query = query.where(row.created_at >= after)
            if tied:
                query = query.where(row.id.not_in(sorted(tied)))
        with transaction(sessions) as session:
            rows = session.execute(query.order_by(row.created_at).limit(BATCH)).all()
            if not rows:
                return deleted
            needed = _needed(session, workspace_id, kind, rows)
            emptied = {r.id for r in rows if r.id not in needed
                       and _newest_sent(session, workspace_id, r, newest)}
            gone = [r.id for r in rows if r.id not in needed and r.id not in emptied]
            if gone:
                # Settled still: a failed row ``vigie outbox retry`` queued again stays.
                result = session.execute(delete(row).where(row.id.in_(gone),
                                                           row.status.in_(SETTLED))
                                         .execution_options(synchronize_session=False))
                deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
            if emptied:
                session.execute(update(row).where(row.id.in_(sorted(emptied))).values(payload={})
                                .execution_options(synchronize_session=False))
        last = rows[-1].created_at
        tied = (tied if last == after else set()) | {
            r.id for r in rows if r.created_at == last}
        after = last
        if len(rows) < BATCH:
            return deleted


def _needed(session: Session, workspace_id: int, kind: str, rows: Sequence[Any]) -> set[int]:
    """The ids among ``rows`` whose message a later action still updates or threads under:
    an open spike event's first alert, a stored opportunity's card."""
    ids = [r.id for r in rows]
    needed = {alert for alert in session.scalars(select(SpikeEvent.alert_outbox_id).where(
        SpikeEvent.workspace_id == workspace_id, SpikeEvent.ended_at.is_(None),
        SpikeEvent.alert_outbox_id.in_(ids))) if alert is not None}
    if kind == KIND_OPPORTUNITY:
        cards: dict[int, int] = {}
        for r in rows:
            value = (r.payload or {}).get("opportunity_id")
            if isinstance(value, int):
                cards[value] = r.id
        stored = set(session.scalars(select(Opportunity.id).where(
            Opportunity.id.in_(sorted(cards)))))
        needed |= {row_id for opportunity_id, row_id in cards.items()
                   if opportunity_id in stored}
    return needed


def _newest_sent(session: Session, workspace_id: int, r: Any,
                 newest: dict[str, int | None]) -> bool:
    """Whether ``r`` is the newest row sent in its channel (a channel's, not a DM's):
    ``refused_channels`` reads when it was sent. ``newest`` caches each channel's."""
    if r.status != OutboxStatus.SENT.value or r.channel[:1] not in CHANNEL_PREFIXES:
        return False
    if r.channel not in newest:
        # The channel's rows newest first (``ix_outbox_channel_id``) to the first sent one.
        newest[r.channel] = session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.channel == r.channel, OutboxMessage.workspace_id == workspace_id,
                OutboxMessage.status == OutboxStatus.SENT.value)
            .order_by(OutboxMessage.id.desc()).limit(1))
    return newest[r.channel] == r.id
