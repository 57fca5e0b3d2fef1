"""`/cm mentions` listings at scale: every filter kind, before and after migration 0023.

Usage: python bench/bench_search.py [--rows 1000000] [--repeat 15]
       [--sqlite-only | --postgres-only] [--postgres-url URL]
       [--sqlite-file FILE] [--postgres-db NAME] [--no-before]

Builds --rows mentions over a year in one workspace (the digest bench's generator: its
watches, statuses, sentiments, networks and assignees), each with a real tweet's text from
the shared data (VIGIE_SHARED_DATA, sentiment/umsab_*_text.txt) plus a number; 12 mentions
say "zeppelin" and 40 "product recall notice". The database is first at the revision before
0023 (no full-text index, the old listing indexes): each query kind is timed as the SQL the
old service ran (text: LIKE '%word%'). Then it upgrades to head (timed: the backfill of the
index) and times each kind through ``search_mentions`` and through the equivalent
hand-written SQL, interleaved. Prints one JSON object per engine: p50/p95 in ms per kind,
the service/hand-written ratio, and the old p50. SQLite is a temporary file; PostgreSQL a
fresh database ``vigie_bench_<random>``, dropped at the end.

Building a million mentions takes minutes: ``--sqlite-file FILE`` and ``--postgres-db NAME``
keep the database, and a later run given the same file or name reuses it (upgraded to
head, no load and no "before" figures) when it already holds the mentions. ``--no-before``
builds without timing the old statements (their full scans take minutes at 1M mentions).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from alembic.script import ScriptDirectory  # noqa: E402
from bench_digest import (  # noqa: E402
    AUTHORS,
    CHANNEL,
    END,
    NETWORKS,
    ZONE,
    _load_postgres,
    _load_sqlite,
    generate,
)
from sqlalchemy import Engine, MetaData, Table, create_engine, insert, inspect, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.matching.query import parse_query  # noqa: E402
from bot.matching.search_terms import fts5_query, tsquery  # noqa: E402
from bot.services.mention_search import MentionFilter, search_mentions  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402
from storage.models import TOPIC_BITS, Author, Watch, Workspace  # noqa: E402

POSTGRES_URL = os.environ.get("VIGIE_BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SHARED = Path(os.environ.get("VIGIE_SHARED_DATA", REPO.parent / "shared" / "data"))
PAGE = 11  # /cm mentions asks for a page of 10 and one more to know if there is a next
TEXT_COLUMN = 6  # in bench_digest.COLUMNS
SELECT = ("SELECT m.id, m.network, m.external_id, m.text, m.title, m.url, m.published_at, "
          "m.status, m.language, m.sentiment, m.sentiment_label, m.intent, m.priority, "
          "m.priority_reason, m.assignee_user_id, a.handle, a.followers, w.name "
          "FROM {rows} LEFT JOIN authors a ON a.id = m.author_id "
          "LEFT JOIN watches w ON w.id = {named} WHERE m.workspace_id = :ws")
# A watch lists every mention linked to it (mention_watches, 0016), named after it.
IN_WATCH = " AND m.id IN (SELECT mention_id FROM mention_watches WHERE watch_id = :watch)"
LINKED = "mention_watches l JOIN mentions m ON m.id = l.mention_id"


@dataclass
class Kind:
    """One query kind: the service's filters, and what the hand-written SQL adds."""

    name: str
    filters: dict[str, Any] = field(default_factory=dict)
    page2: bool = False


