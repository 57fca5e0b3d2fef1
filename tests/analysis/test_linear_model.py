import gzip
import json

import pytest

from bot.analysis.linear_model import (
    CLASSES,
    MODEL_FORMAT,
    LinearSentimentModel,
    decode_int16,
    encode_int16,
)


def tiny_payload() -> dict[str, object]:
    """A hand-made model: "good" pushes positive, "bad" negative."""
    return {
        "format": MODEL_FORMAT,
        "lang": "en",
        "classes": list(CLASSES),
        "config": {"char_min": 2, "char_max": 3, "bigrams": True, "mark_negation": False},
        "intercept": [0.0, 0.1, 0.0],
        "dense_weights": [[0.0, 0.0, 0.0]] * 5,
        "lexicons": [{"good": 2.0}],
        "word": {
            "vocab": "good\nbad",
            "scale": 0.001,
            "idf_scale": 0.001,
            "weights": encode_int16([-2000, 0, 2000, 2000, 0, -2000]),
            "idf": encode_int16([1000, 1000]),
        },
        "char": {"vocab": "", "scale": 1.0, "idf_scale": 1.0, "weights": "", "idf": ""},
    }


def test_int16_round_trip() -> None:
    values = [-32768, -1, 0, 1, 32767]
    assert list(decode_int16(encode_int16(values))) == values


def test_inference_follows_the_weights() -> None:
    data = gzip.compress(json.dumps(tiny_payload()).encode())
    model = LinearSentimentModel.from_bytes(data)
    neg, neu, pos = model.probabilities("really good")
    assert pos > neu > neg
    assert sum(model.probabilities("bad")) == pytest.approx(1.0)
    assert model.probabilities("bad")[0] > 0.5
    assert model.probabilities("nothing known") == pytest.approx(model.probabilities("zzz"))


def test_rejects_other_formats_and_mismatched_blocks() -> None:
    payload = tiny_payload()
    payload["format"] = 99
    with pytest.raises(ValueError, match="format"):
        LinearSentimentModel(payload)
    payload = tiny_payload()
    payload["word"] = dict(payload["word"], vocab="good")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sizes"):
        LinearSentimentModel(payload)


def test_packed_sums_round_trip() -> None:
    from bot.analysis.linear_model import _pack, unpack_sums

    values = [(-1.25, 0.5, 3.0, 4.0), (0.75, -0.5, -2.0, 1.0), (0.0, 0.0, 0.0, 9.0)]
    total = sum(_pack(v) for v in values)
    assert unpack_sums(total) == pytest.approx((-0.5, 0.0, 1.0, 14.0), abs=1e-5)


def test_warming_the_char_caches_together_gives_each_models_own_sums() -> None:
    """A token cut into n-grams once for the sentiment, complaint and question models sums
    to what each model computes alone."""
    from bot.analysis import classifiers, sentiment
    from bot.analysis.features import char_ngrams
    from bot.analysis.linear_model import warm_char_caches

    models = [
        sentiment.load_model("en"),
        classifiers.load_model("complaint", "en"),
        classifiers.load_model("question", "en"),
    ]
    tokens = ["zqxunseen", "refund", "zqxunseen", "déjà", ":-)", "@user"]
    for model in models:
        for token in set(tokens):
            model._char_cache.pop(token, None)
    warm_char_caches(models, tokens)
    for model in models:
        for token in tokens:
            grams = char_ngrams(token, model.config.char_min, model.config.char_max)
            alone = sum(filter(None, map(model.chars.packed.get, grams)))
            assert model._char_cache[token] == alone


def test_models_cutting_tokens_differently_are_not_warmed_together() -> None:
    from dataclasses import replace

    from bot.analysis import sentiment
    from bot.analysis.linear_model import warm_char_caches

    model = sentiment.load_model("en")
    other = LinearSentimentModel.__new__(LinearSentimentModel)
    other.config = replace(model.config, char_max=model.config.char_max + 1)
    other.chars = model.chars
    other._char_cache = {}
    with pytest.raises(ValueError, match="different character n-grams"):
        warm_char_caches([model, other], ["word"])
