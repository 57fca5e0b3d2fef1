"""A mention in a language no model reads says so on its card instead of looking routine;
one only a sentiment model read (Spanish, German, Portuguese) says that instead."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.attention import LANGUAGE_NOT_ANALYSED
from bot.services.cards import load_card_view
from bot.slack.cards import build_card
from storage.db import transaction
from storage.models import Mention, Watch
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import CHANNEL_ID


def add(sessions: sessionmaker[Session], workspace_id: int, language: str | None,
        reason: str, analysed: bool, sentiment: str | None = None) -> int:
    """A stored mention; no sentiment is stored for one no model read unless given (a
    language only a sentiment model reads keeps that model's label)."""
    with transaction(sessions) as session:
        watch = Watch(workspace_id=workspace_id, name="acme", channel_id=CHANNEL_ID)
        session.add(watch)
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, network="x",
                          external_id=f"{language}-{reason}", url="https://x.com/a/status/1",
                          text="¿me pueden ayudar?", language=language,
                          published_at=datetime(2026, 11, 21, 8, tzinfo=UTC), priority=50,
                          priority_reason=reason,
                          sentiment_label="neutral" if analysed else sentiment,
                          intent_flags=[] if analysed else [
                              {"name": LANGUAGE_NOT_ANALYSED, "terms": [language or "?"]}])
        session.add(mention)
        session.flush()
        return mention.id


def analysis_line(sessions: sessionmaker[Session], mention_id: int, language: str = "en"
                  ) -> str:
    with sessions() as session:
        view = load_card_view(session, mention_id)
    assert view is not None
    _, blocks = build_card(view, language)
    assert validate_blocks(blocks, "message") == []
    return str(blocks[2]["elements"][0]["text"])


@pytest.mark.parametrize(
    ("language", "analysed", "reason", "expected"),
    [
        ("es", False, "question · language not analysed · waiting for an answer",
         ":grey_question: priority 50 · question · language not analysed · waiting for an "
         "answer"),
        ("de", False, "routine mention",  # a reason that does not say it
         ":grey_question: priority 50 · language not analysed (de) · routine mention"),
        ("en", True, "question · waiting for an answer",
         ":white_circle: priority 50 · question · waiting for an answer"),
        (None, True, "routine mention", ":white_circle: priority 50 · routine mention"),
        ("nl", True, "complaint", ":white_circle: priority 50 · complaint"),  # rules read it
    ],
)
def test_the_card_says_when_no_model_read_the_language(
    sessions: sessionmaker[Session], workspace_id: int, language: str | None, analysed: bool,
    reason: str, expected: str,
) -> None:
    mention_id = add(sessions, workspace_id, language, reason, analysed)
    assert analysis_line(sessions, mention_id) == expected


def test_the_chip_is_translated(sessions: sessionmaker[Session], workspace_id: int) -> None:
    mention_id = add(sessions, workspace_id, "pt", "routine mention", False)
    assert "langue non analysée (pt)" in analysis_line(sessions, mention_id, "fr")


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ":red_circle: priority 50 · sentiment only · negative · waiting for an answer"),
    ("fr", ":red_circle: priorité 50 · sentiment uniquement · négatif · attend une réponse"),
])
def test_a_mention_only_a_sentiment_model_read_shows_that_sentiment_and_says_so(
        sessions: sessionmaker[Session], workspace_id: int, language: str, expected: str,
) -> None:
    # Spanish: the flag stays (no intent rule or classifier read it), but its sentiment was
    # read and weighed in the priority: its icon, and no "language not analysed" note.
    mention_id = add(sessions, workspace_id, "es",
                     "sentiment only · negative · waiting for an answer", False, "negative")
    assert analysis_line(sessions, mention_id, language) == expected
