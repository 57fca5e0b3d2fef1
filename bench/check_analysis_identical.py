"""Prove that two versions of the analysis give identical outputs on a large real corpus.

Usage:
    python bench/check_analysis_identical.py dump OUT.jsonl [--repo PATH]
    python bench/check_analysis_identical.py compare A.jsonl B.jsonl

``dump`` imports the analysis of ``--repo`` (default: this checkout) and writes, for every
text of the corpus, every output field: the full ``analyze_many`` result (language,
sentiment, intent, flags, priority, reason, waiting, probabilities, topics), and the steps
on their own (``detect_intent`` with all of its fields, ``detect_topics``, the sentiment
features, ``read_signals``, the content fingerprint). Run it once with the old code
(``--repo`` pointing at main) and once with the new, then ``compare`` the two files: it
prints the number of texts compared and every difference (exit status 1 if any).

Corpus, from $VIGIE_SHARED_DATA (default: <repo>/../shared/data): every text of
sentiment/ (eval/ sets, the raw SemEval/DEFT/sentiment140/VADER/Allociné files) and
intent/ (tsv sets), and every entry of feeds/ (title and text, as the RSS source
normalizes them). Each text is also analysed with a Spanish language hint (other rules)
and once truncated to 140 characters (a cut mid-word, a tweet-length copy).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


def corpus(base: Path) -> list[str]:
    """Every text of the shared data sets, in a fixed order (duplicates kept once)."""
    texts: list[str] = []
    sentiment = base / "sentiment"
    for path in sorted((sentiment / "eval").glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                texts.append(line.split("\t", 1)[1])
    for path in sorted(sentiment.glob("*_text.txt")):
        texts.extend(path.read_text(encoding="utf-8").splitlines())
    for path in sorted(sentiment.glob("vader_*GroundTruth.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t", 2)
            if len(parts) == 3:
                texts.append(parts[2])
    for path in sorted(sentiment.glob("allocine_*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                texts.append(line.split("\t", 1)[1])
    for path in sorted(sentiment.glob("*.csv")):
        with path.open(encoding="latin-1", newline="") as handle:
            texts.extend(row[-1] for row in csv.reader(handle) if row)
    intent = base / "intent"
    for path in sorted([*intent.glob("*.tsv"), *(intent / "eval").glob("*.tsv")]):
        lines = path.read_text(encoding="utf-8").splitlines()
        texts.extend(line.split("\t")[-1] for line in lines[1:] if "\t" in line)
    texts.extend(feed_texts(base / "feeds"))
    return list(dict.fromkeys(t for t in texts if t.strip()))


def feed_texts(folder: Path) -> list[str]:
    """Title and text of every entry of the shared feeds, as the RSS source gives them."""
    from bot.sources.feedparse import parse_feed
    from bot.sources.rss import select_new

    out: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name == "INDEX.tsv":
            continue
        try:
            feed = parse_feed(path.read_bytes(), url="https://example.com/feed.xml",
                              content_type=None)
            mentions, _ = select_new(feed, {}, feed_url="https://example.com/feed.xml",
                                     network="rss", max_entries=10_000)
        except Exception:  # noqa: BLE001, S112 - a malformed feed gives no text
            continue
        for mention in mentions:
            out.extend(t for t in (mention.title, mention.text) if t)
    return out


def _plain(value: object) -> object:
    """``value`` as JSON: dataclasses field by field, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return repr(value)  # every bit
    return value


def dump(out_path: Path, repo: Path) -> None:
    """Analyse the corpus with ``repo``'s code and write one JSON line per text."""
    sys.path.insert(0, str(repo))
    import bot
    from bot.analysis.attention import read_signals
    from bot.analysis.intent import detect_intent
    from bot.analysis.language import detect_language
    from bot.analysis.pipeline import AnalysisInput, analyze_many
    from bot.analysis.sentiment import load_model
    from bot.analysis.topics import detect_topics
    from bot.matching.fingerprint import content_fingerprint

    base = Path(os.environ.get("VIGIE_SHARED_DATA", repo.parent / "shared" / "data"))
    texts = corpus(base)
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    published = now - timedelta(hours=3)
    variants = [(t, None) for t in texts] + [(t, "es") for t in texts[::7]] + [
        (t[:140], None) for t in texts if len(t) > 140]
    inputs = [AnalysisInput(text, hint, followers=(n * 37) % 20_000, verified=n % 11 == 0,
                            engagement=n % 50, published_at=published,
                            addressed=(None, True, False)[n % 3], repeat_contact=n % 13 == 0)
              for n, (text, hint) in enumerate(variants)]
    analyses: list[object] = []
    for start in range(0, len(inputs), 500):
        analyses.extend(analyze_many(inputs[start:start + 500], now=now, watch_weight=1.0))
    with out_path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"repo": str(Path(bot.__file__).parent.parent),
                              "texts": len(inputs)}) + "\n")
        for item, analysis in zip(inputs, analyses, strict=True):
            language = detect_language(item.text, item.lang_hint)
            model = load_model(language)
            record = {
                "text": item.text,
                "hint": item.lang_hint,
                "analysis": _plain(analysis),
                "intent": _plain(detect_intent(item.text)),
                "topics": _plain(detect_topics(item.text)),
                "features": _plain(model.features(item.text)),
                "signals": _plain(read_signals(item.text, language, item.addressed)),
                "fingerprint": content_fingerprint(item.text),
            }
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def compare(a_path: Path, b_path: Path) -> int:
    """Print how many texts were compared and every field that differs; 1 if any."""
    with a_path.open(encoding="utf-8") as a, b_path.open(encoding="utf-8") as b:
        head_a, head_b = json.loads(next(a)), json.loads(next(b))
        print(f"A: {head_a['repo']}  B: {head_b['repo']}")
        compared = differences = 0
        for line_a, line_b in zip(a, b, strict=True):
            ra, rb = json.loads(line_a), json.loads(line_b)
            compared += 1
            for key in sorted(ra.keys() | rb.keys()):
                if ra.get(key) != rb.get(key):
                    differences += 1
                    if differences <= 20:
                        print(f"DIFF {key} on {ra['text'][:80]!r}:\n  A {ra.get(key)}\n"
                              f"  B {rb.get(key)}")
    print(f"{compared} texts compared, {differences} differences")
    return 1 if differences else 0


def main() -> None:
    """Command line: dump or compare."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[1])
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.repo.resolve())
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
