"""Canned replies per intent and language, used when no LLM is configured or it fails.

Templates may use ``{author}`` and ``{brand}`` (``{{author}}`` and ``{ author }`` work too).
Formatting is safe: other ``{...}`` text is left as written, and the values are inserted
literally (an author named "{brand}" stays "{brand}"), unlike ``str.format``.
The built-in texts make no commitment, ask for no personal data in public and pass the
risk checks, so a template reply never needs an override.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

import regex

__all__ = [
    "BUILTIN_TEMPLATES",
    "INTENTS",
    "CustomTemplate",
    "choose_template",
    "render_template",
]

INTENTS = ("question", "complaint", "praise", "purchase_intent", "risk", "other")
"""Intents that have a built-in template; any other intent falls back to 'other'."""


@dataclass(frozen=True, slots=True)
class CustomTemplate:
    """A template written by the team for one intent and language (e.g. "fr")."""

    intent: str
    language: str
    text: str
    name: str = ""


class _TemplateLike(Protocol):
    @property
    def intent(self) -> str: ...

    @property
    def language(self) -> str: ...

    @property
    def text(self) -> str: ...


BUILTIN_TEMPLATES: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        ("question", "en"): (
            "Hi {author}, thanks for your question! We're looking into it and will answer "
            "you here shortly."
        ),
        ("question", "fr"): (
            "Bonjour {author}, merci pour votre question ! Nous regardons cela et vous "
            "répondons ici très vite."
        ),
        ("complaint", "en"): (
            "Hi {author}, we're sorry to hear about this. Our team is looking into it and "
            "will come back to you here; please don't share personal details publicly."
        ),
        ("complaint", "fr"): (
            "Bonjour {author}, nous sommes désolés de lire cela. Notre équipe regarde et "
            "revient vers vous ici ; ne partagez pas de données personnelles en public."
        ),
        ("praise", "en"): "Thank you so much, {author}! The whole {brand} team appreciates it.",
        ("praise", "fr"): (
            "Merci beaucoup {author} ! Toute l'équipe {brand} est ravie de lire votre message."
        ),
        ("purchase_intent", "en"): (
            "Hi {author}, thanks for your interest in {brand}! Tell us what you need and "
            "we'll help you find what suits you best."
        ),
        ("purchase_intent", "fr"): (
            "Bonjour {author}, merci de votre intérêt pour {brand} ! Dites-nous ce que vous "
            "cherchez et nous vous aiderons à trouver ce qui vous convient."
        ),
        ("risk", "en"): (
            "Hi {author}, thank you for raising this. We take it seriously: our team is "
            "looking into it and will follow up here."
        ),
        ("risk", "fr"): (
            "Bonjour {author}, merci de nous avoir alertés. Nous prenons votre message au "
            "sérieux : notre équipe regarde et revient vers vous ici."
        ),
        ("other", "en"): "Hi {author}, thanks for your message! The {brand} team",
        ("other", "fr"): "Bonjour {author}, merci pour votre message ! L'équipe {brand}",
    }
)
"""Built-in texts keyed by (intent, language)."""

_PLACEHOLDER = regex.compile(r"\{\{\s*(author|brand)\s*\}\}|\{\s*(author|brand)\s*\}", regex.I)


def _lang(language: str | None) -> str:
    return (language or "").strip().lower().replace("_", "-").split("-")[0]


def _intent(intent: str | None) -> str:
    return (intent or "").strip().lower().replace("-", "_").replace(" ", "_")


def render_template(template: str, *, author: str, brand: str) -> str:
    """Fill ``{author}`` and ``{brand}``; leave any other braces as written.

    Values are inserted in one pass and never re-read as placeholders.
    """
    values = {"author": author, "brand": brand}
    return _PLACEHOLDER.sub(lambda m: values[(m.group(1) or m.group(2)).lower()], template)


def choose_template(
    intent: str | None,
    language: str | None,
    custom_templates: Iterable[_TemplateLike] = (),
) -> str:
    """Pick the template text for ``intent`` in ``language``.

    Order: a custom template for the intent and language, the built-in one, then the same
    two in English, then the built-in 'other' template (in the language, then English).
    Unknown intents count as 'other'; "fr-FR" counts as "fr". Blank custom texts are ignored.
    """
    wanted_intent = _intent(intent)
    if wanted_intent not in INTENTS:
        wanted_intent = "other"
    lang = _lang(language) or "en"
    custom: dict[tuple[str, str], str] = {}
    for template in custom_templates:
        key = (_intent(template.intent), _lang(template.language))
        if key not in custom and (template.text or "").strip():
            custom[key] = template.text

    candidates = [(wanted_intent, lang), (wanted_intent, "en"), ("other", lang), ("other", "en")]
    for key in candidates:
        if key in custom:
            return custom[key]
        if key in BUILTIN_TEMPLATES:
            return BUILTIN_TEMPLATES[key]
    return BUILTIN_TEMPLATES[("other", "en")]
