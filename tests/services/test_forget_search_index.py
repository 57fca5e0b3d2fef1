"""A forget and a purge leave nothing of the deleted posts' words in the full-text index:
SQLite's FTS5 pages (``mention_search_fts_data``), where a delete only wrote a marker, once
the compaction they leave due has run (after the answer, in the background; at the next
start if the process stopped first); PostgreSQL's ``mention_search`` rows (gone with their
mention)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from bot.cli import privacy as _privacy  # noqa: F401  (registers forget and purge)
from bot.cli.root import main
from bot.config import load_settings
from bot.runtime import build_runtime
from bot.scheduler import build_scheduler
from bot.services.actors import CLI
from bot.services.privacy import do_compact_search_index, do_forget, purge_older_than
from storage.search_index import compaction_due, index_pending
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
    sqlite = sessions.kw["bind"].dialect.name == "sqlite"
    with sessions() as session:
        assert compaction_due(session) is sqlite

    assert do_compact_search_index(sessions) is sqlite

    with sessions() as session:
        assert not compaction_due(session)
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
    do_compact_search_index(sessions)

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
    do_compact_search_index(sessions)
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


def statements_of(engine: Engine) -> list[str]:
    """Every statement ``engine`` runs from now on (the list grows)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_a_forget_answers_before_the_index_is_compacted(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    store(sessions, workspace_id)
    seen = statements_of(sessions.kw["bind"])

    do_forget(sessions, workspace_id, CLI, "ana_r")
    ingest(sessions, workspace_id, x_batch(tweet("3001", "22", "@AcmeCare still later", 0)))

    # Neither the forget nor the purge holds the write lock for the whole index's rewrite.
    assert not [statement for statement in seen if "optimize" in statement]
    assert purge_older_than(sessions, 30, NOW + timedelta(days=41)).mentions == 30
    assert not [statement for statement in seen if "optimize" in statement]


def test_a_compaction_left_due_at_a_stop_runs_at_the_next_start(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        db_url: str) -> None:
    if not db_url.startswith("sqlite:///"):
        return  # nothing is ever due on PostgreSQL
    store(sessions, workspace_id)
    do_forget(sessions, workspace_id, CLI, "ana_r")
    sessions.kw["bind"].dispose()  # the process stops before the compaction ran

    runtime = build_runtime(load_settings(database_url=db_url))
    try:
        with runtime.sessions() as session:
            assert compaction_due(session)
        job = build_scheduler(runtime, blocking=False).get_job("search_compaction")
        assert job is not None and job.next_run_time is not None  # at start, then each minute

        job.func(*job.args)

        assert index_holds(runtime.sessions, WORD) == []
        assert index_holds(runtime.sessions, "parcel")
        with runtime.sessions() as session:
            assert not compaction_due(session)
    finally:
        runtime.close()


def test_a_compaction_never_turns_fts5_secure_delete_on(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """FTS5's secure-delete (SQLite 3.42+) changes the index's format: an older SQLite (a
    backup restored on an older host) could no longer write it. Compaction keeps to
    ``optimize``. A guard for hosts whose SQLite has the option (a release turned it on
    from 3.44): on an older SQLite, as in CI, nothing could turn it on."""
    if sessions.kw["bind"].dialect.name != "sqlite":
        return
    store(sessions, workspace_id)
    do_forget(sessions, workspace_id, CLI, "ana_r")
    seen = statements_of(sessions.kw["bind"])

    assert do_compact_search_index(sessions)

    assert [statement for statement in seen if "optimize" in statement]
    assert not [statement for statement in seen if "secure-delete" in statement]

    with sessions() as session:
        assert not session.execute(text(
            "SELECT count(*) FROM mention_search_fts_config WHERE k = 'secure-delete'"
        )).scalar_one()
    assert index_holds(sessions, WORD) == []


def test_the_terminal_forget_and_purge_return_with_the_words_gone(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
        db_url: str) -> None:
    if not db_url.startswith("sqlite:///"):
        return  # nothing is ever due on PostgreSQL
    store(sessions, workspace_id)
    env = {"VIGIE_DATABASE_URL": db_url, "VIGIE_TIMEZONE": "UTC", "SLACK_BOT_TOKEN": "",
           "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}

    forgot = CliRunner().invoke(main, ["forget", "ana_r"], env=env)

    assert forgot.exit_code == 0, forgot.output
    with sessions() as session:
        assert not compaction_due(session)
    assert index_holds(sessions, WORD) == []

    purged = CliRunner().invoke(main, ["purge", "--older-than", "1"], env=env)

    assert purged.exit_code == 0, purged.output
    with sessions() as session:
        assert not compaction_due(session)
    assert index_holds(sessions, "parcel") == []


def test_a_forget_of_someone_never_stored_leaves_no_rewrite_due(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    store(sessions, workspace_id)
    seen = statements_of(sessions.kw["bind"])

    do_forget(sessions, workspace_id, CLI, "@quiet_carol")

    assert not do_compact_search_index(sessions)
    assert not [statement for statement in seen if "optimize" in statement]
