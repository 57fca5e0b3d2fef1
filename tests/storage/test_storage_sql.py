"""The SQL that services hand to storage (bulk writes, upserts, claims, time buckets),
checked directly on SQLite and PostgreSQL: what each function stores and returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from storage.bulk import (
    insert_links,
    insert_mentions,
    one_of,
    one_of_read_first,
    upsert_authors,
)
from storage.claims import advisory_lock, skip_locked, take_lease
from storage.db import transaction
from storage.dialect import is_postgresql
from storage.mention_listing import MAX_ID, listing_statement, lowest_id_since
from storage.models import Author, Mention, OutboxMessage, Watch
from storage.models_cases import QuietMention
from storage.models_triage import TriageLabel
from storage.models_watches import MentionWatch
from storage.search_index import hits_come_newest_first
from storage.time_buckets import hour_start
from storage.upserts import insert_or_skip, upsert_triage_label

NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)




def _mention_row(workspace_id: int, external_id: str, **extra: object) -> dict[str, object]:
    return {"workspace_id": workspace_id, "network": "rss", "external_id": external_id,
            "url": f"https://example.com/{external_id}", "text": f"post {external_id}",
            "published_at": NOW, "priority": 40, "intent_flags": [], "topics": [],
            "created_at": NOW, "updated_at": NOW, **extra}


def _store_mentions(sessions: sessionmaker[Session], workspace_id: int,
                    *external_ids: str) -> dict[str, int]:
    with transaction(sessions) as session:
        stored = insert_mentions(session, [_mention_row(workspace_id, e)
                                           for e in external_ids])
        return {str(external_id): int(mention_id) for mention_id, _, external_id, _ in stored}


def test_is_postgresql_names_the_engine(sessions: sessionmaker[Session], db_url: str) -> None:
    with sessions() as session:
        assert is_postgresql(session) is db_url.startswith("postgresql")


def test_insert_mentions_stores_new_rows_and_skips_known_ones(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    first = _store_mentions(sessions, workspace_id, "a", "b")
    assert set(first) == {"a", "b"}
    naive_time = datetime(2026, 3, 4, 8, 0)  # taken as UTC, as UTCDateTime stores it
    with transaction(sessions) as session:
        stored = insert_mentions(session, [
            _mention_row(workspace_id, "b", priority=90),
            _mention_row(workspace_id, "c", priority=75, published_at=naive_time)])
    assert [(network, external_id, priority) for _, network, external_id, priority in stored
            ] == [("rss", "c", 75)]
    with sessions() as session:
        c = session.scalars(select(Mention).where(Mention.external_id == "c")).one()
        b = session.scalars(select(Mention).where(Mention.external_id == "b")).one()
        assert c.published_at == naive_time.replace(tzinfo=UTC)
        assert c.created_at == NOW
        # Scalar column defaults are applied as a Core insert applies them.
        assert (c.version, c.alerted, c.status, c.engagement) == (1, False, "new", 0)
        assert b.priority == 40  # the known row is left as it was


def test_insert_mentions_stores_what_a_core_insert_stores(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # Times in every shape (aware UTC, another zone, naive, whole seconds, a small year)
    # and JSON lists empty or not: the bulk path stores the values a Core insert stores.
    paris = timezone(timedelta(hours=1))
    shapes: list[dict[str, object]] = [
        {"published_at": datetime(2026, 3, 4, 10, 30, 0, 5, tzinfo=UTC)},
        {"published_at": datetime(2026, 3, 4, 11, 30, tzinfo=paris), "topics": [
            {"name": "billing", "terms": ["invoice"]}]},
        {"published_at": datetime(2026, 3, 4, 10, 30), "intent_flags": [
            {"name": "churn", "terms": ["cancel", "é"]}]},
        {"published_at": datetime(999, 1, 2, 3, 4, 5, 600, tzinfo=UTC), "title": "t"},
        {"published_at": datetime(2026, 3, 4, 10, 30, 59, 999999, tzinfo=UTC),
         "topics": [], "intent_flags": []},
    ]
    with transaction(sessions) as session:
        insert_mentions(session, [_mention_row(workspace_id, f"bulk{n}", **shape)
                                  for n, shape in enumerate(shapes)])
        session.execute(Mention.__table__.insert(), [
            _mention_row(workspace_id, f"core{n}", **shape) for n, shape in enumerate(shapes)])
    with sessions() as session:
        stored = {str(row._mapping["external_id"]): {
            k: v for k, v in row._mapping.items() if k not in ("id", "external_id", "url",
                                                               "text")}
            for row in session.execute(text("SELECT * FROM mentions"))}
    for n in range(len(shapes)):
        assert stored[f"bulk{n}"] == stored[f"core{n}"]


def test_insert_mentions_handles_a_batch_larger_than_one_statement(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    ids = [f"m{n}" for n in range(2500)]
    stored = _store_mentions(sessions, workspace_id, *ids)
    assert sorted(stored) == sorted(ids)
    assert len(set(stored.values())) == len(ids)


def test_insert_links_makes_new_links_and_skips_made_ones(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    stored = _store_mentions(sessions, workspace_id, "a", "b")
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="second", query="", channel_id="C07LINKS")
        session.add(watch)
        session.flush()
        watch_id = watch.id

    def link(external_id: str, priority: int) -> dict[str, object]:
        return {"workspace_id": workspace_id, "mention_id": stored[external_id],
                "watch_id": watch_id, "is_first": False, "network": "rss",
                "sentiment": "negative", "published_at": NOW, "reach": 12,
                "priority": priority, "alerted": False, "created_at": NOW}

    with transaction(sessions) as session:
        assert [tuple(r) for r in insert_links(session, [link("a", 70)])] == [
            (stored["a"], 70)]
    with transaction(sessions) as session:
        made = insert_links(session, [link("a", 10), link("b", 55)])
    assert [tuple(r) for r in made] == [(stored["b"], 55)]  # the made one is left alone
    with sessions() as session:
        rows = session.execute(select(
            MentionWatch.mention_id, MentionWatch.priority, MentionWatch.is_first,
            MentionWatch.sentiment, MentionWatch.reach, MentionWatch.published_at)
            .where(MentionWatch.watch_id == watch_id).order_by(MentionWatch.mention_id)).all()
    assert [tuple(r) for r in rows] == [(stored["a"], 70, False, "negative", 12, NOW),
                                        (stored["b"], 55, False, "negative", 12, NOW)]


def test_one_of_is_an_in_list_with_one_parameter(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    stored = _store_mentions(sessions, workspace_id, "a", "b", "c")
    with sessions() as session:
        found = session.scalars(select(Mention.id).where(
            one_of(session, Mention.external_id, ["a", "c", "missing"]))).all()
        assert sorted(found) == sorted([stored["a"], stored["c"]])
        assert session.scalars(select(Mention.id).where(
            one_of(session, Mention.external_id, []))).all() == []


def test_one_of_finds_any_text_and_ids(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Values with what an array's text form spells specially (commas, quotes, braces,
    backslashes, spaces, the word NULL, nothing at all) are matched as themselves."""
    tricky = ["a,b", 'q"uote', "back\\slash", "{brace}", " space ", "NULL", "", "é✓",
              "it's", '\\"', "tail\\"]
    stored = _store_mentions(sessions, workspace_id, *tricky, "plain")
    with sessions() as session:
        found = session.execute(select(Mention.external_id, Mention.id).where(
            one_of(session, Mention.external_id, [*tricky, "null", "missing"]))).all()
        assert dict(found) == {e: stored[e] for e in tricky}
        ids = [stored["a,b"], stored["plain"], -1]
        assert sorted(session.scalars(select(Mention.id).where(
            one_of(session, Mention.id, ids)))) == sorted(ids[:2])
        assert session.scalars(select(Mention.id).where(
            ~one_of(session, Mention.id, ids), Mention.external_id == "")).all() == [stored[""]]


