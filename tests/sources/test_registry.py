"""The registry of source kinds and the help built from their configs."""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from typing import Literal

import pytest
from pydantic import AnyUrl, Field, ValidationError, field_validator

from bot.i18n import t
from bot.net.errors import SourceConfigError
from bot.sources.base import Source, SourceConfig
from bot.sources.registry import (
    POLLABLE_KINDS,
    REQUIRED,
    SOURCES,
    _reason,
    describe_config,
    get_source,
    parse_config,
)

KINDS = ["bluesky", "hackernews", "mastodon", "reddit", "rss", "webhook", "x"]


def test_every_kind_is_registered_with_its_metadata() -> None:
    assert sorted(SOURCES) == KINDS
    assert set(KINDS) - {"webhook"} == POLLABLE_KINDS
    for kind, cls in SOURCES.items():
        assert issubclass(cls, Source) and cls.kind == kind and cls.title
        assert issubclass(cls.config_model, SourceConfig)
        assert isinstance(cls.default_interval, timedelta)
    assert {k for k, c in SOURCES.items() if c.can_reply} == {"mastodon", "bluesky", "x"}


def test_unknown_kind_lists_valid_ones() -> None:
    assert get_source(" RSS ") is SOURCES["rss"]
    with pytest.raises(SourceConfigError) as caught:
        get_source("myspace")
    assert str(caught.value) == (
        "unknown source kind 'myspace'; choose one of: " + ", ".join(KINDS)
    )


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_is_described(kind: str) -> None:
    rows = describe_config(kind)
    assert rows
    for name, type_name, default, description in rows:
        assert name and type_name and default and description, name


def test_describe_config_shows_types_defaults_and_secrets() -> None:
    rows = {row[0]: row for row in describe_config("mastodon")}
    assert rows["query"][1:3] == ("str", REQUIRED)
    assert rows["base_url"][2] == "https://mastodon.social"
    assert rows["mode"][1] == "'hashtag' | 'search'"
    assert rows["access_token"][1:3] == ("secret (optional)", "none")
    assert describe_config("bluesky")[2][1] == "secret"


def test_parse_config_names_fields_but_never_echoes_values() -> None:
    config = parse_config("rss", {"url": "https://example.com/feed"})
    assert config.url == "https://example.com/feed"  # type: ignore[attr-defined]
    with pytest.raises(SourceConfigError) as caught:
        parse_config("x", {"query": "", "bearer_token": "super-secret", "colour": "red"})
    message = str(caught.value)
    assert "query:" in message and "colour: Extra inputs are not permitted" in message
    assert "super-secret" not in message


def test_a_setting_s_own_check_is_worded_as_a_sentence() -> None:
    """A short webhook secret says how long it must be in characters (pydantic words a
    secret's length as "items"), and a validator's reason comes without "Value error,"."""
    with pytest.raises(SourceConfigError) as caught:
        parse_config("webhook", {"secret": "short"})
    assert str(caught.value) == (
        "secret: must be at least 16 characters (leave it out and Vigie generates one)")
    with pytest.raises(SourceConfigError) as caught:
        parse_config("hackernews", {"query": "acme", "base_url": "ftp://hn.example"})
    assert str(caught.value) == "base_url: the API address must start with https://"
    assert parse_config("webhook", {"secret": "s" * 16})


@pytest.mark.parametrize(("kind", "values", "key", "french"), [
    ("rss", {"url": "ftp://exemple.fr/flux.xml"}, "setting_rule.address_scheme",
     "`url` doit être une adresse commençant par https:// (ou http://)"),
    ("bluesky", {"query": "a", "handle": "brand.bsky.social", "app_password": "abcd-efgh-ijkl-mnop",
                 "service_url": "bsky.social"}, "setting_rule.address_scheme",
     "`service_url` doit être une adresse commençant par https:// (ou http://)"),
    ("mastodon", {"query": "acme", "mode": "search"}, "setting_rule.search_needs_token",
     "Le mode search demande `access_token` (Mastodon l'exige)"),
    ("hackernews", {"query": "acme", "tags": "stories"}, "setting_rule.hn_tags",
     "`tags` : 'stories' n'est pas un filtre de tags HN Search"),
    ("reddit", {"mode": "rss", "query": "a", "subreddit": "r/x"},
     "setting_rule.subreddit_name", "`subreddit` : un nom de subreddit compte de 2 à 21"),
    ("reddit", {"mode": "rss"}, "setting_rule.mode_needs_query",
     "Le mode rss demande `query`"),
    ("reddit", {"mode": "comments", "client_id": "i", "client_secret": "s"},
     "setting_rule.comments_need_subreddit", "Le mode comments demande `subreddit`"),
    ("reddit", {"query": "acme"}, "setting_rule.api_needs_credentials",
     "Les modes API demandent `client_id` et `client_secret` (ou utilisez mode=rss)"),
    ("webhook", {"secret": "s" * 16, "network": "twitter"},
     "setting_rule.webhook_own_network", "`network` : 'twitter' (x) est un réseau que Vigie"),
    ("webhook", {"secret": "short"}, "setting_rule.secret_too_short",
     "`secret` doit compter au moins 16 caractères (omettez-le et Vigie en génère un)"),
    ("webhook", {"secret": "s" * 16, "network": "Forum!"}, "setting_pattern",
     "`network` ne peut contenir que des minuscules, des chiffres, - et _ (32 au plus)"),
    ("x", {"query": "acme", "bearer_token": "t", "max_results": "many"}, "setting_number",
     "`max_results` doit être un nombre entier"),
    # A list where text is expected (`vigie source add --set query=[...]` reads JSON; a
    # stored config the next poll parses again): pydantic's English used to stand.
    ("x", {"query": ["acme"], "bearer_token": "t"}, "setting_text",
     "`query` doit être du texte"),
    ("mastodon", {"query": "acme", "local_only": ["yes"]}, "setting_bool",
     "`local_only` doit valoir true ou false"),
])
def test_each_settings_refusal_has_a_catalogue_reason(kind: str, values: dict[str, str],
                                                      key: str, french: str) -> None:
    """Every refusal of a source's settings names a catalogue entry (with its parameters),
    so that Slack words it in the reader's language; the English str() stays the CLI's."""
    with pytest.raises(SourceConfigError) as caught:
        parse_config(kind, values)
    assert [reason for reason, _ in caught.value.reasons] == [key]
    ((_, params),) = caught.value.reasons
    assert french in t("fr", f"source_error.{key}", **params)
    assert t("en", f"source_error.{key}", **params)


