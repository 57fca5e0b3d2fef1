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
        "question · facturation · langue non analysée (es) · attend une réponse"
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


NB = "\u00a0"  # French puts a no-break space between a number and its k/M


@pytest.mark.parametrize(
    ("reason", "intent", "topics", "expected"),
    [
        ("complaint · waiting for an answer · 48k followers", "complaint", ("billing",),
         f"réclamation · facturation · attend une réponse · 48{NB}k abonnés"),
        ("risk: legal, data breach · verified · 1.2k interactions", "risk", ("account",),
         f"risque : juridique, fuite de données · compte · certifié · 1,2{NB}k"
         " interactions"),
        ("risk: safety, crisis", "risk", (), "risque : sécurité, crise"),
        ("risk", "risk", (), "risque"),
        ("purchase intent · order number · writes again", "purchase_intent", ("delivery",),
         "intention d'achat · livraison · numéro de commande · écrit de nouveau"),
        ("question · language not analysed · negative emoji · 3 h old", "question", (),
         "question · langue non analysée · emoji négatifs · il y a 3 h"),
        ("praise · positive · 2.4M followers · 12 interactions · 2 d old · watch ×1.5",
         "praise", (), f"compliment · positif · 2,4{NB}M abonnés · 12 interactions · "
         "il y a 2 j · veille ×1,5"),
        ("negative · 3.1B followers · watch ×0.5", "other", ("outage",),
         f"panne · négatif · 3,1{NB}Md abonnés · veille ×0,5"),
        ("spam", "spam", (), "spam"),
        ("routine mention", None, (), "mention de routine"),
    ],
)
def test_a_french_reader_reads_the_reason_in_french(
        reason: str, intent: str | None, topics: tuple[str, ...], expected: str) -> None:
    """The reason is stored in English (exports and tests read it); it is worded at display
    time, its numbers with French separators, and the topics still follow the intent."""
    assert reason_line(reason, intent, topics, "fr") == expected


@pytest.mark.parametrize("reason", [
    "complaint · waiting for an answer · 48k followers",
    "risk: legal, data breach · verified · 1.2k interactions · 3 h old",
    "praise · positive · 2.4M followers · 12 interactions · 2 d old · watch ×1.5",
    "purchase intent · order number · writes again · negative emoji · language not analysed",
    "routine mention",
])
def test_an_english_reader_reads_the_stored_reason_unchanged(reason: str) -> None:
    assert reason_line(reason, None, (), "en") == reason


def test_an_unknown_part_passes_through_escaped() -> None:
    """A part no version of the analysis wrote (or a new one not worded yet) is shown as
    stored, escaped; so is an unknown risk kind among known ones."""
    line = reason_line("complaint · <!channel> & co · risk: legal, <b>doxxing</b>",
                       "complaint", ("billing",), "fr")
    assert line == ("réclamation · facturation · &lt;!channel&gt; &amp; co · risque : "
                    "juridique, &lt;b&gt;doxxing&lt;/b&gt;")
    assert reason_line("12 followers of <@U1>", None, (), "fr") == "12 followers of &lt;@U1&gt;"


def test_every_reason_the_analysis_writes_is_worded_in_french() -> None:
    """Whatever score_priority puts together, no English word is left for a French reader."""
    from datetime import UTC, datetime, timedelta

    from bot.analysis.intent import RISK_KINDS
    from bot.analysis.priority import INTENT_POINTS, score_priority

    now = datetime(2026, 12, 6, 9, tzinfo=UTC)
    english = {"waiting", "answer", "followers", "old", "watch", "negative", "positive",
               "order", "writes", "again", "routine", "verified", "purchase", "intent",
               "risk", "legal", "safety", "breach", "crisis", "complaint", "praise",
               "language", "analysed"}
    for intent in INTENT_POINTS:
        for label, analysed in (("negative", True), ("positive", True), ("neutral", False)):
            _, reason = score_priority(
                intent=intent, sentiment_score=-0.8 if label == "negative" else 0.6,
                sentiment_label=label, followers=48_213, verified=True, engagement=1_250,
                published_at=now - timedelta(hours=30), now=now, watch_weight=1.5,
                risk_kinds=RISK_KINDS, waiting=analysed, repeat_contact=not analysed,
                language_analysed=analysed, negative_emoji=2, order_number=True)
            words = set(reason_line(reason, intent, (), "fr").replace(",", " ").split())
            assert words & english == set(), reason


@pytest.mark.parametrize("status", ["replied", "closed", "ignored"])
def test_an_answered_mention_no_longer_waits(status: str) -> None:
    # The reason was stored when the mention was scored; its status is what holds now.
    reason = "complaint · writes again · waiting for an answer · 48k followers"
    assert reason_line(reason, "complaint", ("billing",), "en", status=status) == (
        "complaint · billing · 48k followers")
    assert reason_line("waiting for an answer", "other", (), "fr", status=status) == ""
    french = reason_line(reason, "complaint", (), "fr", status=status, direct_to="@acme")
    assert french.startswith("réclamation · 48") and french.endswith("abonnés · :dart: à @acme")
    assert "attend" not in french and "écrit" not in french


@pytest.mark.parametrize("status", [None, "new", "assigned", "drafting",
                                    "awaiting_approval", "approved"])
def test_an_open_mention_still_waits(status: str | None) -> None:
    assert reason_line("complaint · writes again · waiting for an answer", "complaint", (),
                       "en", status=status) == (
        "complaint · writes again · waiting for an answer")
