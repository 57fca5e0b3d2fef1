"""Fixtures of the crash-and-load suite: a console workspace and a watch on a database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.services.outbox import KIND_CARD, card_rank
from bot.services.workspaces import CONSOLE_TEAM_ID
from storage.db import make_engine, make_session_factory, transaction
from storage.models import OutboxMessage, OutboxStatus, Workspace, utcnow


def open_sessions(url: str) -> sessionmaker[Session]:
    """Sessions on ``url`` (the engine is disposed by the fixture that owns it)."""
    return make_session_factory(make_engine(url))


def add_workspace(sessions: sessionmaker[Session], team_id: str = CONSOLE_TEAM_ID) -> int:
    """Create the workspace the children act on; its id."""
    with transaction(sessions) as session:
        workspace = Workspace(team_id=team_id)
        session.add(workspace)
        session.flush()
        return workspace.id


def expire_outbox_leases(sessions: sessionmaker[Session]) -> int:
    """Let time pass for the outbox: rows a killed sender had claimed (a 60 s lease) or
    scheduled for a retry become due now. Returns how many rows were waiting."""
    with transaction(sessions) as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.PENDING.value,
                   OutboxMessage.next_attempt_at > utcnow())
            .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


@pytest.fixture
def sqlite_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the migrated SQLite file of ``sqlite_url``."""
    sessions = open_sessions(sqlite_url)
    yield sessions
    bind = sessions.kw["bind"]
    bind.dispose()


CHANNELS = ("C07VIGIEFEED", "C07VIGIEOPS1", "C07VIGIEPR01")
"""The channels cards are spread over (per-channel order is checked on each)."""


def add_channel_watches(sessions: sessionmaker[Session], workspace_id: int,
                        channels: tuple[str, ...] = CHANNELS) -> None:
    """One watch per channel (``watch0``...), empty query, alerting at priority 0."""
    from bot.services.actors import CLI
    from bot.services.watches import do_add_watch

    for index, channel in enumerate(channels):
        do_add_watch(sessions, workspace_id, CLI, name=f"watch{index}", query="",
                     channel_id=channel, alert_threshold=0)


def seed_cards(sessions: sessionmaker[Session], per_channel: int, *, start: int = 0,
               channels: tuple[str, ...] = CHANNELS, network: str = "rss",
               source_ids: dict[str, int] | None = None) -> dict[str, list[int]]:
    """Ingest ``per_channel`` mentions (numbered from ``start``) for each channel's watch
    (see :func:`add_channel_watches`), interleaving channels; returns each channel's new
    mention ids in outbox order.

    Their cards are given one rank: their priorities differ by a point or two with their
    words, and a channel's cards go by priority (``bot.services.outbox.send_rank``); these
    tests are about delivering each card once and in its order through faults and kills,
    with new cards queued between runs."""
    from bot.services.ingest import do_ingest
    from bot.sources.base import Author as FetchedAuthor
    from bot.sources.base import FetchedMention
    from storage.models import Watch

    expected: dict[str, list[int]] = {channel: [] for channel in channels}
    now = utcnow()
    for number in range(start, start + per_channel):
        for index, channel in enumerate(channels):
            with transaction(sessions) as session:
                watch = session.query(Watch).filter_by(name=f"watch{index}").one()
                item = FetchedMention(
                    network=network, external_id=f"{index}-{number}",
                    url=f"https://example.org/{index}/{number}",
                    author=FetchedAuthor(handle=f"user{number % 7}"),
                    text=f"Acme mention {number} on channel {index}: the battery app crashes "
                         f"again after the update ({index}/{number})",
                    published_at=now - timedelta(minutes=5))
                source_id = (source_ids or {}).get(channel)
                report = do_ingest(session, watch, source_id, [item], now=now)
                assert report.alerts == 1, report
                expected[channel].extend(report.stored_ids)
    with transaction(sessions) as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.kind == KIND_CARD)
                        .values(send_rank=card_rank(50)))
    return expected
