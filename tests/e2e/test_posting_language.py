"""Why a reply could not be posted is told in the workspace's language, on the card and in
its thread, with the network's own words quoted (escaped) inside the sentence; rows a
release before that stored (English words) still render."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from bot.services.outbox import KIND_THREAD, KIND_UPDATE_CARD, do_enqueue
from storage.db import transaction
from storage.models import Mention
from storage.models_replies import ReplyPost
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_posting import approve, mastodon_setup, reply_status, x_setup
from tests.e2e.test_workflow import card, settle, thread_notes
from tests.harness.constants import CHANNEL_ID, OTHER_USER_ID, USER_ID
from tests.publishers.fakes import Failure

HOSTILE = "Text character limit exceeded <!channel> & <@U0ADMIN>"
"""The network's own words, untrusted: they must reach Slack escaped."""

SENTENCES = {
    "en": {"note": ":x: The reply could not be posted: Mastodon refused the reply (",
           "card": ":x: Posting failed: Mastodon refused the reply (",
           "x_card": ":x: Posting failed: X does not let this account reply to that "
                     "conversation (the author limited who can reply)"},
    "fr": {"note": ":x: La réponse n'a pas pu être publiée : Mastodon a refusé la réponse (",
           "card": ":x: Échec de la publication : Mastodon a refusé la réponse (",
           "x_card": ":x: Échec de la publication : X ne permet pas à ce compte de répondre "
                     "à cette conversation (l'auteur a limité qui peut répondre)"},
}


def _speak(vigie: VigieApp, language: str) -> None:
    """The workspace in ``language``; the people approving keep English (their commands)."""
    answer = vigie.slack.slash_command(f"settings language {language}", user_id=ADMIN_ID)
    assert answer.status_code == 200
    for user in (USER_ID, OTHER_USER_ID):
        vigie.slack.slash_command("lang en", user_id=user)


def _failed_line(message: dict[str, object]) -> str:
    (line,) = [element["text"] for block in message["blocks"]  # type: ignore[attr-defined]
               if block["type"] == "context" for element in block["elements"]
               if ":x:" in element["text"]]
    return str(line)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_refused_mastodon_reply_is_told_in_the_workspace_language(
        vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path,
        language: str) -> None:
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    _speak(vigie, language)
    fake.failure = Failure(422, {"error": f"Validation failed: {HOSTILE}"})
    approve(vigie, mention_id)
    eventually(lambda: reply_status(vigie) == "failed", timeout=15)
    settle(vigie)

    (note,) = [n for n in thread_notes(vigie) if n.startswith(":x:")]
    line = _failed_line(card(vigie, mention_id))
    for shown, start in ((note, SENTENCES[language]["note"]),
                         (line, SENTENCES[language]["card"])):
        assert shown.startswith(start), shown
        assert "Text character limit exceeded &lt;!channel&gt; &amp; &lt;@U0ADMIN&gt;" in shown
        assert "<!channel>" not in shown and "<@U0ADMIN>" not in shown
    other = "fr" if language == "en" else "en"
    assert SENTENCES[other]["card"] not in line


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_reply_x_does_not_allow_is_told_in_the_workspace_language(
        vigie_sqlite: VigieApp, httpserver: HTTPServer, language: str) -> None:
    vigie = vigie_sqlite
    tweet = "1920000000000000001"
    fake, mention_id = x_setup(vigie, httpserver, tweet)
    fake.restricted.add(tweet)
    _speak(vigie, language)
    approve(vigie, mention_id, text="Sorry to hear that, we're on it.")
    eventually(lambda: reply_status(vigie) == "failed", timeout=15)
    settle(vigie)
    assert _failed_line(card(vigie, mention_id)) == SENTENCES[language]["x_card"]
    assert fake.tweets == []


def test_a_failure_stored_by_an_older_release_still_renders(
        vigie_sqlite: VigieApp, httpserver: HTTPServer, shared_data: Path) -> None:
    """An older release stored the failed reply's English words (the reply row) and its
    note with them as outside text: a French workspace still gets both, as stored."""
    vigie = vigie_sqlite
    fake, mention_id = mastodon_setup(vigie, httpserver, shared_data)
    _speak(vigie, "fr")
    fake.failure = Failure(422, {"error": "Validation failed: too long"})
    approve(vigie, mention_id)
    eventually(lambda: reply_status(vigie) == "failed", timeout=15)
    settle(vigie)
    words = "Mastodon refused the reply (HTTP 422: <b> & co)"
    old_note = {"note": {"language": "fr", "phrases": [
        {"key": "replies.note_failed", "args": {"error": {"text": words, "limit": None}}}]}}
    with transaction(vigie.runtime.sessions) as session:
        session.scalars(select(ReplyPost)).one().error = words
        mention = session.get_one(Mention, mention_id)
        do_enqueue(session, workspace_id=mention.workspace_id, kind=KIND_THREAD,
                   channel=CHANNEL_ID, mention_id=mention_id, payload=old_note)
        # The card is drawn again from the reply row as the older release left it.
        do_enqueue(session, workspace_id=mention.workspace_id, kind=KIND_UPDATE_CARD,
                   channel=CHANNEL_ID, mention_id=mention_id)
    settle(vigie)
    escaped = "Mastodon refused the reply (HTTP 422: &lt;b&gt; &amp; co)"
    assert thread_notes(vigie)[-1] == (
        f":x: La réponse n'a pas pu être publiée : {escaped}. Corrigez la cause puis "
        "cliquez sur *Réessayer*, ou publiez-la à la main et cliquez sur *Marquer répondu*.")
    assert _failed_line(card(vigie, mention_id)) == f":x: Échec de la publication : {escaped}"
