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
