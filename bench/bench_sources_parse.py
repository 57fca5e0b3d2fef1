"""Feed parsing speed: the ElementTree fast path against feedparser, on real feeds.

Usage: python bench/bench_sources_parse.py [--seconds 2] [--rounds 30]
Reads the feeds in $VIGIE_SHARED_DATA/feeds (default: <repo>/../shared/data/feeds).
Prints entries/s and documents/s for each parser on the feeds both can read, then for
the production entry point ``parse_feed`` (fast path with tolerant fallback) on every file.
Then splits ``parse_feed`` of bench_ingest.py's 1,000-item feed of tweets into the tree
(ElementTree) and the extraction of the entries from it, next to lxml's tree (with the
fast path's extraction on it) and fastfeedparser when the ``bench`` extra is installed:
minimum and median ms over rounds in which every contender runs once, in turn.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.net.errors import SourceError  # noqa: E402
from bot.sources.feedparse import (  # noqa: E402
    ParsedFeed,
    _NotFastPath,
    _rss_feed,
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


def split_contenders(doc: bytes) -> dict[str, Callable[[], object]]:
    """What ``split`` times on ``doc``, an RSS 2.0 feed; lxml and fastfeedparser if installed."""
    tree = ET.fromstring(doc)  # noqa: S314 - the bench's own feed
    contenders: dict[str, Callable[[], object]] = {
        "parse_feed": lambda: parse_feed(doc),
        "  ElementTree tree": lambda: ET.fromstring(doc),  # noqa: S314
        "  extraction from that tree": lambda: _rss_feed(tree, ""),
    }
    try:
        import fastfeedparser
        from lxml import etree
    except ImportError:
        return contenders

    def lxml_tree() -> object:
        # The safe settings a fast path on lxml would need: no network, DTD or entities.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False, remove_comments=True, remove_pis=True)
        return etree.fromstring(doc, parser)

    lxml_root = lxml_tree()
    contenders["lxml tree (safe parser)"] = lxml_tree
    contenders["  extraction from the lxml tree"] = lambda: _rss_feed(lxml_root, "")  # type: ignore[arg-type]
    contenders["fastfeedparser.parse"] = lambda: fastfeedparser.parse(doc)
    return contenders


def split(rounds: int) -> None:
    """Time each of ``split_contenders`` on bench_ingest.py's 1,000-item feed, in turn."""
    from bench_ingest import build_feed, tweets  # imports SQLAlchemy: only for this part

    contenders = split_contenders(build_feed(tweets(), 1000, "split"))
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, func in contenders.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    print(f"\nbench_ingest.py's 1,000-item feed, {rounds} rounds")
    print(f"{'':38} {'min ms':>12} {'median ms':>10}")
    for name, values in times.items():
        print(f"{name:38} {min(values) * 1000:12.2f} {statistics.median(values) * 1000:10.2f}")


def main() -> None:
    """Run the benchmark and print a small table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--rounds", type=int, default=30, help="rounds of the 1,000-item split")
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
    split(args.rounds)


if __name__ == "__main__":
    main()
