"""Personal data in replies: what ``scrub`` takes out of an approved reply before it is a
style example for the LLM, and what ``distinctive_spans`` looks up in other
conversations."""

from __future__ import annotations

import pytest

from bot.replies.personal import distinctive_spans, scrub


@pytest.mark.parametrize(("text", "scrubbed"), [
    ("Sorry Alice, order 88123 ships today to 12 Rose St.",
     "Sorry [name], order [number] ships today to [address]."),
    ("Write to alice@example.com or call +33 6 12 34 56 78.",
     "Write to [email] or call [phone]."),
    ("Thanks @alice, ticket #445566 is closed.", "Thanks @[handle], ticket [number] is closed."),
    ("Bonjour Martin, la commande n°A12345 part au 5 bis rue de la Paix demain.",
     "Bonjour [name], la commande n°[number] part au [address] demain."),
    ("Track it at https://acme.example/track?id=99&email=a%40b.c or https://acme.example/help",
     "Track it at [link] or https://acme.example/help"),
    ("Your card 4111 1111 1111 1111 was not charged; ref 2026-0042-77.",
     "Your card [number] was not charged; ref [number]."),
])
def test_scrub_replaces_personal_data_by_placeholders(text: str, scrubbed: str) -> None:
    assert scrub(text, ["Alice Martin", "@alice@mastodon.social"]) == scrubbed


def test_scrub_keeps_the_tone_of_a_reply_without_personal_data() -> None:
    """What the examples are for: the team's way of answering, as it was."""
    text = ("Hi! So sorry to hear that 😔 We're on it and will come back to you here "
            "within 24 hours. Thanks for your patience, the Acme team.")
    assert scrub(text, ["Bob"]) == text


def test_distinctive_spans_are_the_data_worth_looking_up() -> None:
    text = ("@mallory@evil.social Alice (alice@example.com, order 88123, +1 415 555 0199) "
            "had it in 2026 too, for 30 days.")
    assert distinctive_spans(text) == ["alice@example.com", "+1 415 555 0199", "88123"]
    assert distinctive_spans("Sorry about that, we're on it!") == []


def test_spaces_after_an_order_word_are_read_in_linear_time() -> None:
    """The spaces after "order" were shared between the pattern's four optional runs of
    spaces every possible way before it gave up: 6,000 took 0.6 s, so 60,000 took about
    a minute. Three such texts would take minutes. An order number further on is found."""
    for word in ("order", "ticket", "colis"):
        text = word + " " * 60_000 + "thanks, order AB-12345"
        assert distinctive_spans(text) == ["AB-12345"]
