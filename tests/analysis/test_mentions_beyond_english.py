"""Mentions outside plain English at the default alert threshold: a mention that asks,
complains or threatens to leave alerts whoever wrote it; a thank-you, laughter or a
hashtag-only post does not; a language no model reads says so, however short."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.attention import LANGUAGE_NOT_ANALYSED
from bot.analysis.intent import detect_intent
from bot.analysis.pipeline import Analysis, AnalysisInput, analyze_many
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD

NOW = datetime(2026, 12, 8, 10, tzinfo=UTC)
POSTED = NOW - timedelta(minutes=5)


def analyse(text: str, hint: str | None = None) -> Analysis:
    item = AnalysisInput(text, published_at=POSTED, lang_hint=hint)
    return analyze_many([item], now=NOW)[0]


# A problem or refund word in a thank-you that says the case is settled, or denies it.
SETTLED_THANKS = [
    "@acme merci, le problème est réglé, vous êtes top",
    "@acme merci, mon problème de connexion est résolu, super réactifs",
    "@acme problème réglé, merci beaucoup à l'équipe !",
    "@acme merci pour le remboursement rapide, parfait",
    "@acme remboursement reçu, merci beaucoup !",
    "@acme bravo pour la rapidité, aucun problème avec ma commande",
    "@acme refund received, thank you so much!",
    "@acme Danke, Problem gelöst!",
    "@acme gracias, problema resuelto!",
    "@acme obrigado, problema resolvido!",
    "@acme kein Problem, vielen Dank für eure Hilfe!",
    "@acme ningún problema, muchas gracias por todo",
    "@acme sem problema nenhum, adorei o atendimento",
    "@acme grazie, il problema è risolto, siete fantastici",
]


@pytest.mark.parametrize("text", SETTLED_THANKS)
def test_a_thank_you_naming_a_settled_problem_does_not_alert(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent != "complaint"
    assert analysis.priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme merci mais le problème n'est toujours pas réglé",
        "@acme pas de remboursement reçu, merci de me répondre",
        "@acme j'ai un problème avec ma commande",
        "@acme tengo un problema con mi pedido",
        "@acme merci pour le remboursement mais j'ai toujours un problème",
        "@acme merci pour votre remboursement partiel, mais le problème de facturation continue",
        "@acme Danke, Problem gelöst? Nein, immer noch kaputt",
        "@acme gracias, problema resuelto? no, sigue igual",
        "@acme 3 días sin internet, ningún problema resuelto todavía",
    ],
)
def test_a_problem_still_open_still_alerts(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent == "complaint"
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "Acme me ha cobrado dos veces este mes y nadie responde. Me voy a la competencia.",
        "Acme ist eine Katastrophe, ich kündige meinen Vertrag und wechsle zu Vodafone",
        "Ich kündige bei Acme, seit drei Wochen kein Internet",
        "Me doy de baja de Acme, pésimo servicio",
        "Acme, vou cancelar meu plano, atendimento horrível",
        "Acme charged me twice and nobody answers, switching to a competitor",
    ],
)
def test_a_threat_to_leave_alerts_in_spanish_german_portuguese(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent == "complaint"
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "Ich kündige nicht, Acme ist super",
        "No me doy de baja, Acme es genial",
    ],
)
def test_a_denied_threat_to_leave_does_not_alert(text: str) -> None:
    assert analyse(text).priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme grazie mille per l'aiuto ❤️🙏",
        "@acme ありがとうございました😊🙏",
        "@acme شكرا جزيلا على الخدمة الممتازة ❤️❤️",
        "@acme dank jullie wel voor de snelle levering 😍👍",
        "@acme tack för hjälpen, ni är bäst 🥰",
        "@acme teşekkürler, harika hizmet 👏👏",
        "@acme спасибо большое за помощь 😊",
    ],
)
def test_warm_thanks_in_a_language_without_a_model_does_not_alert(text: str) -> None:
    analysis = analyse(text)
    assert not analysis.language_analysed
    assert not analysis.waiting
    assert analysis.priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme wie kann ich meinen Vertrag kündigen?",
        "@acme kann man den Vertrag kündigen, wenn man umzieht?",
        "@acme ¿dónde me doy de baja del boletín?",
        "@acme werde ich kündigen müssen?",
    ],
)
def test_asking_how_to_leave_is_a_question_not_a_threat(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent == "question"


@pytest.mark.parametrize(
    "text",
    [
        "@acme il mio ordine non è mai arrivato, grazie mille 👍",
        "@acme il mio ordine non è mai arrivato, complimenti davvero 👏",
        "@acme mijn pakket is al twee weken niet aangekomen. Geweldige service 👍",
        "@acme siparişim hâlâ gelmedi, teşekkürler 👍",
        "@acme заказ так и не пришёл, спасибо 👍",
    ],
)
def test_a_sarcastic_thumbs_up_on_a_complaint_without_a_model_still_waits(text: str) -> None:
    analysis = analyse(text)
    assert not analysis.language_analysed
    assert analysis.waiting
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme dov'è il mio ordine? 😊",
        "@acme il mio ordine 88412093 non è arrivato 😊",
        "@acme grazie ❤️ ma il pacco è arrivato rotto 😡",
    ],
)
def test_a_warm_emoji_on_an_ask_in_a_language_without_a_model_still_waits(text: str) -> None:
    analysis = analyse(text)
    assert not analysis.language_analysed
    assert analysis.waiting
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme grazie, app bloccata",
        "@acme grazie, pacco rotto",
        "@acme grazie mille, pessimo servizio",
        "@acme grazie, servizio pessimo!!",
        "@acme grazie, vergogna",
        "@acme grazie, che schifo",
        "@acme grazie a voi, disdico",
        "@acme bedankt, pakket kapot",
        "@acme dank je wel, slechte service",
        "@acme tack, hemsk service",
        "@acme kiitos, paketti rikki",
        "@acme dziękuję, paczka zniszczona",
        "@acme tusind tak, elendig service",
        "@acme grazie, rimborso?",
        "@acme thanks, terrible service",
    ],
)
def test_thanks_then_words_no_model_reads_still_alerts(text: str) -> None:
    analysis = analyse(text)
    assert analysis.waiting
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("@acme waar is mijn pakket?", None),
        ("@acme servizio pessimo", None),
        ("@acme servizio pessimo", "it"),
        ("@acme grazie mille!", "it"),
        ("@acme dank je wel, top service", None),
    ],
)
def test_a_short_text_in_a_language_without_a_model_says_so(text: str, hint: str | None) -> None:
    analysis = analyse(text, hint)
    assert not analysis.language_analysed
    assert LANGUAGE_NOT_ANALYSED in (f.name for f in analysis.flags)


def test_a_short_spanish_text_says_sentiment_only() -> None:
    analysis = analyse("@acme no me llega el paquete")
    assert analysis.language == "es"
    assert not analysis.language_analysed
    assert "sentiment only" in analysis.reason


@pytest.mark.parametrize("text", ["@acme HELP ME", "@acme iOS 11.1 still broken", "@acme ok"])
def test_a_short_text_an_english_rule_reads_is_analysed(text: str) -> None:
    assert analyse(text).language_analysed


@pytest.mark.parametrize(
    "text",
    [
        "@acme jajaja",
        "@acme JAJAJAJA",
        "@acme jsjsjs",
        "@acme kkkkk",
        "@acme rsrsrs",
        "@acme jejeje",
        "@acme wkwkwk",
        "@acme huehuehue",
        "@acme #mondaymotivation #coffee https://t.co/abc",
        "@acme #blackfriday #deals #shopping",
    ],
)
def test_laughter_and_hashtags_alone_do_not_alert(text: str) -> None:
    analysis = analyse(text)
    assert not analysis.waiting
    assert analysis.priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme #fail #nointernet #3days",
        "@acme #sininternet #3dias #pesimoservicio",
    ],
)
def test_complaining_hashtags_alone_still_wait(text: str) -> None:
    analysis = analyse(text)
    assert analysis.waiting
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme dank je wel, top service",
        "@acme bedankt voor de hulp",
        "@acme grazie mille, servizio ottimo",
        "@acme dziękuję, świetna obsługa",
        "@acme tack så mycket",
        "@acme tusind tak",
        "@acme kiitos paljon, hyvää palvelua",
    ],
)
def test_plain_thanks_in_a_language_without_a_model_does_not_alert(text: str) -> None:
    analysis = analyse(text)
    assert not analysis.waiting
    assert analysis.priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme dank je, maar mijn pakket is nog steeds niet aangekomen",
        "@acme dank je, waar is mijn pakket?",
        "@acme grazie, ma non funziona",
        "@acme grazie mille, pacco mai arrivato",
        "@acme dziękuję, ale paczka nadal nie dotarła",
        "@acme tack, men paketet har inte kommit",
        "@acme tack så mycket, när kommer paketet?",
        "@acme grazie mille 😡",
        "@acme grazie per niente",
        "@acme bedankt voor niets",
    ],
)
def test_thanks_then_a_problem_or_a_question_still_alerts(text: str) -> None:
    analysis = analyse(text)
    assert analysis.waiting
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("@acme grazie mille!", None),
        ("@acme grazie mille!", "it"),
        ("@acme grazie!!", None),
        ("@acme kiitos!", None),
        ("@acme muchas gracias", None),
        ("@acme tusind tak!", None),
    ],
)
def test_a_thanks_formula_alone_does_not_alert(text: str, hint: str | None) -> None:
    analysis = analyse(text, hint)
    assert not analysis.waiting
    assert analysis.priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme não vou cancelar",
        "@acme no voy a cancelar",
        "@acme no lo voy a cancelar",
        "@acme je ne vais pas résilier",
        "@acme je ne résilie pas",
        "@acme non disdico",
        "@acme non cancello l'abbonamento",
    ],
)
def test_a_negated_verb_of_leaving_is_no_threat(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent != "complaint"
    assert not detect_intent(text).churn_threat


@pytest.mark.parametrize(
    "text",
    [
        "Não vou cancelar, a Acme é ótima",
        "No voy a cancelar, Acme es genial",
        "Je ne vais pas résilier, Acme est top",
        "Non disdico, Acme è fantastica",
    ],
)
def test_a_customer_who_stays_does_not_alert(text: str) -> None:
    assert analyse(text).priority < DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    ("text", "threat"),
    [
        ("@acme vou cancelar", True),
        ("@acme voy a cancelar", True),
        ("@acme je vais résilier", True),
        ("@acme não, vou cancelar", None),
        ("@acme no, voy a cancelar", None),
        ("@acme no puedo cancelar mi cuenta", False),
        ("@acme não consigo cancelar", False),
        ("@acme je ne peux pas résilier", False),
        ("@acme there is no cancel button", False),
    ],
)
def test_leaving_or_unable_to_leave_still_complains(text: str, threat: bool | None) -> None:
    analysis = analyse(text)
    assert analysis.intent == "complaint"
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD
    if threat is not None:  # "não, vou cancelar": the rules read "não" as the negation
        assert detect_intent(text).churn_threat is threat


@pytest.mark.parametrize(
    "text",
    [
        "La résilience des équipes Acme pendant la tempête, bravo",
        "Acme, une entreprise résiliente face à la crise",
        "Des réseaux résilients grâce à Acme",
        "La resilienza di Acme dopo il terremoto",
    ],
)
def test_resilience_is_no_complaint(text: str) -> None:
    # "résilience" and "résilient" share the stem of "résilier" (to cancel a contract)
    # but say nothing against the brand.
    assert detect_intent(text).intent != "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "Acme je résilie mon abonnement, 3 semaines sans internet",
        "@acme j'ai demandé la résiliation il y a un mois et toujours prélevé",
        "Acme : résilié hier, encore facturé aujourd'hui",
    ],
)
def test_cancelling_in_french_is_still_a_complaint(text: str) -> None:
    assert detect_intent(text).intent == "complaint"


@pytest.mark.parametrize(
    "text",
    [
        "@acme je n'arrive pas à résilier",
        "@acme j'arrive pas à résilier mon abonnement",
        "@acme je ne parviens pas à résilier",
        "@acme je ne réussis pas à résilier",
        "@acme no consigo cancelar",
        "@acme no logro cancelar",
        "@acme non riesco a cancellare",
    ],
)
def test_unable_to_leave_after_a_verb_of_ability_complains(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent == "complaint"
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "@acme no quiero cancelar pero me obligan",
        "@acme je ne veux pas résilier mais on m'y oblige",
        "@acme non voglio cancellare ma mi obbligano",
        # After cancelar, "mas" is "but" only after a comma: Spanish "más" folds to it.
        "@acme não quero cancelar, mas me obrigam",
        "@acme no quiero cancelar, mas me obligan",
        "@acme não vou cancelar porém me obrigam",
    ],
)
def test_a_contrast_after_a_negated_verb_of_leaving_complains(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent == "complaint"
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        # Portuguese "mais" is "more"/"anymore", Spanish "más" folds to "mas".
        "@acme Não vou cancelar mais a minha assinatura, vocês resolveram tudo",
        "@acme não vou cancelar mais nada, adoro o serviço",
        "@acme no voy a cancelar más pedidos, todo perfecto",
        # A contrast opening thanks.
        "@acme je ne vais pas résilier, mais merci pour votre aide",
        "@acme no voy a cancelar, pero gracias por todo",
    ],
)
def test_staying_with_more_or_a_contrast_opening_thanks_is_no_complaint(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent != "complaint"
    assert not detect_intent(text).churn_threat


@pytest.mark.parametrize(
    "text",
    [
        "@acme no vamos a cancelar",
        "@acme je ne vais pas résilier ma ligne",  # French "ma" is "my", no contrast
        "@acme não vou cancelar mais",  # "mais" closing the post is "anymore"
    ],
)
def test_staying_with_a_future_a_or_my_or_anymore_is_no_complaint(text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent != "complaint"
    assert not detect_intent(text).churn_threat


@pytest.mark.parametrize(
    "text",
    [
        # "Mas" opening a sentence is "but", whichever language.
        "@acme não vou cancelar. Mas estou muito decepcionado, me obrigam a pagar duas vezes",
        "@acme Não vou cancelar... Mas me obrigam a ficar com essa multa absurda",
        # After "pero", "super" and "top" intensify a complaint.
        "@acme no voy a cancelar, pero super decepcionado con el servicio",
        "@acme no voy a cancelar, pero top 3 peores servicios que he tenido",
    ],
)
def test_a_contrast_after_a_sentence_or_before_an_intensifier_keeps_the_complaint(
        text: str) -> None:
    analysis = analyse(text)
    assert analysis.intent == "complaint"
    assert analysis.priority >= DEFAULT_ALERT_THRESHOLD
