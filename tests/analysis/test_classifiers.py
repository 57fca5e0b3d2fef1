import gzip
import json

import pytest

from bot.analysis import classifiers
from bot.analysis.binary_model import BINARY_FORMAT, CARE_DENSE, BinaryLinearModel
from bot.analysis.linear_model import encode_int16
from bot.analysis.pipeline import analyze


def tiny_payload() -> dict[str, object]:
    """A hand-made model: "broken" pushes towards the class, "thanks" away from it."""
    return {
        "format": BINARY_FORMAT,
        "kind": "binary",
        "task": "complaint",
        "lang": "en",
        "config": {"char_min": 2, "char_max": 3, "bigrams": True, "mark_negation": False},
        "intercept": 0.0,
        "dense_weights": [0.0] * (3 + 2 + len(CARE_DENSE)),
        "lexicons": [{"good": 2.0}],
        "word": {
            "vocab": "broken\nthanks",
            "scale": 0.001,
            "idf_scale": 0.001,
            "weights": encode_int16([3000, -3000]),
            "idf": encode_int16([1000, 1000]),
        },
        "char": {"vocab": "", "scale": 1.0, "idf_scale": 1.0, "weights": "", "idf": ""},
    }


def test_a_hand_made_model_scores_as_its_weights_say() -> None:
    model = BinaryLinearModel(tiny_payload())
    # One known word, L2-normalized: the logit is that word's weight.
    assert model.logit("it is broken") == pytest.approx(3.0, abs=1e-4)
    assert model.probability("thanks") < 0.5 < model.probability("broken")
    assert model.probability("nothing known here") == pytest.approx(0.5)


def test_model_loads_from_gzip_bytes() -> None:
    data = gzip.compress(json.dumps(tiny_payload()).encode())
    assert BinaryLinearModel.from_bytes(data).probability("broken") > 0.9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 99}, "unsupported classifier model"),
        ({"kind": "multiclass"}, "unsupported classifier model"),
        ({"dense_weights": [0.0]}, "dense weights"),
    ],
)
def test_malformed_models_are_refused(change: dict[str, object], message: str) -> None:
    payload = tiny_payload() | change
    with pytest.raises(ValueError, match=message):
        BinaryLinearModel(payload)


def test_block_sizes_must_match_the_vocabulary() -> None:
    payload = tiny_payload()
    payload["word"] = dict(payload["word"], weights=encode_int16([1]))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sizes"):
        BinaryLinearModel(payload)


@pytest.mark.parametrize(("task", "lang"), [(t, lang) for t in classifiers.TASKS
                                            for lang in classifiers.MODEL_LANGUAGES[t]])
def test_every_shipped_model_loads(task: classifiers.Task, lang: str) -> None:
    model = classifiers.load_model(task, lang)
    assert model.task == task and model.lang == lang
    assert 0.0 <= model.probability("@brand hello") <= 1.0


def test_models_are_loaded_once_per_process() -> None:
    classifiers.load_classifiers()
    assert classifiers.load_model("complaint", "en") is classifiers.load_model("complaint", "en")


def test_languages_without_a_model_get_none() -> None:
    result = classifiers.classify("@marca mi pedido no ha llegado", "es")
    assert result == classifiers.Classification(complaint=None, question=None)
    assert classifiers.classify("text", None).complaint is None
    assert not classifiers.has_model("complaint", "de")
    with pytest.raises(KeyError, match="no complaint model"):
        classifiers.load_model("complaint", "de")


def test_english_models_tell_a_complaint_from_a_thank_you() -> None:
    complaint = classifiers.classify(
        "@AirlineCo my flight was cancelled and nobody at the desk will help, been waiting 3 hours",
        "en",
    )
    thanks = classifiers.classify("@AirlineCo thank you for a lovely flight, great crew!", "en")
    question = classifiers.classify("@ShopCo do you ship to Canada? how long does it take?", "en")
    assert complaint.complaint is not None and thanks.complaint is not None
    assert complaint.complaint > 0.5 > thanks.complaint
    assert question.question is not None and thanks.question is not None
    assert question.question > thanks.question


def test_french_models_answer_in_french() -> None:
    result = classifiers.classify(
        "@SNCF train annulé, personne ne répond, c'est inadmissible !!! remboursement ?", "fr"
    )
    assert result.complaint is not None and result.question is not None
    assert 0.0 <= result.complaint <= 1.0


def test_the_analysis_carries_the_probabilities() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 5, tzinfo=UTC)
    english = analyze("@ShopCo my order never arrived and support ignores me", now=now)
    assert english.language == "en"
    assert english.complaint_probability == classifiers.probability(
        "complaint", "@ShopCo my order never arrived and support ignores me", "en"
    )
    assert english.question_probability is not None
    german = analyze("@ShopCo meine Bestellung ist nie angekommen und niemand antwortet", now=now)
    assert german.language == "de"
    assert german.complaint_probability is None and german.question_probability is None


def test_one_feature_extraction_gives_the_same_answer_as_two() -> None:
    text = "@ShopCo where is my order 12345? nobody answers!!"
    for lang in ("en", "fr"):
        complaint = classifiers.load_model("complaint", lang)
        question = classifiers.load_model("question", lang)
        assert complaint.feature_key == question.feature_key
        assert classifiers.classify(text, lang) == classifiers.Classification(
            round(complaint.probability(text), 4), round(question.probability(text), 4)
        )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_sentiment_models_features_serve_the_classifiers(lang: str) -> None:
    from bot.analysis.sentiment import load_model as load_sentiment

    sentiment = load_sentiment(lang)
    assert sentiment.feature_key == classifiers.load_model("complaint", lang).feature_key
    text = "@ShopCo toujours pas de remboursement ?! order 12345 never arrived, merci"
    feats = sentiment.features(text)
    dense_before = list(feats.dense)
    shared = classifiers.classify(text, lang, classifiers.SharedFeatures(sentiment.feature_key,
                                                                          feats))
    assert shared == classifiers.classify(text, lang)
    assert feats.dense == dense_before  # the sentiment model's features are left as they were
    # Another model's features are not trusted: the text is read again.
    other = classifiers.SharedFeatures(("xx",), feats)
    assert classifiers.classify(text, lang, other) == shared


def test_a_spanish_mention_has_sentiment_but_stays_not_analysed() -> None:
    # Spanish has a sentiment model now, but no intent rules or complaint/question model:
    # the attention signals must still say so.
    from datetime import UTC, datetime

    now = datetime(2026, 12, 5, tzinfo=UTC)
    spanish = analyze("@ShopCo mi pedido nunca llegó y nadie contesta, qué vergüenza", now=now)
    assert spanish.language == "es"
    assert spanish.complaint_probability is None
    assert not spanish.language_analysed