class _Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class _EveryKindOfField(SourceConfig):
    """Fields of each type pydantic checks, so that each of its refusals is met."""

    count: int = 1
    ratio: float = 0.5
    flag: bool = False
    name: str = Field(default="x", min_length=2, max_length=5)
    label: str = Field(default="x", pattern=r"^[a-z]+$")
    colour: _Colour = _Colour.RED
    mode: Literal["a", "b"] | None = None
    home: AnyUrl | None = None
    tags: list[str] = Field(default_factory=list, min_length=1, max_length=2)
    odd: str = "ok"

    @field_validator("odd")
    @classmethod
    def _odd(cls, value: str) -> str:
        if value == "no":
            raise ValueError("this value is refused for a reason only English gives")
        return value


@pytest.mark.parametrize(("values", "key", "french"), [
    ({"count": "many"}, "setting_number", "`count` doit être un nombre entier"),
    ({"count": "1.5"}, "setting_number", "`count` doit être un nombre entier"),
    ({"ratio": "half"}, "setting_decimal", "`ratio` doit être un nombre"),
    ({"flag": "maybe"}, "setting_bool", "`flag` doit valoir true ou false"),
    ({"name": "a"}, "setting_too_short", "`name` est trop court : 2 caractères au moins"),
    ({"name": "abcdef"}, "setting_too_long", "`name` est trop long : 5 caractères au plus"),
    ({"name": 5}, "setting_text", "`name` doit être du texte"),
    ({"label": "A!"}, "setting_pattern", "`label` ne peut contenir que"),
    ({"colour": "green"}, "setting_choice",
     "`colour` doit valoir l'une de ces valeurs : red, blue"),
    ({"mode": "c"}, "setting_choice", "`mode` doit valoir l'une de ces valeurs : a, b"),
    ({"home": "not a url"}, "setting_url", "`home` doit être une adresse web"),
    ({"tags": []}, "setting_too_few", "`tags` demande au moins 1 valeur(s)"),
    ({"tags": ["a", "b", "c"]}, "setting_too_many", "`tags` a trop de valeurs : 2 au plus"),
    ({"odd": "no"}, "setting_invalid", "La valeur de `odd` n'est pas valide"),
    ({"odd": None}, "setting_text", "`odd` doit être du texte"),
])
def test_pydantic_refusals_are_worded_in_french(values: dict[str, object], key: str,
                                                french: str) -> None:
    """Each refusal pydantic makes of a setting a user typed has a sentence of its own in
    the catalogues; any other (a validator's ValueError) is still a French sentence naming
    the setting, without pydantic's English reason in it (which English keeps)."""
    try:
        _EveryKindOfField.model_validate(values)
    except ValidationError as err:
        (detail,) = err.errors(include_url=False, include_input=False)
    else:
        raise AssertionError("accepted")
    field = str(detail["loc"][0])
    reason, params = _reason(_EveryKindOfField, field, detail)
    assert reason == key
    worded = t("fr", f"source_error.{reason}", **params)
    assert french in worded
    english_words = {"should", "must", "valid", "input", "value", "reason", "refused"}
    assert not english_words & set(re.findall(r"[a-z]+", worded.lower())), worded
    if key == "setting_invalid":  # English still gives pydantic's (or the validator's) reason
        assert t("en", f"source_error.{reason}", **params) == (
            "`odd`: this value is refused for a reason only English gives")