def test_one_of_is_a_constant_array_for_postgresql(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """The list reaches PostgreSQL's planner as a constant array: not text read into an
    array again for each row (a seq scan of a batch's 1,000 ids would parse it per row)."""
    with sessions() as session:
        if not is_postgresql(session):
            return
        for column, values in ((Mention.external_id, ["a", "b,c"]), (Mention.id, [1, 2])):
            compiled = select(Mention.id).where(one_of(session, column, values)).compile(
                dialect=session.get_bind().dialect)
            plan = "\n".join(row[0] for row in session.connection().exec_driver_sql(
                "EXPLAIN VERBOSE " + str(compiled), compiled.params))
            assert "ANY ('{" in plan and "cstring" not in plan, plan


def test_one_of_read_first_reads_its_list_before_the_table(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """``one_of_read_first`` keeps the rows ``IN`` keeps; on PostgreSQL its list is read
    once, before the table (an init plan), never joined to the statement's other
    semi-joins (the returning-customer look-up crossed its authors with a watch's links)."""
    stored = _store_mentions(sessions, workspace_id, "a", "b", "c")
    with transaction(sessions) as session:
        wanted = select(Mention.id).where(Mention.external_id != "b")
        statement = select(Mention.external_id).where(
            one_of_read_first(session, Mention.id, wanted),
            select(Mention.id).where(Mention.external_id != "z").exists())
        assert sorted(session.scalars(statement)) == ["a", "c"]
        assert sorted(session.scalars(select(Mention.external_id).where(one_of_read_first(
            session, Mention.id, select(Mention.id).where(Mention.id < 0))))) == []
        if is_postgresql(session):
            compiled = statement.compile(dialect=session.get_bind().dialect)
            plan = "\n".join(row[0] for row in session.connection().exec_driver_sql(
                "EXPLAIN " + str(compiled), compiled.params))
            assert "InitPlan" in plan and "= ANY ($" in plan and "Join" not in plan, plan
    assert set(stored) == {"a", "b", "c"}


def _author(workspace_id: int, handle: str, **extra: object) -> dict[str, object]:
    return {"workspace_id": workspace_id, "network": "x", "handle": handle, "name": None,
            "url": None, "followers": None, "verified": False, "mention_count": 1,
            "first_seen_at": NOW, "last_seen_at": NOW, **extra}


def test_upsert_authors_adds_counts_and_keeps_what_a_batch_does_not_bring(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        first = upsert_authors(session, [
            _author(workspace_id, "ann", name="Ann", followers=1200, verified=True,
                    mention_count=2),
            _author(workspace_id, "bob")])
    assert set(first) == {("x", "ann"), ("x", "bob")}
    later = NOW + timedelta(hours=1)
    with transaction(sessions) as session:
        second = upsert_authors(session, [
            _author(workspace_id, "ann", mention_count=3, last_seen_at=later),
            _author(workspace_id, "bob", name="Bob", followers=7),
            _author(workspace_id, "cid")])
    assert second[("x", "ann")] == first[("x", "ann")]
    assert second[("x", "bob")] == first[("x", "bob")]
    with sessions() as session:
        rows = {a.handle: a for a in session.scalars(select(Author))}
    ann, bob = rows["ann"], rows["bob"]
    assert (ann.mention_count, ann.name, ann.followers, ann.verified) == (5, "Ann", 1200, True)
    assert (ann.first_seen_at, ann.last_seen_at) == (NOW, later)
    assert (bob.mention_count, bob.name, bob.followers, bob.verified) == (2, "Bob", 7, False)
    assert rows["cid"].id == second[("x", "cid")]


def test_insert_or_skip_skips_conflicting_rows(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    ids = _store_mentions(sessions, workspace_id, "a", "b")
    with transaction(sessions) as session:
        session.execute(insert_or_skip(session, QuietMention),
                        [{"mention_id": ids["a"], "reason": "backfill"}])
    with transaction(sessions) as session:
        made = session.execute(
            insert_or_skip(session, QuietMention, ["mention_id"])
            .returning(QuietMention.mention_id),
            [{"mention_id": ids["a"], "reason": "other"},
             {"mention_id": ids["b"], "reason": "backfill"}]).all()
    assert [m for (m,) in made] == [ids["b"]]
    with sessions() as session:
        assert dict(session.execute(select(QuietMention.mention_id, QuietMention.reason))
                    .tuples().all()) == {ids["a"]: "backfill", ids["b"]: "backfill"}


def _label(workspace_id: int, mention_id: int, source: str, action: str,
           positive: bool) -> dict[str, object]:
    return {"workspace_id": workspace_id, "mention_id": mention_id, "watch_id": None,
            "positive": positive, "action": action, "source": source, "actor": "U1",
            "surface": "card", "priority": 40, "threshold": 50, "alerted": True,
            "decided_at": NOW, "labelled_at": NOW}


def test_upsert_triage_label_replaces_only_what_the_rule_allows(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = _store_mentions(sessions, workspace_id, "a")["a"]

    def store(source: str, action: str, positive: bool) -> tuple[str, str, bool]:
        with transaction(sessions) as session:
            upsert_triage_label(session, _label(workspace_id, mention_id, source, action,
                                                positive),
                                overriding_source="feedback", overridable_source="workflow")
        with sessions() as session:
            label = session.scalars(select(TriageLabel)).one()
            return label.source, label.action, label.positive

    assert store("workflow", "assign", True) == ("workflow", "assign", True)
    assert store("workflow", "ignore", False) == ("workflow", "ignore", False)
    assert store("feedback", "should_alert", True) == ("feedback", "should_alert", True)
    assert store("workflow", "ignore", False) == ("feedback", "should_alert", True)
    assert store("feedback", "not_urgent", False) == ("feedback", "not_urgent", False)


def _outbox(sessions: sessionmaker[Session], workspace_id: int, n: int) -> list[int]:
    with transaction(sessions) as session:
        rows = [OutboxMessage(workspace_id=workspace_id, kind="post", channel="C1",
                              payload={}, status="pending", attempts=0,
                              next_attempt_at=NOW - timedelta(minutes=1))
                for _ in range(n)]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_take_lease_is_a_compare_and_set(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    row_id = _outbox(sessions, workspace_id, 1)[0]
    until = NOW + timedelta(minutes=5)
    with transaction(sessions) as session:
        assert take_lease(session, OutboxMessage, row_id, pending="pending", attempts=0,
                          now=NOW, until=until)
    with transaction(sessions) as session:
        # Read before the lease was taken: the attempts no longer match.
        assert not take_lease(session, OutboxMessage, row_id, pending="pending",
                              attempts=0, now=until, until=until + timedelta(minutes=5))
        # The lease holds: the row is not due before ``until``.
        assert not take_lease(session, OutboxMessage, row_id, pending="pending",
                              attempts=1, now=NOW, until=until)
        assert not take_lease(session, OutboxMessage, row_id, pending="sent", attempts=1,
                              now=until, until=until)
    with sessions() as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        assert (row.attempts, row.next_attempt_at) == (1, until)


def test_skip_locked_skips_the_rows_another_transaction_holds(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    ids = _outbox(sessions, workspace_id, 3)
    query = select(OutboxMessage.id).order_by(OutboxMessage.id)
    with transaction(sessions) as first:
        held = first.scalars(skip_locked(first, query.limit(1), of=OutboxMessage)).all()
        assert held == ids[:1]
        if not is_postgresql(first):
            # One process holds SQLite: the query is left as it was (no row locks).
            assert "FOR UPDATE" not in str(skip_locked(first, query).compile(first.get_bind()))
            return
        with transaction(sessions) as second:
            assert second.scalars(skip_locked(second, query)).all() == ids[1:]
    with transaction(sessions) as third:
        assert third.scalars(skip_locked(third, query)).all() == ids


def test_advisory_lock_is_held_until_the_transaction_ends(
        sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as first:
        advisory_lock(first, 7, 42, exclusive=True)
        if not is_postgresql(first):
            return  # nothing to take on SQLite: one process holds the database
        with transaction(sessions) as second:
            assert second.scalar(select(func.pg_try_advisory_xact_lock_shared(7, 42))) is False
            assert second.scalar(select(func.pg_try_advisory_xact_lock_shared(7, 43))) is True
    with transaction(sessions) as third:
        advisory_lock(third, 7, 42, exclusive=False)
        with transaction(sessions) as fourth:
            # Shared locks do not exclude each other; they exclude an exclusive one.
            assert fourth.scalar(select(func.pg_try_advisory_xact_lock_shared(7, 42))) is True
            assert fourth.scalar(select(func.pg_try_advisory_xact_lock(7, 42))) is False


def test_hour_start_buckets_a_stored_time_by_its_utc_hour(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        insert_mentions(session, [
            _mention_row(workspace_id, "a", published_at=NOW),
            _mention_row(workspace_id, "b", published_at=NOW + timedelta(minutes=29)),
            _mention_row(workspace_id, "c", published_at=NOW + timedelta(minutes=30))])
    with sessions() as session:
        hour = hour_start(session, Mention.published_at)
        rows = session.execute(select(hour, func.count()).group_by(hour).order_by(hour)).all()
    starts = [start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
              for start, _ in rows]
    assert [s.replace(tzinfo=None) for s in starts] == [datetime(2026, 3, 4, 10),
                                                        datetime(2026, 3, 4, 11)]
    assert [n for _, n in rows] == [2, 1]


def test_lowest_id_since_bounds_a_small_window_only(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    # Stored out of published order (a backfill): the bound is the window's smallest id.
    with transaction(sessions) as session:
        stored = insert_mentions(session, [
            _mention_row(workspace_id, "new", published_at=NOW),
            _mention_row(workspace_id, "old", published_at=NOW - timedelta(days=3)),
            _mention_row(workspace_id, "mid", published_at=NOW - timedelta(hours=2))])
    ids = {str(external_id): int(mention_id) for mention_id, _, external_id, _ in stored}
    with sessions() as session:
        conn = session.connection()
        day = NOW - timedelta(days=1)
        assert lowest_id_since(conn, workspace_id, day, 10) == min(ids["new"], ids["mid"])
        assert lowest_id_since(conn, workspace_id, day, 2) is None  # not fewer than probe
        assert lowest_id_since(conn, workspace_id, NOW + timedelta(hours=1), 10) == 0
        assert lowest_id_since(conn, workspace_id + 1, day, 10) == 0  # another workspace


def test_listing_statement_lists_newest_first_with_its_filters(
        sessions: sessionmaker[Session], workspace_id: int, db_url: str) -> None:
    _store_mentions(sessions, workspace_id, "a", "b", "c")
    with sessions() as session:
        conn = session.connection()
        assert hits_come_newest_first(conn) is db_url.startswith("sqlite")
        statement = listing_statement(conn, ("before", "network"))
        assert listing_statement(conn, ("before", "network")) is statement  # built once
        rows = conn.execute(statement, {"ws": workspace_id, "limit": 2, "network": "rss",
                                        "before": MAX_ID}).all()
        assert [r.external_id for r in rows] == ["c", "b"]
        assert conn.execute(statement, {"ws": workspace_id, "limit": 2, "network": "x",
                                        "before": MAX_ID}).all() == []
