"""Text helpers shared by the reply modules: graphemes, accent folding, URLs, Slack markup.

Links (bare domains included) are found by :mod:`bot.text_links`; its functions are
re-exported here for the reply modules.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

from bot.text_links import UrlMatch, ascii_host, find_urls, is_tld, url_host

__all__ = [
    "FoldedText",
    "UrlMatch",
    "ascii_host",
    "find_urls",
    "fold",
    "grapheme_count",
    "graphemes",
    "is_tld",
    "strip_invisible",
    "url_host",
]

_GRAPHEME = regex.compile(r"\X")

# Apostrophes and ligatures that NFKD leaves alone but people type interchangeably.
_FOLD_EXTRA = {"’": "'", "‘": "'", "ʼ": "'", "`": "'", "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"}

# Format characters that hide text (bidi overrides, zero-width spaces, Unicode "tag"
# characters used to smuggle invisible instructions). ZWJ stays: emoji sequences need it.
_INVISIBLE = regex.compile(r"[\p{Cf}--[\u200d]]|[\U000e0000-\U000e007f]", regex.V1)


def graphemes(text: str) -> list[str]:
    """Split ``text`` into user-perceived characters (extended grapheme clusters)."""
    return _GRAPHEME.findall(text)


def grapheme_count(text: str) -> int:
    """Number of user-perceived characters in ``text`` (what Bluesky and Mastodon count)."""
    return len(_GRAPHEME.findall(text))


def strip_invisible(text: str) -> str:
    """Remove invisible format characters (bidi controls, zero-width spaces, tag chars)."""
    return _INVISIBLE.sub("", text)


@dataclass(frozen=True, slots=True)
class FoldedText:
    """Lower-cased, accent-free text plus, for each of its characters, the source index."""

    text: str
    index: tuple[int, ...]
    source: str

    def original(self, start: int, end: int) -> str:
        """The slice of the source text that produced ``self.text[start:end]``."""
        if start >= end or not self.index:
            return ""
        return self.source[self.index[start] : self.index[end - 1] + 1]


def fold(text: str) -> FoldedText:
    """Casefold ``text`` and drop accents ("Dédommagement" -> "dedommagement").

    Keeps a map back to the original so matches can quote the words as written.
    """
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        extra = _FOLD_EXTRA.get(ch)
        pieces = extra if extra is not None else unicodedata.normalize("NFKD", ch)
        for piece in pieces:
            if unicodedata.combining(piece):
                continue
            for c in piece.casefold():
                out.append(c)
                index.append(i)
    return FoldedText("".join(out), tuple(index), text)
