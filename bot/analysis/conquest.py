"""Conquest signals: a competitor's customer asking for an alternative or saying they leave
(English and French), or simply unhappy (a complaint, a negative mention).

The phrases are meaning the sentiment and intent models are not trained for ("anyone know
an alternative to X?" is a neutral question to them), so they are rules.
"""

from __future__ import annotations

import re
import unicodedata

ALTERNATIVE = "alternative"
UNHAPPY = "unhappy"

_PHRASES = re.compile(
    r"""\b(?:
        alternatives?\s+(?:to|for)\b
      | (?:switch(?:ing|ed)?|mov(?:e|ing|ed)|migrat(?:e|ing|ed))\s+(?:away\s+)?from\b
      | (?:leaving|ditch(?:ing|ed)?|quitting)\s+\w+ | cancel(?:l?ing|l?ed)?\s+my\b
      | replacement\s+for\b | something\s+(?:better|else)\s+than\b
      | (?:recommend|suggest)\w*\s+(?:something|anything|an?\s+other|other)\b
      | une\s+alternative\s+(?:à|a|au|aux)\b | des\s+alternatives?\b
      | (?:je|on)\s+(?:quitte|lâche|lache|abandonne|résilie|resilie)\b
      | (?:quitter|lâcher|lacher|remplacer|résilier|resilier)\s+\w+
      | (?:passer|passé|passe|migrer)\s+(?:de|chez)\b
      | autre\s+chose\s+que\b | à\s+la\s+place\s+de\b | a\s+la\s+place\s+de\b
      | vous\s+conseillez\s+quoi
    )""", re.IGNORECASE | re.VERBOSE)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("’", "'")


def asks_for_alternative(text: str) -> bool:
    """True when ``text`` asks for an alternative or says its author is leaving."""
    return bool(_PHRASES.search(_folded(text)))


def conquest_reason(text: str, sentiment_label: str | None, intent: str | None) -> str | None:
    """Why a competitor's mention is an opportunity (``alternative`` or ``unhappy``), or
    None; spam never is."""
    if intent == "spam":
        return None
    if asks_for_alternative(text):
        return ALTERNATIVE
    if intent == "complaint" or sentiment_label == "negative":
        return UNHAPPY
    return None
