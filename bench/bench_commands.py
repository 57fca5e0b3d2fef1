"""`/cm mentions` and card rendering at 1,000,000 stored mentions, and ack times.

Usage: python bench/bench_commands.py [--rows 1000000] [--no-postgres]

Fills a database with synthetic mentions (bulk insert), then times, inside the app (parse,
query, render), several `/cm mentions` filter sets and `/cm show`; then serves the HTTP app
against the Slack stand-in and times 100 signed slash commands end to end (the ack).
Prints median and p95 in milliseconds for SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.app import build_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.runtime import build_runtime  # noqa: E402
from bot.web import build_wsgi_app  # noqa: E402
from handlers.commands import parse_command  # noqa: E402
from handlers.commands.registry import REGISTRY  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from storage.models import Author, Mention, Watch, Workspace  # noqa: E402
from tests.harness.app_server import serve_wsgi  # noqa: E402
from tests.harness.constants import BOT_TOKEN, SIGNING_SECRET, TEAM_ID  # noqa: E402
from tests.harness.slack_requests import SlackSender  # noqa: E402
from tests.harness.slack_standin import SlackStandIn  # noqa: E402

PG_ADMIN = os.environ.get("VIGIE_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
STATUSES = ["new"] * 6 + ["assigned", "replied", "ignored", "closed"]
SENTIMENTS = ["negative", "neutral", "neutral", "positive"]
NETWORKS = ["rss", "mastodon", "bluesky", "hackernews", "reddit", "x"]
WORDS = ["acme", "app", "order", "refund", "delivery", "broken", "love", "great", "slow",
         "support", "update", "price"]
QUERIES = [
    "mentions",
    "mentions status:new",
    "mentions status:new sentiment:negative since:7d",
    "mentions source:mastodon sentiment:negative",
    "mentions watch:w3 status:assigned",
    "mentions assignee:<@U0AGENT1|ana>",
    "mentions refund",
]


def fill(url: str, rows: int) -> None:
    """Bulk-insert ``rows`` mentions spread over 90 days, 10 watches and 5,000 authors."""
    migrations.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    rng = random.Random(7)
    with transaction(sessions) as session:
        workspace = Workspace(team_id=TEAM_ID)
        session.add(workspace)
        session.flush()
        watches = [Watch(workspace_id=workspace.id, name=f"w{n}", channel_id=f"C0WATCH{n:03d}")
                   for n in range(10)]
        session.add_all(watches)
        session.flush()
        session.execute(insert(Author), [
            {"workspace_id": workspace.id, "network": NETWORKS[n % 6], "handle": f"user{n}",
             "followers": rng.randint(0, 200_000), "mention_count": 0,
             "first_seen_at": datetime.now(UTC), "last_seen_at": datetime.now(UTC),
             "verified": False} for n in range(5000)])
        workspace_id, watch_ids = workspace.id, [w.id for w in watches]
    now = datetime.now(UTC)
    chunk = 20_000
    for start in range(0, rows, chunk):
        batch = []
        for n in range(start, min(rows, start + chunk)):
            created = now - timedelta(seconds=(rows - n) * 90 * 86400 / rows)
            batch.append({
                "workspace_id": workspace_id, "watch_id": watch_ids[n % 10],
                "author_id": 1 + n % 5000, "network": NETWORKS[n % 6], "external_id": str(n),
                "url": f"https://example.com/{n}",
                "text": " ".join(rng.choice(WORDS) for _ in range(14)),
                "published_at": created, "created_at": created, "updated_at": created,
                "status": rng.choice(STATUSES), "sentiment_label": rng.choice(SENTIMENTS),
                "priority": rng.randint(0, 100), "intent_flags": [],
                "assignee_user_id": "U0AGENT1" if n % 50 == 0 else None, "engagement": 0,
                "alerted": False, "version": 1,
            })
        with engine.begin() as conn:
            conn.execute(insert(Mention), batch)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
        else:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"median {statistics.median(ordered):6.1f} ms  p95 {p95:6.1f} ms"


def time_in_app(url: str, rows: int) -> None:
    settings = load_settings(database_url=url, slack_bot_token=BOT_TOKEN,
                             slack_signing_secret=SIGNING_SECRET)
    runtime = build_runtime(settings)
    for query in [*QUERIES, f"show {rows // 2}"]:
        samples = []
        for _ in range(15):
            started = time.perf_counter()
            request = parse_command({"team_id": TEAM_ID, "user_id": "U0AGENT1",
                                     "channel_id": "C0WATCH001", "text": query}, "en")
            sub = REGISTRY.get(request.name)  # type: ignore[union-attr]
            assert sub is not None
            reply = sub.listener(request, runtime)  # type: ignore[arg-type]
            assert reply is not None and reply.blocks
            samples.append((time.perf_counter() - started) * 1000)
        print(f"  /cm {query:<50} {percentiles(samples[3:])}")
    runtime.close()


def time_acks(url: str) -> None:
    with SlackStandIn() as standin:
        settings = load_settings(database_url=url, slack_bot_token=BOT_TOKEN,
                                 slack_signing_secret=SIGNING_SECRET,
                                 slack_api_url=standin.base_url)
        runtime = build_runtime(settings)
        app = build_app(settings, runtime)
        with serve_wsgi(build_wsgi_app(runtime, app)) as app_url:
            sender = SlackSender(app_url, standin=standin)
            for command in ("help", "mentions status:new sentiment:negative"):
                samples = []
                for _ in range(50):
                    started = time.perf_counter()
                    assert sender.slash_command(command).status_code == 200
                    samples.append((time.perf_counter() - started) * 1000)
                print(f"  ack over HTTP: /cm {command:<40} {percentiles(samples[5:])}")
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", f"sqlite:///{folder}/bench.db")]
        admin = None
        if not args.no_postgres:
            name = f"vigie_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            targets.append(("PostgreSQL", PG_ADMIN.rsplit("/", 1)[0] + "/" + name))
        try:
            for label, url in targets:
                started = time.perf_counter()
                fill(url, args.rows)
                print(f"{label}: {args.rows} mentions loaded in "
                      f"{time.perf_counter() - started:.0f} s")
                time_in_app(url, args.rows)
                time_acks(url)
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
