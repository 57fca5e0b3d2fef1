"""A post found after the digest of its period was built goes into the next digest.

A low-priority post published at 08:55 and found by the 09:05 poll, after the 09:00
digest: no digest showed it, and the next one said "vs 2 the day before" where the day
before's digest had said 1. It now counts in the next digest (its volume and what
waited), and the day before keeps the figure its own digest showed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.reporting.digest import run_due_digests
from bot.slack.render import render_payload
from storage.db import transaction
from storage.models import Mention, OutboxMessage, Watch, Workspace
from storage.models_reporting import DigestRun

CHANNEL = "C07DIGEST01"
NINE = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _add(sessions: sessionmaker[Session], workspace_id: int, watch_id: int, tag: str,
         published: datetime, found: datetime) -> None:
    with transaction(sessions) as session:
        session.add(Mention(
            workspace_id=workspace_id, watch_id=watch_id, network="rss", external_id=tag,
            url=f"https://e.example/{tag}", text=f"acme {tag}", published_at=published,
            sentiment_label="neutral", priority=10, status="new", alerted=False,
            created_at=found, updated_at=found))


def _workspace(sessions: sessionmaker[Session], team_id: str) -> tuple[int, int]:
    """A UTC workspace with one watch alerting its channel from 50: their ids."""
    with transaction(sessions) as session:
        workspace = Workspace(team_id=team_id, timezone="UTC")
        session.add(workspace)
        session.flush()
        watch = Watch(workspace_id=workspace.id, name="acme", channel_id=CHANNEL,
                      alert_threshold=50, created_at=datetime(2026, 11, 1, tzinfo=UTC))
        session.add(watch)
        session.flush()
        return workspace.id, watch.id


def _digest_texts(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        texts = []
        for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)):
            _text, blocks = render_payload(row.payload)
            texts.append("\n".join(block["text"]["text"] for block in blocks or []
                                   if isinstance(block.get("text"), dict)))
        return texts


def test_a_post_found_after_its_digest_is_in_the_next_one(
        sessions: sessionmaker[Session]) -> None:
    workspace_id, watch_id = _workspace(sessions, "T07LATE01")
    _add(sessions, workspace_id, watch_id, "early", NINE - timedelta(hours=3),
         NINE - timedelta(hours=3))
    run_due_digests(sessions, now=NINE, default_timezone="UTC", chart=False)
    # The 09:05 poll finds a post of 08:55, below the threshold: it waits for a digest.
    _add(sessions, workspace_id, watch_id, "late", NINE - timedelta(minutes=5),
         NINE + timedelta(minutes=5))
    tomorrow = NINE + timedelta(days=1)
    _add(sessions, workspace_id, watch_id, "next", tomorrow - timedelta(hours=3),
         tomorrow - timedelta(hours=3))
    run_due_digests(sessions, now=tomorrow, default_timezone="UTC", chart=False)
    with sessions() as session:
        counts = list(session.scalars(select(DigestRun.mention_count).order_by(DigestRun.id)))
    assert counts == [1, 2]  # each of the three posts in one digest's figures
    first, second = _digest_texts(sessions)
    assert "acme late" not in first
    assert "*2* mention(s) (+1 vs 1 the day before)" in second
    assert "acme late" in second and "acme next" in second


def test_a_post_stored_while_the_digest_tick_runs_is_in_one_digest_only(
        sessions: sessionmaker[Session]) -> None:
    # The 09:00 tick builds its channels' digests one after another: a poll storing a
    # post of 08:55 at 09:00:02, before this channel's report reads, puts it in this digest
    # (its hourly counts hold it); the next digest must not count it again as found late.
    workspace_id, watch_id = _workspace(sessions, "T07LATE02")
    _add(sessions, workspace_id, watch_id, "early", NINE - timedelta(hours=3),
         NINE - timedelta(hours=3))
    _add(sessions, workspace_id, watch_id, "race", NINE - timedelta(minutes=5),
         NINE + timedelta(seconds=2))
    run_due_digests(sessions, now=NINE, default_timezone="UTC", chart=False)
    tomorrow = NINE + timedelta(days=1)
    _add(sessions, workspace_id, watch_id, "next", tomorrow - timedelta(hours=3),
         tomorrow - timedelta(hours=3))
    run_due_digests(sessions, now=tomorrow, default_timezone="UTC", chart=False)
    with sessions() as session:
        counts = list(session.scalars(select(DigestRun.mention_count).order_by(DigestRun.id)))
    assert counts == [2, 1]
    first, second = _digest_texts(sessions)
    assert "acme race" in first and "acme race" not in second
    assert "*1* mention(s) (-1 vs 2 the day before)" in second
