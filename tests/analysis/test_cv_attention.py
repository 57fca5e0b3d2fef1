from dataclasses import replace

import pytest

from bot.analysis.attention import FRIENDLY_REMARK, read_signals
from bot.analysis.intent import IntentFlag, IntentResult, detect_intent

pytest.importorskip("sklearn", reason="cv_attention needs scikit-learn (train extra)")

from bot.analysis.training.cv_attention import Line, alerts, choose


def line(text: str, alert: bool, probability: float, score: float) -> Line:
    """A tuning line as the shipped analysis reads ``text`` (a remark at the tie, 50, with
    the friendly tie-break off)."""
    intent = detect_intent(text)
    assert intent.intent == "other"
    return Line(alert=alert, priority=50, waiting=True, intent=intent,
                signals=read_signals(text, "en", True), sentiment_label="neutral",
                sentiment_score=score, complaint_probability=probability, language="en",
                group=0)


# Tuning part of intent/twcs_attention_dev.tsv (CC BY-NC-SA 4.0): tweets 4389 and 3964.
LIMES = line("@ChipotleTweets I need limes!", False, 0.07, 0.11)
CORRECT = line("@VerizonSupport Correct", True, 0.04, -0.05)


def test_the_margin_decides_whether_a_tied_remark_alerts() -> None:
    assert alerts(LIMES, None) and alerts(CORRECT, None)  # no tie-break: every tie alerts
    assert not alerts(LIMES, 0.0) and alerts(CORRECT, 0.0)
    assert alerts(LIMES, -0.05)
    assert not alerts(CORRECT, 0.1)


def test_a_line_analysed_with_the_shipped_flag_is_read_back_without_it() -> None:
    flagged = replace(LIMES, priority=15, waiting=False, intent=IntentResult(
        "other", (*LIMES.intent.flags, IntentFlag(FRIENDLY_REMARK, ()))))
    assert alerts(flagged, None)
    assert not alerts(flagged, 0.0)


def test_the_margin_kept_is_the_most_precise_that_keeps_the_recall() -> None:
    lines = [LIMES, CORRECT]
    assert choose(lines, [None, 0.0, 0.1], min_recall=0.9) == 0.0
    assert choose(lines, [None, 0.1], min_recall=0.9) is None
