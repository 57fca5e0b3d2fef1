"""Follow-ups joining cases: SQL statements and wall time of one 1,000-post Mastodon batch.

Usage: python bench/bench_follow_ups.py [--posts 1000] [--rounds 3] [--no-postgres]
       [--postgres-url URL]

The statuses are the real mastodon.social status of the shared data (its copy in
tests/data: api/mastodon/mastodonpy_status_plain.json) given the ids, accounts and texts
(real tweets, sentiment/eval/en_tweets_test.tsv) of a brand's conversations seen through
one instance, read by the Mastodon source's own parser (``status_to_mention``). A first
batch, committed, holds the customers' first posts (addressed to the brand) and the
brand's replies to half of them (those cases are answered). The measured batch holds
``--posts`` statuses: new posts by other people, and about 158 per 1,000 follow-ups:
replies of a customer in their thread (to their first post, or to the brand's reply: the
case reopens), a reply to such a reply in the same batch, and new posts of a customer
whose case is open ("@acme still nothing").
Each round ingests the batch in a transaction that is rolled back, so that every
round sees the same database. Prints JSON: per engine, the batch's statements and
milliseconds (median of the rounds; ``sql_ms``: of them, in the database driver's
execute calls), the follow-ups, the reopened cases and the cards
queued (the batch's own and the late ones of cases a follow-up made urgent or reopened).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.services.actors import CLI  # noqa: E402
from bot.services.brand_accounts import do_add_account  # noqa: E402
from bot.services.ingest import do_ingest  # noqa: E402
from bot.services.watches import do_add_watch, get_watch_by_name  # noqa: E402
from bot.sources.base import FetchedMention  # noqa: E402
from bot.sources.mastodon import status_to_mention  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from storage.models import Workspace  # noqa: E402

DATA = REPO / "tests" / "data"
"""The shared data's copy in the repository (see its README for origins)."""
INSTANCE = "https://mastodon.social"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ACME = {"id": "7", "username": "acme", "acct": "acme", "url": "https://mastodon.social/@acme",
        "uri": "https://mastodon.social/users/acme"}
CUSTOMERS = 120
"""Customers with a conversation before the batch (the brand answered every other one)."""


def _data(args: argparse.Namespace) -> Path:
    return Path(args.data) if args.data else DATA


def _account(n: int, prefix: str = "c") -> dict[str, Any]:
    name = f"{prefix}{n}"
    return {"id": f"5{n:06d}" if prefix == "c" else f"6{n:06d}", "username": name,
            "acct": f"{name}@other.social", "url": f"https://other.social/@{name}",
            "uri": f"https://other.social/users/{name}"}


class Statuses:
    """Builds statuses from the real template, with local ids on one instance."""

    def __init__(self, data: Path) -> None:
        self.template = json.loads((data / "api/mastodon/mastodonpy_status_plain.json")
                                   .read_text())
        lines = (data / "sentiment/eval/en_tweets_test.tsv").read_text().splitlines()
        self.texts = [line.split("\t", 1)[1] for line in lines if "\t" in line]
        self.next_id = 9_000_000
        self.minute = 0

    def text(self, n: int) -> str:
        return self.texts[n % len(self.texts)].replace("<", " ").replace("&", " ")

    def make(self, account: dict[str, Any], body: str, reply_to: dict[str, Any] | None = None
             ) -> dict[str, Any]:
        self.next_id += 1
        self.minute += 1
        local = str(self.next_id)
        raw = copy.deepcopy(self.template)
        uri = (f"{INSTANCE}/users/acme/statuses/{local}" if account is ACME
               else f"https://other.social/users/{account['username']}/statuses/{local}")
        when = datetime.fromtimestamp(NOW.timestamp() - 6 * 3600 + self.minute, UTC)
        raw.update(id=local, uri=uri, url=uri, content=f"<p>{body}</p>", language="en",
                   created_at=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), edited_at=None,
                   in_reply_to_id=reply_to["id"] if reply_to else None,
                   in_reply_to_account_id=reply_to["account"]["id"] if reply_to else None)
        raw["account"] = {**raw["account"], **account}
        return raw


def fetched(raw: dict[str, Any]) -> FetchedMention:
    """The status as the Mastodon source reads it."""
    item = status_to_mention(raw, INSTANCE)
    assert item is not None
    return item


