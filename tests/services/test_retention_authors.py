"""Retention deletes the authors whose mentions all went (their handle, name, reach and
profile), and keeps those still needed: a mention left, a tracked influencer, one seen
since the cut-off. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.influencers import do_track
from bot.services.privacy import purge_older_than
from storage.models import Author, Mention
from tests.services.test_cases import NOW, ROOT, ingest, tweet, x_batch

BOB = tweet("2001", "22", "@AcmeCare parcel arrived, thanks", 0)


def authors(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Author.handle)))


def test_retention_deletes_the_authors_it_leaves_without_mentions(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))
    # Bob is found 40 days later: his mention outlives a 30-day window that takes Ana's.
    later = NOW + timedelta(days=40)
    ingest(sessions, workspace_id, x_batch(BOB), now=later)
    # Tracked: kept with no mention (the team follows them; ingest knows them by it).
    do_track(sessions, workspace_id, CLI, handle="@carol", network="x", now=NOW)
    assert authors(sessions) == ["@ana_r", "@bob", "@carol"]

    purged = purge_older_than(sessions, 30, later + timedelta(days=1))

    assert purged == 1
    with sessions() as session:
        assert session.scalars(select(Mention.external_id)).all() == ["2001"]
    assert authors(sessions) == ["@bob", "@carol"]


def test_an_author_seen_since_the_cut_off_stays(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    # Ana's mention is purged, but a batch saw her after the cut-off (its mention is still
    # to be stored, or was a duplicate): her row is being used.
    ingest(sessions, workspace_id, x_batch(ROOT))
    with sessions.begin() as session:
        author = session.scalar(select(Author))
        assert author is not None
        author.last_seen_at = NOW + timedelta(days=40)
        session.execute(Mention.__table__.update().values(created_at=NOW))

    purge_older_than(sessions, 30, NOW + timedelta(days=41))

    assert authors(sessions) == ["@ana_r"]
    purge_older_than(sessions, 30, NOW + timedelta(days=71))
    assert authors(sessions) == []
