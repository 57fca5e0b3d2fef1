"""End-to-end ingest throughput on one process, against the common approach and two stacks.

Usage: python bench/bench_ingest.py [--items 1000] [--rounds 5] [--no-postgres]
       [--no-stacks] [--overlap N]

Vigie: HTTP fetch -> fast feed parse -> normalize -> analysis -> watch query -> dedupe ->
bulk store (one transaction per source batch).
Baseline: httpx.get -> feedparser -> one ORM insert and commit per entry (no analysis, no
dedupe beyond the unique key), the way a first version of such a tool is usually written.
It runs in Vigie's process, as it always has, so its ratio compares across versions.
Two stacks (the ``bench`` extra), each in a process of its own with a database of its own:
- common: httpx -> feedparser -> langdetect -> VADER -> one ORM insert and commit per entry;
- tuned: httpx -> fastfeedparser -> py3langid -> VADER -> one batched SQLAlchemy Core
  insert with ON CONFLICT DO NOTHING.
Feed items are built from real tweets (shared sentiment data); each round serves new GUIDs.
Rounds of all sides alternate. Prints mentions/s for each on SQLite and PostgreSQL, and
Vigie's ratio to each: overall, and the median and best of the per-round ratios.
``--overlap N`` (N > 1) adds a Vigie side with N watches matching every post (brand,
competitor and topic watches overlap): each round's feed is ingested by each watch in turn,
as N sources delivering the same posts would (one transaction each); the first stores the
mentions, the others link them. It prints that side's new mentions/s, and its rate against
one-watch Vigie's in the same rounds (what the overlap costs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
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
from typing import Any
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import feedparser  # noqa: E402
import httpx  # noqa: E402
from sqlalchemy import (  # noqa: E402
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Text,
    create_engine,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

from bot.net.http import HttpClient  # noqa: E402
from bot.runtime import prepare_worker_process  # noqa: E402
from bot.services.actors import CLI  # noqa: E402
from bot.services.ingest import do_ingest  # noqa: E402
from bot.services.watches import do_add_watch, get_watch_by_name  # noqa: E402
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


def prepare(url: str, *, tuned: bool = True, watches: int = 1) -> tuple[object, int]:
    migrations.upgrade(url)
    # The baseline uses the engine as SQLAlchemy creates it by default.
    engine = make_engine(url) if tuned else create_engine(url)
    sessions = make_session_factory(engine)  # type: ignore[arg-type]
    with transaction(sessions) as session:
        workspace = Workspace(team_id=f"T{uuid.uuid4().hex[:8]}")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    for name in watch_names(watches):
        do_add_watch(sessions, workspace_id, CLI, name=name, query="",
                     channel_id="C0BENCH01", alert_threshold=101 - 1)
    return sessions, workspace_id


def watch_names(count: int) -> list[str]:
    """The bench's watch names: ``news``, then ``news2``... (all match every post)."""
    return ["news", *(f"news{n}" for n in range(2, count + 1))]


def settle(sessions: object) -> None:
    """ANALYZE the database, as autovacuum does on a live one: a table just created has no
    statistics, and PostgreSQL would plan the dedupe look-ups as if it were empty."""
    with sessions() as session:  # type: ignore[operator]
        session.execute(text("ANALYZE"))
        session.commit()


def run_vigie(url: str, server: FeedServer, texts: list[str], items: int,
              rounds: int, watches: int = 1) -> Iterator[tuple[int, float]]:
    """Vigie rounds: (mentions stored, seconds) per round, after one unmeasured round and
    ANALYZE (both sides get the same). With several ``watches``, the feed is fetched and
    ingested once per watch, as each watch's source would; every watch links every post."""
    sessions, workspace_id = prepare(url, watches=watches)
    for r in range(rounds + 1):
        server.body = build_feed(texts, items, f"v{r}-{uuid.uuid4().hex[:6]}")
        started = time.perf_counter()
        stored = linked = 0
        for name in watch_names(watches):
            with HttpClient() as http:
                result = RssSource().fetch(http, RssConfig(url=server.url, max_entries=items),
                                           {})
            with transaction(sessions) as session:  # type: ignore[arg-type]
                watch = get_watch_by_name(session, workspace_id, name)
                report = do_ingest(session, watch, None, result.mentions,
                                   now=datetime.now(UTC))
            stored += report.stored
            linked += report.linked
        elapsed = time.perf_counter() - started
        if stored * (watches - 1) != linked:
            raise RuntimeError(f"{watches} watches: {stored} stored but {linked} linked")
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


