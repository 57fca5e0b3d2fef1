"""A removed watch's mentions and links lose their watch and its counts move to watch 0, on
both engines (PostgreSQL by 0034's trigger, SQLite by its keys); a batch whose watch was
removed after it was read stores nothing (PostgreSQL checks no watch key per row: the
batch's lock on its watch keeps them valid)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.ingest import do_ingest
from bot.services.watches import do_remove_watch, get_watch_by_name
from storage.db import transaction
from storage.models import Mention
from storage.models_reporting import MentionDayCount, MentionHourCount
from storage.models_watches import MentionWatch
from tests.services.test_multiwatch import NOW, _feed, _poll, _watches


def _holders(session: Session) -> list[tuple[str, int | None, bool]]:
    return sorted(session.execute(
        select(Mention.external_id, MentionWatch.watch_id, MentionWatch.is_first)
        .join(MentionWatch, MentionWatch.mention_id == Mention.id)).tuples(),
        key=lambda row: (row[0], row[1] or 0))


def _counted(session: Session, table: type) -> dict[int, int]:
    return {int(watch): int(n) for watch, n in session.execute(
        select(table.watch_id, func.sum(table.mentions)).group_by(table.watch_id)
        .having(func.sum(table.mentions) != 0))}


def test_a_removed_watch_leaves_its_mentions_and_counts_them_under_no_watch(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    _watches(sessions, workspace_id)
    _poll(sessions, workspace_id, "recall", _feed())  # stores 1 and 3
    _poll(sessions, workspace_id, "acme", _feed())  # stores 2, links 1
    with sessions() as session:
        acme = get_watch_by_name(session, workspace_id, "acme").id
        recall = get_watch_by_name(session, workspace_id, "recall").id
        assert _holders(session) == [("1", acme, False), ("1", recall, True),
                                     ("2", acme, True), ("3", recall, True)]
        assert _counted(session, MentionHourCount) == {acme: 2, recall: 2}
    do_remove_watch(sessions, workspace_id, CLI, "recall")
    with sessions() as session:
        assert _holders(session) == [("1", None, True), ("1", acme, False),
                                     ("2", acme, True), ("3", None, True)]
        assert dict(session.execute(select(Mention.external_id, Mention.watch_id)).tuples()
                    .all()) == {"1": None, "2": acme, "3": None}
        for table in (MentionHourCount, MentionDayCount):
            assert _counted(session, table) == {acme: 2, 0: 2}


@pytest.mark.postgres
def test_a_batch_for_a_watch_removed_meanwhile_stores_nothing(
        sessions: sessionmaker[Session], workspace_id: int, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers and checks the watch key of each row")
    _watches(sessions, workspace_id)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        do_remove_watch(sessions, workspace_id, CLI, "acme")  # another transaction
        report = do_ingest(session, watch, None, _feed(), now=NOW + timedelta(minutes=1))
    assert report.stored == 0 and len(report.skipped) == len(_feed())
    assert all(s.endswith("(watch deleted)") for s in report.skipped)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 0
        assert session.scalar(select(func.count()).select_from(MentionWatch)) == 0


@pytest.mark.postgres
def test_a_watch_removed_during_a_poll_waits_for_it_without_deadlock(
        sessions: sessionmaker[Session], workspace_id: int, db_url: str) -> None:
    """A poll locks its source, then (ingest) its watch; a removal locks the watch, then
    deletes its sources. Ingest's hold on the watch is FOR KEY SHARE, which an admin's
    FOR NO KEY UPDATE does not block: the removal waits for the poll's source instead of
    the two waiting for each other (PostgreSQL aborted one as a deadlock). The poll's
    mentions stay, without a watch."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers")
    import threading

    from storage.models import SourceRow, Watch

    _watches(sessions, workspace_id)
    with transaction(sessions) as session:
        watch = get_watch_by_name(session, workspace_id, "acme")
        source = SourceRow(workspace_id=workspace_id, watch_id=watch.id, kind="rss",
                           config={"url": "https://news.example/feed.xml"})
        session.add(source)
        session.flush()
        source_id, watch_id = source.id, watch.id
    outcome: dict[str, object] = {}
    source_locked, removal_waits = threading.Event(), threading.Event()

    def poll() -> None:
        try:
            with transaction(sessions) as session:
                # As polling locks the source whose result it stores.
                session.get(SourceRow, source_id, with_for_update=True)
                source_locked.set()
                removal_waits.wait(10)
                held = session.get(Watch, watch_id)
                assert held is not None
                outcome["poll"] = do_ingest(session, held, source_id, _feed(), now=NOW).stored
        except Exception as err:  # noqa: BLE001 - the outcome is what the test reads
            outcome["poll"] = err

    def remove() -> None:
        source_locked.wait(10)
        try:
            threading.Timer(1.0, removal_waits.set).start()  # it is blocked by then
            do_remove_watch(sessions, workspace_id, CLI, "acme")
            outcome["remove"] = "removed"
        except Exception as err:  # noqa: BLE001
            outcome["remove"] = err

    threads = [threading.Thread(target=poll), threading.Thread(target=remove)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome == {"poll": 2, "remove": "removed"}, outcome  # acme matches 2 posts
    with sessions() as session:
        assert set(session.scalars(select(Mention.watch_id))) == {None}
        assert session.get(SourceRow, source_id) is None


@pytest.mark.postgres
def test_two_batches_of_one_watch_do_not_queue_behind_each_other(
        sessions: sessionmaker[Session], workspace_id: int, db_url: str) -> None:
    """Two sources of one watch store at the same moment: the second batch's hold on the
    watch does not wait for the first batch to commit."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers")
    from sqlalchemy import text

    from storage.bulk import hold_watch

    _watches(sessions, workspace_id)
    with sessions() as first, sessions() as second:
        watch_id = get_watch_by_name(first, workspace_id, "acme").id
        assert hold_watch(first, watch_id)
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert hold_watch(second, watch_id)  # would time out under FOR NO KEY UPDATE
        first.rollback()
        second.rollback()
