from pathlib import Path

import pytest

from bot.analysis.evaluate_attention import (
    AttentionPrediction,
    best_threshold,
    count_at,
    evaluate_attention_file,
    format_attention_predictions,
    format_attention_report,
)
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "attention.tsv"
    path.write_text(content, encoding="utf-8")
    return path


def pred(gold: str, priority: int) -> AttentionPrediction:
    return AttentionPrediction(1, gold, priority, "", "other", "")


def test_counts_and_ratios_at_a_threshold() -> None:
    preds = [pred("alert", 80), pred("alert", 40), pred("digest", 60), pred("digest", 10)]
    c = count_at(preds, 50)
    assert (c.tp, c.fp, c.fn, c.tn) == (1, 1, 1, 1)
    assert (c.precision, c.recall, c.f1) == (0.5, 0.5, 0.5)
    nothing = count_at(preds, 101)
    assert (nothing.precision, nothing.recall, nothing.f1) == (0.0, 0.0, 0.0)


def test_best_threshold_maximises_f1_and_ties_go_near_the_default() -> None:
    preds = [pred("alert", 80), pred("alert", 70), pred("digest", 30)]
    best = best_threshold(preds, 50)
    assert best.f1 == 1.0 and best.threshold == 50  # any of 31..70 is perfect
    assert best_threshold(preds, 90).threshold == 70
    assert best_threshold(preds, 0).threshold == 31


def test_a_file_of_clear_cases(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffalert\t@acme my order never arrived and I want a refund\r\n"
                           "\n"
                           "alert\t@acme how do I reset my password?\n"
                           "digest\t@acme thanks, love the new app!\n")  # fmt: skip
    report = evaluate_attention_file(path)
    assert report.n == 3
    assert [p.line for p in report.predictions] == [1, 3, 4]
    data = report.to_json()
    assert set(data) == {"n", "threshold", "precision", "recall", "f1", "best_threshold",
                         "best_f1", "confusion", "at_threshold"}
    assert data["threshold"] == DEFAULT_ALERT_THRESHOLD
    assert (data["precision"], data["recall"], data["f1"]) == (1.0, 1.0, 1.0)
    assert data["confusion"] == {"tp": 2, "fp": 0, "fn": 0, "tn": 1}
    lines = format_attention_predictions(report).splitlines()
    assert [line.split("\t")[1] for line in lines] == ["alert", "alert", "digest"]
    assert all(0 <= int(line.split("\t")[0]) <= 100 for line in lines)
    assert "precision 1.0000" in format_attention_report(report)


def test_the_report_counts_the_lines_scored_exactly_at_the_threshold(tmp_path: Path) -> None:
    # A remark waiting for an answer scores 15 + 35: exactly the default threshold.
    path = write(tmp_path, "alert\t@acme iPhone 7, iOS 11.1\n"
                           "digest\t@acme I need limes today\n"
                           "alert\t@acme my order never arrived and I want a refund\n")
    report = evaluate_attention_file(path)
    assert [p.priority for p in report.predictions][:2] == [DEFAULT_ALERT_THRESHOLD] * 2
    assert report.at_threshold == (2, 1)
    assert report.to_json()["at_threshold"] == {"n": 2, "alert": 1}
    assert f"scored exactly {DEFAULT_ALERT_THRESHOLD}: 2 (1 labelled alert)" in (
        format_attention_report(report))
    assert evaluate_attention_file(path, threshold=10).at_threshold == (0, 0)


def test_the_default_threshold_is_what_the_report_uses(tmp_path: Path) -> None:
    path = write(tmp_path, "digest\t@acme thanks, love the new app!\n")
    assert evaluate_attention_file(path, threshold=0).at_default.fp == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("urgent\t@acme help\n", "attention.tsv:1: unknown label 'urgent' (expected one of "
                                 "alert, digest)"),
        ("negative\t@acme bad\n", "unknown label 'negative'"),
        ("alert @acme no tab\n", "attention.tsv:1: expected LABEL<TAB>TEXT"),
        ("alert\t@acme ok\ndigest\t   \n", "attention.tsv:2: empty text"),
        ("\n\n", "attention.tsv: no labelled lines"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate_attention_file(write(tmp_path, content))
