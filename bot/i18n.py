"""User-facing strings: one catalogue per language (bot/locales/*.toml), looked up by key."""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.networks import display_name

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES = ("en", "fr")
_COMPACT = re.compile(r"(\d+(?:\.\d+)?)([kMB]?)")
_SUFFIXES = {"k": "number.thousand", "M": "number.million", "B": "number.billion"}


def _flatten(prefix: str, node: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in node.items():
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalogue(language: str) -> dict[str, str]:
    """All strings of one language, keyed by dotted names (``cmd.help.summary``)."""
    with (LOCALES_DIR / f"{language}.toml").open("rb") as handle:
        data = tomllib.load(handle)
    out: dict[str, str] = {}
    _flatten("", data, out)
    return out


def language_for(locale: str | None, fallback: str | None = None) -> str:
    """Map a Slack locale such as ``fr-FR`` to a supported language, else the fallback."""
    for candidate in (locale, fallback):
        if candidate:
            short = candidate.replace("_", "-").split("-")[0].lower()
            if short in SUPPORTED_LANGUAGES:
                return short
    return DEFAULT_LANGUAGE


class UnknownMessage(KeyError):
    """A message this release cannot write: a key its catalogue lacks, an argument its
    string needs and was not given, or an argument of a form it does not know. Stored
    messages (outbox notes) are written by one release and rendered by whichever sends
    them: during a rolling deploy that may be an older one."""


def t(language: str, key: str, **params: Any) -> str:
    """The string ``key`` in ``language`` (English when missing), formatted with ``params``;
    ``UnknownMessage`` when the catalogue lacks ``key`` or its string needs a parameter not
    given."""
    template = catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE).get(key)
    if template is None:
        raise UnknownMessage(f"no string {key!r} in the catalogue")
    if not params:
        return template
    try:
        return template.format(**params)
    except KeyError as err:
        raise UnknownMessage(f"the string {key!r} needs {err} and was not given it") from None


def has(key: str) -> bool:
    """True when the English catalogue defines ``key``."""
    return key in catalogue(DEFAULT_LANGUAGE)


def day_month(moment: date, language: str, *, year: bool = False, clock: bool = False) -> str:
    """``06 Dec`` (``06 déc.`` in French), with `` 2026`` and `` 09:00`` when asked: a date
    in the reader's language (strftime's %b is the C locale's English whatever it is)."""
    text = f"{moment.day:02d} {t(language, f'month.m{moment.month}')}"
    if year:
        text += f" {moment.year}"
    if clock and isinstance(moment, datetime):
        text += f" {moment:%H:%M}"
    return text


def digits(text: str, language: str) -> str:
    """A number written the English way (``1,234.5``) with ``language``'s separators:
    ``1 234,5`` in French (a narrow no-break space groups the thousands)."""
    group, point = t(language, "number.group"), t(language, "number.decimal")
    return "".join(group if c == "," else point if c == "." else c for c in text)


def number(value: float, language: str, *, decimals: int = 0) -> str:
    """``value`` grouped by thousands with ``decimals`` places, in ``language``:
    ``12,345`` and ``0.5`` in English, ``12 345`` and ``0,5`` in French."""
    return digits(f"{value:,.{decimals}f}", language)


def tally(value: int, language: str) -> str:
    """A count of things (mentions, opportunities, repeats) in ``language``: ``1234`` in
    English, where counts have always been written ungrouped, ``1 234`` in French (a narrow
    no-break space groups the thousands)."""
    return f"{value:,d}".replace(",", t(language, "number.count_group"))


def compact(text: str, language: str) -> str:
    """A compact count as ``bot.analysis.reach.format_reach`` writes it (``1.9k``, ``48k``,
    ``2.4M``, ``3.1B``) in ``language``: ``1,9 k``, ``48 k``, ``2,4 M``, ``3,1 Md`` in
    French. Any other text is returned as it is."""
    match = _COMPACT.fullmatch(text)
    if match is None:
        return text
    value, suffix = match.groups()
    return digits(value, language) + (t(language, _SUFFIXES[suffix]) if suffix else "")


def percent(share: float, language: str) -> str:
    """A share (0.53) as a whole percentage in ``language``: ``53%``, ``53 %`` in French."""
    return t(language, "number.percent", value=number(share * 100, language))


def plural_key(language: str, key: str, count: int) -> str:
    """``key`` or its singular form ``key_one`` for ``count`` in ``language`` (English: 1;
    French: 0 and 1), when the catalogue has one."""
    singular = count == 1 or (language == "fr" and count == 0)
    return f"{key}_one" if singular and has(f"{key}_one") else key


def network_name(name: str, language: str) -> str:
    """How readers of ``language`` call the network stored as ``name`` ("flux RSS/Atom"
    in French for ``rss``); a network without a catalogue name by its descriptor's display
    name, or by its stored name (a feed's own label)."""
    key = f"network_name.{(name or '').strip().lower()}"
    return t(language, key) if has(key) else display_name(name)
