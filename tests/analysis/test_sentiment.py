import pytest

from bot.analysis.sentiment import (
    SENTIMENT_LANGUAGES,
    LinearSentimentClassifier,
    Sentiment,
    SentimentClassifier,
    load_model,
    model_language,
    score_sentiment,
    sentiment_from_probabilities,
)


@pytest.mark.parametrize(
    ("text", "lang", "label"),
    [
        ("I love this, the support team was amazing, thank you so much! 😍", "en", "positive"),
        ("Worst service ever. My order never arrived and nobody answers. Awful.", "en", "negative"),
        ("Merci beaucoup, le service client est génial, je suis ravi !", "fr", "positive"),
        ("Très déçu, colis jamais reçu, service client nul et injoignable.", "fr", "negative"),
    ],
)
def test_clear_cases(text: str, lang: str, label: str) -> None:
    result = score_sentiment(text, lang)
    assert result.label == label
    assert (result.score > 0) == (label == "positive")


def test_negation_turns_praise_negative() -> None:
    assert score_sentiment("This is not good at all, not happy", "en").score < 0


def test_score_is_bounded_and_label_valid() -> None:
    for text in ["", "ok", "!!!", "😡😡😡", "a" * 5000]:
        result = score_sentiment(text, "en")
        assert -1.0 <= result.score <= 1.0
        assert result.label in ("negative", "neutral", "positive")


def test_unsupported_language_uses_the_fallback_model() -> None:
    assert model_language("it") == "en"
    assert model_language(None) == "en"
    assert load_model("it") is load_model("en")
    assert score_sentiment("Grazie 😍👍", "it").label == "positive"


@pytest.mark.parametrize(
    ("lang", "positive", "negative"),
    [
        ("es", "Me encanta, muchas gracias 😍", "Qué asco de servicio, nunca más 😡"),
        ("de", "Super, vielen Dank, ich liebe es 😍", "Schlechter Service, nie wieder 😡"),
        ("pt", "Adorei, muito obrigado 😍", "Péssimo atendimento, nunca mais 😡"),
    ],
)
def test_spanish_german_portuguese_have_their_own_models(
    lang: str, positive: str, negative: str
) -> None:
    assert model_language(lang) == lang and load_model(lang).lang == lang
    assert score_sentiment(positive, lang).score > score_sentiment(negative, lang).score


def test_models_load_once_per_language() -> None:
    for lang in SENTIMENT_LANGUAGES:
        assert load_model(lang) is load_model(lang)
        assert load_model(lang).lang == lang


def test_sentiment_validates() -> None:
    with pytest.raises(ValueError, match="outside"):
        Sentiment(1.5, "positive")
    with pytest.raises(ValueError, match="label"):
        Sentiment(0.0, "meh")  # type: ignore[arg-type]


def test_from_probabilities() -> None:
    assert sentiment_from_probabilities(0.7, 0.2, 0.1) == Sentiment(-0.6, "negative")
    assert sentiment_from_probabilities(0.1, 0.5, 0.4).label == "neutral"


def test_default_classifier_matches_the_protocol() -> None:
    classifier: SentimentClassifier = LinearSentimentClassifier()
    text = "thanks, great job"
    assert classifier.classify(text, "en") == score_sentiment(text, "en")
