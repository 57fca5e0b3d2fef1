"""`/cm mentions` listings read an index for every filter, on SQLite and PostgreSQL.

The statement ``search_mentions`` really runs is captured and EXPLAINed over 20,000
mentions (statistics gathered on PostgreSQL, whose planner weighs them): each filter and
combination must read the index made for it, never the whole table, and never sort a
whole filter's rows to find the newest page. Times are in bench/bench_search.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from bot.services.mention_search import MentionFilter, search_mentions
from storage import search_index
from storage.db import transaction
from storage.models import Author, Watch
from tests.harness.constants import CHANNEL_ID
from tests.harness.generated_rows import insert_generated
from tests.harness.query_plans import captured_statements, explain, gather_statistics

ROWS = 20_000
# The listing statement: newest mentions first, or (a watch's listing) its newest links.
LISTING = re.compile(r"ORDER BY (mentions\.id|mention_watches\.mention_id) DESC")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# One mention a minute up to NOW: ids grow with time, as in real use.
COLUMNS = ("workspace_id, watch_id, network, external_id, url, text, published_at, status, "
           "sentiment_label, assignee_user_id, priority, engagement, intent_flags, alerted, "
           "version, created_at, updated_at")
VALUES = (
    ":ws, CASE WHEN i % 3 = 0 THEN :w1 ELSE :w2 END, "
    "CASE i % 4 WHEN 0 THEN 'reddit' WHEN 1 THEN 'x' WHEN 2 THEN 'rss' ELSE 'mastodon' END, "
    "'e' || i, 'https://example.org/' || i, "
    "'mention ' || i || CASE WHEN i % 2000 = 0 THEN ' zeppelin sighted' "
    "ELSE ' love the product' END, {ts}, "
    "CASE WHEN i % 50 = 0 THEN 'approved' WHEN i % 5 = 0 THEN 'replied' ELSE 'new' END, "
    "CASE i % 3 WHEN 0 THEN 'negative' WHEN 1 THEN 'neutral' ELSE 'positive' END, "
    "CASE WHEN i % 7 = 0 THEN 'U07AGENT' || (i % 5) END, i % 100, 0, '[]', {false}, 1, "
    "{ts}, {ts}"
)


def _load(sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        watches = [Watch(workspace_id=workspace_id, name=name, channel_id=CHANNEL_ID)
                   for name in ("w1", "w2")]
        session.add_all(watches)
        session.flush()
        params = {"ws": workspace_id, "w1": watches[0].id, "w2": watches[1].id, "n": ROWS}
        insert_generated(session, "mentions", COLUMNS, VALUES, NOW, params)
        search_index.index_pending(session)
    if sessions.kw["bind"].dialect.name == "postgresql":
        with sessions.kw["bind"].connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


@pytest.fixture
def listing(sessions: sessionmaker[Session], workspace_id: int) -> Iterator[Any]:
    """Run a listing and return the plan of its main statement."""
    _load(sessions, workspace_id)
    engine: Engine = sessions.kw["bind"]
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
               _many: bool) -> None:
        seen.append((statement, parameters))

    def plan(filters: MentionFilter) -> tuple[str, int]:
        seen.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            rows = search_mentions(sessions, workspace_id, filters, limit=11, now=NOW)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        statement, parameters = next(
            (s, p) for s, p in reversed(seen) if LISTING.search(s))
        return explain(engine, statement, parameters), len(rows)

    yield plan


SQLITE_FULL_SCAN = ("SCAN mentions\n", "SCAN mentions USING")
CASES: list[tuple[dict[str, Any], str | None, int, bool]] = [
    # (filters, index the listing must read, rows on the page, selective: a small share
    # of the table, where PostgreSQL too must take the index)
    ({"assignee": "U07NOBODY"}, "ix_mentions_workspace_id_assignee_user_id_id", 0, True),
    ({"assignee": "U07AGENT3"}, "ix_mentions_workspace_id_assignee_user_id_id", 11, True),
    ({"status": "approved"}, "ix_mentions_workspace_id_status_id_published_at", 11, True),
    ({"sentiment": "negative"}, "ix_mentions_workspace_id_sentiment_label_id", 11, False),
    ({"network": "reddit"}, "ix_mentions_workspace_id_network_id", 11, False),
    ({"watch": "w1"}, "ix_mention_watches_watch_id_mention_id", 11, False),
    ({"assignee": "U07AGENT3", "status": "new"},
     "ix_mentions_workspace_id_assignee_user_id_id", 11, True),
    # A 30-minute window is itself selective: the engine may read it through a
    # published_at index and check the status, or the status index bounded by the window.
    ({"status": "approved", "since": timedelta(minutes=30)}, None, 1, True),
    ({"watch": "w1", "since": timedelta(hours=2), "sentiment": "negative"}, None, 11, False),
    # A window wider than the bound's probe (1,440 mentions): a watch's newest links are
    # walked, not the window read and sorted (PostgreSQL, planning an unknown bound).
    ({"watch": "w1", "since": timedelta(hours=24)}, "ix_mention_watches_watch_id_mention_id",
     11, False),
    # The same wide window with a status: tested on the status index's entries (0035).
    ({"status": "approved", "since": timedelta(hours=24)},
     "ix_mentions_workspace_id_status_id_published_at", 11, True),
]


def test_each_filter_reads_its_index(listing: Any) -> None:
    for filters, index, expected, selective in CASES:
        plan, found = listing(MentionFilter(**filters))
        assert found == expected, filters
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # SQLite: no sort of a filter
        if index is not None and plan[:1] == "[":  # PostgreSQL either (outside the
            # window's count; a small window may be read and sorted)
            assert not [n for n in _nodes(plan) if n["Node Type"] == "Sort"], (filters, plan)
        assert not any(scan in plan + "\n" for scan in SQLITE_FULL_SCAN), plan
        assert '"Relation Name": "mentions"' not in _seq_scans(plan), plan
        if index is not None and (plan.startswith("[") and not selective):
            # PostgreSQL weighs its statistics: for a third of the table, reading the
            # newest mentions backwards finds a page at once, and is what it does.
            assert index in plan or '"Index Name": "pk_mentions"' in plan, (filters, plan)
            assert '"Scan Direction": "Backward"' in plan, (filters, plan)
        elif index is not None:
            assert index in plan, (filters, plan)
        if "since" in filters:  # bounded by the window's lowest id, not read to the start
            assert "id>" in plan.replace(" ", ""), (filters, plan)
        if "since" in filters and (index or "").endswith("published_at") and plan[:1] == "[":
            # PostgreSQL tests the window on the index entries, not on each row.
            tested = [node.get("Index Cond", "") for node in _nodes(plan)
                      if node.get("Index Name") == index]
            assert tested and all("published_at" in c for c in tested), plan


def _nodes(plan: str) -> list[dict[str, Any]]:
    """The nodes of a PostgreSQL plan (JSON) outside its InitPlans (the ``since`` window's
    count and lowest id)."""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        found.append(node)
        for child in node.get("Plans", []):
            if child.get("Parent Relationship") != "InitPlan":
                walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return found


def _seq_scans(plan: str) -> str:
    """The PostgreSQL plan nodes that read a whole table (JSON), as text."""
    if not plan.startswith("["):
        return ""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan":
            found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(json.loads(plan)[0]["Plan"])
    return json.dumps(found)


TEXT_CASES = [("zeppelin", 10), ('"zeppelin sighted"', 10), ("zepp*", 10), ("love", 11),
              ("love -product", 0)]


def test_text_search_reads_the_full_text_index(listing: Any) -> None:
    for words, expected in TEXT_CASES:
        plan, found = listing(MentionFilter(text=words))
        assert found == expected, words
        assert not any(scan in plan + "\n" for scan in SQLITE_FULL_SCAN), plan
        if plan.startswith("["):
            assert '"Relation Name": "mentions"' not in _seq_scans(plan), plan
            # Few hits arrive as an id list read through the primary key; many as a
            # subquery on the index table.
            assert "pk_mentions" in plan or "mention_search" in plan, plan
        else:
            # Every text search walks the index's hits newest first (a page of ids at a
            # time) and reads those mentions by primary key.
            assert "USING INTEGER PRIMARY KEY (rowid=?)" in plan.splitlines()[0], plan
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


TOPIC_CASES: list[tuple[dict[str, Any], str]] = [
    # (filters, index SQLite must walk): the sparsest of the filters' indexes among the
    # newest mentions.
    ({"topic": "delivery", "status": "approved"},
     "ix_mentions_workspace_id_status_id_published_at"),
    ({"topic": "delivery", "network": "bluesky"}, "ix_mentions_workspace_id_network_id"),
    ({"topic": "billing", "status": "new"}, "ix_mentions_topic_billing"),
    ({"topic": "delivery", "status": "new", "sentiment": "negative"},
     "ix_mentions_workspace_id_sentiment_label_id"),  # a third, against a half and more
    ({"topic": "delivery", "status": "new"}, "ix_mentions_topic_delivery"),  # half of them
    ({"topic": "churn", "status": "approved"}, "ix_mentions_topic_churn"),
]


def test_a_topic_with_other_filters_walks_the_smallest_index(
    listing: Any, sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """A common topic with a status few of its mentions have (or a network none has)
    walks the status's (network's) index, not every mention of the topic; a rare topic
    its own. Same rows as the filters read by plain SQL."""
    with transaction(sessions) as session:  # delivery: half the mentions; billing: 20
        session.execute(text(
            "UPDATE mentions SET topic_mask = CASE WHEN id % 2 = 0 THEN 2 ELSE 0 END "
            "+ CASE WHEN id % 1000 = 0 THEN 1 ELSE 0 END WHERE workspace_id = :ws"),
            {"ws": workspace_id})
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE mentions"))
            conn.commit()
    bits = {"delivery": 2, "billing": 1, "churn": 32}
    for filters, index in TOPIC_CASES:
        plan, _found = listing(MentionFilter(**filters))
        for before in (None, 15_000):
            got = [r.id for r in search_mentions(sessions, workspace_id, MentionFilter(
                **filters, before_id=before), limit=11, now=NOW)]
            conditions = " AND ".join(
                f"topic_mask & {bits[v]} <> 0" if n == "topic" else
                f"{'sentiment_label' if n == 'sentiment' else n} = '{v}'"
                for n, v in filters.items())
            with sessions() as session:
                want = list(session.execute(text(
                    f"SELECT id FROM mentions WHERE workspace_id = :ws AND {conditions} "  # noqa: S608
                    "AND id < :before ORDER BY id DESC LIMIT 11"),
                    {"ws": workspace_id, "before": before or 2**31 - 1}).scalars())
            assert got == want, (filters, before)
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert not any(scan in plan + "\n" for scan in SQLITE_FULL_SCAN), plan
        assert '"Relation Name": "mentions"' not in _seq_scans(plan), plan
        if not plan.startswith("["):
            assert index in plan, (filters, plan)


def test_a_topic_listing_without_its_index_still_answers(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """SQLite's smallest-index count names each index (INDEXED BY), which refuses a missing
    one: a database behind migration 0032, or an index an operator dropped, keeps the
    listing's usual plan and rows instead of failing."""
    engine: Engine = sessions.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("INDEXED BY is SQLite's")
    _load(sessions, workspace_id)
    with transaction(sessions) as session:
        session.execute(text(
            "UPDATE mentions SET topic_mask = CASE WHEN id % 2 = 0 THEN 2 ELSE 0 END "
            "WHERE workspace_id = :ws"), {"ws": workspace_id})
    filters = MentionFilter(topic="delivery", status="approved")
    before = [r.id for r in search_mentions(sessions, workspace_id, filters, limit=11, now=NOW)]
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_mentions_topic_delivery"))
    after = [r.id for r in search_mentions(sessions, workspace_id, filters, limit=11, now=NOW)]
    assert after == before and after


