"""Users get Vigie in their Slack language (English and French catalogues)."""

from __future__ import annotations

import time

from bot.i18n import catalogue
from tests.e2e.conftest import VigieApp, eventually
from tests.harness.constants import USER_ID


def test_french_user_gets_french_after_the_first_command(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    first = vigie.slack.slash_command("nope", locale="fr-FR").json()
    assert "is not a Vigie command" in first["text"]  # locale not known yet
    eventually(lambda: any(c.args.get("user") == USER_ID
                           for c in vigie.standin.calls("users.info")))
    time.sleep(0.2)
    eventually(lambda: "n'est pas une commande Vigie" in vigie.slack.slash_command(
        "nope").json()["text"])
    help_text = vigie.slack.slash_command("help").json()["text"]
    assert "Vigie : commandes /cm" in help_text


def test_lang_command_switches_language(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    assert "en français" in vigie.slack.slash_command("lang fr").json()["text"]
    assert "Lister les commandes" in vigie.slack.slash_command("help").json()["text"]
    assert "in English" in vigie.slack.slash_command("lang en").json()["text"]
    assert "not a supported language" in vigie.slack.slash_command("lang de").json()["text"]


def test_catalogues_have_the_same_keys() -> None:
    english, french = set(catalogue("en")), set(catalogue("fr"))
    assert english - french == set(), "strings missing in French"
    assert french - english == set(), "French strings with no English original"
