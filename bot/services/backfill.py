"""Quiet backfill: a new source (or one resumed after a pause) brings its history without
flooding the channel.

On such a source's first successful poll, posts published before the backfill window
(``VIGIE_BACKFILL_HOURS``, 48 by default; a workspace's ``backfill_hours`` setting wins)
are stored and counted like any other, but never alerted and never given an SLA. How many
were backfilled is kept on the source and shown by ``source list``. A window of 0 turns
the quiet backfill off (every post may alert, as before).

Any post a later poll reads but published before that first poll's cut-off belongs to
the same history and is stored quietly too (``history_start``): the backlog a cursor
reads over several polls (a week's pause is more than one page), an RSS entry dated days
before newer ones, a Google Alert found late. A post published after it
is new to the team and goes through the alert decision like any other. ``source list``
counts the posts of every poll stored so.

A source that failed for longer than the window (an instance down for days) is treated
as resumed on its first successful poll: the posts of its outage published before the
window are stored quietly, those of the window alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.bulk import one_of
from storage.models import SourceRow, Workspace
from storage.models_cases import QuietMention, SourceBackfill
from storage.upserts import insert_or_skip

DEFAULT_HOURS = 48
MAX_HOURS = 24 * 365


def window_hours(session: Session, workspace_id: int, default: int) -> int:
    """The workspace's backfill window in hours (its ``backfill_hours`` setting, else
    ``default``)."""
    workspace = session.get(Workspace, workspace_id)
    value = (workspace.settings or {}).get("backfill_hours") if workspace else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_HOURS:
        return value
    return default


def cutoff(session: Session, row: SourceRow, now: datetime, default_hours: int
           ) -> datetime | None:
    """Posts published before this are backfilled quietly on this poll; None when the
    source is neither new, resumed, nor recovering from failures that lasted longer than
    the window (``recovering``)."""
    state = session.get(SourceBackfill, row.id)
    pending = state.pending if state is not None else row.last_success_at is None
    hours = window_hours(session, row.workspace_id, default_hours)
    if hours == 0:  # 0 turns the quiet backfill off
        return None
    if not pending and not recovering(row, now, hours):
        return None
    return now - timedelta(hours=hours)


def recovering(row: SourceRow, now: datetime, hours: int) -> bool:
    """Whether ``row`` is failing and has stored no poll for longer than ``hours``: its
    next successful poll reads the posts of its outage, days old for a long one, which
    are history as much as a resumed source's pause."""
    last = row.last_success_at
    if row.consecutive_failures <= 0 or last is None:
        return False
    last = last if last.tzinfo is not None else last.replace(tzinfo=UTC)
    return last < now - timedelta(hours=hours)


def history_start(session: Session, row: SourceRow, default_hours: int) -> datetime | None:
    """Where the source's history began: its (last) first poll's backfill cut-off, the
    posts that poll stored quietly being older (the source's creation less the window for
    a source polled before quiet backfills were recorded). Every later poll stores a post
    published before it quietly, whether a cursor reads it with a long pause's backlog (a
    page or a few per poll, oldest or newest first: no source says what it has left) or
    a feed lists it late; None when the quiet backfill is off (0 hours), as every post may
    alert then."""
    hours = window_hours(session, row.workspace_id, default_hours)
    if hours == 0:
        return None
    state = session.get(SourceBackfill, row.id)
    if state is not None and state.polled_at is not None and state.window_hours is not None:
        return state.polled_at - timedelta(hours=state.window_hours)
    return row.created_at - timedelta(hours=hours)


def record(session: Session, source_id: int, backfilled: int, hours: int | None,
           now: datetime) -> None:
    """After the poll that backfilled: the source is no longer pending, its history
    starts afresh (``history_start``) and so does its count."""
    state = session.get(SourceBackfill, source_id)
    if state is None:
        state = SourceBackfill(source_id=source_id, backfilled=0)
        session.add(state)
    state.pending = False
    state.backfilled = backfilled
    state.window_hours = hours
    state.polled_at = now


def count_later(session: Session, source_id: int, backfilled: int) -> None:
    """A later poll stored ``backfilled`` posts of the source's history quietly (the rest
    of a long pause's backlog): ``source list`` counts them with its first poll's."""
    state = session.get(SourceBackfill, source_id)
    if backfilled and state is not None and not state.pending:
        state.backfilled = (state.backfilled or 0) + backfilled


def mark_resumed(session: Session, source_ids: Iterable[int]) -> None:
    """These sources are polled again after a pause (their own, their watch's, or Vigie's
    uninstall): the next poll of each backfills quietly, and counts afresh."""
    for source_id in source_ids:
        state = session.get(SourceBackfill, source_id)
        if state is None:
            session.add(SourceBackfill(source_id=source_id, pending=True, backfilled=0))
        else:
            state.pending = True
            state.backfilled = 0


def mark_quiet(session: Session, mention_ids: Sequence[int]) -> None:
    """Record that these mentions were backfilled: no alert, no SLA, ever."""
    if not mention_ids:
        return
    session.execute(insert_or_skip(session, QuietMention),
                    [{"mention_id": m, "reason": "backfill"} for m in mention_ids])


def quiet_among(session: Session, mention_ids: Sequence[int]) -> set[int]:
    """The ones of ``mention_ids`` that were backfilled."""
    if not mention_ids:
        return set()
    return set(session.scalars(select(QuietMention.mention_id).where(
        one_of(session, QuietMention.mention_id, list(mention_ids)))))


def backfilled_counts(session: Session, source_ids: Sequence[int]
                      ) -> dict[int, tuple[int, int | None, bool]]:
    """Source id -> (posts backfilled, window hours, still pending)."""
    if not source_ids:
        return {}
    return {row.source_id: (row.backfilled, row.window_hours, row.pending)
            for row in session.scalars(select(SourceBackfill).where(
                SourceBackfill.source_id.in_(list(source_ids))))}