def _statements_of(sessions: sessionmaker[Session], workspace_id: int,
                   filters: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """The SQL statements a listing with ``filters`` sends, and its rows."""
    engine: Engine = sessions.kw["bind"]
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        rows = search_mentions(sessions, workspace_id, MentionFilter(**filters), limit=11,
                               now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen, rows


def test_topic_listings_bind_nothing_in_the_topic_index_condition(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """The topic condition ``topic_mask & bit <> 0`` is written whole into the SQL: SQLite
    prepares a statement again at every run when a bound value decided whether a partial
    index's WHERE holds (``!= ?`` with 0 bound made ``topic:billing since:7d`` twice as
    slow at 1M mentions), and PostgreSQL's generic plans cannot prove it either."""
    _load(sessions, workspace_id)
    for filters in ({"topic": "billing"}, {"topic": "delivery", "status": "approved"},
                    {"topic": "billing", "since": timedelta(days=7)},
                    {"topic": "outage", "text": "zeppelin"},
                    {"topic": "churn", "watch": "w1", "before_id": 10}):
        seen, _rows = _statements_of(sessions, workspace_id, filters)
        listings = [s for s in seen if LISTING.search(s)]
        assert listings, filters
        for statement in listings:
            topic = re.findall(r"topic_mask\)? & (\S+?)\)? (!=|<>) (\S+)", statement)
            assert topic, (filters, statement)
            assert all(bit.isdigit() and zero.rstrip(")") == "0"
                       for bit, _op, zero in topic), (filters, topic)


def test_status_listings_write_the_status_into_the_sql(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """A status filter's value is written into every statement of the listing, the
    smallest-index count included: the partial indexes of open work name statuses, and
    SQLite prepared every ``status:`` listing again at each run when it was bound."""
    _load(sessions, workspace_id)
    for filters in ({"status": "approved"}, {"status": "new", "sentiment": "negative"},
                    {"status": "approved", "since": timedelta(hours=1)},
                    {"status": "replied", "topic": "billing"},
                    {"status": "new", "text": "zeppelin"},
                    {"status": "approved", "watch": "w1", "assignee": "U07AGENT3"}):
        seen, rows = _statements_of(sessions, workspace_id, filters)
        assert all(r.status == filters["status"] for r in rows), filters
        naming = [s for s in seen if re.search(r"\bstatus\)? = ", s)]
        assert naming, (filters, seen)
        for statement in naming:
            assert re.findall(r"\bstatus\)? = (\S+)", statement) == [
                f"'{filters['status']}'"], (filters, statement)


AUTHORS = 1999
AUTHOR_COLUMNS = COLUMNS + ", author_id"
# A brand account writes a quarter of the mentions; each of the other authors about ten.
AUTHOR_VALUES = VALUES + ", CASE WHEN i % 4 = 0 THEN :big ELSE :first + (i % :authors) END"


def _load_authors(sessions: sessionmaker[Session], workspace_id: int) -> None:
    with transaction(sessions) as session:
        watches = [Watch(workspace_id=workspace_id, name=name, channel_id=CHANNEL_ID)
                       for name in ("w1", "w2")]
        session.add_all(watches)
        authors = [Author(workspace_id=workspace_id, network="x", handle="BigBrand"),
                   *(Author(workspace_id=workspace_id, network="mastodon",
                            handle=f"user{n}@mastodon.social") for n in range(AUTHORS))]
        session.add_all(authors)
        session.flush()
        params = {"ws": workspace_id, "w1": watches[0].id, "w2": watches[1].id, "n": ROWS,
                  "big": authors[0].id, "first": authors[1].id, "authors": AUTHORS}
        insert_generated(session, "mentions", AUTHOR_COLUMNS, AUTHOR_VALUES, NOW, params)
        search_index.index_pending(session)
    if sessions.kw["bind"].dialect.name == "postgresql":
        with sessions.kw["bind"].connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()


@pytest.mark.parametrize(("words", "expected"), [
    ("from:user7", 9), ("from:@User7@mastodon.social", 9), ("from:bigbrand", 11),
    ("from:bigbrand source:reddit", 11), ("from:bigbrand source:x", 0),
    ("from:user7 OR from:user8", 11), ("from:nobody", 0)])
def test_an_author_search_reads_the_authors_and_mentions_author_indexes(
    sessions: sessionmaker[Session], workspace_id: int, words: str, expected: int,
) -> None:
    """``from:`` (one author's posts: a data-access request, an influencer check) finds
    the authors by their handle key, then their mentions newest first: no scan of the
    authors or the mentions, and no sort of a prolific author's thousands of mentions."""
    _load_authors(sessions, workspace_id)
    engine: Engine = sessions.kw["bind"]
    with captured_statements(engine) as seen:
        rows = search_mentions(sessions, workspace_id, MentionFilter(text=words), limit=11,
                               now=NOW)
    assert len(rows) == expected
    authors = [explain(engine, s, p) for s, p in seen if "FROM authors" in s]
    assert len(authors) == 1
    assert "ix_authors_workspace_id_handle_key" in authors[0], authors[0]
    assert "SCAN authors\n" not in authors[0] + "\n", authors[0]
    assert '"Relation Name": "authors"' not in _seq_scans(authors[0]), authors[0]
    listings = [explain(engine, s, p) for s, p in seen if LISTING.search(s)]
    if "nobody" in words:
        assert not listings  # no author has that handle: nothing more is read
        return
    plan = listings[-1]
    assert not any(scan in plan + "\n" for scan in SQLITE_FULL_SCAN), plan
    assert '"Relation Name": "mentions"' not in _seq_scans(plan), plan
    if "bigbrand" in words:  # a quarter of the table: reading the newest mentions
        # backwards finds a page at once (and is what PostgreSQL's statistics choose)
        assert "ix_mentions_author_id" in plan or "Backward" in plan or (
            "ix_mentions_workspace_id" in plan), plan
    elif plan.startswith("["):
        assert "ix_mentions_author_id" in plan, plan
    else:
        assert "ix_mentions_author_id_id" in plan, plan
    if " OR " not in words:  # one author: read newest first, never sorted
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    # PostgreSQL may sort a few authors' handful of mentions, never a large share.
    assert all(n["Plan Rows"] <= 50 for n in _nodes(plan) if n["Node Type"] == "Sort"
               ) if plan.startswith("[") else True, plan


def test_a_language_search_reads_the_language_index(
    listing: Any, sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """``lang:de`` alone (a rare language: one mention in 1,000) walks the language's
    mentions newest first through (workspace_id, language, id), not every mention of the
    workspace checking each one's language (with a status too: the planners have no figure
    saying that the status is common, yet they find the language index no larger). Same
    rows as plain SQL."""
    with transaction(sessions) as session:
        session.execute(text(
            "UPDATE mentions SET language = CASE WHEN id % 1000 = 0 THEN 'de' "
            "WHEN id % 3 = 0 THEN 'fr' ELSE 'en' END WHERE workspace_id = :ws"),
            {"ws": workspace_id})
    gather_statistics(sessions.kw["bind"])
    for filters, language in (({"text": "lang:de"}, "de"),
                              ({"text": "lang:de", "status": "new"}, "de"),
                              ({"text": "lang:DE source:reddit"}, "de")):
        plan, found = listing(MentionFilter(**filters))
        conditions = " AND status = 'new'" if "status" in filters else ""
        if "source" in filters["text"]:
            conditions += " AND network = 'reddit'"
        with sessions() as session:
            want = list(session.execute(text(
                "SELECT id FROM mentions WHERE workspace_id = :ws AND language = :lang"  # noqa: S608
                f"{conditions} ORDER BY id DESC LIMIT 11"),
                {"ws": workspace_id, "lang": language}).scalars())
        got = [r.id for r in search_mentions(sessions, workspace_id, MentionFilter(**filters),
                                             limit=11, now=NOW)]
        assert got == want and found == len(want), filters
        if "source" in filters["text"]:  # as rare a network: the planner's choice
            assert "language_id" in plan or "network_id" in plan, (filters, plan)
        else:
            assert "ix_mentions_workspace_id_language_id" in plan, (filters, plan)
        assert not any(scan in plan + "\n" for scan in SQLITE_FULL_SCAN), plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert '"Relation Name": "mentions"' not in _seq_scans(plan), plan
        if plan.startswith("["):
            assert not [n for n in _nodes(plan) if n["Node Type"] == "Sort"], plan


def _values_searched_together(listing: Any, sessions: sessionmaker[Session],
                              workspace_id: int, column: str,
                              cases: tuple[tuple[dict[str, Any], tuple[str, str], bool], ...]
                              ) -> None:
    """Each of ``cases`` (filters, the two values of ``column`` its OR names, rare) finds
    the rows plain SQL with an IN list finds, walking (workspace_id, ``column``, id) for
    each value (a common one may be walked on the primary key by PostgreSQL, whose
    statistics say a page is found at once) and sorting at most a page per value."""
    gather_statistics(sessions.kw["bind"])
    for filters, values, rare in cases:
        plan, found = listing(MentionFilter(**filters))
        conditions = f" AND status = '{filters['status']}'" if "status" in filters else ""
        with sessions() as session:
            want = list(session.execute(text(
                "SELECT id FROM mentions WHERE workspace_id = :ws "  # noqa: S608
                f"AND {column} IN ('{values[0]}', '{values[1]}'){conditions} "
                "ORDER BY id DESC LIMIT 11"), {"ws": workspace_id}).scalars())
        got = [r.id for r in search_mentions(sessions, workspace_id, MentionFilter(**filters),
                                             limit=11, now=NOW)]
        assert got == want and found == len(want), filters
        assert not any(scan in plan + "\n" for scan in SQLITE_FULL_SCAN), plan
        assert '"Relation Name": "mentions"' not in _seq_scans(plan), plan
        if rare or not plan.startswith("["):
            assert plan.count(f"ix_mentions_workspace_id_{column}_id") >= len(values), (
                filters, plan)
        if plan.startswith("["):  # a Merge Append of the values' walks, or a few rows
            assert all(n["Plan Rows"] <= 50 for n in _nodes(plan) if n["Node Type"] == "Sort"
                       ), plan


def test_languages_searched_together_read_the_language_index(
    listing: Any, sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """``lang:de OR lang:it`` walks each language's mentions newest first through
    (workspace_id, language, id) and merges them (sorting at most a page per language),
    as ``lang:de`` alone does; it read every mention of the workspace newest first checking
    each one's language (all 300,000 of a bench table for two languages no mention has:
    15 s, against 1 ms). Same rows as plain SQL with an IN list."""
    with transaction(sessions) as session:
        session.execute(text(
            "UPDATE mentions SET language = CASE WHEN id % 1000 = 0 THEN 'de' "
            "WHEN id % 700 = 0 THEN 'it' WHEN id % 3 = 0 THEN 'fr' ELSE 'en' END "
            "WHERE workspace_id = :ws"), {"ws": workspace_id})
    _values_searched_together(listing, sessions, workspace_id, "language", (
        ({"text": "lang:de OR lang:it"}, ("de", "it"), True),
        ({"text": "lang:DE OR lang:it OR lang:german", "status": "new"}, ("de", "it"), True),
        ({"text": "lang:es OR lang:pt"}, ("es", "pt"), True),
        ({"text": "lang:en OR lang:fr"}, ("en", "fr"), False),
        ({"text": "lang:de OR lang:fr", "status": "approved"}, ("de", "fr"), False)))


def test_networks_searched_together_read_the_network_index(
    listing: Any, sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    """``source:bluesky OR source:hackernews`` walks each network's mentions newest first
    through (workspace_id, network, id) and merges them, as ``source:bluesky`` alone does
    and as languages searched together do; it read every mention of the workspace newest
    first checking each one's network (all of them for networks no mention is on). Same
    rows as plain SQL with an IN list."""
    with transaction(sessions) as session:
        session.execute(text(
            "UPDATE mentions SET network = CASE WHEN id % 1000 = 0 THEN 'bluesky' "
            "WHEN id % 700 = 0 THEN 'hackernews' ELSE network END "
            "WHERE workspace_id = :ws"), {"ws": workspace_id})
    _values_searched_together(listing, sessions, workspace_id, "network", (
        ({"text": "source:bluesky OR source:hackernews"}, ("bluesky", "hackernews"), True),
        ({"text": "source:bsky OR source:hn", "status": "new"}, ("bluesky", "hackernews"),
         True),
        ({"text": "source:webhook OR source:bluesky"}, ("webhook", "bluesky"), True),
        ({"text": "source:reddit OR source:twitter"}, ("reddit", "x"), False)))
