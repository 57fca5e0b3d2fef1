"""Links written without a scheme ("acme.com/blog/how-to-cancel") are links to the rules too:
the words and the "?" of their path raise no intent, topic or question, as those of a link
with a scheme never did. Found by the one detection of links, ``bot.text_links``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.attention import read_signals
from bot.analysis.intent import detect_intent
from bot.analysis.pipeline import AnalysisInput, analyze_many
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD
from bot.analysis.text import normalize_social, strip_links
from bot.analysis.topics import detect_topics

NOW = datetime(2026, 11, 2, 10, tzinfo=UTC)

# Praise with a link whose path reads as a request (the review's Reddit posts).
PRAISE_WITH_BARE_LINKS = [
    "Great explainer from @acme: acme.com/blog/how-to-cancel-your-subscription",
    "@acme nice video youtube.com/watch?v=pricing-update",
    "Loving the @acme redesign, screenshots at imgur.com/a/refund-page-error",
]


def analysed(*texts: str) -> list[tuple[int, str, str]]:
    items = [AnalysisInput(t, published_at=NOW - timedelta(minutes=5)) for t in texts]
    return [(a.priority, a.intent, a.reason) for a in analyze_many(items, now=NOW)]


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("see acme.com/blog/how-to-cancel now", "see   now"),
        ("@acme why is acme.com/pricing down?", "@acme why is   down?"),
        ("video youtube.com/watch?v=pricing-update!", "video  !"),
        ("shop at münchen.de/x-refund.", "shop at  ."),
        ("see https://acme.com/refund?x=1 ok", "see   ok"),
        ("see WWW.acme.com/refund", "see  "),
        # The punctuation ending the sentence after a link with a scheme stays too.
        ("@acme my order https://acme.com/orders/123?", "@acme my order  ?"),
        ("down (https://acme.com/status)!", "down ( )!"),
        ("see https://t.co/abc... ok", "see  ... ok"),
    ],
)
def test_strip_links_removes_links_with_and_without_a_scheme(text: str, stripped: str) -> None:
    assert strip_links(text) == stripped


@pytest.mark.parametrize(
    "text",
    [
        "e.g. this, i.e. that",
        "version 3.5 and v2.0",
        "open file.txt",
        "Mr.Smith said ok.so fine",
        ".NET and node.js",
        "it is down.Help me",
        "app crashed.Support is useless",
        "I love acme.com",
        "a.b/c",
    ],
)
def test_strip_links_keeps_words_that_only_look_like_links(text: str) -> None:
    assert strip_links(text) == text


@pytest.mark.parametrize("text", PRAISE_WITH_BARE_LINKS)
def test_words_of_a_bare_link_raise_no_intent_question_or_topic(text: str) -> None:
    flags = {flag.name for flag in detect_intent(text).flags}
    assert not flags & {"question", "purchase_intent", "complaint"}
    assert detect_topics(text) == ()


def test_a_question_mark_inside_a_bare_link_is_no_question() -> None:
    video = "@acme nice video youtube.com/watch?v=pricing-update"
    assert read_signals(video, "en").question_marks == 0
    assert read_signals("@acme is acme.com/pricing down?", "en").question_marks == 1


def test_praise_with_a_bare_link_does_not_alert() -> None:
    for priority, intent, reason in analysed(*PRAISE_WITH_BARE_LINKS):
        assert priority < DEFAULT_ALERT_THRESHOLD, (priority, intent, reason)
        assert intent not in {"question", "purchase_intent", "complaint"}


@pytest.mark.parametrize(
    "text", ["@acme why is acme.com/pricing down?", "@acme where is the form? acme.com/help"]
)
def test_a_question_with_a_bare_link_still_alerts(text: str) -> None:
    ((priority, _, reason),) = analysed(text)
    assert priority >= DEFAULT_ALERT_THRESHOLD, reason
    flags = {f.name: f.terms for f in detect_intent(text).flags}
    assert "?" in flags["question"]


def test_a_question_mark_right_after_a_link_with_a_scheme_is_a_question() -> None:
    # URL_RE reads a link up to the next space, so its sentence's "?" went with it.
    text = "@acme my order https://acme.com/orders/123?"
    assert read_signals(text, "en").question_marks == 1
    flags = {f.name: f.terms for f in detect_intent(text).flags}
    assert "?" in flags["question"]
    ((priority, intent, reason),) = analysed(text)
    assert intent == "question" and priority >= DEFAULT_ALERT_THRESHOLD, reason


def test_the_models_read_a_bare_link_as_they_learnt_links() -> None:
    # A link is "http" to the models, written with a scheme or not; a scheme link keeps
    # the form they were trained on (its trailing punctuation goes with it), and
    # "pic.twitter.com/ID", the bare link of their training tweets, keeps its words.
    assert normalize_social("nice youtube.com/watch?v=pricing-update") == "nice  http "
    assert normalize_social("see https://t.co/abc!") == "see  http "
    assert normalize_social("wrong shirt pic.twitter.com/infmTil4zc") == (
        "wrong shirt pic.twitter.com/infmTil4zc"
    )
    assert normalize_social("I love acme.com") == "I love acme.com"
