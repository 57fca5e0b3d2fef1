from datetime import UTC, datetime, timedelta

from bot.analysis.pipeline import Analysis, AnalysisInput, analyze, analyze_many
from bot.analysis.sentiment import Sentiment

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def test_analyze_a_french_complaint() -> None:
    result = analyze(
        "Colis jamais reçu, service client injoignable. Je vais porter plainte !",
        lang_hint=None,
        followers=48_000,
        verified=False,
        engagement=3,
        published_at=NOW - timedelta(minutes=20),
        now=NOW,
    )
    assert isinstance(result, Analysis)
    assert result.language == "fr"
    assert result.sentiment_label == "negative"
    assert result.sentiment_score < 0
    assert result.intent == "risk"
    assert result.risk_kinds == ("legal",)
    assert "complaint" in result.flag_names
    assert result.reason == "risk: legal · 48k followers"
    assert result.priority >= 60


def test_short_text_uses_the_network_hint() -> None:
    assert analyze("Merci !", lang_hint="fr", now=NOW).language == "fr"


def test_praise_scores_lower_than_complaint() -> None:
    praise = analyze("Thank you, the new release is amazing!", now=NOW)
    complaint = analyze("The new release is broken and support never answers", now=NOW)
    assert praise.sentiment_label == "positive"
    assert complaint.priority > praise.priority


class AlwaysNegative:
    """Stands in for an LLM-backed classifier."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def classify(self, text: str, lang: str | None) -> Sentiment:
        self.calls.append((text, lang))
        return Sentiment(-0.9, "negative")


def test_a_plugged_classifier_replaces_the_embedded_model() -> None:
    classifier = AlwaysNegative()
    result = analyze("What a lovely day", now=NOW, classifier=classifier)
    assert classifier.calls == [("What a lovely day", "en")]
    assert (result.sentiment_score, result.sentiment_label) == (-0.9, "negative")


def test_a_batch_gets_what_each_mention_gets_alone() -> None:
    items = [
        AnalysisInput("Colis jamais reçu, je vais porter plainte !", followers=48_000),
        AnalysisInput("Love the new app, great job team!", published_at=NOW),
        AnalysisInput("ok", lang_hint="de", engagement=40),
        AnalysisInput(""),
    ]
    alone = [analyze(i.text, lang_hint=i.lang_hint, followers=i.followers,
                     verified=i.verified, engagement=i.engagement,
                     published_at=i.published_at, now=NOW, watch_weight=2.0) for i in items]
    assert analyze_many(items, now=NOW, watch_weight=2.0) == alone
    given = analyze_many(items[:1], now=NOW, languages=["es"])
    assert given[0].language == "es"