def scenario(data: Path, posts: int) -> tuple[list[FetchedMention], list[FetchedMention]]:
    """(the committed first batch, the measured batch)."""
    s = Statuses(data)
    roots: list[dict[str, Any]] = []
    answers: dict[int, dict[str, Any]] = {}
    first: list[dict[str, Any]] = []
    for n in range(CUSTOMERS):
        root = s.make(_account(n), f"@acme order {1000 + n}: {s.text(n)}")
        roots.append(root)
        first.append(root)
    for n in range(0, CUSTOMERS, 2):
        answers[n] = s.make(ACME, f"@c{n}@other.social sorry, please DM us", roots[n])
        first.append(answers[n])
    batch: list[dict[str, Any]] = []
    follow = round(posts * 0.158)
    # Replies in the thread: to the brand's answer (reopens) or to the customer's post.
    in_thread = follow * 55 // 100
    chained = follow * 15 // 100
    returning = follow - in_thread - chained
    replies: list[dict[str, Any]] = []
    for k in range(in_thread):
        n = k % CUSTOMERS
        parent = answers.get(n, roots[n])
        replies.append(s.make(_account(n), f"still nothing {k}: {s.text(500 + k)}", parent))
    batch += replies
    for k in range(chained):
        parent = replies[k]
        n = k % CUSTOMERS
        batch.append(s.make(_account(n), f"hello? {k}: {s.text(900 + k)}", parent))
    for k in range(returning):
        n = (2 * k + 1) % CUSTOMERS  # cases still open
        batch.append(s.make(_account(n), f"@acme 3rd time asking {k}: {s.text(1300 + k)}"))
    others = posts - len(batch)
    for k in range(others):
        batch.append(s.make(_account(k, "p"), f"acme {s.text(2000 + k)}"))
    return [fetched(r) for r in first], [fetched(r) for r in batch]


def _setup(url: str, first: list[FetchedMention]) -> int:
    migrations.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0BENCH")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id="C0BENCH01",
                 alert_threshold=40)
    do_add_account(sessions, workspace_id, CLI, "mastodon", "@acme@mastodon.social")
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None, first,
                  now=NOW)
    engine.dispose()
    return workspace_id


def measure(url: str, first: list[FetchedMention], batch: list[FetchedMention],
            rounds: int) -> dict[str, Any]:
    """The batch's statements and time on the database at ``url`` (set up here)."""
    workspace_id = _setup(url, first)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    counted = [0]
    in_sql = [0.0]
    began: list[float] = []

    def count(*_args: Any) -> None:
        counted[0] += 1
        began.append(time.perf_counter())

    def done(*_args: Any) -> None:
        in_sql[0] += time.perf_counter() - began.pop()

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "after_cursor_execute", done)
    times: list[float] = []
    sql_times: list[float] = []
    statements: list[int] = []
    report = None
    for _ in range(rounds):
        with sessions() as session:
            watch = get_watch_by_name(session, workspace_id, "acme")
            counted[0] = 0
            in_sql[0] = 0.0
            started = time.perf_counter()
            report = do_ingest(session, watch, None, batch, now=NOW)
            session.flush()
            times.append(time.perf_counter() - started)
            statements.append(counted[0])
            sql_times.append(in_sql[0])
            session.rollback()
    engine.dispose()
    assert report is not None
    return {"posts": len(batch), "stored": report.stored, "follow_ups": report.follow_ups,
            "reopened": report.reopened, "cards": report.alerts,
            "statements": statistics.median(statements),
            "ms": round(statistics.median(times) * 1000, 1),
            "ms_rounds": [round(t * 1000, 1) for t in times],
            "sql_ms": round(statistics.median(sql_times) * 1000, 1)}


def main() -> None:
    """Run the bench and print its JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--postgres-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--data", default=None, help="the shared data folder")
    args = parser.parse_args()
    first, batch = scenario(_data(args), args.posts)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        figures["sqlite"] = measure(f"sqlite:///{folder}/bench.db", first, batch, args.rounds)
    if not args.no_postgres:
        admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
        name = f"vigie_bench_follow_ups_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.postgres_url).set(database=name)
            figures["postgresql"] = measure(url.render_as_string(hide_password=False),
                                            first, batch, args.rounds)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
