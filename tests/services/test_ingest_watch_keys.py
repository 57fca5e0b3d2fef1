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
