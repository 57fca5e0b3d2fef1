"""Canned reply templates: choice order and safe placeholder formatting."""

from __future__ import annotations

import pytest

from bot.replies.limits import fits
from bot.replies.risk import check_draft
from bot.replies.templates import (
    BUILTIN_TEMPLATES,
    INTENTS,
    CustomTemplate,
    choose_template,
    render_template,
)


def test_builtins_cover_every_intent_in_en_and_fr() -> None:
    for intent in INTENTS:
        for language in ("en", "fr"):
            assert BUILTIN_TEMPLATES[(intent, language)]


@pytest.mark.parametrize(("intent", "language"), list(BUILTIN_TEMPLATES))
def test_builtins_are_safe_to_post(intent: str, language: str) -> None:
    author = "@a_rather_long_handle_15"
    text = render_template(BUILTIN_TEMPLATES[(intent, language)], author=author, brand="Acme Corp")
    assert "{" not in text
    assert fits(text, "x")
    report = check_draft(
        text,
        network="x",
        mention_text="",
        link_allowlist=[],
        brand_handles=["@acme"],
        author_handle=author,
    )
    assert report.flags == (), report.codes


def test_custom_template_preferred() -> None:
    custom = [CustomTemplate("complaint", "fr", "Désolés {author} ! — {brand}", name="plainte")]
    assert choose_template("complaint", "fr", custom) == "Désolés {author} ! — {brand}"
    assert choose_template("complaint", "en", custom) == BUILTIN_TEMPLATES[("complaint", "en")]


def test_language_normalised() -> None:
    assert choose_template("praise", "fr-FR", []) == BUILTIN_TEMPLATES[("praise", "fr")]
    assert choose_template("praise", "FR", []) == BUILTIN_TEMPLATES[("praise", "fr")]
    custom = [CustomTemplate("praise", "fr_CA", "Merci {author}!")]
    assert choose_template("praise", "fr", custom) == "Merci {author}!"


def test_falls_back_to_english() -> None:
    assert choose_template("question", "de", []) == BUILTIN_TEMPLATES[("question", "en")]
    assert choose_template("question", None, []) == BUILTIN_TEMPLATES[("question", "en")]
    custom = [CustomTemplate("question", "en", "Custom EN {author}")]
    assert choose_template("question", "de", custom) == "Custom EN {author}"


def test_custom_in_language_beats_builtin_english() -> None:
    custom = [CustomTemplate("question", "es", "Hola {author}")]
    assert choose_template("question", "es", custom) == "Hola {author}"


def test_unknown_intent_is_other() -> None:
    assert choose_template("spam", "fr", []) == BUILTIN_TEMPLATES[("other", "fr")]
    assert choose_template(None, "en", []) == BUILTIN_TEMPLATES[("other", "en")]
    assert (
        choose_template("Purchase-Intent", "en", []) == BUILTIN_TEMPLATES[("purchase_intent", "en")]
    )


def test_blank_custom_template_ignored_and_first_wins() -> None:
    custom = [
        CustomTemplate("risk", "en", "   "),
        CustomTemplate("risk", "en", "first"),
        CustomTemplate("risk", "en", "second"),
    ]
    assert choose_template("risk", "en", custom) == "first"


def test_any_object_with_the_fields_works() -> None:
    class Row:
        intent = "praise"
        language = "en"
        text = "Row {author}"

    assert choose_template("praise", "en", [Row()]) == "Row {author}"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {author} from {brand}", "Hi @jane from Acme"),
        ("Hi {{author}} / { brand }", "Hi @jane / Acme"),
        ("Hi {AUTHOR}", "Hi @jane"),
        (
            "Code {unknown} and {0} and {author.__class__}",
            "Code {unknown} and {0} and {author.__class__}",
        ),
        ("Braces { alone } and {", "Braces { alone } and {"),
        ("", ""),
    ],
)
def test_render_template_is_safe(template: str, expected: str) -> None:
    assert render_template(template, author="@jane", brand="Acme") == expected


def test_values_are_not_reinterpreted() -> None:
    text = render_template("{author} / {brand}", author="{brand}", brand="{author}")
    assert text == "{brand} / {author}"
    text = render_template("Hi {author}", author="{0.__globals__}", brand="x")
    assert text == "Hi {0.__globals__}"