class StackBase(DeclarativeBase):
    """The stacks' own schema: one table of posts, unique by GUID."""


class Post(StackBase):
    """A stored feed entry with its language and VADER compound score."""

    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String(500), unique=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str | None] = mapped_column(String(8))
    sentiment: Mapped[float] = mapped_column(Float)


def _common_round(engine: Engine, feed_url: str) -> int:
    """httpx -> feedparser -> langdetect -> VADER -> one ORM insert and commit per entry."""
    from langdetect import LangDetectException, detect
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = _vader(SentimentIntensityAnalyzer)
    stored = 0
    for entry in feedparser.parse(httpx.get(feed_url).content).entries:
        body = entry.get("summary", "")
        try:
            language: str | None = detect(body)
        except LangDetectException:
            language = None
        with Session(engine) as session:
            session.add(Post(
                guid=entry.id, url=entry.link, title=entry.get("title"), text=body,
                author=entry.get("author"), language=language,
                published_at=datetime(*entry.published_parsed[:6]).replace(tzinfo=UTC),
                sentiment=vader.polarity_scores(body)["compound"]))
            session.commit()
            stored += 1
    return stored


def _tuned_round(engine: Engine, feed_url: str) -> int:
    """httpx -> fastfeedparser -> py3langid -> VADER -> one batched Core insert with ON
    CONFLICT DO NOTHING."""
    import fastfeedparser
    import py3langid
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = _vader(SentimentIntensityAnalyzer)
    rows = []
    for entry in fastfeedparser.parse(httpx.get(feed_url).content).entries:
        body = entry.get("description") or ""
        published = entry.get("published")
        rows.append({
            "guid": entry.get("id") or entry.get("link"), "url": entry.get("link"),
            "title": entry.get("title"), "text": body, "author": entry.get("author"),
            "language": py3langid.classify(body)[0],
            "published_at": datetime.fromisoformat(published) if published else None,
            "sentiment": vader.polarity_scores(body)["compound"]})
    if not rows:
        return 0
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement: Any = dialect.insert(Post).on_conflict_do_nothing(index_elements=["guid"])
    with engine.begin() as conn:
        result = conn.execute(statement, rows)
    return int(result.rowcount) if result.rowcount >= 0 else len(rows)


_VADER: list[Any] = []


def _vader(factory: Any) -> Any:
    """One VADER analyser per process (its lexicon loads in about 100 ms)."""
    if not _VADER:
        _VADER.append(factory())
    return _VADER[0]


STACKS = {"common": _common_round, "tuned": _tuned_round}


def serve_stack(name: str, url: str, feed_url: str) -> None:
    """A stack's process: set up its database, then run one round per line read from
    stdin and answer ``stored seconds`` (the first round is the unmeasured warm-up; ANALYZE
    follows it, as for Vigie)."""
    if name == "common":
        from langdetect import DetectorFactory

        DetectorFactory.seed = 0  # langdetect is random otherwise
    engine = create_engine(url)
    StackBase.metadata.create_all(engine)
    round_of = STACKS[name]
    for line in sys.stdin:
        if not line.strip():
            continue
        started = time.perf_counter()
        stored = round_of(engine, feed_url)
        elapsed = time.perf_counter() - started
        if line.strip() == "warm":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        print(f"{stored} {elapsed:.6f}", flush=True)
    engine.dispose()


