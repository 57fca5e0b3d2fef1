"""Migration 0057: a mention whose card is still queued in the outbox at the upgrade is
marked alerted (open work, with an SLA), as queuing its card marks it now; one whose card
went out, or that never alerted, is left as it was. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.services.reporting.queries import open_work
from storage import migrations
from storage.db import make_engine
from storage.models import Mention, OutboxMessage, Watch, Workspace

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
CARDS = {"queued": "pending", "posted": "sent", "refused": "failed", "waited": None}
"""Mention name -> the status of its card's outbox row (None: no card)."""


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0056")
    engine = make_engine(url)
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG57")
                                       .returning(Workspace.id)).scalar_one()
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME001")
        session.add(watch)
        session.flush()
        for name, status in CARDS.items():
            # Only the columns of revision 0056 (the model may hold later ones).
            mention_id = session.execute(insert(Mention).values(
                workspace_id=workspace_id, watch_id=watch.id, network="x",
                external_id=name, url=f"https://x.test/{name}", text=name, published_at=NOW,
                priority=80, alerted=status in ("sent", "failed"))
                .returning(Mention.id)).scalar_one()
            if status is not None:
                session.execute(insert(OutboxMessage).values(
                    workspace_id=workspace_id, mention_id=mention_id, kind="card",
                    channel="C0ACME001", payload={}, status=status, attempts=0,
                    next_attempt_at=NOW, created_at=NOW))
        session.commit()
    engine.dispose()

    migrations.upgrade(url, "0057")
    engine = make_engine(url)
    with Session(engine) as session:
        alerted = dict(session.execute(select(Mention.external_id, Mention.alerted)).all())
        open_now = set(session.scalars(select(Mention.external_id).where(open_work())))
    assert alerted == {"queued": True, "posted": True, "refused": True, "waited": False}
    assert open_now == {"queued", "posted", "refused"}
    engine.dispose()

    migrations.downgrade(url, "0056")
    migrations.upgrade(url)


def test_sqlite_queued_cards_make_open_work(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm57.db'}")


@pytest.mark.postgres
def test_postgres_queued_cards_make_open_work(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
