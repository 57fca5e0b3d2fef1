"""A publisher's error is a catalogue phrase, worded in each reader's language when shown:
stored on the reply row and in the failed-reply note as data, read back by this release
and (as English words) by the releases before it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from bot.i18n import UnknownMessage, catalogue
from bot.messages.cards import CardView
from bot.messages.notes import (
    NetworkName,
    Note,
    Phrase,
    Text,
    check_known,
    note_from_json,
    note_to_json,
)
from bot.net.http import HttpStatusError, _status_error
from bot.publishers.base import PublishError, PublishRejected, write_error
from bot.services.reply_queue import RATE_LIMITED, failure_reason, record_error
from bot.slack.cards import build_card
from bot.slack.notes import render_note
from storage.models_replies import ReplyPost
from tests.slack.test_mrkdwn_limits import assert_whole, card_view

ROOT = Path(__file__).resolve().parents[2]


def _refused(detail: str) -> PublishError:
    """Mastodon's refusal of a reply, as the HTTP layer and the publisher word it."""
    response = httpx.Response(422, json={"error": detail}, request=httpx.Request(
        "POST", "https://toot.example/api/v1/statuses"))
    error = _status_error(response)
    assert isinstance(error, HttpStatusError)
    return write_error(error, "mastodon")


def test_every_publish_key_is_in_both_catalogues() -> None:
    sources = [*(ROOT / "bot" / "publishers").glob("*.py"), ROOT / "bot/services/replies.py"]
    keys = {key for path in sources
            for key in re.findall(r'"(publish\.[a-z_]+)"', path.read_text(encoding="utf-8"))}
    assert len(keys) > 25
    for language in ("en", "fr"):
        assert keys <= set(catalogue(language)), keys - set(catalogue(language))


def test_a_refusal_is_worded_for_each_reader_and_quotes_the_network_escaped() -> None:
    error = _refused("Validation failed: <!channel> & too long")
    assert isinstance(error, PublishRejected)
    assert str(error) == ("Mastodon refused the reply (toot.example answered HTTP 422: "
                          "Validation failed: <!channel> & too long)")
    said = "Validation failed: &lt;!channel&gt; &amp; too long)"
    english = render_note(Note.of("en", "replies.note_failed", error=error.phrase))
    french = render_note(Note.of("fr", "replies.note_failed", error=error.phrase))
    assert english.startswith(":x: The reply could not be posted: Mastodon refused the reply "
                              f"(toot.example answered HTTP 422: {said}. Fix the cause")
    assert french.startswith(":x: La réponse n'a pas pu être publiée : Mastodon a refusé la "
                             f"réponse (toot.example a répondu HTTP 422: {said}. Corrigez")


def test_a_phrase_in_a_stored_note_reads_as_english_words_in_older_releases() -> None:
    """Releases before phrases as arguments read a dict with "text" (and no "network") as
    outside text: they show the English sentence instead of failing the note."""
    error = _refused("too long")
    note = Note.of("fr", "replies.note_failed", error=error.phrase)
    (phrase,) = note_to_json(note)["phrases"]
    stored = phrase["args"]["error"]
    assert "network" not in stored and stored["text"] == str(error)
    assert note_from_json(json.loads(json.dumps(note_to_json(note)))) == note


def test_a_phrase_of_a_newer_release_waits_for_it() -> None:
    newer = Note.of("fr", "replies.note_failed", error=Phrase.of(
        "publish.from_the_future", network=NetworkName("x")))
    with pytest.raises(UnknownMessage):
        check_known(newer)
    data = note_to_json(Note.of("fr", "replies.note_failed", error=Phrase.of(
        "publish.refused", network=NetworkName("x"), detail=Text("?"))))
    data["phrases"][0]["args"]["error"]["args"]["detail"] = {"hologram": 1}
    with pytest.raises(UnknownMessage):
        note_from_json(data)


def test_the_reply_row_keeps_the_phrase_beside_its_words_and_reads_older_rows() -> None:
    error = _refused("too long")
    row = ReplyPost()
    record_error(row, error.phrase)
    # What every release reads (a release before phrases shows it as it is): the words.
    assert row.error == str(error) == ("Mastodon refused the reply (toot.example answered "
                                      "HTTP 422: too long)")
    assert failure_reason(row) == error.phrase
    record_error(row, error.phrase, waiting=True)
    assert row.error == RATE_LIMITED + str(error)
    assert failure_reason(row) == error.phrase
    phrase = row.error_phrase
    assert phrase is not None
    # Written by a release before phrases: its English words, as they are.
    assert failure_reason(ReplyPost(error="Mastodon refused the reply (HTTP 422)")) == \
        "Mastodon refused the reply (HTTP 422)"
    assert failure_reason(ReplyPost()) is None
    # ... over the phrase of an earlier failure, which it left: the words it wrote.
    assert failure_reason(ReplyPost(error="Mastodon refused the reply (HTTP 500)",
                                    error_phrase=phrase)) == \
        "Mastodon refused the reply (HTTP 500)"
    assert failure_reason(ReplyPost(error=None, error_phrase=phrase)) is None
    # Written before the phrase had a column of its own: the phrase in ``error``.
    assert failure_reason(ReplyPost(error=phrase)) == error.phrase
    assert failure_reason(ReplyPost(error=RATE_LIMITED + phrase)) == error.phrase
    # A newer release's phrase: its English words until that release draws the card again.
    newer = json.loads(phrase)
    newer["phrase"] = "publish.from_the_future"
    assert failure_reason(ReplyPost(error=str(error), error_phrase=json.dumps(newer))) == \
        str(error)
    assert failure_reason(ReplyPost(error=json.dumps(newer))) == str(error)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_card_holds_the_longest_network_words(language: str) -> None:
    error = _refused("<oops> & " * 2000)
    view: CardView = card_view("text", reply_state="failed", reply_error=error.phrase)
    _, blocks = build_card(view, language)
    assert_whole(blocks)
    shown = str(blocks)
    assert ("Mastodon a refusé la réponse" if language == "fr"
            else "Mastodon refused the reply") in shown
    assert "<oops>" not in shown
