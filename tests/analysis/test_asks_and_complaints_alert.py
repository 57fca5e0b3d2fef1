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
    "@acme thanks, I didn't receive my refund",
    "@acme Thanks for the quick reply! Still waiting on my refund",
    # threatens to leave
    "@acme I'm cancelling my subscription",
    "@acme if this isn't sorted by Friday I'm switching to Globex",
    "@acme thinking about cancelling tbh, third outage this week",
    "@acme je vais résilier mon abonnement",
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
    "@acme best pizza ever 🙃",
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


def test_a_short_text_with_an_emoji_is_read() -> None:
    # An emoji is no script: "best pizza ever 🙃" is as short as "best pizza ever".
    assert read_signals("@acme best pizza ever 🙃", "it").language_analysed
    assert not read_signals("@acme ありがとうございます 🙃", "ja").language_analysed
