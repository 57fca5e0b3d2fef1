"""Learned complaint and question classifiers, one shipped model per task and language.

``classify(text, lang)`` gives the probability that a mention is a complaint and that it
is a question or request the brand must answer. A language without a shipped model gets
``None`` for that task (not a guess): the caller decides what "not analysed" means.
Models are loaded lazily, once per process; see ``models/NOTICE.txt`` for what each was
trained on (the French ones learned language-independent features from English data).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from bot.analysis.binary_model import BinaryLinearModel, sigmoid, with_care
from bot.analysis.features import TextFeatures
from bot.analysis.frozen import fast_init
from bot.analysis.linear_model import load_shipped

Task = Literal["complaint", "question"]
TASKS: tuple[Task, ...] = ("complaint", "question")

MODEL_LANGUAGES: dict[Task, tuple[str, ...]] = {
    "complaint": ("en", "fr"),
    "question": ("en", "fr"),
}
"""Languages with a shipped model, per task."""


@fast_init
@dataclass(frozen=True, slots=True)
class Classification:
    """Probabilities in [0, 1], or None when the text's language has no model for the task."""

    complaint: float | None
    question: float | None


_models: dict[tuple[Task, str], BinaryLinearModel] = {}
_lock = threading.Lock()


def has_model(task: Task, lang: str | None) -> bool:
    """Whether a model for ``task`` ships for ``lang``."""
    return lang is not None and lang in MODEL_LANGUAGES[task]


def load_model(task: Task, lang: str) -> BinaryLinearModel:
    """The shipped model of ``task`` for ``lang``, loaded once per process.

    Raises ``KeyError`` for a language without a model (see ``has_model``).
    """
    if not has_model(task, lang):
        raise KeyError(f"no {task} model for language {lang!r}")
    return load_shipped(_models, _lock, (task, lang), f"{task}_{lang}.json.gz", BinaryLinearModel)


def load_classifiers() -> None:
    """Load every shipped classifier now, so the first mentions do not wait for them."""
    for task in TASKS:
        for lang in MODEL_LANGUAGES[task]:
            load_model(task, lang)


def probability(task: Task, text: str, lang: str | None) -> float | None:
    """Probability that ``text`` (written in ``lang``) is a ``task``; None without a model."""
    if lang is None or not has_model(task, lang):
        return None
    return round(load_model(task, lang).probability(text), 4)


def request_models(lang: str | None, key: tuple[object, ...]) -> list[BinaryLinearModel]:
    """The complaint and question models of ``lang`` when both ship and read the features
    of ``key`` (as ``classify`` then scores them from one extraction); else none."""
    if lang is None or not (has_model("complaint", lang) and has_model("question", lang)):
        return []
    models = [load_model("complaint", lang), load_model("question", lang)]
    return models if all(m.feature_key == key for m in models) else []


@dataclass(frozen=True, slots=True)
class SharedFeatures:
    """Features a sentiment model already extracted from the text, with that model's key."""

    key: tuple[object, ...]
    features: TextFeatures


def classify(text: str, lang: str | None, shared: SharedFeatures | None = None) -> Classification:
    """Complaint and question probabilities of ``text`` written in ``lang``.

    When both models of the language read the same features (they do as shipped), the
    text is analysed once for both; when ``shared`` has their key too (the sentiment
    model of the language, as shipped), not at all.
    """
    if lang is None or not (has_model("complaint", lang) and has_model("question", lang)):
        return Classification(
            complaint=probability("complaint", text, lang),
            question=probability("question", text, lang),
        )
    complaint = load_model("complaint", lang)
    question = load_model("question", lang)
    if complaint.feature_key != question.feature_key:
        return Classification(
            round(complaint.probability(text), 4), round(question.probability(text), 4)
        )
    if shared is not None and shared.key == complaint.feature_key:
        feats = with_care(text, shared.features)
    else:
        feats = complaint.features(text)
    return classification_of_logits(complaint.logit_of(feats), question.logit_of(feats))


def classification_of_logits(complaint: float, question: float) -> Classification:
    """The classification given by the logits of the complaint and question models."""
    return Classification(round(sigmoid(complaint), 4), round(sigmoid(question), 4))
