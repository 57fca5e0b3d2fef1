"""Per-mention analysis cost (language + sentiment + classifiers + intent + priority), memory.

Usage: python bench/bench_analysis.py [--repeat 5] [--json]
Reads the eval tweets from $VIGIE_SHARED_DATA/sentiment/eval (default:
<repo>/../shared/data): en_tweets_test, en_sentiment140_test, fr_tweets_val.
Prints:
- model load time (language table, each sentiment model, the complaint and question
  classifiers) and resident memory
  (ru_maxrss) before and after loading;
- per-mention time of ``analyze`` on one core: the first pass (cold per-token caches,
  as for a new process) and the best of --repeat later passes (steady state);
- the same split by step: detect_language, score_sentiment, classify (complaint +
  question), sentiment+classify (the three models scored together from one reading of
  the text, as ``analyze`` does), detect_intent, read_signals (language-independent
  signals), detect_topics, score_priority;
- language-detection accuracy per file (every line of an en_* file is English, of fr_* French).
Budget (issue 4): under 0.3 ms per tweet-length mention.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FILES = ("en_tweets_test.tsv", "en_sentiment140_test.tsv", "fr_tweets_val.tsv")
BUDGET_MS = 0.3


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def eval_dir() -> Path:
    """The folder of the labelled eval files."""
    root = os.environ.get("VIGIE_SHARED_DATA")
    base = Path(root) if root else REPO.parent / "shared" / "data"
    return base / "sentiment" / "eval"


def load_files(folder: Path) -> dict[str, list[str]]:
    """The texts of each eval file (labels dropped)."""
    out: dict[str, list[str]] = {}
    for name in FILES:
        path = folder / name
        if not path.exists():
            sys.exit(f"missing {path}: set VIGIE_SHARED_DATA")
        lines = path.read_text(encoding="utf-8").splitlines()
        out[name] = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    return out


def per_call_ms(fn: Callable[[str], object], texts: Sequence[str]) -> float:
    """Mean milliseconds per call of ``fn`` over ``texts``."""
    start = time.perf_counter()
    for text in texts:
        fn(text)
    return (time.perf_counter() - start) * 1000 / len(texts)


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    files = load_files(eval_dir())
    texts = [t for items in files.values() for t in items]
    rss_start = rss_mb()
    started = time.perf_counter()
    from bot.analysis import classifiers, language, sentiment
    from bot.analysis.attention import read_signals
    from bot.analysis.intent import detect_intent
    from bot.analysis.joint import JointScorer
    from bot.analysis.pipeline import analyze
    from bot.analysis.priority import score_priority
    from bot.analysis.topics import detect_topics

    import_s = time.perf_counter() - started
    started = time.perf_counter()
    language.load_language_model()
    lang_load_s = time.perf_counter() - started
    model_load_s = {}
    for lang in sentiment.SENTIMENT_LANGUAGES:
        started = time.perf_counter()
        sentiment.load_model(lang)
        model_load_s[lang] = time.perf_counter() - started
    started = time.perf_counter()
    classifiers.load_classifiers()
    classifiers_load_s = time.perf_counter() - started
    rss_loaded = rss_mb()

    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    published = now - timedelta(minutes=30)

    def full(text: str) -> object:
        return analyze(
            text,
            lang_hint=None,
            followers=48_000,
            verified=False,
            engagement=12,
            published_at=published,
            now=now,
        )

    cold_ms = per_call_ms(full, texts)
    warm_ms = min(per_call_ms(full, texts) for _ in range(args.repeat))
    langs = [language.detect_language(t) for t in texts]
    pairs = list(zip(texts, langs, strict=True))

    def best(fn: Callable[[str], object], items: Sequence[str]) -> float:
        return min(per_call_ms(fn, items) for _ in range(args.repeat))

    def sentiment_ms() -> float:
        start = time.perf_counter()
        for text, lang in pairs:
            sentiment.score_sentiment(text, lang)
        return (time.perf_counter() - start) * 1000 / len(pairs)

    def classify_ms() -> float:
        start = time.perf_counter()
        for text, lang in pairs:
            classifiers.classify(text, lang)
        return (time.perf_counter() - start) * 1000 / len(pairs)

    scorers = {lang: JointScorer(sentiment.load_model(lang), classifiers.request_models(
        lang, sentiment.load_model(lang).feature_key)) for lang in set(langs)}

    def joint_ms() -> float:
        start = time.perf_counter()
        for text, lang in pairs:
            scorer = scorers[lang]
            scorer.score(text, scorer.sentiment.features(text))
        return (time.perf_counter() - start) * 1000 / len(pairs)

    steps = {
        "detect_language": best(language.detect_language, texts),
        "score_sentiment": min(sentiment_ms() for _ in range(args.repeat)),
        "classify": min(classify_ms() for _ in range(args.repeat)),
        "sentiment+classify": min(joint_ms() for _ in range(args.repeat)),
        "detect_intent": best(detect_intent, texts),
        "read_signals": best(lambda t: read_signals(t, "en"), texts),
        "detect_topics": best(detect_topics, texts),
        "score_priority": best(
            lambda _t: score_priority(
                intent="complaint",
                sentiment_score=-0.6,
                sentiment_label="negative",
                followers=48_000,
                engagement=12,
                published_at=published,
                now=now,
            ),
            texts,
        ),
    }
    accuracy = {
        name: round(sum(language.detect_language(t) == name[:2] for t in items) / len(items), 4)
        for name, items in files.items()
    }
    result = {
        "mentions": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "import_s": round(import_s, 3),
        "language_model_load_s": round(lang_load_s, 3),
        "sentiment_model_load_s": {k: round(v, 3) for k, v in model_load_s.items()},
        "classifiers_load_s": round(classifiers_load_s, 3),
        "rss_before_models_mb": round(rss_start, 1),
        "rss_after_models_mb": round(rss_loaded, 1),
        "rss_peak_mb": round(rss_mb(), 1),
        "analyze_ms_cold": round(cold_ms, 4),
        "analyze_ms_warm": round(warm_ms, 4),
        "steps_ms_warm": {k: round(v, 4) for k, v in steps.items()},
        "budget_ms": BUDGET_MS,
        "within_budget": warm_ms < BUDGET_MS,
        "language_accuracy": accuracy,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(texts)} mentions, {result['mean_chars']} chars on average")
    print(f"import bot.analysis: {import_s * 1000:.0f} ms")
    print(f"load language table: {lang_load_s * 1000:.0f} ms")
    for lang, seconds in model_load_s.items():
        print(f"load sentiment model {lang}: {seconds * 1000:.0f} ms")
    print(f"load complaint + question classifiers (en, fr): {classifiers_load_s * 1000:.0f} ms")
    print(f"resident memory: {rss_start:.1f} MB before models, {rss_loaded:.1f} MB after")
    print(f"analyze: {cold_ms:.4f} ms/mention first pass, {warm_ms:.4f} ms/mention steady")
    for name, ms in steps.items():
        print(f"  {name:<18} {ms:.4f} ms")
    for name, share in accuracy.items():
        print(f"language detected right: {share:.2%} of {name}")
    verdict = "within" if warm_ms < BUDGET_MS else "OVER"
    print(f"budget {BUDGET_MS} ms/mention: {verdict} (peak RSS {rss_mb():.1f} MB)")


if __name__ == "__main__":
    main()
