"""The training scripts run end to end on tiny data (training-only dependencies)."""

import json
from pathlib import Path

import pytest

from bot.analysis.language import LanguageModel
from bot.analysis.linear_model import LinearSentimentModel
from bot.analysis.training.build_language_model import build

POSITIVE = ["I love it", "great service, thank you", "awesome and helpful team", "so happy"]
NEGATIVE = ["I hate it", "awful service, never again", "broken and useless app", "so sad"]
NEUTRAL = ["the store opens at nine", "new version out today", "meeting at noon", "it is blue"]


def test_train_sentiment_writes_a_loadable_model(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import train_sentiment

    folder = tmp_path / "sentiment" / "eval"
    folder.mkdir(parents=True)
    lines = [f"{label}\t{text} {i}" for i in range(6)
             for label, texts in (("positive", POSITIVE), ("negative", NEGATIVE),
                                  ("neutral", NEUTRAL)) for text in texts]  # fmt: skip
    (folder / "en_tweets_train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "models"
    assert train_sentiment.main(["--data", str(tmp_path), "--lang", "en", "--out", str(out)]) == 0
    model = LinearSentimentModel.from_bytes((out / "sentiment_en.json.gz").read_bytes())
    neg, _, pos = model.probabilities("I love this helpful team")
    assert pos > neg


def test_hyper_parameter_search_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.lexicon import LexiconScorer
    from bot.analysis.training import train_sentiment

    monkeypatch.setattr(train_sentiment, "GRID_C", (0.5, 2.0))
    monkeypatch.setattr(train_sentiment, "GRID_DENSE_SCALE", (1.0,))
    monkeypatch.setattr(train_sentiment, "GRID_MIN_DF_WORD", (1,))
    texts = [f"{t} {i}" for i in range(5) for t in POSITIVE + NEGATIVE + NEUTRAL]
    labels = [
        lab for _ in range(5) for lab in ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4
    ]
    scorer = LexiconScorer(train_sentiment.load_lexicons("en"), "en")
    best = train_sentiment.cross_validate(texts, labels, "en", scorer)
    assert best.c in (0.5, 2.0)


def test_train_sentiment_needs_the_data(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import train_sentiment

    assert train_sentiment.main(["--data", str(tmp_path)]) == 2


def _profile(folder: Path, name: str, words: list[str]) -> None:
    freq: dict[str, int] = {}
    for word in words:
        padded = f" {word} "
        for n in (1, 2, 3):
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n]
                if n == 1 and gram == " ":
                    continue
                freq[gram] = freq.get(gram, 0) + 10
    totals = [sum(v for k, v in freq.items() if len(k) == n) for n in (1, 2, 3)]
    (folder / name).write_text(json.dumps({"freq": freq, "n_words": totals, "name": name}))


def test_build_language_model_from_profiles(tmp_path: Path) -> None:
    _profile(tmp_path, "en", ["the", "and", "with", "thanks", "what", "this"])
    _profile(tmp_path, "fr", ["les", "avec", "merci", "pour", "est", "une"])
    model = LanguageModel(build(tmp_path, languages=("en", "fr")))
    assert model.languages == ("en", "fr")
    en_cost, fr_cost = model.costs(["merci", "pour", "les"])
    assert fr_cost < en_cost
    en_cost, fr_cost = model.costs(["thanks", "with", "the"])
    assert en_cost < fr_cost
