"""Quality bars of issue 4, on held-out files (the models never saw them)."""

from pathlib import Path

import pytest

from bot.analysis.evaluate import evaluate_file

BARS = [
    ("fr_tweets_val.tsv", 0.62),
    ("fr_reviews_dev.tsv", 0.70),
    ("en_tweets_test.tsv", 0.60),
    ("en_sentiment140_test.tsv", 0.72),
]


@pytest.mark.parametrize(("name", "bar"), BARS)
def test_macro_f1_bar(sentiment_eval_dir: Path, name: str, bar: float) -> None:
    report = evaluate_file(sentiment_eval_dir / name)
    assert report.macro_f1 >= bar, f"{name}: macro-F1 {report.macro_f1:.4f} < {bar}"
