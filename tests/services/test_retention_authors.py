"""Retention deletes the authors whose mentions all went (their handle, name, reach and
profile), and keeps those still needed: a mention left, a tracked influencer, one seen
since the cut-off. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, delete, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.errors import NotFound
from bot.services.influencer_cache import home_ranking_version
from bot.services.influencers import do_track, do_track_author
from bot.services.ingest import do_ingest
from bot.services.privacy import purge_authors, purge_older_than
from bot.services.watches import get_watch_by_name
from storage.db import transaction
from storage.models import Author, Mention
from storage.models_influencers import TrackedInfluencer
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


def _unseen_author(sessions: sessionmaker[Session], workspace_id: int) -> int:
    """Dora, on X, with no mention left and last seen 40 days before NOW: the sweep's."""
    with transaction(sessions) as session:
        author = Author(workspace_id=workspace_id, network="x", handle="@dora",
                        mention_count=0, first_seen_at=NOW - timedelta(days=60),
                        last_seen_at=NOW - timedelta(days=40))
        session.add(author)
        session.flush()
        return author.id


def _tracked(sessions: sessionmaker[Session]) -> list[tuple[str, int]]:
    """(handle, days seen before NOW) of each tracked author."""
    with sessions() as session:
        return [(handle, (NOW.replace(tzinfo=None) - seen.replace(tzinfo=None)).days)
                for handle, seen in session.execute(select(
                    Author.handle, Author.first_seen_at).join(
                    TrackedInfluencer, TrackedInfluencer.author_id == Author.id))]


def _pause_commit(sessions: sessionmaker[Session], thread: str
                  ) -> tuple[threading.Event, threading.Event]:
    """(reached, release): the first commit of the thread named ``thread`` waits, its work
    done and its locks held, until ``release`` is set; ``reached`` tells it got there."""
    reached, release = threading.Event(), threading.Event()

    def on_commit(_conn: Connection) -> None:
        if threading.current_thread().name == thread and not reached.is_set():
            reached.set()
            release.wait(30)

    event.listen(sessions.kw["bind"], "commit", on_commit)
    return reached, release


def _wait_until_blocked(sessions: sessionmaker[Session]) -> None:
    """Return once a connection of the test's database waits for a lock (PostgreSQL), the
    other thread's statement having taken its snapshot. On SQLite the writers of a process
    take turns (``storage.db.transaction``): the other one runs after the release
    whenever it starts."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        for _ in range(3000):
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'")).scalar_one()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError("the other connection never waited for a lock")


def _thread(name: str, results: dict[str, Any], work: Callable[[], Any]) -> threading.Thread:
    def run() -> None:
        try:
            results[name] = work()
        except Exception as err:  # noqa: BLE001 (the test reads it)
            results[name] = err

    return threading.Thread(name=name, target=run)


def test_a_track_committing_while_the_sweep_deletes_keeps_its_author(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # Dora is tracked (not committed yet) as the sweep's delete starts: it read her as
    # untracked and, once the track committed, deleted her and the tracking (cascade).
    _unseen_author(sessions, workspace_id)
    reached, release = _pause_commit(sessions, "track")
    results: dict[str, Any] = {}
    track = _thread("track", results, lambda: do_track(
        sessions, workspace_id, CLI, handle="@dora", network="x", now=NOW))
    sweep = _thread("sweep", results, lambda: purge_authors(
        sessions, NOW - timedelta(days=30)))
    track.start()
    assert reached.wait(30)
    sweep.start()
    _wait_until_blocked(sessions)
    release.set()
    for thread in (track, sweep):
        thread.join(30)

    assert results == {"track": ("@dora", True), "sweep": 0}
    assert _tracked(sessions) == [("@dora", 60)]


def test_a_track_made_while_the_sweep_deletes_the_author_tracks_a_new_one(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # The sweep deletes Dora (not committed yet) as she is tracked: the track found her
    # and failed on the foreign key once the delete committed.
    _unseen_author(sessions, workspace_id)
    reached, release = _pause_commit(sessions, "sweep")
    results: dict[str, Any] = {}
    track = _thread("track", results, lambda: do_track(
        sessions, workspace_id, CLI, handle="@dora", network="x", now=NOW))
    sweep = _thread("sweep", results, lambda: purge_authors(
        sessions, NOW - timedelta(days=30)))
    sweep.start()
    assert reached.wait(30)
    track.start()
    _wait_until_blocked(sessions)
    release.set()
    for thread in (track, sweep):
        thread.join(30)

    assert results == {"track": ("@dora", True), "sweep": 1}
    assert _tracked(sessions) == [("@dora", 0)]  # tracking made her anew


def test_tracking_by_id_an_author_the_sweep_is_deleting_says_it_is_gone(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # The button on `/cm influencers` names Dora by id as the sweep deletes her: the
    # track failed on the foreign key (an internal error) instead of saying so.
    dora = _unseen_author(sessions, workspace_id)
    reached, release = _pause_commit(sessions, "sweep")
    results: dict[str, Any] = {}
    track = _thread("track", results, lambda: do_track_author(
        sessions, workspace_id, CLI, author_id=dora, now=NOW))
    sweep = _thread("sweep", results, lambda: purge_authors(
        sessions, NOW - timedelta(days=30)))
    sweep.start()
    assert reached.wait(30)
    track.start()
    _wait_until_blocked(sessions)
    release.set()
    for thread in (track, sweep):
        thread.join(30)

    assert results["sweep"] == 1
    assert isinstance(results["track"], NotFound)
    assert results["track"].key == "influencers.no_author"
    assert _tracked(sessions) == []
