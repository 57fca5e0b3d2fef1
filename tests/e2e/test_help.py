"""`/cm help` end to end: signed requests through HTTP, Bolt and the registry."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import httpx
import pytest

import handlers.commands as commands
from bot.i18n import SUPPORTED_LANGUAGES, catalogue
from bot.sources.registry import SOURCES
from handlers.commands.registry import REGISTRY, Verbs
from handlers.commands.workflow import FILTER_KEYS
from tests.e2e.conftest import VigieApp
from tests.harness.blockkit_limits import validate_blocks


def test_help_lists_every_subcommand(vigie: VigieApp) -> None:
    body = vigie.slack.command_answer("help")
    assert body["response_type"] == "ephemeral"
    assert validate_blocks(body["blocks"], "message") == []
    shown = "\n".join(block.get("text", {}).get("text", "") for block in body["blocks"])
    for sub in REGISTRY.all():
        assert f"`/cm {sub.name}`" in shown
    assert "/cm help COMMAND" in body["text"]


def test_empty_command_shows_help(vigie_sqlite: VigieApp) -> None:
    body = vigie_sqlite.slack.command_answer("")
    assert "`/cm help`" in body["text"]


def test_help_for_one_subcommand_has_usage_and_examples(vigie_sqlite: VigieApp) -> None:
    body = vigie_sqlite.slack.command_answer("help watch")
    assert "*Usage:* `/cm watch add NAME" in body["text"]
    assert "`/cm watch list`" in body["text"]


def test_unknown_subcommand_suggests_the_closest(vigie_sqlite: VigieApp) -> None:
    body = vigie_sqlite.slack.command_answer("wacth list")
    assert body["response_type"] == "ephemeral"
    assert body["text"].startswith("`/cm wacth` is not a Vigie command. Did you mean `/cm watch`?")


def test_unknown_subcommand_without_close_match(vigie_sqlite: VigieApp) -> None:
    body = vigie_sqlite.slack.command_answer("zzzzzz")
    assert "is not a Vigie command" in body["text"] and "/cm help" in body["text"]


def test_unknown_help_topic(vigie_sqlite: VigieApp) -> None:
    body = vigie_sqlite.slack.command_answer("help sourc")
    assert "Did you mean `/cm help source`?" in body["text"]


def test_bad_signature_is_refused(vigie_sqlite: VigieApp) -> None:
    assert vigie_sqlite.slack.slash_command("help", bad_signature=True).status_code == 401


def test_replayed_request_is_refused(vigie_sqlite: VigieApp) -> None:
    assert vigie_sqlite.slack.slash_command("help", stale_timestamp=True).status_code == 401


def test_unclosed_quote_gets_a_specific_error(vigie_sqlite: VigieApp) -> None:
    body = vigie_sqlite.slack.command_answer('watch add acme "acme app')
    assert "a quote is not closed" in body["text"]


@pytest.mark.parametrize("topic", ["payload", "payload=1", "payload%3d1"])
def test_command_mentioning_payload_is_handled(vigie_sqlite: VigieApp, topic: str) -> None:
    # slack_bolt alone drops form bodies containing the word "payload" (see bot.slack.bolt_wsgi).
    body = vigie_sqlite.slack.command_answer(f"help {topic}")
    assert f"There is no `/cm {topic}`" in body["text"]


@pytest.mark.parametrize("topic", ["payload", "payload=1"])
def test_command_mentioning_payload_is_answered_past_the_ack_budget(
        vigie: VigieApp, monkeypatch: pytest.MonkeyPatch, topic: str) -> None:
    """Acknowledged empty, the answer goes through the lazy listener, which gets its own
    copy of the request: that copy, too, must be read as the slash command it is."""
    monkeypatch.setattr(commands, "ACK_BUDGET_SECONDS", 0.0)
    response = vigie.slack.slash_command(f"help {topic}")
    assert response.status_code == 200 and not response.content
    url = parse_qs(response.request.content.decode())["response_url"][0]
    vigie.standin.wait_until(lambda standin: bool(standin.responses(url)), timeout=15.0)
    assert f"There is no `/cm {topic}`" in vigie.standin.responses(url)[0]["text"]


def test_health_endpoints(vigie_sqlite: VigieApp) -> None:
    assert httpx.get(vigie_sqlite.url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(vigie_sqlite.url + "/readyz").json() == {"status": "ready"}
    assert httpx.get(vigie_sqlite.url + "/nope").status_code == 404
    assert httpx.get(vigie_sqlite.url + "/slack/events").status_code == 405
    assert httpx.get(vigie_sqlite.url + "/metrics").status_code == 404  # no token: off


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_help_summaries_name_every_filter_and_verb(vigie_sqlite: VigieApp,
                                                   language: str) -> None:
    vigie_sqlite.slack.command_answer(f"lang {language}")
    body = vigie_sqlite.slack.command_answer("help")
    lines = "\n".join(block.get("text", {}).get("text", "")
                      for block in body["blocks"]).splitlines()

    def line_of(name: str) -> str:
        return next(line for line in lines if f"`/cm {name}`" in line)

    mentions = line_of("mentions")
    for key in sorted(FILTER_KEYS):
        assert f"{key}:" in mentions, (key, mentions)
    watch = REGISTRY.get("watch")
    assert watch is not None and isinstance(watch.role, Verbs)
    summary = line_of("watch")
    for verb in watch.role.items:
        assert re.search(rf"\b{verb.name}\b", summary), (verb.name, summary)


@pytest.mark.parametrize(("language", "name", "usage", "example"), [
    ("en", "watch", "/cm watch add NAME [#channel]", "topic:outage #product-bugs"),
    ("fr", "watch", "/cm watch add NOM [#canal]", "topic:panne #bugs-produit"),
    ("en", "mentions", "[status:S] [sentiment:S]", "/cm mentions refund`"),
    ("fr", "mentions", "[status:STATUT] [sentiment:SENTIMENT]", "/cm mentions remboursement`"),
    ("en", "source", "source add KIND WATCH", "/cm source test 3`"),
    ("fr", "source", "source add TYPE VEILLE [URL] [clé=valeur ...]", "/cm source test 3`"),
])
def test_help_for_one_subcommand_is_in_the_readers_language(
        vigie_sqlite: VigieApp, language: str, name: str, usage: str, example: str) -> None:
    vigie_sqlite.slack.command_answer(f"lang {language}")
    body = vigie_sqlite.slack.command_answer(f"help {name}")
    assert usage in body["text"] and example in body["text"], body["text"]
    assert validate_blocks(body["blocks"], "message") == []


def test_every_subcommand_has_its_usage_and_examples_in_each_language() -> None:
    english = {sub.name: (catalogue("en")[f"cmd.{sub.name}.usage"],
                          tuple(catalogue("en")[f"cmd.{sub.name}.examples"].splitlines()))
               for sub in REGISTRY.all()}
    # English is the registry's own (the usage pinned in tests/handlers/test_help_table.py).
    assert english == {sub.name: (sub.usage, sub.examples) for sub in REGISTRY.all()}
    for sub in REGISTRY.all():
        french = catalogue("fr")[f"cmd.{sub.name}.examples"].splitlines()
        assert len(french) == len(sub.examples), sub.name
        assert all(example.split()[0] == sub.name for example in french), sub.name
        assert catalogue("fr")[f"cmd.{sub.name}.usage"].startswith(sub.name), sub.name


@pytest.mark.parametrize(("language", "typed", "answer"), [
    ("en", "help bluesky", "Did you mean `/cm help source`?"),
    ("fr", "help twitter", "Vouliez-vous dire `/cm help source` ?"),
    ("en", "help rss", "Did you mean `/cm help source`?"),
    ("en", "help zzzz", "There is no `/cm zzzz` to explain. `/cm help` lists the commands."),
    ("fr", "help zzzz", "Il n'y a pas de `/cm zzzz` à expliquer. `/cm help` liste les commandes."),
    ("en", "reddit", "Did you mean `/cm source`?"),
])
def test_help_suggests_only_a_meaningful_command(vigie_sqlite: VigieApp, language: str,
                                                 typed: str, answer: str) -> None:
    vigie_sqlite.slack.command_answer(f"lang {language}")
    text = vigie_sqlite.slack.command_answer(typed)["text"]
    assert answer in text and "help help" not in text and "/cm report" not in text, text


@pytest.mark.parametrize(("language", "lines"), [
    ("en", ["*Settings of `bluesky`* (write them as key=value):",
            "• `handle` (required): Handle (or email) of the account that searches, e.g. "
            "brand.bsky.social.",
            "• `language` (optional): Only posts in this language (e.g. en); all languages "
            "when left out.",
            "• `limit` (optional, default `50`): Posts asked per page (max 100)."]),
    ("fr", ["*Réglages de `bluesky`* (écrivez-les clé=valeur) :",
            "• `handle` (obligatoire) : Identifiant (ou e-mail) du compte qui cherche, par ex. "
            "marque.bsky.social.",
            "• `language` (facultatif) : Seulement les messages dans cette langue (par ex. fr) ; "
            "toutes les langues si absent.",
            "• `limit` (facultatif, par défaut `50`) : Messages demandés par page (100 au plus)."]),
])
def test_help_source_kind_lists_its_settings(vigie_sqlite: VigieApp, language: str,
                                             lines: list[str]) -> None:
    """`/cm source add` errors send the reader to `/cm help source KIND`: it lists each
    setting of that network, required or not, in the reader's language."""
    vigie_sqlite.slack.command_answer(f"lang {language}")
    body = vigie_sqlite.slack.command_answer("help source bluesky")
    assert validate_blocks(body["blocks"], "message") == []
    shown = body["text"].splitlines()
    for line in lines:
        assert line in shown, body["text"]
    assert len([line for line in shown if line.startswith("• `")]) == 7  # each setting once
    every = vigie_sqlite.slack.command_answer("help source")["text"]
    required = ("• `bluesky`: `query`, `handle`, `app_password`" if language == "en"
                else "• `bluesky` : `query`, `handle`, `app_password`")
    assert required in every.splitlines(), every
    unknown = vigie_sqlite.slack.command_answer("help source rsss")["text"]
    assert unknown.startswith("Unknown source kind `rsss`" if language == "en"
                              else "Type de source `rsss` inconnu"), unknown


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_source_setting_is_described_in_every_language(language: str) -> None:
    """The help is generated from the sources' config models: a setting added to one
    without words in the catalogues (or words left for a removed one) fails here."""
    wanted = {f"source_setting.{kind}.{name}"
              for kind, source in SOURCES.items() for name in source.config_model.model_fields}
    described = {key for key in catalogue(language) if key.startswith("source_setting.")}
    assert described == wanted
