"""Daily digest build time: a day of 100,000 mentions in a table of 1,000,000.

Usage: python bench/bench_digest.py [--mentions 1000000] [--per-day 100000] [--repeat 5]
       [--sqlite-only | --postgres-only] [--postgres-url URL]

The table holds ten busy days (100,000 mentions a day, the last one being the digest's day)
in one workspace, all in the digest channel's three watches, with realistic statuses,
sentiments, priorities, response times and request topics (a few percent of mentions each).
The first watch routes its ``outage`` mentions to a channel of their own, whose digest (that
watch's outage mentions) is timed beside the watch channel's. For SQLite (a temporary file)
and PostgreSQL (a fresh database ``vigie_bench_<random>`` created and dropped here) it
prints, for each of the two channels, best of --repeat runs after one warm-up:
- digest numbers: every SQL aggregate of the digest, chart series from the cache of the
  previous day's run (the steady state: each day's run keeps its complete days);
- digest numbers, cold: the same with no earlier run, so 14 days are counted (1,000,000 rows);
- blocks: rendering the Block Kit message;
- chart: drawing the PNG (matplotlib, imported before timing).

``--readers-against URL`` loads nothing: it times, on the existing database at URL (read
only; e.g. the one ``bench_sov.py --keep-postgres`` keeps), the reporting readers of
hourly counts over long windows with whole UTC days read from ``mention_day_counts``
against the hour-only reads, and the digest's overdue count with the id list of mentions
in several watches as it was (every extra link) and as it is (extra links to brand
watches), old and new alternated in one process, checking that both give the same figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from bot.analysis.topics import topic_mask  # noqa: E402
from bot.reports.charts import render_chart_spec  # noqa: E402
from bot.services.reporting.digest import digest_chart  # noqa: E402
from bot.services.reporting.digest_sections import build_digest_report, complete_days, series_key  # noqa: E402
from bot.services.reporting.schedule import channel_config  # noqa: E402
from bot.slack.digest_blocks import build_digest_blocks  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from storage.models import Author, Watch, Workspace  # noqa: E402
from storage.models_reporting import DigestRun  # noqa: E402
from storage.models_topics import TopicRoute  # noqa: E402

POSTGRES_URL = os.environ.get("VIGIE_BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CHANNEL = "C07DIGEST01"
ROUTE_CHANNEL = "C07OUTAGES1"
ROUTED_TOPIC = "outage"
TOPIC_SHARES = {"billing": 0.04, "delivery": 0.05, "account": 0.03, "outage": 0.06,
                "quality": 0.04, "churn": 0.02}
"""The share of mentions raising each topic (independently: a few raise several)."""
ZONE = "Europe/Paris"
END = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 09:00 in Paris
NETWORKS = ("mastodon", "bluesky", "rss", "reddit", "hackernews", "x")
SENTIMENTS = ("negative", "neutral", "positive", None)
AUTHORS = 5000
COLUMNS = ("workspace_id", "watch_id", "author_id", "network", "external_id", "url", "text",
           "published_at", "engagement", "sentiment_label", "intent", "intent_flags",
           "priority", "status", "assignee_user_id", "alerted", "slack_channel", "slack_ts",
           "first_response_at", "replied_at", "version", "created_at", "updated_at",
           "topics", "topic_mask")


def _status(rng: random.Random, alerted: bool) -> str:
    if not alerted:
        return "ignored" if rng.random() < 0.1 else "new"
    return rng.choices(("replied", "closed", "new", "assigned", "drafting",
                        "awaiting_approval", "approved"), (60, 5, 12, 10, 5, 4, 4))[0]


def _topics(rng: random.Random, names: list[str]) -> tuple[str, int]:
    raised = [name for name in names if rng.random() < TOPIC_SHARES[name]]
    return (json.dumps([{"name": name, "terms": []} for name in raised]),
            topic_mask(raised))


def generate(count: int, per_day: int, workspace_id: int, watch_ids: list[int],
             thresholds: dict[int, int], seed: int = 7) -> list[tuple[Any, ...]]:
    """``count`` mention rows, ``per_day`` a day, the newest day ending at END."""
    rng = random.Random(seed)
    topic_rng = random.Random(seed + 1)  # its own draws: the other columns stay as they were
    names = list(TOPIC_SHARES)
    rows = []
    seconds_per_mention = 86400 / per_day
    for index in range(count):
        created = END - timedelta(seconds=(index + 0.5) * seconds_per_mention)
        watch = rng.choice(watch_ids)
        priority = min(100, int(rng.expovariate(1 / 25)))
        alerted = priority >= thresholds[watch]
        status = _status(rng, alerted)
        answered = status in {"replied", "closed"}
        first = created + timedelta(minutes=rng.lognormvariate(4, 1)) if answered else None
        assignee = f"U07AGENT{rng.randint(0, 9):02d}" if status != "new" and alerted else None
        rows.append((
            workspace_id, watch, rng.randint(1, AUTHORS), rng.choice(NETWORKS), f"b{index}",
            f"https://example.com/{index}", f"mention {index} of acme " + "x" * 80,
            created - timedelta(minutes=3), rng.randint(0, 50), rng.choice(SENTIMENTS),
            "spam" if rng.random() < 0.03 else rng.choice(("question", "complaint", "other")),
            "[]", priority, status, assignee, alerted,
            CHANNEL if alerted else None,
            f"{int(created.timestamp())}.{index % 1000000:06d}" if alerted else None,
            first, first, 1, created, created,
            *_topics(topic_rng, names),
        ))
    return rows


def _setup(sessions: sessionmaker[Session]) -> tuple[int, list[int], dict[int, int]]:
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T07BENCH01", timezone=ZONE)
        session.add(workspace)
        session.flush()
        watches = [Watch(workspace_id=workspace.id, name=f"w{i}", channel_id=CHANNEL,
                         alert_threshold=threshold, created_at=END - timedelta(days=400))
                   for i, threshold in enumerate((40, 50, 60))]
        watches.append(Watch(workspace_id=workspace.id, name="elsewhere",
                             channel_id="C07ELSEWHERE", created_at=END - timedelta(days=400)))
        session.add_all(watches)
        session.flush()
        session.add(TopicRoute(workspace_id=workspace.id, watch_id=watches[0].id,
                               topic=ROUTED_TOPIC, channel_id=ROUTE_CHANNEL))
        session.add_all([Author(workspace_id=workspace.id, network=NETWORKS[i % 6],
                                handle=f"@author{i}", followers=int(random.Random(i)
                                                                   .paretovariate(1) * 100))
                         for i in range(AUTHORS)])
        session.flush()
        return (workspace.id, [w.id for w in watches[:3]],
                {w.id: w.alert_threshold for w in watches[:3]})


def _load_sqlite(engine: Any, rows: list[tuple[Any, ...]]) -> None:
    def fmt(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        sql = (f"INSERT INTO mentions ({', '.join(COLUMNS)}) "
               f"VALUES ({', '.join('?' for _ in COLUMNS)})")
        for start in range(0, len(rows), 50_000):
            cursor.executemany(sql, [tuple(fmt(v) for v in row)
                                     for row in rows[start:start + 50_000]])
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _load_postgres(engine: Any, rows: list[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy(
                f"COPY mentions ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
        raw.driver_connection.autocommit = True  # type: ignore[union-attr]
        with raw.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # every table, as autovacuum would in time
    finally:
        raw.close()


def _best(action: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = action()  # warm-up: caches, compiled statements
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return min(times) * 1000, (result, statistics.median(times) * 1000)


def _time_digest(sessions: sessionmaker[Session], workspace_id: int, channel: str,
                 label: str, repeat: int) -> None:
    """Time the digest of ``channel`` (cold, then after the previous day's run)."""
    with sessions() as session:
        config = channel_config(session, workspace_id, channel, ZONE)

    def cold() -> Any:
        with sessions() as session:
            return build_digest_report(session, config, end=END, now=END)

    cold_ms, (report, cold_median) = _best(cold, repeat)
    # The previous day's run, as run_due_digests would have stored it.
    yesterday = END - timedelta(days=1)
    with sessions() as session:
        previous = build_digest_report(session, config, end=yesterday, now=yesterday)
    with transaction(sessions) as session:
        session.add(DigestRun(
            workspace_id=workspace_id, channel_id=channel, local_date=date(2026, 10, 24),
            scheduled_for=yesterday, window_start=previous.window_start,
            window_end=yesterday, mention_count=previous.total.current,
            series={"key": series_key(config),
                    "days": complete_days(previous.chart, config, yesterday)}))

    def warm() -> Any:
        from bot.services.reporting.digest import _cached_days

        with sessions() as session:
            return build_digest_report(session, config, end=END, now=END,
                                       cached_days=_cached_days(session, config))

    warm_ms, (warm_report, warm_median) = _best(warm, repeat)
    sections = _section_times(sessions, config, repeat)
    assert warm_report.chart == report.chart, "cached chart differs from a full count"
    blocks_ms, _ = _best(lambda: build_digest_blocks(report, "en"), repeat)
    chart_ms, _ = _best(lambda: render_chart_spec(digest_chart(report, "en")),
                       max(1, repeat // 2))
    print(f"[{label}] day of {report.total.current:,} mentions "
          f"(previous day {report.total.previous:,}), {report.open_total:,} open, "
          f"{report.overdue_count:,} overdue, answered {report.responses.answered:,}/"
          f"{report.responses.actionable:,}")
    print(f"[{label}] digest numbers (steady state): {warm_ms:7.1f} ms best, "
          f"{warm_median:7.1f} ms median")
    print(f"[{label}] digest numbers (cold, 14 days counted): {cold_ms:7.1f} ms best, "
          f"{cold_median:7.1f} ms median")
    print(f"[{label}] blocks: {blocks_ms:.1f} ms; chart PNG: {chart_ms:.1f} ms")
    print(f"[{label}] sections (steady state, best each): "
          + ", ".join(f"{name} {ms:.1f}" for name, ms in sections.items()) + " ms")
    figures = (report.total, report.by_network, report.by_sentiment, report.responses,
               report.open_by_status, report.overdue_count, [line.id for line in report.overdue],
               [line.id for line in report.top_priority], report.top_authors,
               [(item.day, sorted(item.counts.items())) for item in report.chart],
               report.open_by_topic)
    print(f"[{label}] figures fingerprint: "
          f"{hashlib.sha256(repr(figures).encode()).hexdigest()[:16]}")


def _section_times(sessions: sessionmaker[Session], config: Any, repeat: int
                   ) -> dict[str, float]:
    """Best time of each part of ``build_digest_report`` (steady state), called one by one
    in one session as the report calls them."""
    from bot.services.reporting import digest_sections as ds
    from bot.services.reporting.digest import _cached_days
    from bot.services.reporting.periods import day_window

    times: dict[str, float] = {}
    with sessions() as session:
        scope = config.scope
        start, end = day_window(END, config.tz)
        previous_start, _ = day_window(start, config.tz)
        cached = _cached_days(session, config)
        watches = ds._watches(session, scope)
        thresholds = {wid: th for wid, (_n, th) in watches.items()}
        day = ds._day_pass(session, scope, thresholds, previous_start, start, end)
        open_now = ds._open(session, scope, END, start, end)
        parts: dict[str, Callable[[], Any]] = {
            "watches": lambda: ds._watches(session, scope),
            "day volumes": lambda: ds._day_pass(session, scope, thresholds, previous_start,
                                                start, end),
            "open work": lambda: ds._open(session, scope, END, start, end),
            "top priority": lambda: ds._top_priority(session, scope, start, end),
            "responses": lambda: ds.response_times(session, scope, start, end,
                                                   open_now.in_window, open_now.elsewhere),
            "top authors": lambda: ds.top_authors(session, scope, start, end, ds.TOP_AUTHORS),
            "waited": lambda: ds._waited(session, scope, watches, day.waited, start, end,
                                         day.alerted_here),
            "chart": lambda: ds.chart_series(session, config, end, cached),
            "spikes": lambda: ds.day_spikes(session, scope, start, end),
            "share of voice": lambda: ds._share_of_voice(session, scope, previous_start,
                                                         start, end),
        }
        for name, action in parts.items():
            times[name], _ = _best(action, repeat)
    return times


def run(url: str, label: str, rows_factory: Callable[[int, list[int], dict[int, int]],
                                                     list[tuple[Any, ...]]],
        repeat: int) -> None:
    """Load the data set at ``url`` and time the digest."""
    migrations.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        workspace_id, watch_ids, thresholds = _setup(sessions)
        began = time.perf_counter()
        rows = rows_factory(workspace_id, watch_ids, thresholds)
        (_load_sqlite if engine.dialect.name == "sqlite" else _load_postgres)(engine, rows)
        print(f"[{label}] loaded {len(rows):,} mentions in {time.perf_counter() - began:.1f}s")
        del rows
        for channel, name in ((CHANNEL, "watch channel"),
                              (ROUTE_CHANNEL, f"route channel ({ROUTED_TOPIC})")):
            _time_digest(sessions, workspace_id, channel, f"{label}] [{name}", repeat)
    finally:
        engine.dispose()


@contextmanager
def scratch_postgres(server_url: str) -> Iterator[str | None]:
    """A throwaway database on the PostgreSQL server at ``server_url`` (its URL), dropped
    afterwards; None, with a line saying why, when the server cannot be reached."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"vigie_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:  # noqa: BLE001  (no server: say so and stop)
        print(f"[postgres] skipped: {type(err).__name__}: {str(err).splitlines()[0]}")
        admin.dispose()
        yield None
        return
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _alternated(label: str, old: Callable[[], Any], new: Callable[[], Any],
                repeat: int) -> None:
    old_result, new_result = old(), new()  # warm-up
    assert old_result == new_result, f"{label}: old and new reads differ"
    times: dict[str, list[float]] = {"old": [], "new": []}
    for _ in range(repeat):
        for name, action in (("old", old), ("new", new)):
            began = time.perf_counter()
            action()
            times[name].append((time.perf_counter() - began) * 1000)
    print(f"{label}: old {min(times['old']):7.1f} ms best {statistics.median(times['old']):7.1f}"
          f" median | new {min(times['new']):7.1f} ms best "
          f"{statistics.median(times['new']):7.1f} median (n={repeat} each, alternated)")


def readers_against(url: str, repeat: int) -> None:
    """Time the long-window volume readers and the overdue id list on an existing database
    (see the module docstring); reads only."""
    from sqlalchemy import func, select

    from bot.services.reporting import queries
    from bot.services.reporting.monthly import _next_month, _previous_month
    from bot.services.reporting.periods import last_days, local_midnight, zone_or_default
    from bot.services.reporting.queries import Scope, open_in_several_watches, scope_slas
    from bot.services.reporting.stats import _buckets
    from storage.models import Mention
    from storage.models_watches import MentionWatch
    from storage.reporting_counts import volume_by_bucket

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    tz = zone_or_default(ZONE)
    with sessions() as session:
        workspace_id = int(session.scalar(select(func.min(Workspace.id))) or 0)
        now = session.scalar(select(func.max(Mention.published_at)).where(
            Mention.workspace_id == workspace_id))
        brand = tuple(sorted(watch_id for watch_id, *_m in scope_slas(
            session, Scope(workspace_id)) if watch_id is not None))
    assert now is not None
    now = now.astimezone(UTC)
    day_end = local_midnight(now.astimezone(tz).date(), tz) + timedelta(hours=9)
    digest_edges = [day_end - timedelta(days=2), day_end - timedelta(days=1), day_end]
    month_first = now.astimezone(tz).date().replace(day=1)
    month_edges = [local_midnight(_previous_month(month_first), tz)]
    day = month_first
    while (moment := local_midnight(day, tz)) < now:
        month_edges.append(moment)
        day = date.fromordinal(day.toordinal() + 1)
    month_edges.append(min(now, local_midnight(_next_month(month_first), tz)))
    cases: list[tuple[str, tuple[int, ...] | None, list[datetime]]] = [
        ("digest, Paris local days", None, digest_edges),
        ("digest, UTC days", None, [now.replace(hour=0, minute=0, second=0, microsecond=0)
                                    - timedelta(days=n) for n in (2, 1, 0)]),
        ("monthly, previous month + days", None, month_edges)]
    for days in (30, 60):
        start, end = last_days(now, days, ZONE)
        cases.append((f"stats {days} days, total", None, [start, end]))
        cases.append((f"stats {days} days, bars", None,
                      [edge for _label, edge in _buckets(start, end, days, ZONE)] + [end]))
    cases.append(("stats 30 days, brand watches", brand, list(last_days(now, 30, ZONE))))
    print(f"[readers] {url.rsplit('/', 1)[-1]}: workspace {workspace_id}, now {now:%Y-%m-%d %H:%M}"
          f" UTC, load {os.getloadavg()[0]:.1f}")
    for label, scope, edges in cases:
        def read(days: bool, scope: tuple[int, ...] | None = scope,
                 edges: list[datetime] = edges) -> Any:
            with sessions() as session:
                return volume_by_bucket(session, workspace_id, scope, edges, days=days)
        _alternated(f"[readers] {label} ({len(edges) - 1} buckets)",
                    lambda read=read: read(False), lambda read=read: read(True), repeat)

    scope = Scope(workspace_id)

    def every_extra_link(session: Session) -> list[int]:
        # open_in_several_watches before: every link beyond the first, competitors' too.
        still_open = select(Mention.id).where(*scope.where(), queries.open_work())
        return sorted(set(session.scalars(select(MentionWatch.mention_id).where(
            MentionWatch.workspace_id == workspace_id, ~MentionWatch.is_first,
            MentionWatch.mention_id.in_(still_open)))))

    def overdue(listed: Callable[[Session], list[int]]) -> tuple[int, int]:
        with sessions() as session:
            several = listed(session)
            late = queries.sla_overdue(scope_slas(session, scope), now, several,
                                       queries.reopened_cases(session, scope))
            count = session.scalar(select(queries.count_if(late)).where(
                *scope.where(), queries.open_work(), Mention.published_at <= now))
            return len(several), int(count or 0)

    with sessions() as session:
        print(f"[readers] overdue id list: {len(every_extra_link(session)):,} ids before, "
              f"{len(open_in_several_watches(session, scope)):,} now; overdue "
              f"{overdue(lambda s: open_in_several_watches(s, scope))[1]:,}")
    _alternated("[readers] digest overdue count (id list + count)",
                lambda: overdue(every_extra_link)[1],
                lambda: overdue(lambda s: open_in_several_watches(s, scope))[1], repeat)
    engine.dispose()


def main() -> None:
    """Run the benchmark on SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--per-day", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--readers-against", metavar="URL",
                        help="time the count readers on this existing database (read only)")
    args = parser.parse_args()
    if args.readers_against:
        readers_against(args.readers_against, args.repeat)
        return

    def rows(workspace_id: int, watch_ids: list[int], thresholds: dict[int, int]
             ) -> list[tuple[Any, ...]]:
        return generate(args.mentions, args.per_day, workspace_id, watch_ids, thresholds)

    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'bench.db'}", "sqlite", rows, args.repeat)
    if not args.sqlite_only:
        with scratch_postgres(args.postgres_url) as url:
            if url is not None:
                run(url, "postgres", rows, args.repeat)


if __name__ == "__main__":
    main()
