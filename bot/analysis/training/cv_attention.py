"""Cross-validate the tie-break of a remark waiting for an answer, on the tuning part only.

    python -m bot.analysis.training.cv_attention [--data DIR] [--seeds 10] [--min-recall 0.9]

A mention the rules call "other" that waits for an answer scores 15 + 35 = 50, exactly
the default alert threshold, so it alerts; these ties are most of the wrong alerts. The
tie-break shipped: a remark that reads friendlier than aggrieved (its English complaint
probability under its sentiment score plus a margin ``m``, ``attention.friendly_remark``)
owes no answer, so it loses the 35 points of "waiting for an answer". This command asks
whether the margin generalises: it reads ``intent/twcs_attention_dev.tsv``, keeps the
tuning part of ``split_attention`` (the held-out part is never analysed), analyses it as
``vigie eval attention`` does, and runs grouped stratified 5-fold cross-validation
(approximate conversations in one fold): each training fold chooses ``m`` among
``MARGINS`` (None: no tie-break, every tie alerts) by the highest precision among the
choices whose recall is at least ``--min-recall`` (then F1, then no tie-break), and the
choice is scored on the other fold. It prints the figures without the tie-break and as
shipped on the whole tuning part, each margin's in-sample figures (a margin moved by
0.05 is every complaint probability moved by 0.05: a retrained complaint model), and the
out-of-fold figures, averaged over ``--seeds`` shuffles.

Needs scikit-learn (the ``train`` extra) for the folds.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sklearn.model_selection import StratifiedGroupKFold

from bot.analysis.attention import (
    FRIENDLY_MARGIN,
    FRIENDLY_REMARK,
    Signals,
    friendly_remark,
    read_signals,
    request_terms,
    waiting_for_answer,
)
from bot.analysis.evaluate_attention import EVAL_NOW, POSTED_AGO
from bot.analysis.intent import IntentFlag, IntentResult
from bot.analysis.pipeline import AnalysisInput, analyze_many
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD, WAITING_POINTS
from bot.analysis.training.split_attention import (
    DEFAULT_SEED,
    SOURCE,
    conversation_groups,
    read_rows,
    split,
)

MARGINS = (None, -0.2, -0.1, -0.05, 0.0, 0.05, 0.1, 0.2)
"""Candidate margins ``m`` of ``friendly_remark`` (None: the tie-break off)."""
FOLDS = 5

TieBreak = float | None


@dataclass(frozen=True, slots=True)
class Line:
    """One analysed tuning line: its label, shipped score and what a tie-break reads."""

    alert: bool
    priority: int
    waiting: bool
    intent: IntentResult
    signals: Signals
    sentiment_label: str
    sentiment_score: float
    complaint_probability: float | None
    language: str | None
    group: int
    requested: bool = False
    """Its request topics' terms say something is wrong or awaited (``request_terms``)."""


@dataclass(frozen=True, slots=True)
class Figures:
    """Precision, recall and F1 of the alert class."""

    precision: float
    recall: float
    f1: float


