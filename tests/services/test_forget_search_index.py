"""A forget and a purge leave nothing of the deleted posts' words in the full-text index:
SQLite's FTS5 pages (``mention_search_fts_data``), where a delete only wrote a marker;
PostgreSQL's ``mention_search`` rows (gone with their mention)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.privacy import do_forget, purge_older_than
from storage.search_index import index_pending
from tests.services.test_cases import NOW, ingest, tweet, x_batch

WORD = "quuxzeppelinword"
ANA = tweet("1001", "11", "@AcmeCare my order 5512QX97 Quuxzeppelinword arrived", 0)
# Other posts in the index (their words stay), indexed in segments of their own.
BOB = [tweet(str(2000 + n), "22", f"@AcmeCare parcel number {n} arrived, thanks", n)
       for n in range(1, 30)]


def index_holds(sessions: sessionmaker[Session], word: str) -> list[int]:
    """The ids of the index pages whose bytes hold ``word`` (SQLite), or of the
    ``mention_search`` rows whose document does (PostgreSQL)."""
    with sessions() as session:
        if session.get_bind().dialect.name == "sqlite":
            return [block_id for block_id, block in session.execute(text(
                "SELECT id, block FROM mention_search_fts_data")) if word.encode() in block]
        return list(session.scalars(text(
            "SELECT mention_id FROM mention_search WHERE doc::text LIKE :w"),
            {"w": f"%{word}%"}))


def store(sessions: sessionmaker[Session], workspace_id: int) -> None:
    for batch in ([ANA], BOB[:10], BOB[10:]):
        ingest(sessions, workspace_id, x_batch(*batch))
        with sessions.begin() as session:
            index_pending(session)


def test_a_forget_leaves_none_of_their_words_in_the_search_index(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    store(sessions, workspace_id)
    assert index_holds(sessions, WORD)

    do_forget(sessions, workspace_id, CLI, "ana_r")

    assert index_holds(sessions, WORD) == []
    assert index_holds(sessions, "5512qx97") == []
    # The others' words are still found.
    assert index_holds(sessions, "parcel")


def test_a_purge_leaves_none_of_the_purged_words_in_the_search_index(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    store(sessions, workspace_id)
    ingest(sessions, workspace_id, x_batch(tweet("3001", "22", "@AcmeCare still later", 0)),
           now=NOW + timedelta(days=40))
    with sessions.begin() as session:
        index_pending(session)

    assert purge_older_than(sessions, 30, NOW + timedelta(days=41)).mentions == 30

    assert index_holds(sessions, WORD) == []
    assert index_holds(sessions, "parcel") == []
    assert index_holds(sessions, "still")


def test_the_sqlite_file_keeps_no_byte_of_a_forgotten_post(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        db_url: str) -> None:
    if not db_url.startswith("sqlite:///"):
        return  # PostgreSQL's dead tuples are VACUUM's (README, Retention)
    store(sessions, workspace_id)

    do_forget(sessions, workspace_id, CLI, "ana_r")
    # Closing folds the write-ahead log into the file: the file is the whole database.
    engine = sessions.kw["bind"]
    engine.dispose()

    with open(db_url.removeprefix("sqlite:///"), "rb") as file:
        raw = file.read()
    # Neither their words (the post, the index) nor their handle, anywhere in the file.
    # (An order number of digits alone may be in any timestamp's microseconds: it has
    # letters.)
    assert [raw.count(b) for b in (WORD.encode(), b"Quuxzeppelinword", b"5512QX97", b"ana_r")] == [
        0, 0, 0, 0]
    assert raw.count(b"parcel")