KINDS = [
    Kind("newest"),
    Kind("status", {"status": "awaiting_approval"}),
    Kind("status_new", {"status": "new"}),
    Kind("sentiment", {"sentiment": "negative"}),
    Kind("network", {"network": "reddit"}),
    Kind("watch", {"watch": "w1"}),
    Kind("assignee", {"assignee": "U07AGENT03"}),
    Kind("assignee_no_rows", {"assignee": "U07NOBODY"}),
    Kind("since_24h", {"since": timedelta(hours=24)}),
    Kind("since_1h_status", {"since": timedelta(hours=1), "status": "approved"}),
    Kind("status_sentiment", {"status": "new", "sentiment": "negative"}),
    Kind("assignee_status", {"assignee": "U07AGENT03", "status": "replied"}),
    Kind("network_since_7d", {"network": "reddit", "since": timedelta(days=7)}),
    Kind("watch_since_24h", {"watch": "w1", "since": timedelta(hours=24)}),
    Kind("topic_rare", {"topic": "billing"}),
    Kind("topic_common", {"topic": "delivery"}),
    Kind("topic_none", {"topic": "churn"}),
    Kind("topic_rare_status_new", {"topic": "billing", "status": "new"}),
    Kind("topic_common_status_few", {"topic": "delivery", "status": "approved"}),
    # A filter keeping none of a common topic's mentions (SQLite read the whole topic).
    Kind("topic_common_network_none", {"topic": "delivery", "network": "youtube"}),
    Kind("topic_rare_since_7d", {"topic": "billing", "since": timedelta(days=7)}),
    Kind("text_rare_word", {"text": "zeppelin"}),
    Kind("text_phrase", {"text": '"product recall notice"'}),
    Kind("text_prefix_rare", {"text": "zeppel*"}),
    Kind("text_common_word", {"text": "love"}),
    Kind("text_very_common_word", {"text": "the"}),
    Kind("text_common_page2", {"text": "love"}, page2=True),
    Kind("text_accents", {"text": "Ecologie"}),
    Kind("text_rare_status", {"text": "zeppelin", "status": "new"}),
    Kind("text_common_sentiment", {"text": "love", "sentiment": "negative"}),
    Kind("text_common_assignee_no_rows", {"text": "love", "assignee": "U07NOBODY"}),
    # A common word with a filter keeping few of its mentions (PostgreSQL: 7-8 statements
    # and 100-200 ms at 300k mentions before one statement was planned for it).
    Kind("text_common_status_few", {"text": "love", "status": "approved"}),
    Kind("text_common_assignee", {"text": "love", "assignee": "U07AGENT03"}),
    Kind("text_exclusion_status_few", {"text": "love -hate",
                                       "status": "awaiting_approval"}),
    Kind("text_common_topic_rare", {"text": "love", "topic": "billing"}),
    Kind("text_common_topic_common", {"text": "love", "topic": "delivery"}),
    Kind("text_rare_topic", {"text": "zeppelin", "topic": "billing"}),
    Kind("text_common_since_7d_status", {"text": "love", "since": timedelta(days=7),
                                         "status": "approved"}),
]


def _texts() -> list[str]:
    texts: list[str] = []
    for path in sorted((SHARED / "sentiment").glob("umsab_*_text.txt")):
        texts += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip()]
    if not texts:
        sys.exit(f"no tweets under {SHARED / 'sentiment'}; set VIGIE_SHARED_DATA")
    return texts


TOPIC_RATE = {"billing": (1000, 7, 1), "delivery": (5, 1, 2)}
"""Topics given to the bench's mentions: name -> (every nth id, remainder, bit). Billing is
rare (1 in 1,000), delivery common (1 in 5); the other topics have no mention."""


def give_topics(engine: Engine) -> None:
    """Set the topics of TOPIC_RATE on the loaded mentions (the generator sets none)."""
    with engine.begin() as conn:
        if conn.execute(text("SELECT 1 FROM mentions WHERE topic_mask <> 0 LIMIT 1")).first():
            return
        for name, (every, remainder, bit) in TOPIC_RATE.items():
            conn.execute(text(
                "UPDATE mentions SET topic_mask = :bit, topics = :topics "
                "WHERE id % :every = :remainder"),
                {"bit": bit, "every": every, "remainder": remainder,
                 "topics": json.dumps([{"name": name, "terms": [name]}])})


