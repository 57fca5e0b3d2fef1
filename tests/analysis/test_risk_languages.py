"""Risk kinds read in Spanish, German and Portuguese, and the honesty of the reason when
only risk terms, or a stray English or French rule word, were read besides the sentiment
("sentiment only": no intent rule or classifier read the rest)."""

from datetime import UTC, datetime

import pytest

from bot.analysis.attention import LANGUAGE_NOT_ANALYSED
from bot.analysis.intent import detect_intent
from bot.analysis.pipeline import AnalysisInput, StoredAnalysis, analyze_many, prioritize_stored

NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)
SENTIMENT_ONLY = "sentiment only"

RISKS = [
    # Spanish
    ("voy a denunciaros ante la OCU por esto", "legal", "@acme I will report you to the FTC"),
    ("os voy a demandar, me habéis cobrado dos veces", "legal", "@acme I will sue you"),
    ("ya he hablado con mi abogado sobre vuestro cobro", "legal", "@acme I called my lawyer"),
    ("pienso poner una demanda contra vuestra empresa", "legal", "@acme I will sue you"),
    ("he pedido la hoja de reclamaciones en la tienda", "legal", "@acme I will sue you"),
    (
        "han sufrido una filtración de datos y nadie avisa",
        "data_breach",
        "@acme you had a data breach",
    ),
    (
        "me han robado la cuenta y hay cargos no autorizados",
        "data_breach",
        "@acme my account was stolen",
    ),
    ("el cargador se quemó anoche", "safety", "@acme the charger caught fire"),
    ("se me quemó el cargador y la pared está negra", "safety", "@acme the charger caught fire"),
    (
        "hubo un incendio en la cocina por vuestra freidora",
        "safety",
        "@acme your fryer caught fire",
    ),
    ("mi hijo acabó en urgencias con una intoxicación", "safety", "@acme my son went to hospital"),
    ("esto es un escándalo, boicot a esta marca", "crisis", "@acme boycott this brand"),
    # German
    ("ich werde Sie verklagen, das ist Betrug", "legal", "@acme I will sue you"),
    ("ich werde meinen Anwalt einschalten", "legal", "@acme I called my lawyer"),
    ("wir reichen Klage ein und gehen zur Verbraucherzentrale", "legal", "@acme I will sue you"),
    ("nach dem Datenleck wurde mein Konto gehackt", "data_breach", "@acme you had a data breach"),
    (
        "der Akku ist explodiert, meine Tochter hat eine Verletzung an der Hand",
        "safety",
        "@acme the battery exploded",
    ),
    ("das Ladegerät ist gestern in Brand geraten", "safety", "@acme the charger caught fire"),
    ("was für ein Skandal, Boykott!", "crisis", "@acme boycott this brand"),
    # Portuguese
    ("vou processar vocês, cobraram duas vezes", "legal", "@acme I will sue you"),
    ("já falei com meu advogado e vou no Procon", "legal", "@acme I called my lawyer"),
    ("teve vazamento de dados e ninguém avisou", "data_breach", "@acme you had a data breach"),
    (
        "minha conta foi invadida e tem compras não autorizadas",
        "data_breach",
        "@acme my account was stolen",
    ),
    ("o carregador pegou fogo no meu quarto", "safety", "@acme the charger caught fire"),
    ("meu filho ficou ferido com o brinquedo", "safety", "@acme my son was injured"),
]


@pytest.mark.parametrize(("text", "kind", "english"), RISKS)
def test_a_risk_in_spanish_german_or_portuguese_is_flagged_as_in_english(
    text: str, kind: str, english: str
) -> None:
    theirs, ours = analyze_many(
        [AnalysisInput(f"@acme {text}", addressed=True), AnalysisInput(english, addressed=True)],
        now=NOW,
    )
    assert kind in theirs.risk_kinds, (theirs.language, theirs.flags)
    assert kind in ours.risk_kinds  # the English sentence, to compare with
    assert theirs.intent == "risk"
    assert theirs.priority == ours.priority == 100
    # The risk terms are the explanation, as in English.
    assert detect_intent(text).terms(f"risk:{kind}")


@pytest.mark.parametrize(
    "text",
    [
        "la demanda de este producto es alta",
        "la demanda de móviles ha bajado este año",
        "kein Problem, danke",
        "das Gericht war lecker, danke für den schnellen Service",
        "die Anklage gegen den Politiker war in den Nachrichten",
        "ich warte noch auf den Rückruf vom Kundenservice",
        "die Anzeige auf Instagram ist witzig",
        "a demanda por este produto cresceu muito",
        "o sistema não consegue processar o pagamento",
        "esse atendimento é fogo, ninguém responde",
        "estoy quemado con este servicio, siempre igual",
        "no me vendáis humo, quiero una respuesta",
        "I love this brand, great fire sale",
        # A phone or battery "dies" in every language: no one was hurt.
        "se me murió la batería otra vez",
        "meu celular morreu de novo depois da atualização",
        "mein Akku ist schon wieder gestorben",
        # French: "morte" is dead (feminine), said of an idea; not Portuguese "morte".
        "la notion de stratégie est morte dans le digital",
    ],
)
def test_everyday_words_raise_no_risk(text: str) -> None:
    assert not detect_intent(text).risk_kinds, detect_intent(text).flags


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("@acme voy a denunciaros ante la OCU por la filtración, esto es un fraude", "es"),
        (
            "@acme ich werde meinen Anwalt einschalten, das ist Betrug und ein Skandal, "
            "error 500 im Konto",
            "de",
        ),
        ("@acme la aplicación me da error cada vez que intento pagar con la tarjeta", "es"),
        ("@acme o aplicativo dá error toda vez que tento pagar, que fraude", "pt"),
    ],
)
def test_a_stray_rule_word_or_a_risk_term_does_not_make_the_language_analysed(
    text: str, language: str
) -> None:
    [analysis] = analyze_many([AnalysisInput(text, addressed=True)], now=NOW)
    assert analysis.language == language
    assert not analysis.language_analysed
    assert SENTIMENT_ONLY in analysis.reason.split(" · ")
    assert analysis.flags[-1].name == LANGUAGE_NOT_ANALYSED
    assert analysis.flags[-1].terms == (language,)
    # What is stored gives the same priority and reason when scored again.
    stored = StoredAnalysis(
        analysis.language,
        analysis.sentiment_score,
        analysis.sentiment_label,
        analysis.intent,
        analysis.flags,
    )
    [(priority, reason)] = prioritize_stored(
        [(AnalysisInput(text, addressed=True), stored)], now=NOW
    )
    assert (priority, reason) == (analysis.priority, analysis.reason)


def test_a_spanish_legal_threat_says_the_risk_and_that_only_its_sentiment_was_read() -> None:
    [analysis] = analyze_many(
        [
            AnalysisInput(
                "@acme voy a denunciaros ante la OCU por la filtración, esto es un fraude",
                addressed=True,
            )
        ],
        now=NOW,
    )
    assert analysis.risk_kinds == ("legal",)
    assert analysis.reason == "risk: legal · sentiment only · waiting for an answer"