def figures(gold: Sequence[bool], sent: Sequence[bool]) -> Figures:
    """Figures of the alert class when ``sent`` alerts go out."""
    tp = sum(g and s for g, s in zip(gold, sent, strict=True))
    fp = sum(s and not g for g, s in zip(gold, sent, strict=True))
    fn = sum(g and not s for g, s in zip(gold, sent, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return Figures(precision, recall, f1)


def alerts(line: Line, rule: TieBreak, threshold: int = DEFAULT_ALERT_THRESHOLD) -> bool:
    """Whether ``line`` alerts when a remark is friendly with margin ``rule`` (None: never).

    A line gains or loses exactly ``WAITING_POINTS`` when the margin changes whether it
    waits for an answer (weight 1, no repeat contact: as ``vigie eval attention`` runs).
    """
    flags = tuple(f for f in line.intent.flags if f.name != FRIENDLY_REMARK)
    if friendly_remark(line.intent.intent, line.signals, line.complaint_probability,
                       line.sentiment_score, line.language, rule):
        flags = (*flags, IntentFlag(FRIENDLY_REMARK, ()))
    waiting = waiting_for_answer(IntentResult(line.intent.intent, flags), line.signals,
                                 line.sentiment_label, line.requested)
    priority = line.priority + round(WAITING_POINTS) * (int(waiting) - int(line.waiting))
    return priority >= threshold


def choose(lines: Sequence[Line], rules: Sequence[TieBreak], min_recall: float) -> TieBreak:
    """The rule with the best precision among those keeping ``min_recall`` on ``lines``
    (then F1, then no tie-break; the first rule when none keeps the recall)."""
    gold = [line.alert for line in lines]

    def key(rule: TieBreak) -> tuple[bool, float, float, bool]:
        f = figures(gold, [alerts(line, rule) for line in lines])
        return (f.recall >= min_recall, round(f.precision, 9), round(f.f1, 9), rule is None)

    return max(rules, key=key)


def cross_validate(lines: Sequence[Line], rules: Sequence[TieBreak], min_recall: float,
                   seed: int) -> tuple[Figures, list[TieBreak]]:
    """Out-of-fold figures of the rule each training fold chooses, and those choices."""
    gold = [line.alert for line in lines]
    groups = [line.group for line in lines]
    sent = [False] * len(lines)
    chosen: list[TieBreak] = []
    splitter = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=seed)
    for train, test in splitter.split(lines, gold, groups):
        rule = choose([lines[i] for i in train], rules, min_recall)
        chosen.append(rule)
        for i in test:
            sent[i] = alerts(lines[i], rule)
    return figures(gold, sent), chosen


def tuning_lines(data: Path) -> list[Line]:
    """The tuning part of the attention set, analysed as ``vigie eval attention`` does."""
    header, rows = read_rows(data / SOURCE)
    groups = conversation_groups(header, rows)
    tune, _held_out = split(groups, DEFAULT_SEED)  # the held-out part is not analysed
    id_col, text_col = header.index("tweet_id"), header.index("text")
    label_col = header.index("attention")
    group_of = {row[id_col]: number for number, group in enumerate(groups) for row in group}
    items = [AnalysisInput(row[text_col], published_at=EVAL_NOW - POSTED_AGO, addressed=True)
             for row in tune]
    analyses = analyze_many(items, now=EVAL_NOW)
    lines = []
    for row, a in zip(tune, analyses, strict=True):
        signals = read_signals(row[text_col], a.language, True)
        if signals.language_analysed != a.language_analysed:
            signals = replace(signals, language_analysed=a.language_analysed)
        lines.append(Line(
            alert=row[label_col] == "alert", priority=a.priority, waiting=a.waiting,
            intent=IntentResult(a.intent, a.flags), signals=signals,
            sentiment_label=a.sentiment_label, sentiment_score=a.sentiment_score,
            complaint_probability=a.complaint_probability, language=a.language,
            group=group_of[row[id_col]],
            requested=request_terms(t for m in a.topics for t in m.terms),
        ))
    return lines


def _text(f: Figures) -> str:
    return f"precision {f.precision:.4f}  recall {f.recall:.4f}  f1 {f.f1:.4f}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="shared data folder (default: $VIGIE_SHARED_DATA)")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--min-recall", type=float, default=0.9)
    args = parser.parse_args(argv)
    data = args.data or Path(os.environ.get("VIGIE_SHARED_DATA", "../shared/data"))
    if not (data / SOURCE).exists():
        print(f"missing {data / SOURCE}: pass --data or set VIGIE_SHARED_DATA", file=sys.stderr)
        return 2
    lines = tuning_lines(data)
    gold = [line.alert for line in lines]
    rules: list[TieBreak] = list(MARGINS)
    ties = [line for line in lines if alerts(line, None) and not alerts(line, None, 51)]
    print(f"tuning part: {len(lines)} lines, {sum(gold)} alert; "
          f"{len(ties)} at exactly {DEFAULT_ALERT_THRESHOLD} without the tie-break "
          f"({sum(t.alert for t in ties)} alert)")
    for rule in rules:
        name = "no tie-break" if rule is None else f"margin {rule:+.2f}"
        shipped = "  (shipped)" if rule == FRIENDLY_MARGIN else ""
        f = figures(gold, [alerts(line, rule) for line in lines])
        print(f"whole tuning part, {name:>14}: {_text(f)}{shipped}")
    runs = [cross_validate(lines, rules, args.min_recall, seed) for seed in range(args.seeds)]
    mean = Figures(*(sum(getattr(f, name) for f, _ in runs) / len(runs)
                     for name in ("precision", "recall", "f1")))
    print(f"margin chosen per fold (recall >= {args.min_recall}), out of fold, "
          f"mean of {args.seeds} seeds: {_text(mean)}")
    counts: dict[TieBreak, int] = {}
    for _, chosen in runs:
        for rule in chosen:
            counts[rule] = counts.get(rule, 0) + 1
    for rule, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  chosen {n} times: margin {rule}")
    final = choose(lines, rules, args.min_recall)
    print(f"chosen on the whole tuning part: margin {final}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
