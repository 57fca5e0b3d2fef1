"""A `/cm export` of a search of fields only (``from:alice``, ``lang:de``: no words) reads
the same indexes as `/cm mentions` with that search, on SQLite and PostgreSQL: its
statements are captured and EXPLAINed over 20,000 mentions (statistics gathered), and its
rows (and the count of the rest past a full file) are those the search finds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import MatchInput, parse_query
from bot.services.export import count_search, iter_mentions
from storage.db import transaction
from tests.harness.query_plans import captured_statements, explain, gather_statistics
from tests.services.test_mention_search_plans import (
    NOW,
    SQLITE_FULL_SCAN,
    _load_authors,
    _seq_scans,
)

SINCE = NOW - timedelta(days=30)  # the whole table: one mention a minute, 20,000 of them
UNTIL = NOW + timedelta(minutes=1)


def _load(sessions: sessionmaker[Session], workspace_id: int) -> None:
    _load_authors(sessions, workspace_id)
    with transaction(sessions) as session:
        session.execute(text(
            "UPDATE mentions SET language = CASE WHEN id % 1000 = 0 THEN 'de' "
            "WHEN id % 3 = 0 THEN 'fr' ELSE 'en' END WHERE workspace_id = :ws"),
            {"ws": workspace_id})
    gather_statistics(sessions.kw["bind"])


def _wanted(sessions: sessionmaker[Session], workspace_id: int, words: str) -> list[int]:
    """The ids the search finds, newest first, matched on every mention."""
    query = parse_query(words)
    with sessions() as session:
        rows = session.execute(text(
            "SELECT m.id, m.text, m.title, a.handle, m.language, m.network FROM mentions m "
            "LEFT JOIN authors a ON a.id = m.author_id WHERE m.workspace_id = :ws "
            "ORDER BY m.id DESC"), {"ws": workspace_id}).all()
    return [row[0] for row in rows if query.matches(MatchInput(
        text=row[1], title=row[2], author_handle=row[3], language=row[4], network=row[5]))]


@pytest.mark.parametrize(("words", "index"), [
    ("from:user7", "ix_mentions_author_id"),
    ("from:user7 OR from:user8", "ix_mentions_author_id"),
    ("lang:de", "ix_mentions_workspace_id_language_id"),
])
def test_a_fields_export_reads_the_search_indexes(
    sessions: sessionmaker[Session], workspace_id: int, words: str, index: str,
) -> None:
    _load(sessions, workspace_id)
    engine: Engine = sessions.kw["bind"]
    want = _wanted(sessions, workspace_id, words)
    assert 5 <= len(want) < 100
    with sessions() as session, captured_statements(engine) as seen:
        got = [r["id"] for r in iter_mentions(session, workspace_id, since=SINCE, until=UNTIL,
                                               text=words)]
        rest = count_search(session, workspace_id, since=SINCE, until=UNTIL, watch_id=None,
                            text=words, below=want[2])
    assert got == want
    assert rest == len(want) - 3
    # The export's rows, then the count's candidates: each read through the index.
    # (SQLite first bounds the period's ids from its index: read apart.)
    reads = [(s, explain(engine, s, p)) for s, p in seen
             if "FROM mentions" in s and "mentions.text" in s]
    assert len(reads) == 2, [s for s, _ in seen]
    for statement, plan in reads:
        assert index in plan, (statement, plan)
        assert not any(scan in plan + "\n" for scan in SQLITE_FULL_SCAN), plan
        assert '"Relation Name": "mentions"' not in _seq_scans(plan), plan


def test_an_export_of_an_unknown_author_reads_no_mention(
    sessions: sessionmaker[Session], workspace_id: int,
) -> None:
    _load(sessions, workspace_id)
    engine: Engine = sessions.kw["bind"]
    with sessions() as session, captured_statements(engine) as seen:
        got = list(iter_mentions(session, workspace_id, since=SINCE, until=UNTIL,
                                 text="from:nobody"))
        rest = count_search(session, workspace_id, since=SINCE, until=UNTIL, watch_id=None,
                            text="from:nobody", below=10_000)
    assert got == [] and rest == 0
    assert not [s for s, _ in seen if "FROM mentions" in s]

