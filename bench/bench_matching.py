"""Watch matching speed: 20 watch queries against 10,000 real mention texts.

Usage: python bench/bench_matching.py [--texts 10000] [--repeat 3]
Reads tweet-like texts from $VIGIE_SHARED_DATA/sentiment/eval/*.tsv (default:
<repo>/../shared/data), falling back to generated text when the data is absent.
Prints, best of --repeat runs:
- prepare: mentions folded and tokenized per second (once per mention);
- match: (mention, watch) evaluations per second on prepared mentions;
- end to end: mentions per second through prepare + all 20 watches;
- parse: watch queries parsed (and compiled) per second, cache bypassed;
- content_fingerprint and story_key per second (the other per-mention dedupe costs).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.matching.fingerprint import content_fingerprint, story_key  # noqa: E402
from bot.matching.query import MatchInput, PreparedText, parse_query, prepare  # noqa: E402

WATCHES = [
    "vigie",
    "vigie bug OR panne OR crash",
    '"free trial" -spam',
    "refund* OR rembours*",
    "#vigie OR @vigie",
    "kindle lang:en",
    "(apple OR iphone) -android",
    'lang:fr (écologie OR "développement durable")',
    "love OR hate OR great source:x",
    "trump OR obama OR clinton",
    "l'appli -from:spambot",
    "(amazon OR ebay) (delivery OR livraison)",
    '"customer service" OR "service client"',
    "microsoft OR google OR facebook",
    "game* -(free OR giveaway)",
    "#news source:mastodon",
    '"the best" lang:en -source:reddit',
    "météo OR climat OR biodiversité",
    "c++ OR python OR javascript",
    "from:vigie OR from:vigie_app",
]

NETWORKS = ["x", "mastodon", "bluesky", "reddit", "hn", "rss"]
LANGUAGES = ["en", "fr", "en", "es", None]


def load_texts(count: int) -> list[str]:
    """Real short texts from the shared data, cycled up to ``count``; synthetic if absent."""
    root = Path(os.environ.get("VIGIE_SHARED_DATA", REPO.parent / "shared" / "data"))
    texts: list[str] = []
    for path in sorted((root / "sentiment" / "eval").glob("*.tsv")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            label, _, text = line.partition("\t")
            if text and not label.replace(".", "").lstrip("-").isdigit():
                texts.append(text)
    if not texts:
        rng = random.Random(7)
        vocab = "vigie bug panne la appli est super the best free trial refund love #vigie"
        words = [*vocab.split(), "@vigie", "c'est", "élève", "https://vigie.app/x"]
        texts = [" ".join(rng.choices(words, k=rng.randint(5, 30))) for _ in range(2000)]
    return [texts[i % len(texts)] for i in range(count)]


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """Fastest wall time of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    texts = load_texts(args.texts)
    rng = random.Random(42)
    items = [
        MatchInput(
            text=text,
            author_handle=rng.choice(["vigie", "alice", "spambot", "bob@mastodon.social"]),
            language=rng.choice(LANGUAGES),
            network=rng.choice(NETWORKS),
        )
        for text in texts
    ]
    queries = [parse_query(w) for w in WATCHES]
    prepare("warm up the tokenizer tables")

    def run_prepare() -> list[PreparedText]:
        return [
            prepare(i.text, author_handle=i.author_handle, language=i.language, network=i.network)
            for i in items
        ]

    prepared = run_prepare()
    hits = 0

    def run_match() -> None:
        nonlocal hits
        hits = 0
        for p in prepared:
            for q in queries:
                if q.matches(p):
                    hits += 1

    def run_end_to_end() -> None:
        for i in items:
            fresh = MatchInput(i.text, None, i.author_handle, i.language, i.network)
            for q in queries:
                q.matches(fresh)

    n = len(items)
    pairs = n * len(queries)
    t_prepare = best_of(args.repeat, run_prepare)
    t_match = best_of(args.repeat, run_match)
    t_e2e = best_of(args.repeat, run_end_to_end)
    # parse_query caches by text: a counter makes every text new.
    serial = iter(range(10**9))
    t_parse = best_of(
        args.repeat, lambda: [parse_query(f"{w} w{next(serial)}") for w in WATCHES * 50]
    )
    t_fp = best_of(args.repeat, lambda: [content_fingerprint(t) for t in texts])
    urls = [f"https://www.example.com/post/{k}?utm_source=x&id={k}#c" for k in range(n)]
    t_story = best_of(args.repeat, lambda: [story_key(u) for u in urls])

    print(f"texts: {n}, watches: {len(queries)}, matches found: {hits}")
    print(f"prepare:      {n / t_prepare:>12,.0f} mentions/s  ({t_prepare / n * 1e6:.1f} µs each)")
    print(f"match:        {pairs / t_match:>12,.0f} (mention, watch) pairs/s")
    print(
        f"end to end:   {n / t_e2e:>12,.0f} mentions/s through 20 watches "
        f"({t_e2e / n * 1e6:.1f} µs each)"
    )
    print(f"parse:        {len(WATCHES) * 50 / t_parse:>12,.0f} queries/s")
    print(f"fingerprint:  {n / t_fp:>12,.0f} texts/s")
    print(f"story_key:    {n / t_story:>12,.0f} urls/s")


if __name__ == "__main__":
    main()
