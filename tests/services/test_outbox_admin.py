"""Outbox health and requeuing failed rows (`vigie outbox`, `vigie doctor`), on SQLite and
PostgreSQL, delivering through the Slack stand-in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import KIND_THREAD, do_enqueue
from bot.services.outbox_admin import (
    age,
    do_retry_failed,
    list_rows,
    outbox_health,
)
from storage.db import transaction
from storage.models import OutboxMessage, Workspace, utcnow
from storage.models_outbox import OutboxPause
from tests.harness.constants import CHANNEL_ID, TEAM_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_outbox import (
    SLACK_PACE,
    Clock,
    enqueue_posts,
    sender_for,
    statuses,
)
from tests.services.test_outbox_health import add_mentions, queue_card, thread_of

OTHER_CHANNEL = "C07OTHERCH"


def set_rows(sessions: sessionmaker[Session], ids: list[int], **values: object) -> None:
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values))


def test_health_counts_pending_oldest_failures_of_the_day_and_pauses(
    sessions: sessionmaker[Session], workspace_id: int
) -> None:
    now = utcnow()
    ids = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["a", "b", "c", "d"])
    set_rows(sessions, ids[:1], created_at=now - timedelta(hours=3))
    set_rows(sessions, ids[2:3], status="failed", last_error="channel_not_found")
    set_rows(sessions, ids[3:], status="failed", created_at=now - timedelta(days=2))
    health = outbox_health(sessions, now)
    assert (health.pending, health.failed_last_day, health.paused) == (2, 1, [])
    assert age(health.oldest_pending_at, now) == "3 h"
    with transaction(sessions) as session:
        session.add(OutboxPause(workspace_id=workspace_id, error="token_revoked",
                                paused_at=now - timedelta(minutes=5), probes=2,
                                next_probe_at=now + timedelta(minutes=4)))
    (pause,) = outbox_health(sessions, now).paused
    assert (pause.team_id, pause.error, pause.waiting, pause.probes) == (
        TEAM_ID, "token_revoked", 2, 2)
    rows = list_rows(sessions)
    assert [(r.id, r.status) for r in rows] == [
        (ids[0], "paused"), (ids[1], "paused"), (ids[2], "failed"), (ids[3], "failed")]
    assert [r.id for r in list_rows(sessions, statuses=["failed"], limit=1)] == [ids[2]]


def test_retry_requeues_a_refused_card_with_its_notes_and_they_are_delivered(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    (mention_id,) = add_mentions(sessions, workspace_id, 1)
    queue_card(sessions, workspace_id, mention_id)
    with transaction(sessions) as session:
        do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD, channel=CHANNEL_ID,
                   mention_id=mention_id, payload={"text": "a note"})
    posted = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["digest"])
    sender = sender_for(sessions, slack_standin, Clock(), per_channel_interval=SLACK_PACE)
    slack_standin.error_next("chat.postMessage", "not_in_channel")
    sender.flush(wait=True)
    sender.flush(wait=True)
    assert statuses(sessions) == ["failed", "failed", "sent"]
    with sessions() as session:
        card_id, note_id = session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.mention_id == mention_id).order_by(OutboxMessage.id)).all()
    # The note alone would fail again at once; a sent row and an unknown id are refused.
    alone = do_retry_failed(sessions, ids=[note_id, posted[0], 999])
    assert alone.requeued == []
    assert [row_id for row_id, _ in alone.skipped] == [note_id, posted[0], 999]
    assert "retry the card" in alone.skipped[0][1] and "sent" in alone.skipped[1][1]
    # The bot was invited since: retrying the card brings its note along.
    result = do_retry_failed(sessions, ids=[card_id])
    assert result.requeued == [card_id, note_id] and result.skipped == []
    sender.flush(wait=True)
    sender.flush(wait=True)
    assert thread_of(slack_standin, mention_id)[0] == "a note"
    assert "not_in_channel" in thread_of(slack_standin, mention_id)[1]
    assert set(statuses(sessions)) == {"sent"}
    assert do_retry_failed(sessions, ids=[card_id]).skipped == [
        (card_id, "it is sent, not failed")]


def test_retry_all_failed_leaves_stale_rows_alone(
    sessions: sessionmaker[Session], workspace_id: int, slack_standin: SlackStandIn
) -> None:
    with transaction(sessions) as session:
        other = Workspace(team_id="T07OTHERTM")
        session.add(other)
        session.flush()
        other_id = other.id
    fresh = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["today"])
    fresh += enqueue_posts(sessions, other_id, OTHER_CHANNEL, ["other team"])
    stale = enqueue_posts(sessions, workspace_id, CHANNEL_ID, ["last week's digest"])
    set_rows(sessions, fresh + stale, status="failed", attempts=30, last_error="boom")
    set_rows(sessions, stale, created_at=utcnow() - timedelta(days=7))
    result = do_retry_failed(sessions, all_failed_since=timedelta(hours=24))
    assert result.requeued == fresh and result.skipped == []
    with sessions() as session:
        rows = {r.id: r for r in session.scalars(select(OutboxMessage))}
    assert all(rows[i].status == "pending" and rows[i].attempts == 0 for i in fresh)
    assert rows[stale[0]].status == "failed"
    assert do_retry_failed(sessions, all_failed_since=timedelta(days=8)).requeued == stale
