"""Users get Vigie in their Slack language (English and French catalogues)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.i18n import catalogue
from bot.net.netguard import BLOCKED_REASONS
from tests.e2e.conftest import VigieApp, eventually
from tests.harness.constants import USER_ID


def test_french_user_gets_french_from_the_first_command(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    # Slash command payloads carry no locale: users.info (include_locale) tells it.
    first = vigie.slack.command_answer("nope", locale="fr-FR")
    assert "n'est pas une commande Vigie" in first["text"], first["text"]
    assert any(c.args.get("user") == USER_ID and str(c.args.get("include_locale")).lower()
               in ("1", "true") for c in vigie.standin.calls("users.info"))
    help_text = vigie.slack.command_answer("help")["text"]
    assert "Vigie : commandes /cm" in help_text


def test_a_chosen_language_wins_over_the_slack_locale(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    vigie.standin.set_user(USER_ID, locale="fr-FR")
    assert "in English" in vigie.slack.command_answer("lang en")["text"]
    assert "is not a Vigie command" in vigie.slack.command_answer("nope")["text"]


def test_french_user_s_first_app_home_is_french(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    vigie.standin.set_user(USER_ID, locale="fr-FR")
    vigie.slack.app_home_opened()
    eventually(lambda: bool(vigie.standin.calls("views.publish", ok=True)))
    view = str(vigie.standin.calls("views.publish", ok=True)[0].args)
    assert "En cours" in view and "Open work" not in view, view


def test_lang_command_switches_language(vigie_sqlite: VigieApp) -> None:
    vigie = vigie_sqlite
    assert "en français" in vigie.slack.command_answer("lang fr")["text"]
    assert "Lister les commandes" in vigie.slack.command_answer("help")["text"]
    assert "in English" in vigie.slack.command_answer("lang en")["text"]
    assert "not a supported language" in vigie.slack.command_answer("lang de")["text"]


def test_catalogues_have_the_same_keys() -> None:
    english, french = set(catalogue("en")), set(catalogue("fr"))
    assert english - french == set(), "strings missing in French"
    assert french - english == set(), "French strings with no English original"


def test_every_source_error_key_is_in_both_catalogues() -> None:
    """The HTTP layer and the sources name their errors' catalogue entries (key="...",
    setting_error("code", ...), the refused address kinds): each must exist in English
    and French, or Slack would fall back to the English sentence."""
    root = Path(__file__).resolve().parents[2] / "bot"
    code = "\n".join(path.read_text(encoding="utf-8")
                     for folder in ("net", "sources") for path in (root / folder).glob("*.py"))
    keys = set(re.findall(r'\bkey="([a-z_.]+)"', code)) - {"bad_settings"}
    keys |= {f"setting_rule.{c}" for c in re.findall(r'setting_error\(\s*"([a-z_]+)"', code)}
    keys |= {f"blocked.{reason}" for reason in BLOCKED_REASONS}
    assert len(keys) > 40
    for language in ("en", "fr"):
        missing = {key for key in keys if f"source_error.{key}" not in catalogue(language)}
        assert not missing, (language, missing)
