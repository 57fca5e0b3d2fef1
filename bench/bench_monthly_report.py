"""Monthly report build time over 1,000,000 mentions, charts and PDF included; influencers.

Usage: python bench/bench_monthly_report.py [--mentions 1000000] [--per-day 33334]
       [--repeat 3] [--sqlite-only | --postgres-only] [--postgres-url URL]

The data set is bench_digest's generator (one workspace, realistic statuses, sentiments,
priorities, response times, 5,000 authors) with request topics and sentiment scores added,
``--per-day`` mentions a day ending 2026-10-25 09:00 in Paris: with the defaults the report's
month (2026-10) holds about 810,000 of the 1,000,000 mentions, and September the rest.
A few spikes and tracked influencers are added. For SQLite (a temporary file) and PostgreSQL
(a fresh database created and dropped here) it prints, best of --repeat after a warm-up:
- report numbers: every query of the monthly report (``build_monthly_report``);
- influencers: the ranking alone, as `/cm influencers 30d` runs it, and its query plan;
- PDF and HTML: drawing the report (charts included) from its spec;
- total: numbers + PDF, what `/cm report month` costs end to end (the worker draws the PDF).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import bench_digest  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot.reports.monthly import render_html, render_pdf  # noqa: E402
from bot.services.influencers import rank_influencers  # noqa: E402
from bot.services.reporting.monthly import build_monthly_report, report_spec  # noqa: E402
from storage import migrations  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from storage.models_influencers import TrackedInfluencer  # noqa: E402
from storage.models_spikes import Spike  # noqa: E402

MONTH = date(2026, 10, 1)
ZONE = bench_digest.ZONE
NOW = bench_digest.END + timedelta(days=40)  # early December: October is complete
INFLUENCER_QUERY = (
    "SELECT author_id + 0, count(*), sum(engagement) FROM mentions WHERE workspace_id = :w "
    "AND published_at >= :a AND published_at < :b AND author_id IS NOT NULL "
    "GROUP BY author_id + 0")


def rows_factory(count: int, per_day: int) -> Callable[[int, list[int], dict[int, int]],
                                                     list[tuple[Any, ...]]]:
    """bench_digest's rows plus a topic mask (a quarter of mentions have 1-2 topics) and a
    sentiment score."""
    bench_digest.COLUMNS = (*bench_digest.COLUMNS, "topic_mask", "sentiment")  # type: ignore[assignment]

    def rows(workspace_id: int, watch_ids: list[int], thresholds: dict[int, int]
             ) -> list[tuple[Any, ...]]:
        rng = random.Random(11)
        base = bench_digest.generate(count, per_day, workspace_id, watch_ids, thresholds)
        out = []
        for row in base:
            mask = (1 << rng.randrange(6)) | (1 << rng.randrange(6)) if rng.random() < .25 \
                else 0
            out.append((*row, mask, round(rng.uniform(-1, 1), 3)))
        return out

    return rows


def _best(action: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    result = action()  # warm-up
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    times.sort()
    return times[0] * 1000, times[len(times) // 2] * 1000, result


def run(url: str, label: str, rows: Callable[..., list[tuple[Any, ...]]], repeat: int) -> None:
    """Load the data set at ``url`` and time the monthly report."""
    migrations.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        workspace_id, watch_ids, thresholds = bench_digest._setup(sessions)
        began = time.perf_counter()
        data = rows(workspace_id, watch_ids, thresholds)
        loader = bench_digest._load_sqlite if engine.dialect.name == "sqlite" \
            else bench_digest._load_postgres
        loader(engine, data)
        print(f"[{label}] loaded {len(data):,} mentions in {time.perf_counter() - began:.1f}s")
        del data
        with transaction(sessions) as session:
            for day in (3, 11, 19):
                session.add(Spike(workspace_id=workspace_id, watch_id=watch_ids[0],
                                  hour_start=datetime(2026, 10, day, 9, tzinfo=UTC),
                                  kind="volume", total=4000 + day, baseline=1400.0,
                                  negative=2500, negative_share=0.6,
                                  baseline_negative_share=0.3,
                                  summary="app crash after the update (\"crash\", \"login\")"))
            session.add_all([TrackedInfluencer(workspace_id=workspace_id, author_id=author)
                             for author in (1, 42, 4200)])

        def numbers() -> Any:
            with sessions() as session:
                return build_monthly_report(session, workspace_id, MONTH, now=NOW,
                                            timezone=ZONE)

        numbers_best, numbers_median, report = _best(numbers, repeat)
        spec = report_spec(report, "en", "Bench")
        start = report.start

        def ranking() -> Any:
            with sessions() as session:
                return rank_influencers(session, workspace_id, start, report.end, 10)

        rank_best, rank_median, _ranked = _best(ranking, repeat)
        # The data set's last 7 days (about 233,000 mentions with the defaults).
        week_start, week_end = bench_digest.END - timedelta(days=7), bench_digest.END

        def week() -> Any:
            with sessions() as session:
                return rank_influencers(session, workspace_id, week_start, week_end, 10)

        week_best, week_median, _week = _best(week, repeat)
        pdf_best, pdf_median, pdf = _best(lambda: render_pdf(spec), repeat)
        html_best, html_median, page = _best(lambda: render_html(spec), repeat)
        plans = {}
        with engine.connect() as conn:
            sqlite = engine.dialect.name == "sqlite"
            explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            for name, first, last in (("month", report.start, report.end),
                                      ("7 days", week_start, week_end)):
                bounds = [moment.replace(tzinfo=None) if sqlite else moment
                          for moment in (first, last)]
                params = {"w": workspace_id, "a": bounds[0], "b": bounds[1]}
                plans[name] = " | ".join(str(r[-1]).strip() for r in conn.execute(
                    text(explain + INFLUENCER_QUERY), params))
        print(f"[{label}] month {report.month}: {report.total:,} mentions "
              f"(previous {report.previous_total:,}), answered {report.responses.answered:,}/"
              f"{report.responses.actionable:,}, SLA kept {report.sla.on_time:,}/"
              f"{report.sla.answered:,}, {len(report.spikes)} spikes, "
              f"{len(report.influencers)} influencers, {len(report.topics)} topics, "
              f"{len(report.workload)} agents")
        print(f"[{label}] report numbers: {numbers_best:8.1f} ms best, "
              f"{numbers_median:8.1f} ms median")
        print(f"[{label}] influencers (30 days, top 10 + last posts): {rank_best:8.1f} ms best,"
              f" {rank_median:8.1f} ms median")
        print(f"[{label}] influencers (last 7 days): {week_best:8.1f} ms best, "
              f"{week_median:8.1f} ms median")
        print(f"[{label}] PDF ({len(pdf) // 1024} KiB): {pdf_best:8.1f} ms best, "
              f"{pdf_median:8.1f} ms median; HTML ({len(page) // 1024} KiB): "
              f"{html_best:8.1f} ms best, {html_median:8.1f} ms median")
        print(f"[{label}] total, numbers + PDF: {numbers_best + pdf_best:8.1f} ms best")
        for name, plan in plans.items():
            print(f"[{label}] influencer GROUP BY plan ({name}): {plan}")
    finally:
        engine.dispose()


def main() -> None:
    """Run the benchmark on SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--per-day", type=int, default=33_334)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--postgres-url", default=bench_digest.POSTGRES_URL)
    args = parser.parse_args()
    rows = rows_factory(args.mentions, args.per_day)
    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'bench.db'}", "sqlite", rows, args.repeat)
    if not args.sqlite_only:
        with bench_digest.scratch_postgres(args.postgres_url) as url:
            if url is not None:
                run(url, "postgres", rows, args.repeat)


if __name__ == "__main__":
    main()
