"""The reason line: topics after what the mention is, short, escaped, in the user's language."""

from __future__ import annotations

import pytest

from bot.slack.signals import reason_line


@pytest.mark.parametrize(
    ("reason", "intent", "topics", "expected"),
    [
        ("complaint · waiting for an answer", "complaint", ("billing",),
         "complaint · billing · waiting for an answer"),
        ("risk: legal, safety · 48k followers", "risk", ("account",),
         "risk: legal, safety · account · 48k followers"),
        ("purchase intent", "purchase_intent", ("delivery", "billing"),
         "purchase intent · delivery · billing"),
        ("waiting for an answer", "other", ("outage",), "outage · waiting for an answer"),
        ("routine mention", None, (), "routine mention"),
        (None, None, ("churn",), "churn"),
        (None, None, (), ""),
        # At most three topics: a line, not a list.
        ("complaint", "complaint", ("billing", "delivery", "account", "outage"),
         "complaint · billing · delivery · account"),
    ],
)
def test_topics_follow_the_intent(reason: str | None, intent: str | None,
                                  topics: tuple[str, ...], expected: str) -> None:
    assert reason_line(reason, intent, topics, "en") == expected


def test_language_note_and_direct_account() -> None:
    assert reason_line("question · waiting for an answer", "question", ("billing",), "fr",
                       language_analysed=False, language_code="es",
                       direct_to="@acme_care") == (
        "question · facturation · langue non analysée (es) · waiting for an answer"
        " · :dart: à @acme_care")
    # The analysis already said it: not twice.
    assert reason_line("question · language not analysed", "question", (), "en",
                       language_analysed=False, language_code="es") == (
        "question · language not analysed")


def test_outside_text_is_escaped() -> None:
    line = reason_line("complaint", "complaint", (), "en", language_analysed=False,
                       language_code="<!here>", direct_to="<@U1>&<!channel>")
    assert "<!" not in line and "<@" not in line
    assert "&lt;@U1&gt;&amp;&lt;!channel&gt;" in line
