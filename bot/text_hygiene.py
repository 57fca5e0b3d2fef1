"""Unicode hygiene for every string that comes from outside (mentions, author names, ids).

Three levels, each for one use:

* ``clean_text`` - text that is stored and shown (mention text, titles): no control
  character but tab and newline, no lone surrogate (PostgreSQL and JSON refuse them), no
  bidi control (an RTL override makes a card read backwards) and no invisible format
  character (zero-width spaces, word joiners, BOM, Unicode "tag" characters). ZWJ and
  ZWNJ stay: emoji sequences and Persian or Indic spelling need them.
* ``clean_name`` - author names and handles: the same, on one line, and ZWJ/ZWNJ,
  variation selectors and blank fillers go too, so two names that look alike are alike.
* ``normalize_untrusted`` - what the prompt-injection detector analyses and the prompt
  builder sends to the LLM, the SAME string for both: every invisible character removed
  and NFKC applied (fullwidth, mathematical and ligature letters become plain ones), so
  the model never reads an instruction the detector could not see.

NFKC is not applied to stored text or names: it would change what people wrote
("x²" -> "x2", CJK punctuation), which the analysis and the cards should show as written.
"""

from __future__ import annotations

import unicodedata

import regex

__all__ = ["clean_id", "clean_name", "clean_text", "normalize_untrusted", "storable"]

# Cc but tab/newline/CR; Cs (lone surrogates); Cf but ZWNJ/ZWJ (bidi controls U+202A-202E,
# U+2066-2069, LRM/RLM, zero-width space, word joiner and invisible operators U+2060-2064,
# BOM, soft hyphen, tag characters U+E0000-E007F...).
_HIDDEN_IN_TEXT = regex.compile(r"[[\p{Cc}--[\t\n\r]]\p{Cs}[\p{Cf}--[\u200c\u200d]]]+",
                                regex.V1)
# Everything that draws nothing: all of Cc, Cs and Cf, variation selectors, the combining
# grapheme joiner and the Hangul fillers that make a "blank" name.
_INVISIBLE = regex.compile(
    r"[\p{Cc}\p{Cs}\p{Cf}\u034f\u115f\u1160\u3164\uffa0\ufe00-\ufe0f\U000e0100-\U000e01ef]+",
    regex.V1,
)
_ID_UNSAFE = regex.compile(r"[\p{Cc}\p{Cs}]+", regex.V1)
_UNSTORABLE = regex.compile(r"[\x00\p{Cs}]", regex.V1)
_SPACES = regex.compile(r"\s+")


def clean_text(text: str) -> str:
    """``text`` without control, bidi and invisible format characters (ZWJ/ZWNJ kept)."""
    if text.isprintable():  # no Cc, Cf or Cs at all: the common case, checked in C
        return text
    return _HIDDEN_IN_TEXT.sub("", text)


def clean_name(name: str) -> str:
    """An author name or handle on one line, with nothing invisible left in it."""
    if name.isprintable() and "  " not in name:
        return name.strip()
    return _SPACES.sub(" ", _INVISIBLE.sub("", name)).strip()


def clean_id(value: str) -> str:
    """An opaque identifier or URL without the characters no database column can hold
    (NUL and other controls, lone surrogates); nothing else changes."""
    if value.isprintable():
        return value
    return _ID_UNSAFE.sub("", value)


def storable(text: str) -> bool:
    """Whether both databases take ``text`` as a parameter: it holds no NUL (PostgreSQL
    refuses one) and no lone surrogate (which has no UTF-8 encoding). What a user typed
    and a lookup compares with stored text: if not, nothing stored can be equal to it."""
    return text.isprintable() or _UNSTORABLE.search(text) is None


def normalize_untrusted(text: str) -> str:
    """The one normalisation of untrusted text before it is analysed for instructions or
    sent to the LLM: invisible characters removed, NFKC, invisible characters removed
    again (NFKC can expose some). Line breaks and tabs stay."""
    text = _INVISIBLE.sub(lambda m: "".join(c for c in m.group() if c in "\t\n\r"), text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE.sub(lambda m: "".join(c for c in m.group() if c in "\t\n\r"), text)
    return text
