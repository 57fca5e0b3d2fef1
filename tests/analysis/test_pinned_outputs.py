"""The analysis gives the same answers, to the bit, as when its outputs were pinned.

What speeds the inference up must not change what it says: on a sample of real tweets and
reviews (every STEP-th line of the files in SAMPLE), the model probabilities (sentiment,
complaint, question) stay within 1e-9 of the pinned ones and everything else ``analyze``
returns (language, labels, intent flags, priority and its reason, topics) and the content
fingerprint and story key stay equal.

The pinned outputs belong to the shipped model files, whose hashes they record. A retrained
model changes them on purpose: then write them again, after checking the change is the
intended one::

    python -m tests.analysis.test_pinned_outputs --write
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.analysis import classifiers, sentiment
from bot.analysis.language import detect_language
from bot.analysis.pipeline import AnalysisInput, analyze, analyze_many
from bot.analysis.text import extract_urls
from bot.matching.fingerprint import content_fingerprint, story_key_for

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
PINNED = DATA / "analysis" / "pinned_outputs.json"
MODELS = REPO / "bot" / "analysis" / "models"
SAMPLE = {
    "sentiment/eval/en_tweets_test.tsv": 8,
    "sentiment/eval/en_sentiment140_test.tsv": 6,
    "sentiment/eval/fr_tweets_val.tsv": 5,
    "sentiment/eval/fr_reviews_dev.tsv": 10,
    "intent/eval/attention_en_dev.tsv": 4,
    "topics/topics_dev_twcs_en.tsv": 4,
}
"""File (under tests/data) -> every how many lines is taken."""
TOLERANCE = 1e-9
DIGITS = 12
"""Probabilities are pinned rounded to this many decimals (well inside ``TOLERANCE``)."""
FIELDS = ("file", "line", "language", "probabilities", "analysis", "fingerprint", "story_key")
"""What is pinned per text, in the order of each pinned row (a list, to stay small)."""
NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


def sample() -> list[tuple[str, int, str]]:
    """(file, line number, text) of every sampled line (LABEL<TAB>TEXT; # lines skipped)."""
    out = []
    for name, step in SAMPLE.items():
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if number % step == 0 and "\t" in line and not line.startswith("#"):
                out.append((name, number, line.split("\t", 1)[1]))
    return out


def model_hashes() -> dict[str, str]:
    """SHA-256 of every shipped model file."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(MODELS.glob("*.json.gz"))
    }


def _item(index: int, text: str) -> AnalysisInput:
    """The index-th text in its context (varied: reach, age, addressing, repeat contact)."""
    return AnalysisInput(
        text=text,
        followers=(None, 120, 48_000)[index % 3],
        verified=index % 7 == 0,
        engagement=index % 13,
        published_at=NOW - timedelta(minutes=5 + 37 * (index % 5)),
        addressed=(None, True, False)[index % 3],
        repeat_contact=index % 11 == 0,
    )


def outputs(text: str, index: int) -> dict[str, Any]:
    """Everything pinned for one text."""
    language = detect_language(text)
    probabilities = [round(p, DIGITS) for p in sentiment.load_model(language).probabilities(text)]
    for task in classifiers.TASKS:
        if classifiers.has_model(task, language):
            assert language is not None
            model = classifiers.load_model(task, language)
            probabilities.append(round(model.probability(text), DIGITS))
    (analysis,) = analyze_many([_item(index, text)], now=NOW)
    return {
        "language": language,
        "probabilities": probabilities,
        "analysis": list(asdict(analysis).values()),
        "fingerprint": content_fingerprint(text),
        "story_key": story_key_for(extract_urls(text), None),
    }


def compute() -> list[list[Any]]:
    """The outputs of every sampled text, with where it comes from, as ``FIELDS`` rows."""
    rows = []
    for index, (name, number, text) in enumerate(sample()):
        found = {"file": name, "line": number, **outputs(text, index)}
        rows.append([found[field] for field in FIELDS])
    return rows


def _differences(expected: Any, actual: Any, where: str) -> list[str]:
    if isinstance(expected, float) and isinstance(actual, float):
        # Both sides rounded to DIGITS: a difference of one last digit is within TOLERANCE.
        return (
            []
            if math.isclose(expected, actual, rel_tol=0, abs_tol=TOLERANCE)
            else [f"{where}: {expected!r} -> {actual!r}"]
        )
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{where}: keys {sorted(expected)} -> {sorted(actual)}"]
        return [d for k in expected for d in _differences(expected[k], actual[k], f"{where}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in _differences(e, a, f"{where}[{i}]")
        ]
    return [] if expected == actual else [f"{where}: {expected!r} -> {actual!r}"]


def _json_ready(value: Any) -> Any:
    """Tuples as lists, as they come back from JSON."""
    return json.loads(json.dumps(value))


def test_the_shipped_models_are_the_pinned_ones() -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    assert pinned["models"] == model_hashes(), (
        "a model file changed since the outputs were pinned: check the change is intended, "
        "then run `python -m tests.analysis.test_pinned_outputs --write`"
    )


def test_outputs_are_the_pinned_ones() -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))
    actual = _json_ready(compute())
    assert len(actual) == len(pinned["items"]) > 300
    differences = _differences(pinned["items"], actual, "items")
    assert differences == [], f"{len(differences)} differences, first: {differences[:10]}"


def test_a_batch_says_what_one_at_a_time_says() -> None:
    items = [_item(i, text) for i, (_, _, text) in enumerate(sample())]
    for item, result in zip(items, analyze_many(items, now=NOW), strict=True):
        assert result == analyze_many([item], now=NOW)[0]
        if item.addressed is None and not item.repeat_contact:
            assert result == analyze(
                item.text,
                followers=item.followers,
                verified=item.verified,
                engagement=item.engagement,
                published_at=item.published_at,
                now=NOW,
            )


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.analysis.test_pinned_outputs --write")
    PINNED.parent.mkdir(exist_ok=True)
    payload = {"models": model_hashes(), "fields": FIELDS, "items": compute()}
    lines = [
        json.dumps(row, ensure_ascii=False, separators=(",", ":")) for row in payload.pop("items")
    ]
    head = json.dumps(payload, separators=(",", ":"))[:-1]
    PINNED.write_text(head + ',"items":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    print(f"wrote {len(lines)} pinned outputs to {PINNED.relative_to(REPO)}")
