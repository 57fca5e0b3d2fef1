"""A Mastodon status kept by a watch for its image description (words its network's
search reads, aside from its text) is found again by the same query: the query trial
(``vigie watch test``) and the mention search read the stored aside as ingest did, while
the text stays the author's words."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import query_trial
from bot.services.actors import CLI
from bot.services.cards import load_card_view
from bot.services.mention_search import MentionFilter, search_mentions
from bot.services.watches import do_add_watch
from bot.slack.cards import build_card
from storage.models import Mention
from tests.harness.constants import CHANNEL_ID
from tests.services.test_same_words import NOW, _described, _poll

WORDS = "lol look at what their support answered me"
DESCRIPTION = "Screenshot of an Acme support reply: we are looking into it"


def _kept_for_its_description(sessions: sessionmaker[Session], workspace_id: int,
                              shared_data: Path) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query='"acme"',
                 channel_id=CHANNEL_ID, alert_threshold=0)
    toot = _described(shared_data, WORDS, DESCRIPTION)
    assert _poll(sessions, workspace_id, [toot]).stored == 1


def test_the_watch_test_matches_a_status_kept_for_its_image_description(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    _kept_for_its_description(sessions, workspace_id, shared_data)
    with sessions() as session:
        text, aside = session.execute(select(Mention.text, Mention.aside)).one()
    assert "Acme" not in text  # still the author's words only
    assert aside is not None and DESCRIPTION in aside
    trial = query_trial.try_query(sessions, workspace_id, '"acme"', since=timedelta(days=7),
                                  now=NOW, limit=20)
    assert (trial.matched, trial.scanned) == (1, 1)
    missed = query_trial.try_query(sessions, workspace_id, '"refund"',
                                   since=timedelta(days=7), now=NOW, limit=20)
    assert missed.matched == 0


def test_the_mention_search_finds_a_status_by_its_image_description(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    _kept_for_its_description(sessions, workspace_id, shared_data)
    for words in ("acme", '"acme support reply"', "acme answered"):
        rows = search_mentions(sessions, workspace_id, MentionFilter(text=words),
                               limit=20, now=NOW)
        assert [row.aside is not None and DESCRIPTION in row.aside for row in rows] == [True]
    assert search_mentions(sessions, workspace_id, MentionFilter(text="refund"),
                           limit=20, now=NOW) == []


def test_the_card_shows_the_image_description_under_the_text(
        sessions: sessionmaker[Session], workspace_id: int, shared_data: Path) -> None:
    _kept_for_its_description(sessions, workspace_id, shared_data)
    with sessions() as session:
        view = load_card_view(session, session.scalars(select(Mention.id)).one())
    _, blocks = build_card(view, "en")
    texts = [element["text"] for block in blocks if block["type"] == "context"
             for element in block["elements"]]
    shown = [text for text in texts if "image description" in text]
    assert len(shown) == 1 and DESCRIPTION in shown[0]
    body = next(block for block in blocks if block["type"] == "section"
                and WORDS in block["text"]["text"])
    assert "Acme" not in body["text"]["text"]
    assert blocks[blocks.index(body) + 1]["elements"][0]["text"] == shown[0]
