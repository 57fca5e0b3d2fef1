"""Evaluate the alert decision on a labelled file of ``alert|digest<TAB>TEXT`` lines.

Each line is analysed as ``vigie eval attention`` promises: an X mention addressed to
the brand, posted five minutes ago, author reach unknown, under a watch with default
settings (weight 1, the default alert threshold). A line is predicted ``alert`` when
its priority reaches the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.analysis.evaluate import read_labelled_lines
from bot.analysis.pipeline import AnalysisInput, analyze_many
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD

ATTENTION_LABELS = ("alert", "digest")
POSTED_AGO = timedelta(minutes=5)
# A fixed clock: only the five-minute age matters, and runs must be reproducible.
EVAL_NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AttentionPrediction:
    """What the analysis said about one line."""

    line: int
    gold: str
    priority: int
    reason: str
    intent: str
    text: str

    def label(self, threshold: int) -> str:
        """``alert`` when the priority reaches ``threshold``, else ``digest``."""
        return "alert" if self.priority >= threshold else "digest"


@dataclass(frozen=True, slots=True)
class AlertCounts:
    """Confusion counts of the alert class at one threshold, and their ratios."""

    threshold: int
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        """Share of the alerts sent that the label wanted (0 when none was sent)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """Share of the wanted alerts that were sent (0 when none was wanted)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else 0.0


def count_at(predictions: Sequence[AttentionPrediction], threshold: int) -> AlertCounts:
    """Confusion counts of ``predictions`` when alerts go out from ``threshold``."""
    tp = fp = fn = tn = 0
    for p in predictions:
        sent = p.priority >= threshold
        wanted = p.gold == "alert"
        tp += sent and wanted
        fp += sent and not wanted
        fn += wanted and not sent
        tn += not sent and not wanted
    return AlertCounts(threshold, tp, fp, fn, tn)


def best_threshold(predictions: Sequence[AttentionPrediction], default: int) -> AlertCounts:
    """The threshold in 0..101 with the highest alert F1; ties go to the one nearest
    ``default`` (then the lower one)."""
    candidates = [count_at(predictions, t) for t in range(0, 102)]
    return max(candidates, key=lambda c: (round(c.f1, 9), -abs(c.threshold - default),
                                          -c.threshold))


@dataclass(frozen=True)
class AttentionReport:
    """Scores of one run; ``to_json()`` is what ``--json`` prints."""

    name: str
    at_default: AlertCounts
    best: AlertCounts
    predictions: tuple[AttentionPrediction, ...] = field(repr=False)

    @property
    def n(self) -> int:
        """Number of labelled lines."""
        return len(self.predictions)

    @property
    def at_threshold(self) -> tuple[int, int]:
        """``(lines, labelled alert)`` among the lines scored exactly at the threshold:
        alerts that one point less would hold back (a remark waiting for an answer scores
        15 + 35 = 50, the default threshold)."""
        threshold = self.at_default.threshold
        tied = [p for p in self.predictions if p.priority == threshold]
        return len(tied), sum(p.gold == "alert" for p in tied)

    def to_json(self) -> dict[str, Any]:
        """``{"n", "threshold", "precision", "recall", "f1", "best_threshold", "best_f1",
        "confusion", "at_threshold"}``: figures of the alert class at the default
        threshold, the threshold that would have maximised F1 on this file, and the lines
        scored exactly at the threshold (``{"n", "alert"}``)."""
        c = self.at_default
        tied, tied_alerts = self.at_threshold
        return {
            "n": self.n,
            "threshold": c.threshold,
            "precision": round(c.precision, 4),
            "recall": round(c.recall, 4),
            "f1": round(c.f1, 4),
            "best_threshold": self.best.threshold,
            "best_f1": round(self.best.f1, 4),
            "confusion": {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn},
            "at_threshold": {"n": tied, "alert": tied_alerts},
        }


def evaluate_attention_file(
    path: str | Path, *, threshold: int = DEFAULT_ALERT_THRESHOLD
) -> AttentionReport:
    """Analyse every line of ``path`` and compare the alert decision with its label.

    Raises ``ValueError`` (with the line number) on a bad line, or when the file holds
    no labelled line.
    """
    rows = read_labelled_lines(path, ATTENTION_LABELS)
    if not rows:
        raise ValueError(f"{Path(path).name}: no labelled lines")
    posted = EVAL_NOW - POSTED_AGO
    items = [AnalysisInput(row.text, published_at=posted, addressed=True) for row in rows]
    analyses = analyze_many(items, now=EVAL_NOW)
    predictions = tuple(
        AttentionPrediction(row.line, row.label, a.priority, a.reason, a.intent, row.text)
        for row, a in zip(rows, analyses, strict=True)
    )
    return AttentionReport(
        name=Path(path).name,
        at_default=count_at(predictions, threshold),
        best=best_threshold(predictions, threshold),
        predictions=predictions,
    )


def format_attention_report(report: AttentionReport) -> str:
    """A plain-text summary of the report, for the terminal."""
    c, b = report.at_default, report.best
    tied, tied_alerts = report.at_threshold
    return "\n".join([
        f"{report.name}: {report.n} lines, "
        f"{c.tp + c.fn} labelled alert, {c.fp + c.tn} labelled digest",
        f"at threshold {c.threshold}: precision {c.precision:.4f}   recall {c.recall:.4f}   "
        f"f1 {c.f1:.4f}",
        f"  alerts sent {c.tp + c.fp} (right {c.tp}, wrong {c.fp}); "
        f"alerts missed {c.fn}",
        f"  scored exactly {c.threshold}: {tied} ({tied_alerts} labelled alert)",
        f"best threshold on this file: {b.threshold} (f1 {b.f1:.4f}, precision "
        f"{b.precision:.4f}, recall {b.recall:.4f})",
    ])


def format_attention_predictions(report: AttentionReport) -> str:
    """One ``PRIORITY<TAB>PREDICTED<TAB>REASON`` line per input line, in input order."""
    threshold = report.at_default.threshold
    return "".join(
        f"{p.priority}\t{p.label(threshold)}\t{p.reason}\n" for p in report.predictions
    )
