"""Retention purges the outbox too: the messages sent (or given up) before the window, of
every kind and about no mention (digests, DMs, spike alerts, reports, exports), whose
payloads hold customers' words and names; never a message still waiting, nor the record a
later action needs (an open spike event's alert, a stored opportunity's card, the newest
message of a channel Slack once refused). SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import outbox_retention
from bot.services.actors import Actor
from bot.services.opportunities import do_opportunity_action
from bot.services.outbox import CHANNEL_REFUSED, KIND_OPPORTUNITY, refused_channels
from bot.services.privacy import purge_older_than
from storage.db import transaction
from storage.models import AuditEvent, Mention, OutboxMessage, OutboxStatus
from storage.models_competitors import Opportunity
from storage.models_spikes import SpikeEvent
from tests.harness.constants import CHANNEL_ID, USER_ID
from tests.harness.slack_standin import SlackStandIn
from tests.services.test_competitors import FEED, _item, _poll, _setup
from tests.services.test_outbox import Clock, sender_for

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=45)
RECENT = NOW - timedelta(days=2)
SENT, FAILED, PENDING = (OutboxStatus.SENT.value, OutboxStatus.FAILED.value,
                         OutboxStatus.PENDING.value)
CUSTOMER = {"text": "@ana_b says: my Acme kettle caught fire, call me on 0612345678"}


def _row(session: Session, workspace_id: int, kind: str, *, channel: str = "C0DIGEST1",
         status: str = SENT, created_at: datetime = OLD, payload: dict[str, Any] | None = None,
         mention_id: int | None = None) -> int:
    row = OutboxMessage(workspace_id=workspace_id, kind=kind, channel=channel,
                        payload=payload if payload is not None else dict(CUSTOMER),
                        status=status, created_at=created_at, next_attempt_at=created_at,
                        mention_id=mention_id,
                        sent_at=created_at if status == SENT else None,
                        result_ts=f"{created_at.timestamp():.6f}" if status == SENT else None)
    session.add(row)
    session.flush()
    return row.id


def _left(sessions: sessionmaker[Session]) -> dict[int, dict[str, Any]]:
    with sessions() as session:
        return {i: p for i, p in session.execute(select(OutboxMessage.id,
                                                        OutboxMessage.payload))}


def test_retention_purges_settled_messages_of_every_kind_but_keeps_waiting_ones(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        gone = [_row(session, workspace_id, kind, channel=channel, status=status)
                for kind, channel, status in (
                    ("post", "C0DIGEST1", SENT),          # a digest, a story's note...
                    ("post", "U0ADMIN01", SENT),          # a DM to an admin
                    ("notify", "U0AGENT01", SENT),        # an assignment DM
                    ("chart", "C0DIGEST1", SENT),         # a monthly report's spec
                    ("upload", "U0AGENT01", SENT),        # an export's CSV
                    ("thread", "C0DIGEST1", SENT),        # a spike follow-up
                    ("update_post", "C0DIGEST1", SENT),   # a spike alert refreshed
                    ("post", "C0DIGEST1", FAILED),        # given up
                    ("post", "C0GONE001", FAILED))]       # a channel Slack refused
        waiting = _row(session, workspace_id, "post", status=PENDING)
        recent = _row(session, workspace_id, "post", created_at=RECENT)
        newest_dm = _row(session, workspace_id, "notify", channel="U0AGENT01",
                         created_at=RECENT)
    assert purge_older_than(sessions, 30, NOW).mentions == 0  # no mention to purge
    left = _left(sessions)
    assert not set(gone) & set(left)
    assert left[waiting] == CUSTOMER  # never purged while it waits
    assert left[recent] == CUSTOMER and left[newest_dm] == CUSTOMER


def test_a_mentions_messages_go_with_it_and_a_failed_row_queued_again_stays(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        mention = Mention(workspace_id=workspace_id, network="rss", external_id="1",
                          url="https://example.org/1", text="x", published_at=OLD,
                          created_at=OLD)
        session.add(mention)
        session.flush()
        card = _row(session, workspace_id, "card", mention_id=mention.id)
        kept = _row(session, workspace_id, "post", created_at=RECENT)
    assert purge_older_than(sessions, 30, NOW).mentions == 1
    assert set(_left(sessions)) == {kept}
    assert card not in _left(sessions)


def test_an_open_spike_events_alert_stays_until_the_event_ends(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        alert = _row(session, workspace_id, "post", channel="C0SPIKES1")
        later = _row(session, workspace_id, "post", channel="C0SPIKES1", created_at=RECENT)
        event = SpikeEvent(workspace_id=workspace_id, channel_id="C0SPIKES1",
                           first_hour=OLD, last_hour=RECENT, alert_outbox_id=alert)
        session.add(event)
        session.flush()
        event_id = event.id
    purge_older_than(sessions, 30, NOW)
    # Its ts is the thread of the follow-ups and the message each hour updates.
    assert _left(sessions)[alert] == CUSTOMER
    with transaction(sessions) as session:
        session.get_one(SpikeEvent, event_id).ended_at = RECENT
    purge_older_than(sessions, 30, NOW)
    assert set(_left(sessions)) == {later}
    with sessions() as session:
        assert session.get_one(SpikeEvent, event_id).alert_outbox_id is None


def test_the_newest_message_of_a_channel_keeps_it_unflagged_without_its_text(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        session.add(AuditEvent(workspace_id=workspace_id, actor="outbox", action=CHANNEL_REFUSED,
                               surface="outbox", reason="not_in_channel",
                               detail={"outbox_id": 0, "channel": "C0QUIET01"},
                               created_at=OLD - timedelta(days=2)))
        older = _row(session, workspace_id, "post", channel="C0QUIET01",
                     created_at=OLD - timedelta(days=1))
        newest = _row(session, workspace_id, "post", channel="C0QUIET01",
                      created_at=NOW - timedelta(days=40))
    with sessions() as session:
        assert refused_channels(session, workspace_id) == {}  # a message went through since
    purge_older_than(sessions, 30, NOW)
    left = _left(sessions)
    assert older not in left
    assert left[newest] == {}  # when it was sent is kept, not what it said
    with sessions() as session:
        assert refused_channels(session, workspace_id) == {}


def test_retention_purges_a_large_outbox_in_batches(
        sessions: sessionmaker[Session], workspace_id: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_retention, "BATCH", 3)
    with transaction(sessions) as session:
        rows = [_row(session, workspace_id, "post", channel=f"U0USER{n % 3:03d}",
                     status=PENDING if n % 4 == 0 else SENT,
                     created_at=OLD + timedelta(minutes=n // 2))
                for n in range(20)]
    purge_older_than(sessions, 30, NOW)
    assert sorted(_left(sessions)) == [r for n, r in enumerate(rows) if n % 4 == 0]


def test_a_stored_opportunitys_card_is_still_updated_after_the_purge(
        sessions: sessionmaker[Session], workspace_id: int,
        slack_standin: SlackStandIn) -> None:
    _setup(sessions, workspace_id, conquest=True)
    _poll(sessions, workspace_id, "rivalo", [_item("1", FEED[0][1])])
    sender = sender_for(sessions, slack_standin, Clock())
    sender.flush()
    with transaction(sessions) as session:
        (opportunity_id,) = session.scalars(select(Opportunity.id))
        card = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_OPPORTUNITY)).one()
        card.created_at = datetime.now(UTC) - timedelta(days=45)  # long posted, still open
        _row(session, workspace_id, "post", channel=CHANNEL_ID, created_at=RECENT)
    purge_older_than(sessions, 30, datetime.now(UTC))
    # Its ts is where the card is: the only record of it.
    do_opportunity_action(sessions, workspace_id, Actor(None, "test"), opportunity_id,
                          "assign", assignee=USER_ID)
    sender.flush()
    (updated,) = slack_standin.calls("chat.update", ok=True)
    assert updated.args["channel"] == CHANNEL_ID
