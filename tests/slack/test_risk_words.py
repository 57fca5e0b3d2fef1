"""Risk warnings in words, and the Approve button asks for an explicit acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages.cards import CardView
from bot.slack.cards import build_card
from bot.slack.risk_words import approve_confirm, flag_words
from tests.harness.blockkit_limits import validate_blocks


def _view(flags: tuple[str, ...], risk: str) -> CardView:
    return CardView(
        mention_id=3, network="mastodon", url="https://m.example/3", author_handle="@ana",
        author_name="Ana", followers=10, title=None, text="help", status="awaiting_approval",
        published_at=datetime(2026, 12, 5, tzinfo=UTC), watch_name="acme",
        sentiment_label="negative", intent="complaint", priority=60, priority_reason=None,
        actions=("approve", "reject"), draft_text="Call us at +33 6 12 34 56 78",
        draft_version=1, draft_risk=risk, draft_hash="ab" * 16, draft_flags=flags)


def test_flags_are_words_in_each_language() -> None:
    assert flag_words(["pii_phone", "commitment", "new_kind"], "en") == [
        "a phone number", "a commitment (refund, compensation, promise)", "new kind"]
    assert flag_words(["pii_phone"], "fr") != ["pii_phone"]


def test_a_draft_with_warnings_needs_a_confirmed_approve() -> None:
    _, blocks = build_card(_view(("pii_phone", "commitment"), "warn"))
    assert validate_blocks(blocks, "message") == []
    text = str(blocks)
    assert "risk medium: a phone number, a commitment" in text and "pii_phone" not in text
    _, french = build_card(_view(("pii_phone",), "warn"), "fr")
    assert "risque moyen : un numéro de téléphone" in str(french)
    approve = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == "vigie.approve")
    assert approve["confirm"]["confirm"]["text"] == "Approve anyway"
    assert "a phone number; a commitment" in approve["confirm"]["text"]["text"]
    reject = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                  if e["action_id"] == "vigie.reject")
    assert "confirm" not in reject


def test_a_clean_draft_approves_in_one_click() -> None:
    _, blocks = build_card(_view((), "none"))
    approve = next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"] == "vigie.approve")
    assert "confirm" not in approve
    assert approve_confirm([], "en") is None


def test_the_draft_shown_for_approval_also_asks_to_confirm() -> None:
    from bot.messages.show import DraftToApprove
    from bot.slack.approval import build_draft_to_approve

    draft = DraftToApprove(4, 2, "Call +33 6 12 34 56 78", "warn", "cd" * 16, ("pii_phone",))
    _, blocks = build_draft_to_approve("Approve exactly this text", draft, "en")
    assert validate_blocks(blocks, "message") == []
    button = blocks[-1]["elements"][0]
    assert "a phone number" in button["confirm"]["text"]["text"]
    assert "risk medium: a phone number" in str(blocks)
    _, french = build_draft_to_approve("Approuver ce texte", draft, "fr")
    assert "risque moyen : un numéro de téléphone" in str(french)



MANY_FLAGS = ("pii_phone", "pii_email", "pii_card", "pii_iban", "commitment", "legal",
              "insult", "foreign_data", "mention_injection", "other_accounts", "injection",
              "echo")


def test_a_long_warning_list_keeps_the_instruction_in_each_language() -> None:
    """Warnings that do not fit Slack's 300 characters: the dialog lists those that fit,
    says how many more, and always ends with what to do (never half a word)."""
    from bot.slack.escape import slack_len

    for language, flags, ending in (
            ("en", MANY_FLAGS, "legal words; an insult and 5 more. Approve it only if that "
             "is intended."),
            ("fr", MANY_FLAGS[:8], "des mots juridiques ; une insulte et 1 autre. Validez-le "
             "seulement si c'est voulu.")):
        confirm = approve_confirm(flags, language)
        assert confirm is not None
        text = confirm["text"]["text"]
        assert slack_len(text) <= 300, (language, len(text))
        assert text.endswith(ending), text
        assert "…" not in text, text
        _, blocks = build_card(_view(flags, "high"), language)
        assert validate_blocks(blocks, "message") == [], language


def test_warnings_that_fit_are_listed_whole_with_french_spacing() -> None:
    confirm = approve_confirm(("pii_phone", "commitment"), "fr")
    assert confirm is not None
    assert confirm["text"]["text"] == (
        "Ce brouillon contient : un numéro de téléphone ; un engagement (remboursement, "
        "dédommagement, promesse). Validez-le seulement si c'est voulu.")
    english = approve_confirm(MANY_FLAGS[:8], "en")
    assert english is not None and english["text"]["text"].endswith(
        "another customer's personal data (found in their posts or replies, not in this "
        "conversation). Approve it only if that is intended.")


def test_a_warning_longer_than_the_dialog_is_cut_on_a_word() -> None:
    from bot.slack.escape import slack_len

    confirm = approve_confirm(("x" * 10 + " word" * 80, "pii_phone"), "fr")
    assert confirm is not None
    text = confirm["text"]["text"]
    assert slack_len(text) <= 300 and text.endswith(
        "word… et 1 autre. Validez-le seulement si c'est voulu."), text