def rows_for(count: int, workspace_id: int, watch_ids: list[int],
             thresholds: dict[int, int]) -> list[tuple[Any, ...]]:
    """The digest bench's rows over a year, with real tweet texts."""
    rows = generate(count, max(1, count // 365), workspace_id, watch_ids, thresholds)
    texts = _texts()
    rng = random.Random(20)
    rare = set(rng.sample(range(count), min(12, count)))
    phrase = set(rng.sample(range(count), min(40, count)))
    for index, row in enumerate(rows):
        body = f"{texts[index % len(texts)]} #{index}"
        if index in rare:
            body = f"Saw the Zeppelin ad again. {body}"
        if index in phrase:
            body = f"Product recall notice: {body}"
        rows[index] = (*row[:TEXT_COLUMN], body, *row[TEXT_COLUMN + 1:])
    rows.reverse()  # the generator goes back in time; ids grow with time as in real use
    return rows


def _old_sql(kind: Kind, watch_id: int) -> tuple[str, dict[str, Any]]:
    """The statement the service ran before 0023 (text: lower(...) LIKE)."""
    sql, params = _conditions(kind, watch_id, linked=False)
    word = kind.filters.get("text")
    if word:
        sql += (" AND (lower(m.text) LIKE :like ESCAPE '\\' "
                "OR lower(m.title) LIKE :like ESCAPE '\\')")
        params["like"] = f"%{word.strip(chr(34)).rstrip('*').lower()}%"
    return sql, params


def _conditions(kind: Kind, watch_id: int, *, linked: bool) -> tuple[str, dict[str, Any]]:
    """The listing's conditions; a watch through its links, as a semi-join or (``linked``)
    read from the link table."""
    f = kind.filters
    params: dict[str, Any] = {}
    if "watch" not in f:
        sql = SELECT.format(rows="mentions m", named="m.watch_id")
    elif linked:
        sql = SELECT.format(rows=LINKED, named="l.watch_id") + " AND l.watch_id = :watch"
    else:
        sql = SELECT.format(rows="mentions m", named=":watch") + IN_WATCH
    if "watch" in f:
        params["watch"] = watch_id
    if "since" in f:
        sql += " AND m.published_at >= :since"
        params["since"] = END - f["since"]
    for name, column in (("status", "status"), ("sentiment", "sentiment_label"),
                         ("network", "network"), ("assignee", "assignee_user_id")):
        if name in f:
            sql += f" AND m.{column} = :{name}"
            params[name] = f[name]
    if "topic" in f:
        sql += f" AND m.topic_mask & {TOPIC_BITS[f['topic']]} <> 0"
    return sql, params


def _new_sql(kind: Kind, watch_id: int, postgres: bool) -> tuple[str, dict[str, Any]]:
    """Hand-written SQL for the same listing, with the full-text index."""
    sql, params = _conditions(kind, watch_id, linked="text" not in kind.filters)
    if "text" in kind.filters:
        query = parse_query(kind.filters["text"])
        if postgres:
            sql += (" AND m.id IN (SELECT mention_id FROM mention_search "
                    "WHERE doc @@ CAST(:q AS tsquery))")
            params["q"] = tsquery(query)
        else:
            sql += (" AND m.id IN (SELECT rowid FROM mention_search_fts "
                    "WHERE mention_search_fts MATCH :q)")
            params["q"] = fts5_query(query)
    return sql, params


def _timed(action: Callable[[], Any]) -> float:
    began = time.perf_counter()
    action()
    return (time.perf_counter() - began) * 1000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _sql_runner(sessions: sessionmaker[Session], sql: str, params: dict[str, Any],
                workspace_id: int, before: int | None, limit: int = PAGE
                ) -> Callable[[], Any]:
    key = "l.mention_id" if sql.startswith(SELECT.split("{rows}")[0] + LINKED) else "m.id"
    full = sql + (f" AND {key} < :before" if before is not None else "") + \
        f" ORDER BY {key} DESC LIMIT :limit"
    values = {**params, "ws": workspace_id, "limit": limit,
              **({"before": before} if before is not None else {})}

    def run() -> Any:
        with sessions() as session:
            return session.execute(text(full), values).all()

    return run


def _before_id(sessions: sessionmaker[Session], workspace_id: int, kind: Kind) -> int | None:
    if not kind.page2:
        return None
    rows = search_mentions(sessions, workspace_id, MentionFilter(**kind.filters),
                           limit=PAGE - 1, now=END)
    return rows[-1].id if rows else None


def _as_built(engine: Engine, model: Any) -> Table:
    """``model``'s table cut down to the columns the database has at its revision.

    The bench loads at the revision before 0023: today's models have columns added since
    (``watches.kind``, ...) that an ORM insert would name. The copies keep the models'
    types and Python-side defaults, so the inserts fill what the old schema requires.
    """
    present = {column["name"] for column in inspect(engine).get_columns(model.__tablename__)}
    return Table(model.__tablename__, MetaData(),
                 *(column._copy() for column in model.__table__.columns
                   if column.name in present))


def _setup(engine: Engine) -> tuple[int, list[int], dict[int, int]]:
    """The digest bench's workspace, watches and authors, inserted at any revision."""
    workspaces, watches, authors = (_as_built(engine, model)
                                    for model in (Workspace, Watch, Author))
    with engine.begin() as conn:
        workspace_id = conn.execute(insert(workspaces).values(
            team_id="T07BENCH01", timezone=ZONE)).inserted_primary_key[0]
        created = END - timedelta(days=400)
        watch_ids = [conn.execute(insert(watches).values(
            workspace_id=workspace_id, name=name, channel_id=channel,
            alert_threshold=threshold, created_at=created)).inserted_primary_key[0]
            for name, channel, threshold in (("w0", CHANNEL, 40), ("w1", CHANNEL, 50),
                                             ("w2", CHANNEL, 60),
                                             ("elsewhere", "C07ELSEWHERE", 50))]
        conn.execute(insert(authors), [
            {"workspace_id": workspace_id, "network": NETWORKS[i % 6], "handle": f"@author{i}",
             "followers": int(random.Random(i).paretovariate(1) * 100)}
            for i in range(AUTHORS)])
    return workspace_id, watch_ids[:3], dict(zip(watch_ids[:3], (40, 50, 60), strict=True))


def _built(url: str) -> tuple[int, list[int], int] | None:
    """The workspace, watches and mention count of a database an earlier run built."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if "mentions" not in conn.dialect.get_table_names(conn):
                return None
            count = conn.execute(text("SELECT count(*) FROM mentions")).scalar_one()
            workspace = conn.execute(text("SELECT min(id) FROM workspaces")).scalar()
            watches = conn.execute(text(
                "SELECT id FROM watches WHERE workspace_id = :ws ORDER BY id LIMIT 3"),
                {"ws": workspace}).scalars().all()
    finally:
        engine.dispose()
    return (workspace, list(watches), count) if count and workspace else None


def run(url: str, label: str, count: int, repeat: int, *, time_old: bool = True
        ) -> dict[str, Any]:
    """Load, time the old statements, upgrade, time the service and hand-written SQL;
    or, on a database an earlier run kept, upgrade and time the service and SQL."""
    built = _built(url)
    if built is None:
        script = ScriptDirectory.from_config(migrations.alembic_config(url))
        before_revision = script.get_revision("0023").down_revision
        migrations.upgrade(url, str(before_revision))
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    postgres = engine.dialect.name == "postgresql"
    report: dict[str, Any] = {"engine": label, "rows": count, "kinds": {}}
    try:
        if built is not None:
            workspace_id, watch_ids, report["rows"] = built
            report["reused"] = True
            give_topics(engine)
            migrations.upgrade(url)
            return _time_kinds(sessions, report, workspace_id, watch_ids, postgres, {}, repeat)
        workspace_id, watch_ids, thresholds = _setup(engine)
        began = time.perf_counter()
        rows = rows_for(count, workspace_id, watch_ids, thresholds)
        (_load_postgres if postgres else _load_sqlite)(engine, rows)
        give_topics(engine)
        report["load_s"] = round(time.perf_counter() - began, 1)
        del rows
        old: dict[str, list[float]] = {k.name: [] for k in KINDS} if time_old else {}
        # The old full scans are slow: fewer rounds.
        for _ in range(max(3, repeat // 3) if time_old else 0):
            for kind in KINDS:
                sql, params = _old_sql(kind, watch_ids[1])
                before = None
                if kind.page2:  # the last row of page 1, as the "more" button carries it
                    first = _sql_runner(sessions, sql, params, workspace_id, None, PAGE - 1)()
                    before = first[-1][0] if first else None
                old[kind.name].append(_timed(_sql_runner(sessions, sql, params,
                                                         workspace_id, before)))
        began = time.perf_counter()
        migrations.upgrade(url)
        report["upgrade_s"] = round(time.perf_counter() - began, 1)
        if postgres:  # as at load time (autovacuum would, in time)
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE"))
        else:
            # Committed: storage.db begins every SQLite transaction itself, AUTOCOMMIT too,
            # and a connection closed unfinished rolled the statistics back.
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        return _time_kinds(sessions, report, workspace_id, watch_ids, postgres, old, repeat)
    finally:
        engine.dispose()


def _time_kinds(sessions: sessionmaker[Session], report: dict[str, Any], workspace_id: int,
                watch_ids: list[int], postgres: bool, old: dict[str, list[float]],
                repeat: int) -> dict[str, Any]:
    """Time every kind through the service and the hand-written SQL, interleaved."""
    service: dict[str, list[float]] = {k.name: [] for k in KINDS}
    hand: dict[str, list[float]] = {k.name: [] for k in KINDS}
    found: dict[str, int] = {}
    befores = {k.name: _before_id(sessions, workspace_id, k) for k in KINDS}
    for round_ in range(repeat + 1):  # round 0 warms caches and statement caches
        for kind in KINDS:
            before = befores[kind.name]
            filters = MentionFilter(**kind.filters, before_id=before)
            sql, params = _new_sql(kind, watch_ids[1], postgres)
            runner = _sql_runner(sessions, sql, params, workspace_id, before)
            pair = [("service", lambda f=filters: search_mentions(  # type: ignore[misc]
                sessions, workspace_id, f, limit=PAGE, now=END)), ("hand", runner)]
            if round_ % 2:
                pair.reverse()
            for which, action in pair:
                elapsed = _timed(action)
                if round_:
                    (service if which == "service" else hand)[kind.name].append(elapsed)
            if not round_:
                found[kind.name] = len(search_mentions(
                    sessions, workspace_id, filters, limit=PAGE, now=END))
    for kind in KINDS:
        s, h = service[kind.name], hand[kind.name]
        report["kinds"][kind.name] = {
            "rows": found[kind.name],
            "service_p50": _p(s, 0.5), "service_p95": _p(s, 0.95),
            "hand_p50": _p(h, 0.5), "hand_p95": _p(h, 0.95),
            "ratio_p50": round(statistics.median(s) / max(statistics.median(h), 1e-3), 2),
            **({"before_p50": _p(old[kind.name], 0.5)} if old else {}),
        }
    return report


def main() -> None:
    """Run the benchmark on SQLite and PostgreSQL; print one JSON object per engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--no-before", action="store_true",
                        help="build without timing the old statements (no \"before\" figures)")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--sqlite-file", type=Path,
                        help="keep the SQLite database in FILE (reused if already built)")
    parser.add_argument("--postgres-db",
                        help="keep the PostgreSQL database NAME (reused if already built)")
    args = parser.parse_args()
    if not args.postgres_only:
        if args.sqlite_file:
            print(json.dumps(run(f"sqlite:///{args.sqlite_file.resolve()}", "sqlite",
                                 args.rows, args.repeat, time_old=not args.no_before),
                             indent=1), flush=True)
        else:
            with tempfile.TemporaryDirectory() as folder:
                print(json.dumps(run(f"sqlite:///{Path(folder) / 'bench.db'}", "sqlite",
                                     args.rows, args.repeat, time_old=not args.no_before),
                                 indent=1), flush=True)
    if not args.sqlite_only:
        _postgres(args)


def _postgres(args: argparse.Namespace) -> None:
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    name = args.postgres_db or f"vigie_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # noqa: BLE001  (no server: say so and stop)
        print(f"[postgres] skipped: {type(err).__name__}: {str(err).splitlines()[0]}")
        return
    try:
        url = make_url(args.postgres_url).set(database=name)
        print(json.dumps(run(url.render_as_string(hide_password=False), "postgres",
                             args.rows, args.repeat, time_old=not args.no_before),
                         indent=1), flush=True)
    finally:
        if not args.postgres_db:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
