"""Spanish, German and Portuguese: no intent rules or complaint/question classifiers read
them, but their own sentiment models do, and the priority weighs that reading with the
language-independent signals. A thank-you to the brand waits for the digest, a complaint,
a question or a legal threat alerts, and the reason says "sentiment only"."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.attention import LANGUAGE_NOT_ANALYSED
from bot.analysis.pipeline import (
    Analysis,
    AnalysisInput,
    StoredAnalysis,
    analyze_many,
    prioritize_stored,
)
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD

NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)
POSTED = NOW - timedelta(minutes=5)

THANKS = [
    ("de", "@acme Vielen Dank für die schnelle Hilfe, ihr seid toll!"),
    ("de", "@acme Danke für die schnelle Lieferung, alles super angekommen!"),
    ("es", "@acme muchas gracias por la ayuda, todo ha llegado perfecto 😊"),
    ("es", "@acme gracias por la atención, sois los mejores"),
    ("pt", "@acme muito obrigado pela ajuda, chegou tudo certinho 😊"),
    ("pt", "@acme obrigada pelo atendimento, vocês são demais!"),
]
COMPLAINTS = [
    ("de", "@acme Seit drei Wochen warte ich auf meine Erstattung, unverschämt 😡"),
    ("es", "@acme mi pedido no ha llegado y nadie contesta, qué vergüenza 😡"),
    ("pt", "@acme meu pedido não chegou e ninguém responde, que vergonha 😡"),
]
QUESTIONS = [
    ("de", "@acme Können Sie mir sagen, wann meine Bestellung kommt?"),
    ("es", "@acme ¿me podéis decir cuándo llega mi pedido?"),
    ("pt", "@acme vocês podem me dizer quando chega o meu pedido?"),
]
# Polite help requests: the sentiment model reads the thanks as positive, yet they ask.
HELP_REQUESTS = [
    (
        "es",
        "@acme buenos días, necesito ayuda con mi cuenta, no puedo entrar desde ayer. "
        "Muchas gracias",
    ),
    (
        "es",
        "@acme hola, todavía espero mi pedido 88412093 desde hace tres semanas, gracias "
        "por revisarlo",
    ),
    ("es", "@acme llevo tres semanas esperando el reembolso, es una vergüenza"),
]
# Thanks that ask nothing, one of them naming a delivery (a request topic).
PLAIN_THANKS = [
    "@acme ¡Muchas gracias, sois geniales!",
    "@acme Danke, super Service!",
    "@acme Danke für die schnelle Lieferung, alles super angekommen!",
    "@acme obrigada pelo atendimento, vocês são demais!",
]
LEGAL = [
    ("de", "@acme ich werde Sie verklagen, das ist Betrug"),
    ("es", "@acme ya he hablado con mi abogado sobre vuestro cobro"),
    ("pt", "@acme vou processar vocês, cobraram duas vezes"),
]
# Not addressed to the brand: a complaint about it, and chatter, in each language.
SAID_ABOUT = [
    (
        "de",
        "Acme hat mir seit drei Wochen die Erstattung nicht überwiesen, einfach "
        "unverschämt und schlecht",
        "Morgen fahren wir mit dem Zug nach Hamburg",
    ),
    (
        "es",
        "Acme es un desastre, el pedido llegó roto y nadie me ayuda",
        "mañana vamos en tren a Madrid con mi hermana",
    ),
    (
        "pt",
        "a Acme é uma vergonha, o pedido chegou quebrado e ninguém me ajuda",
        "amanhã vamos de trem para Lisboa com a minha irmã",
    ),
]


def analysed(text: str, addressed: bool = True) -> Analysis:
    [analysis] = analyze_many(
        [AnalysisInput(text, published_at=POSTED, addressed=addressed)], now=NOW
    )
    return analysis


@pytest.mark.parametrize(("language", "text"), THANKS)
def test_a_thank_you_to_the_brand_does_not_alert(language: str, text: str) -> None:
    analysis = analysed(text)
    assert analysis.language == language and not analysis.language_analysed
    assert analysis.sentiment_label == "positive"
    assert not analysis.waiting
    assert analysis.priority < DEFAULT_ALERT_THRESHOLD
    assert "sentiment only" in analysis.reason.split(" · ")
    assert "language not analysed" not in analysis.reason
    # The words were still not read by intent rules: the flag stays, with the language.
    assert analysis.flags[-1].name == LANGUAGE_NOT_ANALYSED
    assert analysis.flags[-1].terms == (language,)


@pytest.mark.parametrize(("language", "text"), COMPLAINTS)
def test_a_complaint_to_the_brand_alerts_and_says_it_is_negative(language: str, text: str) -> None:
    analysis = analysed(text)
    assert analysis.language == language
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD
    assert analysis.reason == "sentiment only · negative · waiting for an answer"
    thanks = [analysed(t) for lang, t in THANKS if lang == language]
    assert all(analysis.priority > t.priority for t in thanks)


@pytest.mark.parametrize(("language", "text"), QUESTIONS)
def test_a_question_to_the_brand_alerts(language: str, text: str) -> None:
    analysis = analysed(text)
    assert analysis.language == language
    assert analysis.intent == "question"
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD
    assert analysis.reason.startswith("question · sentiment only")


@pytest.mark.parametrize(("language", "text"), HELP_REQUESTS)
def test_a_help_request_closed_with_thanks_waits_for_an_answer(language: str, text: str) -> None:
    analysis = analysed(text)
    assert analysis.language == language and not analysis.language_analysed
    assert analysis.sentiment_label == "positive"  # the model reads the politeness
    assert analysis.waiting
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD
    assert analysis.reason.endswith("waiting for an answer")


@pytest.mark.parametrize("text", PLAIN_THANKS)
def test_a_thank_you_naming_no_problem_still_does_not_alert(text: str) -> None:
    analysis = analysed(text)
    assert not analysis.waiting
    assert analysis.priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(("language", "text"), LEGAL)
def test_a_legal_threat_still_ranks_at_the_top(language: str, text: str) -> None:
    analysis = analysed(text)
    assert analysis.language == language
    assert analysis.risk_kinds == ("legal",)
    assert analysis.priority == 100
    assert analysis.reason == "risk: legal · sentiment only · waiting for an answer"


@pytest.mark.parametrize(("language", "complaint", "chatter"), SAID_ABOUT)
def test_a_complaint_not_addressed_to_the_brand_ranks_above_chatter(
    language: str, complaint: str, chatter: str
) -> None:
    said, chat = analysed(complaint, addressed=False), analysed(chatter, addressed=False)
    assert said.language == chat.language == language
    assert said.priority > chat.priority
    assert said.priority < DEFAULT_ALERT_THRESHOLD  # it does not need to alert
    assert said.reason == "sentiment only · negative"


@pytest.mark.parametrize(("language", "text"), THANKS + COMPLAINTS + QUESTIONS + HELP_REQUESTS)
def test_a_stored_mention_is_scored_again_the_same_way(language: str, text: str) -> None:
    analysis = analysed(text)
    stored = StoredAnalysis(
        analysis.language,
        analysis.sentiment_score,
        analysis.sentiment_label,
        analysis.intent,
        analysis.flags,
        analysis.topics,
    )
    [(priority, reason)] = prioritize_stored(
        [(AnalysisInput(text, published_at=POSTED, addressed=True), stored)], now=NOW
    )
    assert (priority, reason) == (analysis.priority, analysis.reason)


def test_a_language_with_no_model_at_all_is_still_scored_from_signs() -> None:
    # Italian: no sentiment model either, so a thank-you to the brand still waits and the
    # reason says the language was not analysed.
    analysis = analysed("@acme grazie mille per l'aiuto veloce, siete fantastici!")
    assert analysis.language == "it"
    assert analysis.reason == "language not analysed · waiting for an answer"
    assert analysis.priority == DEFAULT_ALERT_THRESHOLD
