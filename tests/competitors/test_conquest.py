"""Conquest signals in English and French: asking for an alternative or leaving, unhappy
(complaint or negative); news, praise and spam are not opportunities."""

from __future__ import annotations

import pytest

from bot.analysis.conquest import ALTERNATIVE, UNHAPPY, conquest_reason


@pytest.mark.parametrize("text", [
    "Anyone know an alternative to Rivalo?",
    "looking for alternatives for rivalo, any ideas",
    "Switching from Rivalo next month",
    "We moved away from Rivalo last year",
    "Leaving Rivalo for good",
    "Cancelling my Rivalo subscription today",
    "Need a replacement for Rivalo",
    "Je cherche une alternative à Rivalo",
    "Je quitte Rivalo, trop cher",
    "On lâche Rivalo après 3 ans",
    "Je vais résilier Rivalo",
    "Vous conseillez quoi à la place de Rivalo ?",
    "Je suis passé chez Acme",
])
def test_asking_for_an_alternative(text: str) -> None:
    assert conquest_reason(text, "neutral", "question") == ALTERNATIVE


@pytest.mark.parametrize("text", [
    "Rivalo opens a new store in Lyon",
    "I love the Rivalo app",
    "Rivalo instead of nothing is still nothing",
    "Nouvelle collection Rivalo disponible",
])
def test_not_an_opportunity(text: str) -> None:
    assert conquest_reason(text, "positive", "other") is None


def test_unhappy_and_spam() -> None:
    assert conquest_reason("Rivalo lost my parcel", "negative", "other") == UNHAPPY
    assert conquest_reason("Rivalo, where is my refund", "neutral", "complaint") == UNHAPPY
    assert conquest_reason("Switch from Rivalo, click here", "negative", "spam") is None
