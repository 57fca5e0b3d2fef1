"""Evaluate sentiment on a labelled file of ``LABEL<TAB>TEXT`` lines (``vigie eval``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.analysis.language import detect_language
from bot.analysis.sentiment import SentimentClassifier, score_sentiment

LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True, slots=True)
class LabelledLine:
    """One line of an evaluation file."""

    line: int
    label: str
    text: str


def read_labelled_lines(
    path: str | Path, labels: Sequence[str] = LABELS
) -> list[LabelledLine]:
    """Read ``LABEL<TAB>TEXT`` lines (UTF-8, BOM and CRLF tolerated); blank lines are skipped.
    Only LF and CRLF end a line: a lone CR inside a text is read as a space.

    Raises ``ValueError`` naming the file and line number for a line without a tab,
    with a label not in ``labels`` or with an empty text, and for a file that is not
    UTF-8 text.
    """
    path = Path(path)
    rows: list[LabelledLine] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            content = handle.read()
        except UnicodeDecodeError as err:
            raise ValueError(f"{path.name}: not UTF-8 text ({err.reason})") from None
    # Only LF and CRLF end a line: iterating the file would also split on a lone CR, which
    # a pasted post may hold, and every later error would name the wrong line.
    for number, raw in enumerate(content.split("\n"), start=1):
        line = raw.removesuffix("\r").replace("\r", " ")
        if not line.strip():
            continue
        label, sep, text = line.partition("\t")
        label = label.strip().lower()
        if not sep:
            raise ValueError(f"{path.name}:{number}: expected LABEL<TAB>TEXT, found no tab")
        if label not in labels:
            raise ValueError(
                f"{path.name}:{number}: unknown label {label!r} "
                f"(expected one of {', '.join(labels)})"
            )
        if not text.strip():
            raise ValueError(f"{path.name}:{number}: empty text")
        rows.append(LabelledLine(number, label, text))
    return rows


def read_labelled(path: str | Path) -> list[tuple[str, str]]:
    """``(label, text)`` pairs of a labelled file (see ``read_labelled_lines``)."""
    return [(r.label, r.text) for r in read_labelled_lines(path)]


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    """Precision, recall and F1 of one class, and how many lines have it as gold."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the model said about one line."""

    line: int
    gold: str
    label: str
    score: float
    lang: str | None
    text: str


@dataclass(frozen=True)
class EvalReport:
    """Scores of one evaluation run; ``to_json()`` is what ``--json`` prints."""

    name: str
    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion: dict[str, dict[str, int]]
    predictions: tuple[Prediction, ...] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """``{"n", "accuracy", "macro_f1", "per_class"}``; per_class maps each label to
        ``{"precision", "recall", "f1", "support"}``."""
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": class_metrics_json(self.per_class),
        }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def class_metrics_json(per_class: Mapping[str, ClassMetrics]) -> dict[str, dict[str, Any]]:
    """Each label's ``{"precision", "recall", "f1", "support"}``, ratios to four places."""
    return {
        label: {
            "precision": round(m.precision, 4),
            "recall": round(m.recall, 4),
            "f1": round(m.f1, 4),
            "support": m.support,
        }
        for label, m in per_class.items()
    }


def class_metrics(
    confusion: Mapping[str, Mapping[str, int]], labels: Sequence[str]
) -> dict[str, ClassMetrics]:
    """Precision, recall, F1 and support of each of ``labels`` from ``confusion``
    (``confusion[gold][predicted]`` counts)."""
    per_class: dict[str, ClassMetrics] = {}
    for label in labels:
        tp = confusion[label][label]
        predicted = sum(confusion[g][label] for g in labels)
        support = sum(confusion[label].values())
        precision, recall = _ratio(tp, predicted), _ratio(tp, support)
        f1 = _ratio(2 * tp, predicted + support)
        per_class[label] = ClassMetrics(precision, recall, f1, support)
    return per_class


def score_predictions(name: str, predictions: Sequence[Prediction]) -> EvalReport:
    """Accuracy, macro-F1, per-class metrics, confusion.

    Macro-F1 is the mean F1 of the classes the file has as gold labels: the three on a
    three-class file, negative and positive on a two-class one (reviews); predicting
    ``neutral`` there still costs recall of the class it was taken from.
    """
    confusion = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for p in predictions:
        confusion[p.gold][p.label] += 1
    per_class = class_metrics(confusion, LABELS)
    n = len(predictions)
    correct = sum(confusion[label][label] for label in LABELS)
    return EvalReport(
        name=name,
        n=n,
        accuracy=_ratio(correct, n),
        macro_f1=_mean([m.f1 for m in per_class.values() if m.support] or [0.0]),
        per_class=per_class,
        confusion=confusion,
        predictions=tuple(predictions),
    )


def evaluate_file(
    path: str | Path,
    *,
    lang: str | None = None,
    classifier: SentimentClassifier | None = None,
) -> EvalReport:
    """Score every line of ``path`` and compare with its label.

    Each line's language is detected unless ``lang`` is given. ``classifier`` defaults
    to the embedded models. Raises ``ValueError`` (with the line number) on a bad line,
    or when the file holds no labelled line (all-zero metrics would look like a result).
    """
    rows = read_labelled_lines(path)
    if not rows:
        raise ValueError(f"{Path(path).name}: no labelled lines")
    predictions = []
    for row in rows:
        line_lang = lang or detect_language(row.text)
        if classifier is None:
            sentiment = score_sentiment(row.text, line_lang)
        else:
            sentiment = classifier.classify(row.text, line_lang)
        predictions.append(
            Prediction(row.line, row.label, sentiment.label, sentiment.score, line_lang, row.text)
        )
    return score_predictions(Path(path).name, predictions)


def format_report(report: EvalReport) -> str:
    """A plain-text table of the report, for the terminal."""
    lines = [
        f"{report.name}: {report.n} lines",
        f"accuracy {report.accuracy:.4f}   macro-F1 {report.macro_f1:.4f}",
        "",
    ]
    lines += format_class_table(report.per_class, report.confusion, LABELS, 10)
    return "\n".join(lines)


def format_class_table(
    per_class: Mapping[str, ClassMetrics],
    confusion: Mapping[str, Mapping[str, int]],
    labels: Sequence[str],
    width: int,
) -> list[str]:
    """The lines of the per-class table and of the confusion matrix of ``labels``, with a
    label column ``width`` wide (the confusion cells one narrower)."""
    lines = [f"{'class':<{width}} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}"]
    for label, m in per_class.items():
        lines.append(
            f"{label:<{width}} {m.precision:>9.4f} {m.recall:>7.4f} {m.f1:>7.4f} {m.support:>8d}"
        )
    lines += ["", "confusion (rows: gold, columns: predicted)"]
    cell = width - 1
    lines.append(f"{'':<{width}} " + " ".join(f"{label:>{cell}}" for label in labels))
    for gold in labels:
        lines.append(
            f"{gold:<{width}} " + " ".join(f"{confusion[gold][p]:>{cell}d}" for p in labels)
        )
    return lines


def format_predictions(report: EvalReport) -> str:
    """One ``SCORE<TAB>LABEL`` line per input line, in input order (``--out``)."""
    return "".join(f"{p.score:.4f}\t{p.label}\n" for p in report.predictions)
