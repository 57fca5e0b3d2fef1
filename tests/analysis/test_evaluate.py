from pathlib import Path

import pytest

from bot.analysis.evaluate import (
    evaluate_file,
    format_predictions,
    format_report,
    read_labelled_lines,
)
from bot.analysis.sentiment import Sentiment
from tests.analysis.tsv_files import write_tsv


class KeywordClassifier:
    """Deterministic stand-in: "good" positive, "bad" negative, else neutral."""

    def classify(self, text: str, lang: str | None) -> Sentiment:
        if "good" in text:
            return Sentiment(0.8, "positive")
        if "bad" in text:
            return Sentiment(-0.8, "negative")
        return Sentiment(0.0, "neutral")


def test_metrics_on_a_known_file(tmp_path: Path) -> None:
    path = write_tsv(
        tmp_path,
        "positive\tgood stuff\n"
        "positive\tso bad\n"
        "negative\tbad bad\n"
        "neutral\tplain\n"
        "\n"
        "neutral\tgood?\n",
    )
    report = evaluate_file(path, lang="en", classifier=KeywordClassifier())
    assert report.n == 5
    assert report.accuracy == pytest.approx(3 / 5)
    pos, neg, neu = (report.per_class[k] for k in ("positive", "negative", "neutral"))
    assert (pos.precision, pos.recall, pos.support) == (0.5, 0.5, 2)
    assert (neg.precision, neg.recall) == (0.5, 1.0)
    assert (neu.precision, neu.recall) == (1.0, 0.5)
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3 + 2 / 3) / 3)
    assert [(p.line, p.label, p.score) for p in report.predictions][-1] == (6, "positive", 0.8)
    assert report.confusion["positive"]["negative"] == 1


def test_to_json_has_the_agreed_keys(tmp_path: Path) -> None:
    report = evaluate_file(write_tsv(tmp_path, "negative\tbad\n"), classifier=KeywordClassifier())
    data = report.to_json()
    assert set(data) == {"n", "accuracy", "macro_f1", "per_class"}
    assert set(data["per_class"]["negative"]) == {"precision", "recall", "f1", "support"}
    assert data["n"] == 1 and data["accuracy"] == 1.0


def test_format_report_and_predictions(tmp_path: Path) -> None:
    report = evaluate_file(write_tsv(tmp_path, "\ufeffpositive\tgood\tday\r\n"), lang="en",
                           classifier=KeywordClassifier())  # fmt: skip
    table = format_report(report)
    assert "macro-F1" in table and "precision" in table and "confusion" in table
    assert format_predictions(report).splitlines() == ["0.8000\tpositive"]


def test_default_classifier_detects_each_line_language(tmp_path: Path) -> None:
    path = write_tsv(
        tmp_path,
        "positive\tThank you so much, this is wonderful and I love it\n"
        "negative\tService client nul, colis jamais reçu, je suis très déçu\n",
    )
    report = evaluate_file(path)
    assert [p.lang for p in report.predictions] == ["en", "fr"]
    assert report.accuracy == 1.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("positive\tok\nno tab here\n", r"set\.tsv:2: expected LABEL<TAB>TEXT"),
        ("good\tok\n", r"set\.tsv:1: unknown label 'good'"),
        ("-0.9\tok\n", r"set\.tsv:1: unknown label"),
        ("neutral\t   \n", r"set\.tsv:1: empty text"),
    ],
)
def test_bad_lines_name_their_number(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_labelled_lines(write_tsv(tmp_path, content))


@pytest.mark.parametrize("content", ["", "\n  \n\r\n"])
def test_a_file_without_labelled_lines_is_refused(tmp_path: Path, content: str) -> None:
    # As `eval attention` and `eval complaint` do: all-zero metrics are no result.
    with pytest.raises(ValueError, match=r"^set\.tsv: no labelled lines$"):
        evaluate_file(write_tsv(tmp_path, content), classifier=KeywordClassifier())


def test_macro_f1_averages_the_classes_the_file_has(tmp_path: Path) -> None:
    # A two-class file (reviews): neutral is not averaged in, but predicting it still
    # costs the recall of the class it was taken from.
    path = write_tsv(tmp_path, "positive\tgood\npositive\tplain\nnegative\tbad\n")
    report = evaluate_file(path, lang="en", classifier=KeywordClassifier())
    assert report.per_class["neutral"].support == 0
    assert report.per_class["positive"].f1 == pytest.approx(2 / 3)
    assert report.macro_f1 == pytest.approx((2 / 3 + 1.0) / 2)


def test_a_lone_carriage_return_inside_a_text_is_whitespace(tmp_path: Path) -> None:
    # Only LF and CRLF end a line: a CR pasted inside a post stays in its line (read as a
    # space), and the lines after it keep their numbers in errors.
    path = write_tsv(tmp_path, "positive\tgood\rday\r\nneutral\tso so\nbad line\n")
    with pytest.raises(ValueError, match=r"set\.tsv:3: expected LABEL<TAB>TEXT"):
        read_labelled_lines(path)
    rows = read_labelled_lines(write_tsv(tmp_path, "positive\tgood\rday\r\nnegative\tbad\n"))
    assert [(r.line, r.label, r.text) for r in rows] == [
        (1, "positive", "good day"), (2, "negative", "bad")]
