"""Text helpers shared by the reply modules: graphemes, accent folding, URLs, Slack markup."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex

__all__ = [
    "FoldedText",
    "UrlMatch",
    "find_urls",
    "fold",
    "grapheme_count",
    "graphemes",
    "strip_invisible",
    "url_host",
]

_GRAPHEME = regex.compile(r"\X")

# Common TLDs for links written without a scheme ("example.com/promo"). Two-letter TLDs
# that are also everyday words or file extensions (in, is, it, to, so, sh, me...) are left
# out on purpose: matching them would flag ordinary sentences.
_BARE_TLDS = (
    "com|net|org|info|biz|io|co|ai|app|dev|gg|tv|ly|gl|xyz|online|site|shop|store|link|"
    "page|news|blog|eu|fr|be|ch|ca|uk|de|es|nl|pl|pt|se|dk|fi|ie|lu|mc|re|ru|cn|jp|br|au|"
    "ma|tn|sn|ci|cm|gp|mq|nc|pf|cz|gr|ro|hu|tr|mx|ar|cl|nz|za|kr|tw|hk|sg"
)
_URL = regex.compile(
    r"""
    (?:\b(?:https?|ftp)://|\bwww\.)[^\s<>"'`|]+
    |
    (?<![@\w.\-/])
    (?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+(?:"""
    + _BARE_TLDS
    + r""")\b(?![@\-]|\.\w)(?:[/?#][^\s<>"'`|]*)?
    """,
    regex.IGNORECASE | regex.VERBOSE,
)
_TRAILING_PUNCT = ".,;:!?'\"»…)]}*_"

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


@dataclass(frozen=True, slots=True)
class UrlMatch:
    """A link found in text: the link as written and its span."""

    url: str
    start: int
    end: int


def find_urls(text: str) -> list[UrlMatch]:
    """Find links in ``text``: with a scheme, starting with ``www.``, or bare domains
    with a common TLD (``example.com/promo``). Trailing punctuation is not part of a link.
    """
    found: list[UrlMatch] = []
    for m in _URL.finditer(text):
        url = m.group(0)
        while url and url[-1] in _TRAILING_PUNCT:
            # Keep a closing parenthesis that closes one inside the URL (Wikipedia links).
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if "." not in url and "://" not in url:
            continue
        found.append(UrlMatch(url, m.start(), m.start() + len(url)))
    return found


def url_host(url: str) -> str | None:
    """Lower-case host of a link written with or without a scheme, or None if unparsable."""
    candidate = url if "://" in url else f"http://{url}"
    try:
        host = urlsplit(candidate).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".").lower()
