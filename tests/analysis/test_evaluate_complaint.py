from pathlib import Path

import pytest

from bot.analysis.evaluate_complaint import (
    evaluate_complaint_file,
    format_complaint_predictions,
    format_complaint_report,
)
from tests.analysis.tsv_files import write_tsv


def keyword_scorer(text: str, lang: str | None) -> float | None:
    """Deterministic stand-in: no model for German, "broken" is a complaint."""
    if lang == "de":
        return None
    return 0.9 if "broken" in text else 0.1


def test_metrics_on_a_known_file(tmp_path: Path) -> None:
    path = write_tsv(
        tmp_path,
        "complaint\tmy phone is broken\n"
        "complaint\twhere is my parcel\n"
        "not_complaint\tlove it\n"
        "\n"
        "not_complaint\tbroken record, great song\n"
        "COMPLAINT\tstill broken\r\n",
    )
    report = evaluate_complaint_file(path, lang="en", scorer=keyword_scorer)
    assert report.n == 5
    c, nc = report.per_class["complaint"], report.per_class["not_complaint"]
    assert (c.precision, c.recall, c.support) == (2 / 3, 2 / 3, 3)
    assert (nc.precision, nc.recall, nc.support) == (0.5, 0.5, 2)
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.5) / 2)
    data = report.to_json()
    assert data["precision"] == round(2 / 3, 4) and data["recall"] == round(2 / 3, 4)
    assert data["macro_f1"] == round((2 / 3 + 0.5) / 2, 4)
    assert set(data["per_class"]) == {"complaint", "not_complaint"}
    assert set(data["per_class"]["complaint"]) == {"precision", "recall", "f1", "support"}
    assert data["without_model"] == 0 and data["threshold"] == 0.5
    assert format_complaint_predictions(report).splitlines()[0] == "0.9000\tcomplaint"
    assert "macro-F1" in format_complaint_report(report)


def test_threshold_moves_the_decision(tmp_path: Path) -> None:
    path = write_tsv(tmp_path, "complaint\tbroken\nnot_complaint\tfine\n")
    strict = evaluate_complaint_file(path, lang="en", threshold=0.95, scorer=keyword_scorer)
    assert strict.per_class["complaint"].recall == 0.0
    with pytest.raises(ValueError, match="threshold"):
        evaluate_complaint_file(path, threshold=1.0, scorer=keyword_scorer)


def test_lines_without_a_model_are_counted_not_guessed(tmp_path: Path) -> None:
    path = write_tsv(tmp_path, "complaint\tbroken\n")
    report = evaluate_complaint_file(path, lang="de", scorer=keyword_scorer)
    assert report.without_model == 1
    assert report.predictions[0].label == "not_complaint"
    assert format_complaint_predictions(report) == "-\tnot_complaint\n"
    assert "without a complaint model" in format_complaint_report(report)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("complaint\tok\nno tab here\n", r"set\.tsv:2: expected LABEL<TAB>TEXT"),
        ("negative\tok\n", r"set\.tsv:1: unknown label 'negative' \(expected one of complaint"),
        ("complaint\t  \n", r"set\.tsv:1: empty text"),
        ("\n\n", r"set\.tsv: no labelled lines"),
    ],
)
def test_bad_files_are_refused_with_the_line(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate_complaint_file(write_tsv(tmp_path, content), scorer=keyword_scorer)


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "set.tsv"
    path.write_bytes(b"complaint\t\xff\xfe broken\n")
    with pytest.raises(ValueError, match=r"set\.tsv: not UTF-8"):
        evaluate_complaint_file(path, scorer=keyword_scorer)


def test_the_shipped_model_on_the_labelled_file(shared_data: Path) -> None:
    """Runs the real model end to end; figures on its own training file are not asserted."""
    path = shared_data / "intent" / "eval" / "complaints_en_train.tsv"
    report = evaluate_complaint_file(path)
    assert report.n == 2300
    assert report.per_class["complaint"].support == 821
    assert all(p.probability is None or 0.0 <= p.probability <= 1.0 for p in report.predictions)
