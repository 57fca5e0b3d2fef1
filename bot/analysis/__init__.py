"""Text analysis of mentions: language, sentiment, intent, priority, spikes.

Pure: no storage, Slack or network. Models ship in ``bot/analysis/models`` and load
lazily, once per process, on first use.
"""

from bot.analysis.evaluate import EvalReport, evaluate_file, format_report
from bot.analysis.intent import IntentFlag, IntentResult, detect_intent
from bot.analysis.language import detect_language, normalize_language_code
from bot.analysis.pipeline import Analysis, analyze
from bot.analysis.priority import score_priority
from bot.analysis.reach import AuthorActivity, format_reach, rank_authors
from bot.analysis.sentiment import Sentiment, SentimentClassifier, score_sentiment
from bot.analysis.spike_explain import SpikeExplanation, SpikeMention, explain_spike
from bot.analysis.spikes import HourBucket, SpikeConfig, SpikeDecision, detect_spike

__all__ = [
    "Analysis",
    "AuthorActivity",
    "EvalReport",
    "HourBucket",
    "IntentFlag",
    "IntentResult",
    "Sentiment",
    "SentimentClassifier",
    "SpikeConfig",
    "SpikeDecision",
    "SpikeExplanation",
    "SpikeMention",
    "analyze",
    "detect_intent",
    "detect_language",
    "detect_spike",
    "evaluate_file",
    "explain_spike",
    "format_reach",
    "format_report",
    "normalize_language_code",
    "rank_authors",
    "score_priority",
    "score_sentiment",
]
