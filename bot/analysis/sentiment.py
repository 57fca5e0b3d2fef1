"""Sentiment of a mention: a score in [-1, 1] and a negative/neutral/positive label.

The default classifier is the embedded linear model of the text's language (English,
French, Spanish, German and Portuguese ship; other languages use the English model,
which still reads emojis, emoticons and English loanwords). Models are loaded lazily,
once per process.
Anything implementing ``SentimentClassifier`` (an LLM-backed one, say) can replace it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.analysis.frozen import fast_init
from bot.analysis.linear_model import CLASSES, LinearSentimentModel, load_shipped

Label = Literal["negative", "neutral", "positive"]

SUPPORTED_LANGUAGES = ("en", "fr")
"""Languages the analysis reads fully: their own sentiment model, intent rules and
complaint/question classifiers (``attention.language_analysed`` relies on this)."""

SENTIMENT_LANGUAGES = (*SUPPORTED_LANGUAGES, "es", "de", "pt")
"""Languages with their own shipped sentiment model (and no intent rules or classifiers
for the last three)."""

FALLBACK_LANGUAGE = "en"


@fast_init
@dataclass(frozen=True, slots=True)
class Sentiment:
    """``score`` runs from -1 (negative) to +1 (positive); ``label`` is the likeliest class."""

    score: float
    label: Label

    def __post_init__(self) -> None:
        """Refuse scores outside [-1, 1] and unknown labels."""
        if not -1.0 <= self.score <= 1.0:
            raise ValueError(f"sentiment score {self.score} outside [-1, 1]")
        if self.label not in CLASSES:
            raise ValueError(f"unknown sentiment label {self.label!r}")


class SentimentClassifier(Protocol):
    """What the pipeline needs from a sentiment classifier."""

    def classify(self, text: str, lang: str | None) -> Sentiment:
        """Sentiment of ``text`` written in ``lang`` (ISO 639-1, or None if unknown)."""
        ...


def sentiment_from_probabilities(negative: float, neutral: float, positive: float) -> Sentiment:
    """Label = likeliest class; score = P(positive) - P(negative)."""
    # The first of equal maxima wins, as max() over the classes in order would pick it.
    if negative >= neutral:
        label = "negative" if negative >= positive else "positive"
    else:
        label = "neutral" if neutral >= positive else "positive"
    score = max(-1.0, min(1.0, positive - negative))
    return Sentiment(score=round(score, 4), label=label)  # type: ignore[arg-type]


_models: dict[str, LinearSentimentModel] = {}
_lock = threading.Lock()


def model_language(lang: str | None) -> str:
    """The language whose model scores text in ``lang``."""
    return lang if lang in SENTIMENT_LANGUAGES else FALLBACK_LANGUAGE


def load_model(lang: str | None) -> LinearSentimentModel:
    """The shipped model for ``lang`` (or its fallback), loaded once per process."""
    key = model_language(lang)
    return load_shipped(_models, _lock, key, f"sentiment_{key}.json.gz", LinearSentimentModel)


class LinearSentimentClassifier:
    """The embedded default: one shipped linear model per language."""

    def classify(self, text: str, lang: str | None) -> Sentiment:
        """Score ``text`` with the model of ``lang``."""
        return sentiment_from_probabilities(*load_model(lang).probabilities(text))


DEFAULT_CLASSIFIER: SentimentClassifier = LinearSentimentClassifier()


def score_sentiment(text: str, lang: str | None) -> Sentiment:
    """Sentiment of ``text`` with the embedded model of ``lang`` (see module doc)."""
    return sentiment_from_probabilities(*load_model(lang).probabilities(text))
