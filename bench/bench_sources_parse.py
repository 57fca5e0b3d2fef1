"""Feed parsing speed: the ElementTree fast path against feedparser, on real feeds.

Usage: python bench/bench_sources_parse.py [--seconds 2]
Reads the feeds in $VIGIE_SHARED_DATA/feeds (default: <repo>/../shared/data/feeds).
Prints entries/s and documents/s for each parser on the feeds both can read, then for
the production entry point ``parse_feed`` (fast path with tolerant fallback) on every file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.net.errors import SourceError  # noqa: E402
from bot.sources.feedparse import (  # noqa: E402
    ParsedFeed,
    _NotFastPath,
    parse_fast,
    parse_feed,
    parse_tolerant,
)
from bot.sources.rss import select_new  # noqa: E402


def feeds_dir() -> Path:
    """Where the shared feed fixtures live."""
    root = os.environ.get("VIGIE_SHARED_DATA")
    base = Path(root) if root else REPO.parent / "shared" / "data"
    return base / "feeds"


def load() -> dict[str, bytes]:
    """Every feed file by name (INDEX.tsv excluded)."""
    folder = feeds_dir()
    if not folder.is_dir():
        raise SystemExit(f"feeds not found in {folder}; set VIGIE_SHARED_DATA")
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "INDEX.tsv"}


def measure(
    parse: Callable[[bytes], ParsedFeed | None], docs: list[bytes], seconds: float
) -> tuple[float, float]:
    """(entries per second, documents per second) over repeated passes on ``docs``."""
    entries = documents = 0
    start = time.perf_counter()
    while True:
        for doc in docs:
            result = parse(doc)
            entries += len(result.entries) if result else 0
            documents += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return entries / elapsed, documents / elapsed


def _safe(parse: Callable[[bytes], ParsedFeed]) -> Callable[[bytes], ParsedFeed | None]:
    def run(doc: bytes) -> ParsedFeed | None:
        try:
            return parse(doc)
        except SourceError:
            return None

    return run


def _full_pipeline(doc: bytes) -> ParsedFeed | None:
    """parse_feed + selection of new entries into FetchedMention objects."""
    try:
        feed = parse_feed(doc, url="https://example.test/feed")
    except SourceError:
        return None
    select_new(feed, {}, feed_url="https://example.test/feed", network="rss", max_entries=10_000)
    return feed


def main() -> None:
    """Run the benchmark and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    files = load()
    fast_ok: list[bytes] = []
    for data in files.values():
        try:
            parse_fast(data)
            fast_ok.append(data)
        except _NotFastPath:
            pass
    total_entries = sum(len(parse_fast(d).entries) for d in fast_ok)
    print(f"{len(files)} files; {len(fast_ok)} take the fast path ({total_entries} entries)")
    rows = [
        ("fast path (ElementTree)", lambda d: parse_fast(d), fast_ok),
        ("feedparser (tolerant)", _safe(parse_tolerant), fast_ok),
        ("parse_feed, all files", _safe(parse_feed), list(files.values())),
        ("parse_feed + select_new, all files", _full_pipeline, list(files.values())),
    ]
    print(f"{'parser':38} {'entries/s':>12} {'docs/s':>10}")
    for name, func, docs in rows:
        per_entry, per_doc = measure(func, docs, args.seconds)
        print(f"{name:38} {per_entry:12,.0f} {per_doc:10,.0f}")


if __name__ == "__main__":
    main()
