"""Cross-validate ways to break the priority tie, on the tuning part of the attention set only.

    python -m bot.analysis.training.cv_attention [--data DIR] [--seeds 10] [--min-recall 0.9]

A mention the rules call "other" that waits for an answer scores 15 + 35 = 50, exactly
the default alert threshold, so it alerts; these ties are most of the wrong alerts. This
command asks whether a tie-break generalises: a remark owes no answer (so loses the 35
points of "waiting for an answer") when its sentiment score is above ``s0`` (friendly)
or its English complaint probability is below ``c0``, as ``attention.waiting_for_answer``
computes with ``friendly_from=s0, unlikely_under=c0``. It reads
``intent/twcs_attention_dev.tsv``, keeps the tuning part of ``split_attention`` (the
held-out part is never analysed), analyses it as ``vigie eval attention`` does, and runs
grouped stratified 5-fold cross-validation (approximate conversations in one fold): each
training fold chooses ``(s0, c0)`` by the highest precision among the choices whose recall
is at least ``--min-recall`` (then F1, then the smallest change), and the choice is scored
on the other fold. It prints the shipped rule's figures and the out-of-fold figures,
averaged over ``--seeds`` shuffles. A tie-break is worth shipping only when its
out-of-fold precision beats the shipped rule's without losing the recall the target needs.

Needs scikit-learn (the ``train`` extra) for the folds.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sklearn.model_selection import StratifiedGroupKFold

from bot.analysis.attention import Signals, read_signals, waiting_for_answer
from bot.analysis.evaluate_attention import EVAL_NOW, POSTED_AGO
from bot.analysis.intent import IntentResult
from bot.analysis.pipeline import AnalysisInput, analyze_many
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD, WAITING_POINTS
from bot.analysis.training.split_attention import (
    DEFAULT_SEED,
    SOURCE,
    conversation_groups,
    read_rows,
    split,
)

FRIENDLY_FROM = (None, 0.1, 0.2, 0.3)
"""Candidate ``s0``: a remark whose sentiment score is above it is friendly (None: off)."""
UNLIKELY_COMPLAINT_UNDER = (None, 0.05, 0.1, 0.2)
"""Candidate ``c0``: a remark less likely a complaint than this owes nothing (None: off)."""
FOLDS = 5

TieBreak = tuple[float | None, float | None]


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
    """Whether ``line`` alerts under the tie-break ``rule`` (``(None, None)``: as shipped).

    A line the rule leaves without "waiting for an answer" loses exactly its
    ``WAITING_POINTS`` (weight 1, no repeat contact: as ``vigie eval attention`` runs).
    """
    priority = line.priority
    if line.waiting and not waiting_for_answer(
        line.intent, line.signals, line.sentiment_label, line.sentiment_score,
        line.complaint_probability, line.language,
        friendly_from=rule[0], unlikely_under=rule[1],
    ):
        priority -= round(WAITING_POINTS)
    return priority >= threshold


def choose(lines: Sequence[Line], rules: Sequence[TieBreak], min_recall: float) -> TieBreak:
    """The rule with the best precision among those keeping ``min_recall`` on ``lines``
    (then F1, then the fewest changes; the shipped rule when none keeps the recall)."""
    gold = [line.alert for line in lines]

    def key(rule: TieBreak) -> tuple[bool, float, float, int]:
        f = figures(gold, [alerts(line, rule) for line in lines])
        return (f.recall >= min_recall, round(f.precision, 9), round(f.f1, 9),
                -sum(part is not None for part in rule))

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
    rules: list[TieBreak] = list(itertools.product(FRIENDLY_FROM, UNLIKELY_COMPLAINT_UNDER))
    ties = [line for line in lines if line.priority == DEFAULT_ALERT_THRESHOLD]
    print(f"tuning part: {len(lines)} lines, {sum(gold)} alert; "
          f"{len(ties)} at exactly {DEFAULT_ALERT_THRESHOLD} ({sum(t.alert for t in ties)} alert)")
    shipped = figures(gold, [alerts(line, (None, None)) for line in lines])
    print(f"shipped (ties alert), whole tuning part: {_text(shipped)}")
    runs = [cross_validate(lines, rules, args.min_recall, seed) for seed in range(args.seeds)]
    mean = Figures(*(sum(getattr(f, name) for f, _ in runs) / len(runs)
                     for name in ("precision", "recall", "f1")))
    print(f"tie-break chosen per fold (recall >= {args.min_recall}), out of fold, "
          f"mean of {args.seeds} seeds: {_text(mean)}")
    counts: dict[TieBreak, int] = {}
    for _, chosen in runs:
        for rule in chosen:
            counts[rule] = counts.get(rule, 0) + 1
    for rule, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"  chosen {n} times: friendly above {rule[0]}, complaint probability under "
              f"{rule[1]}")
    final = choose(lines, rules, args.min_recall)
    whole = figures(gold, [alerts(line, final) for line in lines])
    print(f"chosen on the whole tuning part: friendly above {final[0]}, complaint probability "
          f"under {final[1]} ({_text(whole)}, in sample)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
