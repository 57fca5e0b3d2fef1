"""End-to-end ingest throughput on one process, against the common approach.

Usage: python bench/bench_ingest.py [--items 1000] [--rounds 5] [--no-postgres]

Vigie: HTTP fetch -> fast feed parse -> normalize -> analysis -> watch query -> dedupe ->
bulk store (one transaction per source batch).
Baseline: httpx.get -> feedparser -> one ORM insert and commit per entry (no analysis, no
dedupe beyond the unique key), the way a first version of such a tool is usually written.
Feed items are built from real tweets (shared sentiment data); each round serves new GUIDs.
Rounds of the two sides alternate. Prints mentions/s for both on SQLite and PostgreSQL,
the ratio, and the median and best of the per-round ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bot.runtime import prepare_worker_process  # noqa: E402
from bot.services.actors import CLI  # noqa: E402
from bot.services.ingest import do_ingest  # noqa: E402
from bot.services.watches import do_add_watch, get_watch_by_name  # noqa: E402
from bot.sources.http import HttpClient  # noqa: E402
from bot.sources.rss import RssConfig, RssSource  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from storage.models import Mention, Workspace  # noqa: E402

PG_ADMIN = os.environ.get("VIGIE_TEST_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def tweets() -> list[str]:
    """Real tweet texts from the shared evaluation sets."""
    base = Path(os.environ.get("VIGIE_SHARED_DATA", REPO.parent / "shared" / "data"))
    lines = (base / "sentiment" / "eval" / "en_tweets_test.tsv").read_text().splitlines()
    return [line.split("\t", 1)[1] for line in lines if "\t" in line]


def build_feed(texts: list[str], count: int, round_id: str) -> bytes:
    """An RSS 2.0 feed of ``count`` items with GUIDs unique to this round."""
    now = datetime.now(UTC)
    items = []
    for n in range(count):
        # Unique per round and item, or the near-duplicate filter would drop repeats.
        body = escape(f"[{round_id} #{n}] {texts[n % len(texts)]}")
        items.append(
            f"<item><title>Post {n}</title><link>https://news.example.com/{round_id}/{n}</link>"
            f"<guid>{round_id}-{n}</guid><author>user{n % 97}@example.com (User {n % 97})</author>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=n))}</pubDate>"
            f"<description>{body}</description></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>bench</title><link>https://news.example.com/</link>"
            + "".join(items) + "</channel></rss>").encode()


class FeedServer:
    """Serves the current feed bytes on 127.0.0.1."""

    def __init__(self) -> None:
        self.body = b""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/feed.xml"


def prepare(url: str, *, tuned: bool = True) -> tuple[object, int]:
    migrations.upgrade(url)
    # The baseline uses the engine as SQLAlchemy creates it by default.
    engine = make_engine(url) if tuned else create_engine(url)
    sessions = make_session_factory(engine)  # type: ignore[arg-type]
    with transaction(sessions) as session:
        workspace = Workspace(team_id=f"T{uuid.uuid4().hex[:8]}")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="news", query="", channel_id="C0BENCH01",
                 alert_threshold=101 - 1)
    return sessions, workspace_id


def settle(sessions: object) -> None:
    """ANALYZE the database, as autovacuum does on a live one: a table just created has no
    statistics, and PostgreSQL would plan the dedupe look-ups as if it were empty."""
    with sessions() as session:  # type: ignore[operator]
        session.execute(text("ANALYZE"))
        session.commit()


def run_vigie(url: str, server: FeedServer, texts: list[str], items: int,
              rounds: int) -> Iterator[tuple[int, float]]:
    """Vigie rounds: (mentions stored, seconds) per round, after one unmeasured round and
    ANALYZE (both sides get the same)."""
    sessions, workspace_id = prepare(url)
    for r in range(rounds + 1):
        server.body = build_feed(texts, items, f"v{r}-{uuid.uuid4().hex[:6]}")
        started = time.perf_counter()
        with HttpClient() as http:
            result = RssSource().fetch(http, RssConfig(url=server.url, max_entries=items), {})
        with transaction(sessions) as session:  # type: ignore[arg-type]
            watch = get_watch_by_name(session, workspace_id, "news")
            stored = do_ingest(session, watch, None, result.mentions,
                               now=datetime.now(UTC)).stored
        elapsed = time.perf_counter() - started
        if r == 0:
            settle(sessions)
            continue
        yield stored, elapsed


def run_baseline(url: str, server: FeedServer, texts: list[str], items: int,
                 rounds: int) -> Iterator[tuple[int, float]]:
    """Baseline rounds: (mentions stored, seconds) per round, after one unmeasured round and
    ANALYZE."""
    sessions, workspace_id = prepare(url, tuned=False)
    for r in range(rounds + 1):
        stored = 0
        server.body = build_feed(texts, items, f"b{r}-{uuid.uuid4().hex[:6]}")
        started = time.perf_counter()
        parsed = feedparser.parse(httpx.get(server.url).content)
        for entry in parsed.entries:
            with sessions() as session:  # type: ignore[operator]
                session.add(Mention(
                    workspace_id=workspace_id, network="rss", external_id=entry.id,
                    url=entry.link, text=entry.get("summary", ""), title=entry.get("title"),
                    published_at=datetime(*entry.published_parsed[:6], tzinfo=UTC)))
                session.commit()
                stored += 1
        elapsed = time.perf_counter() - started
        if r == 0:
            settle(sessions)
            continue
        yield stored, elapsed


def postgres_url() -> str | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"vigie_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as err:  # noqa: BLE001
        print(f"PostgreSQL unavailable ({type(err).__name__}); skipping it")
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    texts = tweets()
    server = FeedServer()
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", f"sqlite:///{folder}/vigie.db", f"sqlite:///{folder}/base.db")]
        pg_urls: list[str] = []
        if not args.no_postgres:
            first, second = postgres_url(), postgres_url()
            if first and second:
                pg_urls = [first, second]
                targets.append(("PostgreSQL", first, second))
        # Both sides are measured in a process set up as Vigie's worker sets itself up:
        # every model loaded, and what exists then frozen out of the garbage collector.
        list(run_vigie(f"sqlite:///{folder}/warm.db", server, texts, 50, 1))
        prepare_worker_process()
        print(f"{args.items} items x {args.rounds} rounds per measurement")
        for name, vigie_url, base_url in targets:
            # Rounds alternate between the two sides, so load from other processes on
            # the machine weighs on both alike; per-round ratios show how much it varied.
            ours = run_vigie(vigie_url, server, texts, args.items, args.rounds)
            base = run_baseline(base_url, server, texts, args.items, args.rounds)
            pairs = list(zip(ours, base, strict=True))
            rate_v = sum(v[0] for v, _ in pairs) / sum(v[1] for v, _ in pairs)
            rate_b = sum(b[0] for _, b in pairs) / sum(b[1] for _, b in pairs)
            ratios = sorted((v[0] / v[1]) / (b[0] / b[1]) for v, b in pairs)
            print(f"{name:<10} vigie {rate_v:8.0f} mentions/s   baseline {rate_b:8.0f} mentions/s"
                  f"   ratio {rate_v / rate_b:5.1f}x   (per round: median "
                  f"{statistics.median(ratios):.1f}x, best {ratios[-1]:.1f}x)")
        for url in pg_urls:
            drop_postgres(url)
    server.server.shutdown()


if __name__ == "__main__":
    main()
