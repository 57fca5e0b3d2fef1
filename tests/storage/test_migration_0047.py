"""Migration 0047: the posts waiting for the brand's answer ("waiting for an answer",
"writes again" in their stored reason) that were folded into a story leave it, and those
whose priority reached their watch's threshold count in open work (marked alerted, as a
refused card leaves its post); the story's other posts stay in it, and its first post is
untouched. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from bot.services.reporting.queries import open_work
from storage import migrations
from storage.db import make_engine
from storage.models import Mention, Watch, Workspace

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
REASONS = {  # name -> (stored reason, priority); the watch alerts at 50
    "first": ("news", 55),
    "share": ("news · 2k followers", 30),
    "complaint": ("complaint · delivery · waiting for an answer", 80),
    "again": ("question · writes again", 45),
    "elsewhere": ("complaint · waiting for an answer", 70),
}


def _round_trip(url: str) -> None:
    migrations.upgrade(url, "0046")
    engine = make_engine(url)
    with Session(engine) as session:
        # Core inserts: the columns of that revision only (the models hold later ones).
        workspace_id = session.execute(insert(Workspace).values(team_id="T0MIG47")
                                       .returning(Workspace.id)).scalar_one()
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id="C0ACME001",
                      alert_threshold=50)
        session.add(watch)
        session.flush()
        ids: dict[str, int] = {}
        # Only the columns of revision 0046 (the model holds later ones).
        for name, (reason, priority) in REASONS.items():
            ids[name] = session.execute(insert(Mention).values(
                workspace_id=workspace_id, watch_id=watch.id, network="x",
                external_id=name, url=f"https://x.test/{name}", text=name,
                published_at=NOW, story_key="recall", priority_reason=reason,
                priority=priority, alerted=name in ("first", "elsewhere"))
                .returning(Mention.id)).scalar_one()
        session.execute(update(Mention).where(Mention.id.in_(
            [ids[name] for name in ("share", "complaint", "again")]))
            .values(story_id=ids["first"]))
        session.commit()
    engine.dispose()

    migrations.upgrade(url, "0047")
    engine = make_engine(url)
    with Session(engine) as session:
        stories = dict(session.execute(select(Mention.external_id, Mention.story_id)).all())
        alerted = dict(session.execute(select(Mention.external_id, Mention.alerted)).all())
        open_now = set(session.scalars(select(Mention.external_id).where(open_work())))
    assert stories == {"first": None, "share": ids["first"], "complaint": None,
                       "again": None, "elsewhere": None}
    # The complaint reached the threshold: open work, as its card would have made it. The
    # follow-up under it waits for the digest, as it would have unfolded.
    assert alerted == {"first": True, "share": False, "complaint": True, "again": False,
                       "elsewhere": True}
    assert open_now == {"first", "complaint", "elsewhere"}
    engine.dispose()

    migrations.downgrade(url, "0046")
    migrations.upgrade(url)


def test_sqlite_waiting_posts_leave_their_stories(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm47.db'}")


@pytest.mark.postgres
def test_postgres_waiting_posts_leave_their_stories(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)
