"""One call per mention: language, sentiment, intent and priority (what ingest stores)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.analysis.intent import Intent, IntentFlag, detect_intent
from bot.analysis.language import detect_language
from bot.analysis.priority import score_priority
from bot.analysis.sentiment import Label, SentimentClassifier, score_sentiment


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the analysis says about one mention."""

    language: str | None
    sentiment_score: float
    sentiment_label: Label
    intent: Intent
    flags: tuple[IntentFlag, ...]
    priority: int
    reason: str

    @property
    def flag_names(self) -> tuple[str, ...]:
        """Names of the intent flags raised (``"complaint"``, ``"risk:legal"``...)."""
        return tuple(f.name for f in self.flags)

    @property
    def risk_kinds(self) -> tuple[str, ...]:
        """Kinds of risk raised, for warnings on the draft editor."""
        return tuple(f.name.split(":", 1)[1] for f in self.flags if f.name.startswith("risk:"))


def analyze(
    text: str,
    *,
    lang_hint: str | None = None,
    followers: int | None = None,
    verified: bool = False,
    engagement: int = 0,
    published_at: datetime | None = None,
    now: datetime,
    watch_weight: float = 1.0,
    classifier: SentimentClassifier | None = None,
) -> Analysis:
    """Analyze one mention's text in the context of its author and watch.

    ``lang_hint`` is the network's language tag; ``classifier`` replaces the embedded
    sentiment model (an LLM-backed one, say). Pure apart from loading models once.
    """
    language = detect_language(text, lang_hint)
    if classifier is None:
        sentiment = score_sentiment(text, language)
    else:
        sentiment = classifier.classify(text, language)
    intent = detect_intent(text)
    priority, reason = score_priority(
        intent=intent.intent,
        sentiment_score=sentiment.score,
        sentiment_label=sentiment.label,
        followers=followers,
        verified=verified,
        engagement=engagement,
        published_at=published_at,
        now=now,
        watch_weight=watch_weight,
        risk_kinds=intent.risk_kinds,
    )
    return Analysis(
        language=language,
        sentiment_score=sentiment.score,
        sentiment_label=sentiment.label,
        intent=intent.intent,
        flags=intent.flags,
        priority=priority,
        reason=reason,
    )
