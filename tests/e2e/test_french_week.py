"""A week of Vigie in French, through the Slack stand-in: networks are named in the
reader's language on cards, their notification text and DMs (never the English name or the
stored code), and French duration units are read where the French errors name them."""

from __future__ import annotations

import pytest

from bot.services.members import do_set_language
from storage.db import transaction
from storage.models import Workspace
from tests.e2e.conftest import ADMIN_ID, VigieApp, eventually
from tests.e2e.test_command_limits import answer as answer_of
from tests.e2e.test_workflow import card, seed, settle
from tests.harness.constants import OTHER_USER_ID, TEAM_ID, USER_ID


def _workspace_in(vigie: VigieApp, language: str) -> None:
    workspace_id = vigie.runtime.workspaces.ensure(TEAM_ID).id
    with transaction(vigie.runtime.sessions) as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.locale = language
    for user in (USER_ID, OTHER_USER_ID, ADMIN_ID):
        do_set_language(vigie.runtime.sessions, workspace_id, user, language)


def _card_texts(vigie: VigieApp, mention_id: int) -> tuple[str, str]:
    message = card(vigie, mention_id)
    return str(message["text"]), str(message["blocks"])


@pytest.mark.parametrize(("language", "name", "fallback", "elsewhere", "assigned"), [
    ("fr", "RSS/Atom", "sur RSS/Atom par", "Vigie ne peut pas publier sur RSS/Atom :",
     "vous a attribué une mention sur RSS/Atom :"),
    ("en", "RSS/Atom feeds", "on RSS/Atom feeds by", "Vigie cannot post on RSS/Atom feeds:",
     "assigned you a mention on RSS/Atom feeds:"),
])
def test_a_feed_is_named_in_the_readers_language(
        vigie_sqlite: VigieApp, language: str, name: str, fallback: str, elsewhere: str,
        assigned: str) -> None:
    vigie = vigie_sqlite
    _workspace_in(vigie, language)
    mention_id = seed(vigie, text="Acme rappelle ses bouilloires", handle="Le Journal",
                      network="rss")
    settle(vigie)
    text, blocks = _card_texts(vigie, mention_id)
    assert fallback in text, text
    assert elsewhere in blocks, blocks
    if language == "fr":
        assert "feeds" not in text + blocks
    answer = vigie.slack.command_answer(f"assign {mention_id} <@{OTHER_USER_ID}|bob>",
                                        user_id=ADMIN_ID)["text"]
    assert str(mention_id) in answer, answer
    eventually(lambda: len(list(vigie.standin.messages_in(OTHER_USER_ID))) == 1)
    [dm] = list(vigie.standin.messages_in(OTHER_USER_ID))
    assert assigned in dm["text"], dm["text"]
    assert f"({name})" in dm["text"], dm["text"]
    if language == "fr":
        assert "feeds" not in dm["text"] and "(rss)" not in dm["text"]


@pytest.mark.parametrize(("language", "typed"), [
    ("fr", "since:7j"), ("fr", "since:2sem"), ("fr", "since:1w"), ("en", "since:7d"),
    ("en", "since:2w"), ("en", "since:2sem"),
])
def test_french_units_read_as_days_and_weeks(vigie_sqlite: VigieApp, language: str,
                                             typed: str) -> None:
    vigie = vigie_sqlite
    _workspace_in(vigie, language)
    mention_id = seed(vigie)
    answer = vigie.slack.command_answer(f"mentions {typed}", user_id=ADMIN_ID)
    assert f"#{mention_id}" in str(answer.get("blocks")) + str(answer.get("text")), answer


@pytest.mark.parametrize(("language", "typed", "said"), [
    ("fr", "since:7x", "comme `30m`, `24h`, `7j`, `2sem`."),
    ("en", "since:7x", "like `30m`, `24h`, `7d`, `2w`."),
])
def test_a_bad_duration_shows_the_readers_units(vigie_sqlite: VigieApp, language: str,
                                                typed: str, said: str) -> None:
    vigie = vigie_sqlite
    _workspace_in(vigie, language)
    answer = vigie.slack.command_answer(f"mentions {typed}", user_id=ADMIN_ID)["text"]
    assert answer.endswith(said), answer


@pytest.mark.parametrize(("language", "typed", "said"), [
    ("en", "mentions since:30s", "`30s` could mean seconds or weeks (French: semaines), and "
     "no Vigie period is in seconds: write weeks as `30w` (or `30sem`), days as `30d`."),
    ("fr", "mentions since:30s", "`30s` peut se lire secondes (anglais : seconds) ou semaines, et "
     "aucune période de Vigie n'est en secondes : écrivez les semaines `30sem` (ou `30w`), "
     "les jours `30j`."),
    ("fr", "stats 1s", "`1s` peut se lire secondes"),
    ("en", "export 1s", "`1s` could mean seconds or weeks"),
])
def test_a_bare_s_is_refused_as_seconds_or_weeks(vigie_sqlite: VigieApp, language: str,
                                                 typed: str, said: str) -> None:
    vigie = vigie_sqlite
    _workspace_in(vigie, language)
    seed(vigie)
    answer = answer_of(vigie, typed, ADMIN_ID)["text"]
    assert answer.startswith(said), answer


@pytest.mark.parametrize(("language", "typed", "heading"), [
    ("fr", "stats 30j", "30 derniers jours"), ("fr", "stats 1sem", "7 derniers jours"),
    ("en", "stats 30d", "last 30 days"),
])
def test_stats_take_french_periods(vigie_sqlite: VigieApp, language: str, typed: str,
                                   heading: str) -> None:
    vigie = vigie_sqlite
    _workspace_in(vigie, language)
    seed(vigie)
    answer = answer_of(vigie, typed, ADMIN_ID)
    assert heading in str(answer), answer


@pytest.mark.parametrize(("language", "said"), [
    ("fr", "`2x` n'est pas une période de statistiques : utilisez 7j, 30j, 90j."),
    ("en", "`2x` is not a period for statistics: use one of 7d, 30d, 90d."),
])
def test_a_bad_stats_period_lists_the_readers_periods(vigie_sqlite: VigieApp, language: str,
                                                      said: str) -> None:
    vigie = vigie_sqlite
    _workspace_in(vigie, language)
    answer = answer_of(vigie, "stats 2x", ADMIN_ID)["text"]
    assert answer == said, answer
