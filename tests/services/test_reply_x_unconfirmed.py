"""An X reply whose post went out behind a 503 (or a lost answer) is never posted twice:
the write is not repeated by the HTTP client, X's duplicate refusal while the account's
timeline does not list the post yet keeps the outcome unknown (never "change the reply"),
and a reply given up on unconfirmed says it may be on X already. X stand-in on loopback,
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.notes import Note
from bot.messages.stored import payload_spec
from bot.net.http import HttpClient, HttpLimits
from bot.services.outbox import KIND_THREAD
from bot.services.replies import MAX_ATTEMPTS, flush_replies
from bot.slack.notes import render_note
from storage.db import transaction
from storage.models import OutboxMessage
from storage.models_replies import ReplyPost
from tests.publishers.fakes import Failure, FakeX
from tests.services.test_reply_error_language import _refused_reply


def _client(_trusted: bool) -> HttpClient:
    return HttpClient(limits=HttpLimits(read_timeout=5, total_timeout=10), sleep=lambda _s: None)


def _flush_due(sessions: sessionmaker[Session], now: datetime) -> list[str]:
    with transaction(sessions) as session:
        session.execute(
            update(ReplyPost).where(ReplyPost.status == "pending").values(next_attempt_at=now)
        )
    return [outcome.status for outcome in flush_replies(sessions, _client, now=now)]


def test_a_503_that_posted_is_found_once_the_timeline_lists_it(
    sessions: sessionmaker[Session], httpserver: HTTPServer
) -> None:
    fake = FakeX(httpserver)
    _refused_reply(sessions, fake, "en")
    fake.lagging = True
    fake.failure = Failure(503, {"title": "Service Unavailable", "status": 503}, after_write=True)
    now = datetime.now(UTC)
    assert _flush_due(sessions, now) == ["pending"]
    # X refuses the second attempt as duplicate content; its post is not listed yet.
    assert _flush_due(sessions, now + timedelta(hours=1)) == ["pending"]
    with sessions() as session:
        row = session.scalars(select(ReplyPost)).one()
        assert "change the reply" not in (row.error or "")
    fake.unlisted.clear()
    assert _flush_due(sessions, now + timedelta(hours=2)) == ["posted"]
    assert len(fake.tweets) == 1
    with sessions() as session:
        assert session.scalars(select(ReplyPost.external_id)).one() == fake.tweets[0]["id"]


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "It may already be on X: check the brand account first"),
        ("fr", "Elle est peut-être déjà sur X : vérifiez d'abord le compte de la marque"),
    ],
)
def test_a_reply_given_up_unconfirmed_says_it_may_be_posted(
    sessions: sessionmaker[Session], httpserver: HTTPServer, language: str, words: str
) -> None:
    fake = FakeX(httpserver)
    _refused_reply(sessions, fake, language)
    fake.lagging = True
    fake.failure = Failure(drop=True, after_write=True)
    now = datetime.now(UTC)
    statuses = []
    for attempt in range(MAX_ATTEMPTS):
        statuses += _flush_due(sessions, now + timedelta(hours=attempt))
    assert statuses == ["pending"] * (MAX_ATTEMPTS - 1) + ["failed"]
    assert len(fake.tweets) == 1
    with sessions() as session:
        notes = [
            payload_spec(payload)
            for payload in session.scalars(
                select(OutboxMessage.payload).where(OutboxMessage.kind == KIND_THREAD)
            )
        ]
    (note,) = [
        render_note(spec)
        for spec in notes
        if isinstance(spec, Note) and spec.phrases[0].key.startswith("replies.note_failed")
    ]
    assert words in note
