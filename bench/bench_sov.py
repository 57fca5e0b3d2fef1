"""Share of voice over 30 days at 1,000,000 mentions (target: under 200 ms).

Usage: python bench/bench_sov.py [--mentions 1000000] [--days 60] [--repeat 5]
       [--sqlite-only | --postgres-only] [--postgres-url URL] [--keep-postgres NAME]

The table holds --days days of mentions (the data set of bench_digest.py, spread evenly,
with each author's followers as reach) in four watches: the brand's ``w0`` and the
competitors ``w1`` and ``w2`` in one group, and ``elsewhere``; a tenth of the brand's
mentions are also linked to ``w1`` (a post naming both). For SQLite (a temporary file) and
PostgreSQL (a fresh database, dropped after) it prints, best and median of --repeat runs
after a warm-up: share of voice of the group over the last 30 local days against the 30
before, on whole hours and on a window ending 37 minutes into an hour (fringes read from the
links), and checks it against a direct count over the links.

``--keep-postgres NAME`` loads into the database NAME on the server instead (created when
missing) and keeps it: a later run with the same NAME finds the data set there, upgrades
its schema and times again without loading (building 1,000,000 rows takes minutes).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_digest  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from bot.services import competitors  # noqa: E402
from bot.services.actors import CLI  # noqa: E402
from bot.services.reporting.share_of_voice import get_share_of_voice  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from storage.models import Watch  # noqa: E402

END = bench_digest.END


def _direct(engine: Any, watch_ids: list[int], start: Any, end: Any) -> dict[int, tuple]:
    """(mentions, reach, positive, negative) per watch, by a full pass over the links."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT watch_id, count(*), sum(reach), "
            "sum(CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) FROM mention_watches "
            "WHERE watch_id IN (" + ", ".join(str(i) for i in watch_ids) + ") "
            "AND published_at >= :start AND published_at < :end GROUP BY watch_id"),
            {"start": start, "end": end}).all()
    return {int(r[0]): tuple(int(v or 0) for v in r[1:]) for r in rows}


def _cpu(action: Any, repeat: int) -> float:
    """Best CPU time of this process over ``repeat`` runs, in ms: a loaded machine (other
    processes on the cores) stretches wall time, not the CPU a run needs."""
    times = []
    for _ in range(repeat):
        began = time.process_time()
        action()
        times.append(time.process_time() - began)
    return min(times) * 1000


def _loaded(sessions: Any) -> tuple[int, list[int]] | None:
    """The workspace and watches of a data set an earlier run kept, if any."""
    with sessions() as session:
        watches = session.query(Watch).filter(Watch.name.in_(["w0", "w1", "w2", "elsewhere"]))
        by_name = {w.name: w for w in watches}
    if len(by_name) < 4:
        return None
    return by_name["w0"].workspace_id, [by_name[n].id for n in ("w0", "w1", "w2")]


def run(url: str, label: str, count: int, days: int, repeat: int) -> None:
    """Load the data set at ``url`` (unless an earlier run kept it there) and time share of
    voice."""
    migrations.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        kept = _loaded(sessions)
        if kept is not None:
            workspace_id, watch_ids = kept
            print(f"[{label}] reusing the data set kept in the database")
        else:
            workspace_id, watch_ids = _load(engine, sessions, label, count, days)
        _time(engine, sessions, label, workspace_id, watch_ids, repeat)
    finally:
        engine.dispose()


def _load(engine: Any, sessions: Any, label: str, count: int, days: int
          ) -> tuple[int, list[int]]:
    """Build the data set; returns the workspace and the watches' ids."""
    workspace_id, watch_ids, thresholds = bench_digest._setup(sessions)
    with transaction(sessions) as session:
        for watch in session.query(Watch).filter(Watch.id.in_(watch_ids[1:])):
            watch.kind = "competitor"
    competitors.do_create_group(sessions, workspace_id, CLI, name="acme-vs",
                                watch_names=["w0", "w1", "w2"])
    began = time.perf_counter()
    rows = bench_digest.generate(count, count // days, workspace_id, watch_ids, thresholds)
    # The followers bench_digest gives its authors (ids 1..AUTHORS), as each post's reach.
    followers = [0] + [int(random.Random(i).paretovariate(1) * 100)
                       for i in range(bench_digest.AUTHORS)]
    rows = [(*row, followers[row[2]]) for row in rows]
    columns = bench_digest.COLUMNS
    # bench_digest's loaders insert its COLUMNS: the reach column is added for this load.
    bench_digest.COLUMNS = (*columns, "reach")  # type: ignore[assignment]
    try:
        (bench_digest._load_sqlite if engine.dialect.name == "sqlite"
         else bench_digest._load_postgres)(engine, rows)
    finally:
        bench_digest.COLUMNS = columns
    del rows
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO mention_watches (workspace_id, mention_id, watch_id, is_first, "
            "network, sentiment, published_at, priority, alerted, created_at, reach) "
            "SELECT workspace_id, mention_id, :w1, false, network, sentiment, published_at, "
            "priority, false, created_at, reach FROM mention_watches "
            "WHERE watch_id = :w0 AND mention_id % 10 = 0"),
            {"w0": watch_ids[0], "w1": watch_ids[1]})
        conn.execute(text("ANALYZE"))
    print(f"[{label}] loaded {count:,} mentions over {days} days "
          f"in {time.perf_counter() - began:.1f}s")
    return workspace_id, watch_ids


def _time(engine: Any, sessions: Any, label: str, workspace_id: int, watch_ids: list[int],
          repeat: int) -> None:
    """Time share of voice over 30 days and check it against the links."""
    for name, now in (("whole hours", END), ("fringes", END + timedelta(minutes=37))):
        def once(now: Any = now) -> Any:
            return get_share_of_voice(sessions, workspace_id, CLI, period="30d", now=now)

        best, (result, median) = bench_digest._best(once, repeat)
        cpu = _cpu(once, repeat)
        (report,) = result[2]
        expected = _direct(engine, watch_ids, report.start, report.end)
        for member, watch_id in zip(report.members, watch_ids, strict=True):
            got = (member.current.mentions, member.current.reach,
                   member.current.positive, member.current.negative)
            assert got == expected.get(watch_id, (0, 0, 0, 0)), (member.watch, got)
        shares = ", ".join(f"{m.watch} {m.share['mentions']:.1%}" for m in report.members)
        print(f"[{label}] share of voice, 30 days ({name}, {report.total.mentions:,} "
              f"links; {shares}): {best:7.1f} ms best, {median:7.1f} ms median wall; "
              f"{cpu:7.1f} ms best CPU (this process, client and SQLite; PostgreSQL's "
              f"own work is in the wall time)")


def _kept_postgres(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server, created when missing."""
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"--keep-postgres: {name!r} is not a plain database name")
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                           {"n": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    """Run the benchmark on SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--postgres-url", default=bench_digest.POSTGRES_URL)
    parser.add_argument("--keep-postgres", metavar="NAME",
                        help="load into (or reuse) this database and keep it")
    args = parser.parse_args()
    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'bench.db'}", "sqlite", args.mentions, args.days,
                args.repeat)
    if not args.sqlite_only and args.keep_postgres:
        run(_kept_postgres(args.postgres_url, args.keep_postgres), "postgres", args.mentions,
            args.days, args.repeat)
    elif not args.sqlite_only:
        with bench_digest.scratch_postgres(args.postgres_url) as url:
            if url is not None:
                run(url, "postgres", args.mentions, args.days, args.repeat)


if __name__ == "__main__":
    main()
