"""Issue 13, point 2: a mention that asks the brand something, complains or threatens to
leave reaches the default alert threshold whatever its tone (polite, wrapped in praise,
thanks or a smiley); praise, thanks, chit-chat and noise do not.

Hand-written sentences, each analysed as ``vigie eval attention`` analyses a line: written
to the brand five minutes ago, reach unknown, default watch. None of them depends on a
model probability within 0.2 of a cut-off (checked by shifting the English complaint
probability by -0.2..+0.2), so a retrained complaint model should keep them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.attention import (
    FRIENDLY_REMARK,
    friendly_remark,
    read_signals,
    waiting_for_answer,
    weigh_complaint,
)
from bot.analysis.intent import detect_intent
from bot.analysis.pipeline import AnalysisInput, analyze_many
from bot.analysis.priority import DEFAULT_ALERT_THRESHOLD

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)

ASKS_COMPLAINS_OR_LEAVES = [
    # asks
    "@acme how do I change the email on my account?",
    "@acme can you tell me when my order ships?",
    "@acme do you deliver to Canada? Thanks!",
    "@acme bonjour, comment je peux changer mon adresse de livraison ?",
    "@acme could you please look into my order? thanks so much 😊",
    "@acme vous pouvez me rembourser svp ? merci 🙂",
    # complains, politely or wrapped in praise, thanks or a smiley
    "@acme love the new app but I can't log in",
    "@acme I'd love a refund please",
    "@acme hope you can fix this soon :)",
    "@acme Thank you! The replacement still hasn't arrived though",
    "@acme I love your coffee but my order arrived cold and wrong",
    "@acme Thanks for the quick reply, but the app still crashes on start",
    "@acme I was charged twice for my subscription, can you help?",
    "@acme J'adore votre marque mais ma commande n'est jamais arrivée",
    "@acme j'adore l'appli mais impossible de me connecter depuis hier",
    "@acme merci mais toujours pas de remboursement",
    "@acme thanks, I'm done with this app",
    "@acme no worries, I'm cancelling my account, thanks 🙂",
    "@acme no problem, switching carriers then, thanks",
    "@acme last time I'll fly with you, thanks 🙂",
    "@acme panne depuis ce matin, merci",
    "@acme switching to you guys is a nightmare",
    "@acme thank u for nothing",
    "@acme thanks for absolutely nothing",
    "@acme mon colis est en retard, merci",
    "@acme thanks, I didn't receive my refund",
    "@acme Thanks for the quick reply! Still waiting on my refund",
    # threatens to leave
    "@acme I'm cancelling my subscription",
    "@acme if this isn't sorted by Friday I'm switching to Globex",
    "@acme thinking about cancelling tbh, third outage this week",
    "@acme je vais résilier mon abonnement",
    # ... even after "ok", thanks or a smiley, which the model reads as friendly
    "@acme ok, switching to your competitor",
    "@acme great, thanks, switching to a competitor now",
    "@acme I'm done with you guys",
    "@acme taking my business elsewhere",
    "@acme never flying with you again",
    "@acme never flying with you again 😊",
    "@acme this is the last time I order from you",
    "@acme you just lost a loyal customer",
    "@acme won't be ordering from you again, thanks",
    "@acme time to find a new carrier",
    "@acme thinking about switching providers tbh",
    "@acme je pars chez Free",
    "@acme je résilie demain, ok",
    "@acme plus jamais chez vous",
    "@acme c'est la dernière fois que je commande chez vous",
    "@acme je change d'opérateur, merci",
    "@acme je vais voir ailleurs 😊",
    "@acme vous venez de perdre un client",
    # sarcasm: praise, thanks or a smiley over a concrete failure
    "@acme Amazing, my order arrived wrong again 😊",
    "@acme great, my parcel is lost again 🙃",
    "@acme fantastic, charged twice again 😊",
    "@acme oh great, another outage. thanks a lot",
    "@acme wow great service, 3 hours on hold 🙂",
    "@acme thanks for nothing",
    "@acme merci pour rien",
    "@acme bravo, encore un colis perdu 🙃",
    "@acme super, ma commande est encore en retard 😊",
    "@acme génial, encore une panne 🙃",
    # an open case: the customer gave what was asked, with a courtesy thanks
    "@acme it's an iPhone 8 on iOS 11.1, thank you",
    "@acme Just sent you a DM with my details, thanks!",
]

PRAISE_THANKS_CHITCHAT_OR_NOISE = [
    "@acme love the new app, great job!",
    "@acme thank you so much for the help today!",
    "@acme you guys rock 🎉",
    "@acme merci pour votre aide, super service !",
    "@acme j'adore votre nouvelle collection 😍",
    "@acme happy friday everyone!",
    "@acme awesome service as always 👍",
    "@acme lol",
    "@acme haha",
    "@acme 😂😂",
    "@acme ok will do",
    "@acme all sorted now, thanks!",
    "@acme c'est réglé, merci !",
    # wishes and praise that read like a request or a grievance
    "@acme hope you will have a great weekend!",
    "@acme hope you can keep up the great work!",
    "@acme Bonjour, j'espère que vous allez bien !",
    "@acme J'espère que vous allez continuer comme ça, bravo !",
    "@acme Impossible de faire mieux, bravo l'équipe !",
    "@acme impossible de trouver mieux, merci !",
    "@acme lost again lol, great game though",
    # look-alikes of a threat to leave or of sarcasm
    "@acme I switched to you from Verizon and never been better!",
    "@acme just switched to acme, best decision ever",
    "@acme never been better, thanks!",
    "@acme I'll never leave you ❤️",
    "@acme never going back to Verizon, you guys rock",
    "@acme finally left Comcast for you, so happy",
    "@acme done! thanks",
    "@acme I'm done! thanks for the help",
    "@acme love you guys 🙃",
    "@acme amazing, my order arrived early 😊",
    "@acme last time I ordered from you it was perfect, ordering again!",
    "@acme j'ai quitté Orange pour vous, aucun regret !",
    "@acme je suis passée chez vous, trop contente",
    "@acme plus jamais sans vous ❤️",
    "@acme je ne vous quitterai jamais",
    "@acme merci, c'est parfait 😊",
    # look-alikes the review of the churn rules found alerting at 85
    "@acme je ne pars pas chez la concurrence, vous êtes les meilleurs",
    "@acme Done with your course, loved every minute!",
    "@acme last time I'll say it: you're the best",
    "@acme won't be back until next summer, great holiday, thanks!",
    "@acme pas de retard aujourd'hui, bravo",
    "@acme aucun retard, parfait",
    "@acme I'm done with the form, thanks!",
    "@acme thank u for nothing but smiles today 😍",
]


def _priorities(texts: list[str]) -> list[tuple[int, str]]:
    items = [AnalysisInput(t, published_at=NOW - timedelta(minutes=5), addressed=True)
             for t in texts]
    return [(a.priority, a.reason) for a in analyze_many(items, now=NOW)]


def test_asking_complaining_or_leaving_alerts_whatever_the_tone() -> None:
    scored = _priorities(ASKS_COMPLAINS_OR_LEAVES)
    missed = [(text, p, reason) for text, (p, reason) in zip(ASKS_COMPLAINS_OR_LEAVES, scored,
                                                             strict=True)
              if p < DEFAULT_ALERT_THRESHOLD]
    assert missed == []


def test_praise_thanks_chitchat_and_noise_wait_for_the_digest() -> None:
    scored = _priorities(PRAISE_THANKS_CHITCHAT_OR_NOISE)
    sent = [(text, p, reason) for text, (p, reason) in zip(PRAISE_THANKS_CHITCHAT_OR_NOISE,
                                                          scored, strict=True)
            if p >= DEFAULT_ALERT_THRESHOLD]
    assert sent == []


@pytest.mark.parametrize(
    "text",
    [
        "@acme love the new app but I can't log in",
        "@acme Thank you! The replacement still hasn't arrived though",
    ],
)
def test_the_model_cannot_talk_away_a_complaint_that_follows_a_contrast(text: str) -> None:
    # However friendly the model finds the tone, the failure after "but" is the point.
    intent, signals = detect_intent(text), read_signals(text, "en")
    assert intent.intent == "complaint"
    weighed = weigh_complaint(intent, 0.01, "en", signals, "positive", 0.9)
    assert weighed.intent == "complaint"
    # Before the contrast, the tone may still win ("still not working, but I'm ecstatic").
    other = "@acme app still not working, but I'm ecstatic"
    overruled = weigh_complaint(detect_intent(other), 0.01, "en", read_signals(other, "en"),
                                "positive", 0.9)
    assert overruled.intent == "other"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("@acme I'd love a refund please", "question"),
        ("@acme hope you can fix this soon :)", "question"),
        ("@acme the refund came through, thank you so much!", "other"),
    ],
)
def test_an_overruled_complaint_that_also_asks_is_a_question(text: str, intent: str) -> None:
    found, signals = detect_intent(text), read_signals(text, "en")
    assert found.intent == "complaint" and not found.complaint_after_contrast
    weighed = weigh_complaint(found, 0.05, "en", signals, "positive", 0.6)
    assert weighed.intent == intent
    assert weighed.flags[: len(found.flags)] == found.flags  # the rules' terms stay
    assert waiting_for_answer(weighed, signals, "positive") is (intent == "question")


@pytest.mark.parametrize(
    ("text", "substance"),
    [
        ("@acme lol", False),
        ("@acme HAHAHA 😂", False),
        ("@acme lmao xD", False),
        ("@acme mdr", False),
        ("@acme lol my order never came", True),
        ("@acme ok", True),
        ("@acme Correct", True),
    ],
)
def test_laughter_alone_has_nothing_to_answer(text: str, substance: bool) -> None:
    assert read_signals(text, "en").substance is substance


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("@acme iOS 11.1, thank you", True),
        ("@acme on 11.2.5 (15d60) thanks!", True),
        ("@acme it was $4.99, thanks", False),
        ("@acme from 9-10:30 today", False),
        ("@acme Congrats on your 30,000 career points.", False),
        ("@acme live stream 2017", False),
        ("@acme see https://t.co/v1.2.3 ok", False),
    ],
)
def test_version_numbers(text: str, version: bool) -> None:
    assert read_signals(text, "en").version_number is version


def test_a_remark_giving_a_version_number_is_never_friendly() -> None:
    # The details the brand asked for ("which iOS?"), with a courtesy thanks.
    text = "@acme it's an iPhone 8 on iOS 11.1, thank you"
    intent, signals = detect_intent(text), read_signals(text, "en")
    assert intent.intent == "other" and signals.version_number
    assert not friendly_remark("other", signals, 0.08, 0.29, "en")
    weighed = weigh_complaint(intent, 0.08, "en", signals, "positive", 0.29)
    assert FRIENDLY_REMARK not in weighed.flag_names
    assert waiting_for_answer(weighed, signals, "positive")


@pytest.mark.parametrize(
    ("text", "churn", "sarcasm"),
    [
        ("@acme ok, switching to your competitor", True, False),
        ("@acme great, thanks, switching to a competitor now", True, False),
        ("@acme never flying with you again 😊", True, False),
        ("@acme je résilie demain, ok", True, False),
        ("@acme Amazing, my order arrived wrong again 😊", False, True),
        ("@acme oh great, another outage. thanks a lot", False, True),
        ("@acme thanks for nothing", False, True),
    ],
)
def test_a_threat_to_leave_or_sarcasm_is_never_talked_away(
        text: str, churn: bool, sarcasm: bool) -> None:
    # Neither a "closing" word ("ok") nor the friendliest model reading overrules it.
    intent, signals = detect_intent(text), read_signals(text, "en")
    assert (intent.intent, intent.churn_threat, intent.sarcasm) == ("complaint", churn, sarcasm)
    weighed = weigh_complaint(intent, 0.01, "en", signals, "positive", 0.9)
    assert weighed.intent == "complaint"
    assert waiting_for_answer(weighed, signals, "positive")


@pytest.mark.parametrize(
    "text",
    [
        "@acme never using cash again, love Apple Pay",  # no "again" right after: not churn
        "@acme thinking of switching from Verizon, what plans do you have?",
        "@acme last time I ordered from you it was perfect",
        "@acme I'm done! thanks for the help",
    ],
)
def test_look_alikes_are_no_threat_to_leave(text: str) -> None:
    assert not detect_intent(text).churn_threat


@pytest.mark.parametrize(
    "text",
    [
        "@acme great, it broke again, but you fixed it fast",  # a contrast after the praise
        "@acme thanks, it was not working since Monday 😊",  # thanks are no praise here
        "@acme Amazing support, fixed my issue again 🙂",  # "again" after a one-word issue
        "@acme love it, no more crashes 🙃",  # a negated grievance
    ],
)
def test_sincere_praise_next_to_a_grievance_is_no_sarcasm(text: str) -> None:
    assert not detect_intent(text).sarcasm


def test_the_model_cannot_turn_a_loyal_customer_into_a_complaint() -> None:
    # "never been better" after a competitor's name reads as leaving to the model.
    text = "@acme I switched to you from Verizon and never been better!"
    intent, signals = detect_intent(text), read_signals(text, "en")
    assert intent.intent == "praise" and intent.loyalty
    assert weigh_complaint(intent, 0.95, "en", signals, "negative", -0.4).intent == "praise"
    other = "@acme I used to use that feature as an example of great UX"
    assert weigh_complaint(detect_intent(other), 0.95, "en", read_signals(other, "en"),
                           "negative", -0.4).intent == "complaint"

