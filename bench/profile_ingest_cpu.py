"""A driver for instruction counts (callgrind) of the analysis step and of the whole ingest.

Usage:
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=sys_call_tracing \
        python bench/profile_ingest_cpu.py analysis|ingest [--items 1000]

Both run a warm-up round (models loaded, caches filled, as bench_ingest's unmeasured
round), set the process up as Vigie's worker and bench_ingest do
(``prepare_worker_process``: start-up's objects frozen out of the garbage collector, whose
full collections would otherwise walk them in whichever round they fall), then one
measured round over ``--items`` bench mentions (the tweets of bench_ingest with a new
round prefix). ``analysis``: ``analyze_many`` and the content fingerprint of each text,
what ingest computes per mention. ``ingest``: the feed bytes parsed by the RSS source and
``do_ingest`` into a fresh SQLite file (no HTTP). The measured round alone runs inside
``sys.call_tracing`` (which calls it as it is, no tracer being set), the C function the
options above collect in: callgrind then counts that round's instructions only,
repeatably even on a loaded machine. VIGIE_PROFILE_REPO measures another checkout's code
(main's, for a before figure) with this driver.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

# VIGIE_PROFILE_REPO: another checkout's code to measure (main's, for a before figure).
REPO = Path(os.environ.get("VIGIE_PROFILE_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_ingest import build_feed, prepare, tweets  # noqa: E402

from bot.analysis.pipeline import AnalysisInput, analyze_many, load_models  # noqa: E402
from bot.matching.fingerprint import content_fingerprint  # noqa: E402
from bot.runtime import prepare_worker_process  # noqa: E402
from bot.services.ingest import do_ingest  # noqa: E402
from bot.services.watches import get_watch_by_name  # noqa: E402
from bot.sources.feedparse import parse_feed  # noqa: E402
from bot.sources.rss import select_new  # noqa: E402
from storage.db import transaction  # noqa: E402


def analysis_round(texts: list[str], items: int, round_id: str) -> int:
    """Analyse ``items`` bench mentions as ingest does; the number analysed."""
    body = [f"[{round_id} #{n}] {texts[n % len(texts)]}" for n in range(items)]
    now = datetime.now(UTC)
    analyses = analyze_many([AnalysisInput(t) for t in body], now=now)
    prints = [content_fingerprint(t) for t in body]
    return len(analyses) + 0 * len(prints)


def ingest_round(sessions: object, workspace_id: int, texts: list[str], items: int,
                 round_id: str) -> int:
    """Parse a feed of ``items`` bench mentions and ingest it; the number stored."""
    url = "http://127.0.0.1/feed.xml"
    feed = parse_feed(build_feed(texts, items, round_id), url=url,
                      content_type="application/rss+xml")
    mentions, _ = select_new(feed, {}, feed_url=url, network="rss", max_entries=items)
    with transaction(sessions) as session:  # type: ignore[arg-type]
        watch = get_watch_by_name(session, workspace_id, "news")
        report = do_ingest(session, watch, None, mentions, now=datetime.now(UTC))
    return report.stored


def main() -> None:
    """Run the set-up, the warm-up round and the measured round."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", choices=("analysis", "ingest"))
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args()
    texts = tweets()
    load_models()
    if args.mode == "analysis":
        analysis_round(texts, args.items, "warm")
        prepare_worker_process()
        print(sys.call_tracing(analysis_round, (texts, args.items, "measured")))
        return
    with tempfile.TemporaryDirectory() as tmp:
        sessions, workspace_id = prepare(f"sqlite:///{tmp}/bench.db")
        ingest_round(sessions, workspace_id, texts, args.items, "warm")
        prepare_worker_process()
        print(sys.call_tracing(ingest_round,
                               (sessions, workspace_id, texts, args.items, "measured")))


if __name__ == "__main__":
    main()
