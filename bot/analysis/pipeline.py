"""One call per mention: language, sentiment, intent and priority (what ingest stores)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.analysis.attention import (
    FRIENDLY_REMARK,
    LANGUAGE_NOT_ANALYSED,
    Signals,
    read_signals,
    request_terms,
    waiting_for_answer,
    weigh_complaint,
)
from bot.analysis.classifiers import (
    Classification,
    classification_of_logits,
    load_classifiers,
    request_models,
)
from bot.analysis.classifiers import classify as classify_request
from bot.analysis.frozen import fast_init
from bot.analysis.intent import FLAG_ORDER, Intent, IntentFlag, IntentResult, detect_intent
from bot.analysis.joint import JointScorer
from bot.analysis.language import detect_language, load_language_model
from bot.analysis.linear_model import LinearSentimentModel
from bot.analysis.priority import score_priority
from bot.analysis.sentiment import (
    SENTIMENT_LANGUAGES,
    Label,
    Sentiment,
    SentimentClassifier,
    load_model,
    sentiment_from_probabilities,
)
from bot.analysis.text import strip_links
from bot.analysis.topics import TopicMatch, detect_topics


def load_models() -> None:
    """Load every shipped model (language, sentiment for each language, complaint and
    question classifiers, scored together) now, so the first mentions a process analyses
    do not wait."""
    load_language_model()
    load_classifiers()
    for language in SENTIMENT_LANGUAGES:
        _joint_scorer(language, load_model(language))


@fast_init
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
    waiting: bool = False
    language_analysed: bool = True
    complaint_probability: float | None = None
    """P(complaint) from the learned model of the language; None: no model for it."""
    question_probability: float | None = None
    """P(a question or request the brand must answer); None: no model for the language."""
    topics: tuple[TopicMatch, ...] = ()
    """Request topics (billing, outage...) with the terms that raised them."""

    @property
    def flag_names(self) -> tuple[str, ...]:
        """Names of the intent flags raised (``"complaint"``, ``"risk:legal"``...)."""
        return tuple(f.name for f in self.flags)

    @property
    def stored_sentiment(self) -> tuple[float | None, Label | None]:
        """``(score, label)`` to store and count: none for a language no sentiment model
        reads (the English model's guess on Japanese is no sentiment), so counts, digests
        and the ``sentiment:`` filter see it as not analysed rather than negative or
        positive. Spanish, German and Portuguese have sentiment models of their own (not
        intent rules: their reason says "sentiment only"): theirs is kept."""
        if self.language is not None and self.language not in SENTIMENT_LANGUAGES:
            return None, None
        return self.sentiment_score, self.sentiment_label

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
    item = AnalysisInput(text, lang_hint, followers, verified, engagement, published_at)
    return analyze_many([item], now=now, watch_weight=watch_weight, classifier=classifier)[0]


@fast_init
@dataclass(frozen=True, slots=True)
class AnalysisInput:
    """One mention to analyse with ``analyze_many`` (fields as in ``analyze``).

    ``addressed``: written to the brand (``None``: unknown, then naming an @handle
    counts); ``repeat_contact``: the author writes again in an open case (to the brand,
    then; it adds weight only when there is something to answer).
    """

    text: str
    lang_hint: str | None = None
    followers: int | None = None
    verified: bool = False
    engagement: int = 0
    published_at: datetime | None = None
    addressed: bool | None = None
    repeat_contact: bool = False


def analyze_many(
    items: Sequence[AnalysisInput],
    *,
    now: datetime,
    watch_weight: float = 1.0,
    classifier: SentimentClassifier | None = None,
    languages: Sequence[str | None] | None = None,
) -> list[Analysis]:
    """``analyze`` for each item, one stage at a time over the whole batch.

    Running each model over every text in turn keeps that model's tables in the CPU
    cache, which makes a batch about a fifth faster than calling ``analyze`` per item;
    the results are the same. ``languages`` are those ``detect_language`` already gave
    for these items (a caller that needed them first), in order.
    """
    if languages is None:
        languages = [detect_language(item.text, item.lang_hint) for item in items]
    pairs = list(zip(items, languages, strict=True))
    if classifier is None:
        sentiments, requests = _embedded_models(pairs)
    else:
        sentiments = [classifier.classify(item.text, language) for item, language in pairs]
        requests = [classify_request(item.text, language) for item, language in pairs]
    # The rules, the topics and the signals all read each text without its links.
    bare = [strip_links(item.text) for item in items]
    intents = list(map(detect_intent, [item.text for item in items], bare))
    topics = list(map(detect_topics, [item.text for item in items], bare))
    out: list[Analysis] = []
    for (item, language), sentiment, intent, request, found, without_links in zip(
        pairs, sentiments, intents, requests, topics, bare, strict=True
    ):
        signals = _signals(item, language, without_links)
        intent = weigh_complaint(intent, request.complaint, language, signals, sentiment.label,
                                 sentiment.score)
        flags = intent.flags
        if not signals.language_analysed:
            flags = (*flags, IntentFlag(LANGUAGE_NOT_ANALYSED, (language or "?",)))
        priority, reason, waiting = _priority(item, intent, sentiment.score, sentiment.label,
                                              signals, now, watch_weight,
                                              request_terms(t for m in found for t in m.terms))
        out.append(Analysis(
            language=language,
            sentiment_score=sentiment.score,
            sentiment_label=sentiment.label,
            intent=intent.intent,
            flags=flags,
            priority=priority,
            reason=reason,
            waiting=waiting,
            language_analysed=signals.language_analysed,
            complaint_probability=request.complaint,
            question_probability=request.question,
            topics=found,
        ))
    return out


def _signals(item: AnalysisInput, language: str | None,
             without_links: str | None = None) -> Signals:
    """The signals of ``item``'s characters. Whether its language was analysed is the
    detected language's say alone (or the text too short to tell): an English or French
    rule word met in a Spanish or German text ("error", "fraude") is a stray word, not a
    reading of the text, and a risk term of the Spanish, German or Portuguese rules reads
    the risk only (the reason then says both: "risk: legal · language not analysed").
    ``without_links``: ``strip_links`` of its text, when known."""
    # Writing again in a case is writing to the brand, handle or not ("still nothing").
    addressed = True if item.repeat_contact else item.addressed
    return read_signals(item.text, language, addressed, item.lang_hint, without_links)


def _priority(item: AnalysisInput, intent: IntentResult, sentiment_score: float,
              sentiment_label: Label, signals: Signals, now: datetime, watch_weight: float,
              requested: bool) -> tuple[int, str, bool]:
    """Priority, its reason and whether the author waits for an answer, from the intent
    once weighed by the complaint model; ``requested``: its request topics' terms say
    something is wrong or awaited (``request_terms``)."""
    waiting = waiting_for_answer(intent, signals, sentiment_label, requested)
    priority, reason = score_priority(
        intent=intent.intent,
        sentiment_score=sentiment_score,
        sentiment_label=sentiment_label,
        followers=item.followers,
        verified=item.verified,
        engagement=item.engagement,
        published_at=item.published_at,
        now=now,
        watch_weight=watch_weight,
        risk_kinds=intent.risk_kinds,
        waiting=waiting,
        repeat_contact=item.repeat_contact,
        language_analysed=signals.language_analysed,
        negative_emoji=signals.negative_emoji,
        order_number=signals.order_number,
        sentiment_analysed=signals.sentiment_analysed,
    )
    return priority, reason, waiting


@dataclass(frozen=True, slots=True)
class StoredAnalysis:
    """What a stored mention keeps of its analysis: the part that depends on its text
    only (``intent`` as the complaint model weighed it; ``flags`` as stored, extra flags
    such as ``direct`` included)."""

    language: str | None
    sentiment_score: float
    sentiment_label: Label
    intent: Intent
    flags: tuple[IntentFlag, ...]
    topics: tuple[TopicMatch, ...] = ()
    """The request topics stored, with their terms (``Analysis.topics``)."""


def prioritize_stored(
    items: Sequence[tuple[AnalysisInput, StoredAnalysis]],
    *,
    now: datetime,
    watch_weight: float = 1.0,
) -> list[tuple[int, str]]:
    """``(priority, reason)`` of mentions already analysed and stored, for another watch
    (its weight) or another moment: what ``analyze_many`` gives for the same text, read
    from what is stored instead of running the models again. Only the signals (addressed
    to the brand, writing again) and the priority are worked out anew."""
    out: list[tuple[int, str]] = []
    for item, stored in items:
        flags = tuple(f for f in stored.flags if f.name in _PRIORITY_FLAGS)
        signals = _signals(item, stored.language)
        priority, reason, _ = _priority(
            item, IntentResult(stored.intent, flags), stored.sentiment_score,
            stored.sentiment_label, signals, now, watch_weight,
            request_terms(t for m in stored.topics for t in m.terms))
        out.append((priority, reason))
    return out


_PRIORITY_FLAGS = frozenset((*FLAG_ORDER, FRIENDLY_REMARK))
"""Stored flags the priority reads: the rules' and the complaint model's (a friendly
remark); not those of the language or the address."""

_joint_scorers: dict[str | None, JointScorer] = {}
_scorers_by_models: dict[tuple[int, ...], JointScorer] = {}


def _joint_scorer(language: str | None, model: LinearSentimentModel) -> JointScorer:
    """The sentiment model of ``language`` and the classifiers reading its features (when
    both ship and read them), scored together. Built once per set of models: languages
    read by the same models (those falling back to English) share one, and its caches."""
    scorer = _joint_scorers.get(language)
    if scorer is None or scorer.sentiment is not model:
        binaries = request_models(language, model.feature_key)
        key = (id(model), *map(id, binaries))
        scorer = _scorers_by_models.get(key)
        if scorer is None or scorer.sentiment is not model:
            scorer = _scorers_by_models[key] = JointScorer(model, binaries)
        _joint_scorers[language] = scorer
    return scorer


def _embedded_models(
    pairs: Sequence[tuple[AnalysisInput, str | None]],
) -> tuple[list[Sentiment], list[Classification]]:
    """Sentiment and complaint/question probabilities from the shipped models, reading
    each text once and summing its features once for all of them (``JointScorer``)."""
    scorers = [_joint_scorer(language, load_model(language)) for _, language in pairs]
    # Every text's features first, then every score: each pass keeps its own tables
    # (lexicons, then the models' weights) in the CPU cache.
    features = [scorer.sentiment.features(item.text)
                for scorer, (item, _) in zip(scorers, pairs, strict=True)]
    sentiments: list[Sentiment] = []
    requests: list[Classification] = []
    for scorer, feats, (item, language) in zip(scorers, features, pairs, strict=True):
        probabilities, logits = scorer.score(item.text, feats)
        sentiments.append(sentiment_from_probabilities(*probabilities))
        if logits:
            requests.append(classification_of_logits(*logits))
        else:
            requests.append(classify_request(item.text, language))
    return sentiments, requests
