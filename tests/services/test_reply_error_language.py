"""A reply the network refuses is stored with its reason as a phrase (the reply row and the
thread note), and both read back in the workspace's language, while a release before
phrases reads the row's English words: X stand-in on loopback, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.notes import Note, Phrase
from bot.messages.stored import payload_spec
from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.cards import load_card_view
from bot.services.outbox import KIND_THREAD
from bot.services.replies import flush_replies
from bot.services.reply_queue import failure_reason
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from bot.services.workflow import do_approve, do_save_draft
from bot.slack.cards import build_card
from bot.slack.notes import render_note
from storage.db import transaction
from storage.models import Author, Mention, OutboxMessage, Workspace
from storage.models_replies import ReplyPost
from tests.harness.constants import CHANNEL_ID
from tests.publishers.fakes import Failure, FakeX

TWEET = "1920000000000000001"
SAID = {
    "en": ("X refused the reply (localhost answered HTTP 400: One or more parameters to "
           "your request was invalid: &lt;!here&gt; &amp; co)"),
    "fr": ("X a refusé la réponse (localhost a répondu HTTP 400: One or more parameters "
           "to your request was invalid: &lt;!here&gt; &amp; co)"),
}


def _refused_reply(sessions: sessionmaker[Session], fake: FakeX, language: str) -> int:
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T1", allow_self_approval=True, locale=language)
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    watch = do_add_watch(sessions, workspace_id, CLI, name="acme", query="",
                         channel_id=CHANNEL_ID)
    source = do_add_source(sessions, workspace_id, CLI, kind="x", watch_name="acme",
                           values={"base_url": fake.base, "query": "acme",
                                   "bearer_token": "b", "reply_token": fake.TOKEN})
    fake.authors[TWEET] = "alice"
    with transaction(sessions) as session:
        author = Author(workspace_id=workspace_id, network="x", handle="alice")
        session.add(author)
        session.flush()
        mention = Mention(workspace_id=workspace_id, watch_id=watch.id, source_id=source.id,
                          author_id=author.id, network="x", external_id=TWEET,
                          url=f"https://x.com/alice/status/{TWEET}", slack_channel=CHANNEL_ID,
                          text="@acme my order never arrived", language="en",
                          published_at=datetime(2026, 11, 21, 8, tzinfo=UTC), priority=70)
        session.add(mention)
        session.flush()
        mention_id = mention.id
    do_save_draft(sessions, workspace_id, CLI, mention_id, "Sorry! We are on it.")
    do_approve(sessions, workspace_id, CLI, mention_id)
    with transaction(sessions) as session:
        session.execute(update(ReplyPost).values(next_attempt_at=datetime.now(UTC)))
    return mention_id


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_refused_reply_reads_back_in_the_workspace_language(
        sessions: sessionmaker[Session], httpserver: HTTPServer, language: str) -> None:
    fake = FakeX(httpserver)
    mention_id = _refused_reply(sessions, fake, language)
    fake.failure = Failure(400, {
        "title": "Invalid Request", "type": "about:blank", "status": 400,
        "detail": "One or more parameters to your request was invalid: <!here> & co"})
    (outcome,) = flush_replies(sessions, lambda _trusted: HttpClient())
    assert outcome.status == "failed" and fake.tweets == []
    assert outcome.error == ("X refused the reply (localhost answered HTTP 400: One or more "
                             "parameters to your request was invalid: <!here> & co)")
    with sessions() as session:
        row = session.scalars(select(ReplyPost)).one()
        assert row.error == outcome.error and row.error_phrase is not None
        assert isinstance(failure_reason(row), Phrase)
        view = load_card_view(session, mention_id, CHANNEL_ID)
        notes = [payload_spec(payload) for payload in session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == KIND_THREAD))]
    assert view is not None
    _, blocks = build_card(view, language)
    failed = {"en": ":x: Posting failed: ", "fr": ":x: Échec de la publication : "}
    assert failed[language] + SAID[language] in str(blocks)
    (note,) = [render_note(spec) for spec in notes
               if isinstance(spec, Note) and spec.phrases[0].key == "replies.note_failed"]
    assert SAID[language] in note and "<!here>" not in note


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_release_before_phrases_shows_the_english_words_of_a_refused_reply(
        sessions: sessionmaker[Session], httpserver: HTTPServer, language: str) -> None:
    """Two releases run side by side during a deploy: one before phrases drawing the card
    of a reply this one failed reads ``reply_posts.error`` as it is (its card took the
    column as the reason's words) and shows them, never the phrase's JSON."""
    fake = FakeX(httpserver)
    mention_id = _refused_reply(sessions, fake, language)
    fake.failure = Failure(400, {"title": "Invalid Request", "detail": "Too long <!here> & co"})
    (outcome,) = flush_replies(sessions, lambda _trusted: HttpClient())
    assert outcome.status == "failed"
    with sessions() as session:
        view = load_card_view(session, mention_id, CHANNEL_ID)
        as_read_before = session.scalars(select(ReplyPost.error)).one()
    assert view is not None and as_read_before is not None
    words = "X refused the reply (localhost answered HTTP 400: Too long <!here> & co)"
    assert as_read_before == words
    _, blocks = build_card(replace(view, reply_error=as_read_before), language)
    failed = {"en": ":x: Posting failed: ", "fr": ":x: Échec de la publication : "}
    assert failed[language] + (
        "X refused the reply (localhost answered HTTP 400: Too long &lt;!here&gt; &amp; co)"
    ) in str(blocks)
    assert "phrase" not in str(blocks)
