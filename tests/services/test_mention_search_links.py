"""`/cm mentions` listings per watch link and by published time, through the cached
listing statements, on SQLite and PostgreSQL.

A watch lists every mention linked to it (whichever watch stored it first) and its rows name
it; ``since`` counts by published time even when a backfill stored old posts after new ones
(ids then do not follow published time, and the ``since`` id bound must still hold).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import mention_search
from bot.services.mention_search import MentionFilter, MentionRow, search_mentions
from bot.services.watch_links import do_link
from storage import search_index
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Mention, Watch
from tests.harness.constants import CHANNEL_ID

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _store(sessions: sessionmaker[Session], workspace_id: int) -> dict[str, tuple[datetime, bool]]:
    """Steady-state mentions (ids follow published time), then a backfill of posts
    published over the last six hours and older, stored last. Posts saying "recall" are
    also linked to the watch ``recall``. Returns external id -> (published, recall)."""
    made: dict[str, tuple[datetime, bool]] = {}
    with transaction(sessions) as session:
        acme = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID)
        recall = Watch(workspace_id=workspace_id, name="recall", channel_id=CHANNEL_ID)
        session.add_all([acme, recall])
        session.flush()
        steady = [(f"s{i}", NOW - timedelta(minutes=120 - 2 * i)) for i in range(60)]
        backfill = [(f"b{i}", NOW - timedelta(minutes=7 * i + 2)) for i in range(60)]
        for n, (external_id, published) in enumerate(steady + backfill):
            says_recall = n % 4 == 0
            session.add(Mention(
                workspace_id=workspace_id, watch_id=acme.id, network="x",
                external_id=external_id, url=f"https://example.org/{external_id}",
                text=("Acme bikes recall" if says_recall else "Acme bikes ride well")
                + f" {external_id}", status="approved" if n % 3 == 0 else "new",
                published_at=published, created_at=NOW))
            session.flush()
            made[external_id] = (published, says_recall)
        ids = {e: i for e, i in session.execute(select(Mention.external_id, Mention.id))}
        linked = do_link(session, recall, {ids[e]: 10 for e, (_, r) in made.items() if r}, NOW)
        assert len(linked) == 30
        search_index.index_pending(session)
    return made


def _pages(sessions: sessionmaker[Session], workspace_id: int, filters: MentionFilter
           ) -> list[MentionRow]:
    """Every page of a listing, 7 rows at a time (keyset pagination)."""
    rows: list[MentionRow] = []
    before: int | None = None
    while True:
        page = search_mentions(sessions, workspace_id,
                               MentionFilter(**{**_fields(filters), "before_id": before}),
                               limit=7, now=NOW)
        rows += page
        if len(page) < 7:
            return rows
        before = page[-1].id


def _fields(filters: MentionFilter) -> dict[str, object]:
    return {name: getattr(filters, name) for name in MentionFilter.__dataclass_fields__}


@pytest.mark.parametrize("probe", [1000, 3])
def test_watch_listings_follow_links_and_since_counts_by_published_time(
        sessions: sessionmaker[Session], workspace_id: int, probe: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the default probe every window here gets its id bound; with 3, none does
    (each holds more mentions) and listings read newest ids first: same answers."""
    monkeypatch.setattr(mention_search, "SINCE_PROBE", probe)
    made = _store(sessions, workspace_id)
    window = timedelta(hours=2, minutes=30)
    cases: list[tuple[MentionFilter, set[str], str | None]] = [
        (MentionFilter(watch="recall"), {e for e, (_, r) in made.items() if r}, "recall"),
        (MentionFilter(watch="acme"), set(made), "acme"),
        (MentionFilter(since=window),
         {e for e, (p, _) in made.items() if p >= NOW - window}, "acme"),
        (MentionFilter(watch="recall", since=window),
         {e for e, (p, r) in made.items() if r and p >= NOW - window}, "recall"),
        (MentionFilter(watch="recall", since=window, status="approved", text="recall"),
         {e for n, (e, (p, r)) in enumerate(made.items())
          if r and p >= NOW - window and n % 3 == 0}, "recall"),
        (MentionFilter(since=timedelta(minutes=1)), set(), None),
    ]
    for filters, expected, watch in cases:
        rows = _pages(sessions, workspace_id, filters)
        assert {row.external_id for row in rows} == expected, filters
        assert len(rows) == len(expected), filters  # a mention of two watches listed once
        assert [row.id for row in rows] == sorted((row.id for row in rows), reverse=True)
        assert {row.watch for row in rows} <= {watch}, filters
    # The backfill is what makes ids disagree with published time here.
    assert any(e.startswith("b") and p >= NOW - window for e, (p, _) in made.items())


@pytest.mark.parametrize("filters", [
    MentionFilter(watch="acme", since=timedelta(hours=1)),
    MentionFilter(text="alpha", since=timedelta(hours=1)),
    MentionFilter(watch="acme", text="alpha", since=timedelta(hours=1)),
])
def test_a_listing_reads_one_snapshot_while_other_workers_commit(
        sessions: sessionmaker[Session], workspace_id: int, filters: MentionFilter) -> None:
    # Several workers draw ids in one order and commit in another. A listing that takes
    # several statements (the window's id bound, the word's hits, the rows) must not show
    # a row committed after its first statement while an older one committed just before
    # it is missing: both or neither (here neither: the snapshot is the first statement's).
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID)
        session.add(watch)
        session.flush()
        watch_id = watch.id

        def mention(mention_id: int, minutes: int) -> Mention:
            return Mention(id=mention_id, workspace_id=workspace_id, watch_id=watch_id,
                           network="x", external_id=f"e{mention_id}",
                           url=f"https://example.org/{mention_id}", text="alpha bikes",
                           published_at=NOW - timedelta(minutes=minutes), created_at=NOW)

        session.add_all([mention(1000 + n, n) for n in range(5)])
        session.flush()
        search_index.index_pending(session)
    engine = sessions.kw["bind"]
    other = make_session_factory(make_engine(engine.url.render_as_string(hide_password=False)))
    committed: list[int] = []

    def another_worker_commits(*_: object) -> None:
        if committed:
            return
        committed.append(1)
        with transaction(other) as session:  # an id drawn earlier, committed late
            session.add(mention(500, 10))
        with transaction(other) as session:
            session.add(mention(1005, 1))
            session.flush()
            search_index.index_pending(session)

    event.listen(engine, "after_cursor_execute", another_worker_commits)
    try:
        listed = {row.id for row in search_mentions(sessions, workspace_id, filters, limit=50,
                                                    now=NOW)}
    finally:
        event.remove(engine, "after_cursor_execute", another_worker_commits)
        other.kw["bind"].dispose()
    assert committed
    assert (500 in listed) == (1005 in listed), sorted(listed)
    assert {row.id for row in search_mentions(sessions, workspace_id, filters, limit=50,
                                              now=NOW)} >= {500, 1005}
