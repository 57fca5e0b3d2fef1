"""The joint scorer gives every model exactly what it gives on its own."""

from __future__ import annotations

import pytest

from bot.analysis import classifiers, sentiment
from bot.analysis.binary_model import with_care
from bot.analysis.joint import JointScorer

TEXTS = (
    "@acme my order #123456 never arrived and nobody answers!!! 😡 http://t.co/x",
    "Thanks so much, the new app is GREAT :) #love",
    "",
    "?",
    "Le colis n'est toujours pas arrivé, c'est inadmissible... rembourser svp",
    "zzzz qqqq xxxxx",
    "Hola, ¿cuándo llega mi pedido? Gracias",
)


@pytest.mark.parametrize("lang", ["en", "fr", "es", None])
def test_scoring_together_is_scoring_alone_to_the_bit(lang: str | None) -> None:
    model = sentiment.load_model(lang)
    binaries = classifiers.request_models(lang, model.feature_key)
    scorer = JointScorer(model, binaries)
    for text in TEXTS * 2:  # the second round reads the per-token cache
        feats = model.features(text)
        probabilities, logits = scorer.score(text, feats)
        assert probabilities == model.probabilities_of(feats)
        assert logits == [b.logit_of(with_care(text, feats)) for b in binaries]


def test_models_reading_other_features_are_refused() -> None:
    english = sentiment.load_model("en")
    french = classifiers.load_model("complaint", "fr")
    with pytest.raises(ValueError, match="same features"):
        JointScorer(english, [french])