def run_stack(name: str, url: str, server: FeedServer, texts: list[str], items: int,
              rounds: int) -> Iterator[tuple[int, float]]:
    """A stack's rounds, run in a process of its own: (stored, seconds) per round, after
    one unmeasured round and ANALYZE."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--stack", name, "--url", url, "--feed-url", server.url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        for r in range(rounds + 1):
            server.body = build_feed(texts, items, f"{name[0]}{r}-{uuid.uuid4().hex[:6]}")
            child.stdin.write("warm\n" if r == 0 else "round\n")
            child.stdin.flush()
            answer = child.stdout.readline().split()
            if len(answer) != 2:
                raise RuntimeError(f"the {name} stack's process stopped")
            if r == 0:
                continue
            yield int(answer[0]), float(answer[1])
    finally:
        child.stdin.close()
        child.wait()


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


def _report(name: str, side: str, ours: list[tuple[int, float]],
            theirs: list[tuple[int, float]]) -> str:
    rate_v = sum(v[0] for v in ours) / sum(v[1] for v in ours)
    rate_o = sum(o[0] for o in theirs) / sum(o[1] for o in theirs)
    ratios = sorted((v[0] / v[1]) / (o[0] / o[1]) for v, o in zip(ours, theirs, strict=True))
    return (f"{name:<10} vigie {rate_v:8.0f} mentions/s   {side:<8} {rate_o:8.0f} mentions/s"
            f"   ratio {rate_v / rate_o:5.1f}x   (per round: median "
            f"{statistics.median(ratios):.2f}x, best {ratios[-1]:.2f}x; "
            f"{' '.join(f'{x:.2f}' for x in ratios)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-stacks", action="store_true",
                        help="only Vigie and the baseline (no bench extra needed)")
    parser.add_argument("--overlap", type=int, default=1, metavar="N",
                        help="also run Vigie with N watches matching every post (N > 1)")
    parser.add_argument("--stack", choices=sorted(STACKS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--feed-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stack:
        serve_stack(args.stack, args.url, args.feed_url)
        return
    if args.overlap < 1:
        parser.error("--overlap must be at least 1")
    stacks = [] if args.no_stacks else sorted(STACKS)
    overlap = [f"overlap{args.overlap}"] if args.overlap > 1 else []
    texts = tweets()
    server = FeedServer()
    with tempfile.TemporaryDirectory() as folder:
        targets = [("SQLite", {side: f"sqlite:///{folder}/{side}.db"
                               for side in ["vigie", "baseline", *stacks, *overlap]})]
        pg_urls: list[str] = []
        if not args.no_postgres:
            made = {side: postgres_url()
                    for side in ["vigie", "baseline", *stacks, *overlap]}
            pg_urls = [u for u in made.values() if u]
            if len(pg_urls) == len(made):
                targets.append(("PostgreSQL", {side: str(u) for side, u in made.items()}))
        # Vigie and the baseline are measured in a process set up as Vigie's worker sets
        # itself up: every model loaded, and what exists then frozen out of the garbage
        # collector.
        list(run_vigie(f"sqlite:///{folder}/warm.db", server, texts, 50, 1))
        prepare_worker_process()
        print(f"{args.items} items x {args.rounds} rounds per measurement")
        for name, urls in targets:
            # Rounds alternate between the sides, so load from other processes on the
            # machine weighs on all alike; per-round ratios show how much it varied.
            sides = [run_vigie(urls["vigie"], server, texts, args.items, args.rounds),
                     run_baseline(urls["baseline"], server, texts, args.items, args.rounds),
                     *(run_stack(stack, urls[stack], server, texts, args.items, args.rounds)
                       for stack in stacks),
                     *(run_vigie(urls[side], server, texts, args.items, args.rounds,
                                 args.overlap) for side in overlap)]
            rounds = list(zip(*sides, strict=True))
            ours = [r[0] for r in rounds]
            for n, side in enumerate(["baseline", *stacks], start=1):
                print(_report(name, side, ours, [r[n] for r in rounds]))
            if overlap:
                # The overlap side's rate against one-watch Vigie's, in the same rounds.
                print(_report(name, "1 watch", [r[-1] for r in rounds], ours)
                      .replace("vigie", f"{args.overlap} watches", 1))
        for url in pg_urls:
            drop_postgres(url)
    server.server.shutdown()


if __name__ == "__main__":
    main()
