"""Evaluate the complaint classifier on ``complaint``/``not_complaint`` lines (``vigie eval``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.analysis.classifiers import probability
from bot.analysis.evaluate import (
    ClassMetrics,
    class_metrics,
    class_metrics_json,
    format_class_table,
    read_labelled_lines,
)
from bot.analysis.language import detect_language

POSITIVE = "complaint"
NEGATIVE = "not_complaint"
LABELS = (POSITIVE, NEGATIVE)
DEFAULT_THRESHOLD = 0.5

Scorer = Callable[[str, str | None], float | None]
"""``(text, lang) -> P(complaint)``, or None when the language has no model."""


@dataclass(frozen=True, slots=True)
class ComplaintPrediction:
    """What the model said about one line; ``probability`` is None without a model."""

    line: int
    gold: str
    label: str
    probability: float | None
    lang: str | None


@dataclass(frozen=True)
class ComplaintReport:
    """Scores of one run; ``to_json()`` is what ``--json`` prints."""

    name: str
    threshold: float
    per_class: dict[str, ClassMetrics]
    confusion: dict[str, dict[str, int]]
    predictions: tuple[ComplaintPrediction, ...] = field(repr=False)

    @property
    def n(self) -> int:
        """Lines scored."""
        return len(self.predictions)

    @property
    def accuracy(self) -> float:
        """Share of lines whose predicted label is the gold one."""
        return sum(p.gold == p.label for p in self.predictions) / self.n

    @property
    def macro_f1(self) -> float:
        """Mean F1 of the two classes."""
        return sum(m.f1 for m in self.per_class.values()) / len(self.per_class)

    @property
    def without_model(self) -> int:
        """Lines in a language without a complaint model (predicted not_complaint)."""
        return sum(p.probability is None for p in self.predictions)

    def to_json(self) -> dict[str, Any]:
        """``n``, ``accuracy``, ``macro_f1``, ``precision``/``recall``/``f1`` of the complaint
        class, ``threshold``, ``without_model`` and ``per_class`` (P/R/F1/support of each)."""
        positive = self.per_class[POSITIVE]
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "precision": round(positive.precision, 4),
            "recall": round(positive.recall, 4),
            "f1": round(positive.f1, 4),
            "threshold": self.threshold,
            "without_model": self.without_model,
            "per_class": class_metrics_json(self.per_class),
        }


def score_complaints(
    name: str, predictions: Sequence[ComplaintPrediction], threshold: float
) -> ComplaintReport:
    """Per-class precision, recall, F1 and the confusion table of ``predictions``."""
    confusion = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for p in predictions:
        confusion[p.gold][p.label] += 1
    per_class = class_metrics(confusion, LABELS)
    return ComplaintReport(name, threshold, per_class, confusion, tuple(predictions))


def _default_scorer(text: str, lang: str | None) -> float | None:
    return probability("complaint", text, lang)


def evaluate_complaint_file(
    path: str | Path,
    *,
    lang: str | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    scorer: Scorer | None = None,
) -> ComplaintReport:
    """Score every ``complaint``/``not_complaint`` line of ``path`` with the complaint model.

    Each line's language is detected unless ``lang`` is given; a line in a language
    without a model is predicted ``not_complaint`` and counted in ``without_model``.
    Raises ``ValueError`` on a bad line (with its number), an empty file, or a threshold
    outside (0, 1).
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    rows = read_labelled_lines(path, LABELS)
    if not rows:
        raise ValueError(f"{Path(path).name}: no labelled lines")
    score = scorer or _default_scorer
    predictions = []
    for row in rows:
        line_lang = lang or detect_language(row.text)
        p = score(row.text, line_lang)
        label = POSITIVE if p is not None and p >= threshold else NEGATIVE
        predictions.append(ComplaintPrediction(row.line, row.label, label, p, line_lang))
    return score_complaints(Path(path).name, predictions, threshold)


def format_complaint_report(report: ComplaintReport) -> str:
    """A plain-text table of the report, for the terminal."""
    lines = [
        f"{report.name}: {report.n} lines (threshold {report.threshold})",
        f"accuracy {report.accuracy:.4f}   macro-F1 {report.macro_f1:.4f}",
        "",
    ]
    lines += format_class_table(report.per_class, report.confusion, LABELS, 14)
    if report.without_model:
        lines += ["", f"{report.without_model} line(s) in a language without a complaint "
                      "model were counted as not_complaint"]
    return "\n".join(lines)


def format_complaint_predictions(report: ComplaintReport) -> str:
    """One ``PROBABILITY<TAB>LABEL`` line per input line, in input order (``--out``);
    the probability is ``-`` for a line in a language without a model."""
    return "".join(
        f"{'-' if p.probability is None else f'{p.probability:.4f}'}\t{p.label}\n"
        for p in report.predictions
    )
