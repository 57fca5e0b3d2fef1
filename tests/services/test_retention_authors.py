"""Retention deletes the authors whose mentions all went (their handle, name, reach and
profile), and keeps those still needed: a mention left, a tracked influencer, one seen
since the cut-off. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.influencer_cache import home_ranking_version
from bot.services.influencers import do_track
from bot.services.ingest import do_ingest
from bot.services.privacy import purge_authors, purge_older_than
from bot.services.watches import get_watch_by_name
from storage.db import transaction
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

    with sessions() as session:
        version = home_ranking_version(session, workspace_id)
    purged = purge_older_than(sessions, 30, later + timedelta(days=1))

    assert purged.mentions == 1
    with sessions() as session:
        assert session.scalars(select(Mention.external_id)).all() == ["2001"]
    assert authors(sessions) == ["@bob", "@carol"]
    with sessions() as session:  # App Home ranks without Ana in every process
        assert home_ranking_version(session, workspace_id) > version


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


@pytest.mark.postgres
def test_the_purge_waits_for_a_poll_storing_a_mention_of_the_author(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        db_url: str) -> None:
    # A poll storing Bob's new post (not committed yet) while the purge reads his author
    # as having no mention: deleted, the author took his new mention's author with it.
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers")
    ingest(sessions, workspace_id, x_batch(BOB))
    with transaction(sessions) as session:
        session.execute(delete(Mention))  # what the purge took
    stored, purging = threading.Event(), threading.Event()

    def poll() -> None:
        with transaction(sessions) as session:
            do_ingest(session, get_watch_by_name(session, workspace_id, watch_name), None,
                      x_batch(tweet("2009", "22", "@AcmeCare one more thing", 5)), now=NOW)
            stored.set()
            purging.wait(10)
            time.sleep(0.5)  # the purge is waiting by then

    def purge() -> None:
        stored.wait(10)
        purging.set()
        purge_authors(sessions, NOW + timedelta(days=10))

    threads = [threading.Thread(target=poll), threading.Thread(target=purge)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert authors(sessions) == ["@bob"]
    with sessions() as session:
        assert session.scalars(select(Mention.author_id)).all() != [None]
