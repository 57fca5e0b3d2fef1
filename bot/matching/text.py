"""Text normalization and word tokenization shared by watch queries and dedupe keys.

``fold`` makes text case- and accent-insensitive; ``tokenize`` splits folded text into
the words a watch query can match. Both are pure, deterministic and fast: a mention is
folded and tokenized once, then matched against every watch (see ``bot.matching.query``).

Tokenization rules, applied to folded text:

- a word is a run of letters, digits, combining marks and underscores; leading and
  trailing underscores are dropped (``_vigie_`` is Markdown italics for ``vigie``);
- apostrophes, hyphens, dots and other punctuation separate words, the French way:
  ``l'appli`` gives ``l``, ``appli``; ``e-mail`` gives ``e``, ``mail``. A query word
  made of several tokens is matched as a phrase, so ``l'appli`` still finds ``l'appli``;
- ``#tag`` is a hashtag token and ``@handle`` a handle token (with its domain for
  fediverse/Bluesky handles: ``@vigie@mastodon.social``, ``@vigie.bsky.social``) when the
  sigil starts a word; ``bob@example.com`` is three words, not a handle;
- ``&`` between two words (spaces around it or not) is kept on the second word: ``AT&T``,
  ``at & t`` give ``at``, ``&t``; ``Procter & Gamble`` gives ``procter``, ``&gamble``. A
  query word written with ``&`` (``AT&T``, ``H&M``) then requires the ``&`` (``at t-minus``
  is not ``AT&T``), while a bare query word also matches its ``&`` form (``gamble``
  matches ``&gamble``, as ``vigie`` matches ``#vigie``). An ``&`` with no word before or
  after it is dropped;
- a word directly followed by ``+``/``++`` or ``#`` (and then a word end) keeps the
  suffix: ``c++``, ``notepad++``, ``c#``, ``f#``; digits stay inside words: ``i18n``;
- Chinese and Japanese characters, written without spaces, are one token each, so a query
  word in those scripts matches as a phrase of characters (a substring);
- emoji, symbols and other punctuation are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

__all__ = ["fold", "tokenize", "tokenize_folded"]

# Letters that NFKD does not decompose but that readers treat as two letters or as a
# plain letter; ß and ẞ are handled by casefold.
_SPECIAL_FOLDS = {
    "œ": "oe",
    "æ": "ae",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ħ": "h",
    "ı": "i",
    "ŧ": "t",
    "þ": "th",
    "ð": "d",
}

# Beyond this many distinct characters the fold table stops caching: adversarial text
# must not grow memory without bound; uncached characters are still folded correctly.
_FOLD_CACHE_LIMIT = 1 << 16


def _is_ignorable(char: str) -> bool:
    """Characters ``fold`` drops besides accents.

    Format characters (zero-width spaces/joiners, soft hyphen, bidi controls) and
    variation selectors are invisible and would only split or disguise words. Marks
    outside the Basic Multilingual Plane (historic and minority scripts) are dropped so
    that the tokenizer's character class stays in the BMP, which ``re`` tests with a
    bitmap; folding both query and text the same way keeps matching consistent.
    """
    category = unicodedata.category(char)
    if category == "Cf":
        return True
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0F:
        return True
    return code > 0xFFFF and category[0] == "M"


def _is_raised_sign(char: str) -> bool:
    """A sign written as raised letters (™ ℠ 🅪): NFKD spells it as plain letters
    ("TM") that, glued to the word it marks, hid it ("Acme™" read "acmetm")."""
    return (unicodedata.category(char) == "So"
            and unicodedata.decomposition(char).startswith("<super>"))


def _fold_step(char: str) -> str:
    """One round of folding for a single character."""
    if _is_ignorable(char):
        return ""
    if _is_raised_sign(char):  # a word boundary, as ® (no decomposition) already is
        return " "
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(
        c for c in decomposed if not unicodedata.combining(c) and not _is_ignorable(c)
    )
    folded = stripped.casefold()
    return "".join(_SPECIAL_FOLDS.get(c, c) for c in folded)


def _fold_char(char: str) -> str:
    """Fold one character to a fixed point, so that ``fold`` is idempotent."""
    current = char
    for _ in range(4):
        nxt = "".join(_fold_step(c) for c in current)
        if nxt == current:
            break
        current = nxt
    return current


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that folds characters on first sight and caches them."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        if len(self) < _FOLD_CACHE_LIMIT:
            self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Return ``text`` normalized for case- and accent-insensitive comparison.

    Applies NFKD compatibility decomposition (full-width forms, ligatures, superscripts
    become plain letters), drops combining marks (accents), drops invisible format
    characters, casefolds (``ß`` -> ``ss``) and spells out ``œ``/``æ``/``ø``-like
    letters (``œ`` -> ``oe``). Idempotent: ``fold(fold(t)) == fold(t)``. Characters keep
    their relative order, but the length may change (``ß`` -> ``ss``).
    """
    if text.isascii():
        return text.lower()
    # ASCII characters fold to their lower case: their runs are lowered in C, and only the
    # others go through the table (a translate by a Python mapping costs some hundred
    # instructions per character, and most characters of most texts are ASCII).
    return "".join([run.lower() if run.isascii() else run.translate(_FOLD_TABLE)
                    for run in _ASCII_RUNS_RE.findall(text)])


_ASCII_RUNS_RE = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")


# Scripts written without spaces between words: one token per character.
_CJK_RANGES = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u312f"  # Bopomofo
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_CJK_RE = re.compile(f"[{_CJK_RANGES}]")
_CJK_SPLIT_RE = re.compile(f"[{_CJK_RANGES}]|[^{_CJK_RANGES}]+")


@cache
def _mark_class() -> str:
    """Character-class body for the combining marks ``fold`` keeps (``\\w`` omits them).

    ``fold`` removes marks with a combining class and all marks beyond the BMP; what is
    left (spacing vowel signs of Indic scripts, for instance) belongs inside words.
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        char = chr(code)
        if unicodedata.category(char)[0] == "M" and not unicodedata.combining(char):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


def _branches(group: str, wc: str, *, words_first: bool = False) -> str:
    """The tokenizer's alternatives (hashtag, handle, word with its suffix), each opening
    with ``group`` ("(" to capture, "(?:" not to), for the word characters ``wc``."""
    # Every branch starts by consuming a character (the lookbehinds come after), which
    # lets ``re`` skip spaces and punctuation quickly.
    tag = rf"#(?<![{wc}]#){group}[{wc}]+)"  # 1: hashtag body
    handle = rf"@(?<![{wc}]@){group}[{wc}]+(?:[.@\-][{wc}]+)*)"  # 2: handle body
    word = rf"{group}[{wc}]+){group}\+\+?(?![{wc}+])|#(?![{wc}]))?"  # 3: word, 4: suffix
    # "&" right after a word ("at&t"; the spaces of "at & t" are taken out before).
    amp = rf"&(?<=[{wc}]&){group}[{wc}]+)"  # 5: the word after "&"
    # The branches start with different characters: their order only numbers the groups.
    return (f"{word}|{tag}|{handle}|{amp}" if words_first
            else f"{tag}|{handle}|{word}|{amp}")


@cache
def _token_res() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The tokenizer patterns (full, full without groups, plain words), built on first
    use (~15 ms)."""
    wc = rf"\w{_mark_class()}"
    # The same matches without groups, read whole: "#tag", "@handle", "c++" as they are.
    return (re.compile(_branches("(", wc)), re.compile(_branches("(?:", wc)),
            re.compile(f"[{wc}]+"))


_ASCII_WC = "A-Za-z0-9_"
# The patterns for ASCII text, where a word character (\w or a mark kept) is a letter, a
# digit or "_": a plain class tests it faster, and words, the most frequent, come first.
_ASCII_TOKEN_RES = (re.compile(_branches("(", _ASCII_WC)),
                    re.compile(_branches("(?:", _ASCII_WC, words_first=True)),
                    re.compile(f"[{_ASCII_WC}]+"))


# Text without these characters needs only the plain-word pattern (most mentions).
_NEEDS_FULL_RE = re.compile(f"[#@+_&{_CJK_RANGES}]")
# Spaces around an "&" between two words: taken out, so "at & t" reads as "at&t".
_AMP_SPACES_RE = re.compile(r"(?<=\w)[ \t]*&[ \t]*(?=\w)")


def _split_cjk(word: str) -> list[str]:
    """Split a word containing CJK characters into one token per such character."""
    pieces = (piece.strip("_") for piece in _CJK_SPLIT_RE.findall(word))
    return [piece for piece in pieces if piece]


def tokenize_folded(folded: str) -> list[str]:
    """Split already-folded text into tokens (see the module docstring for the rules).

    Hashtags keep their ``#``, handles their ``@`` and a word after ``&`` its ``&``;
    everything else is a plain word.
    Use ``tokenize`` unless the text is known to be folded already.
    """
    full, whole, plain = _ASCII_TOKEN_RES if folded.isascii() else _token_res()
    if not _NEEDS_FULL_RE.search(folded):
        return plain.findall(folded)
    if "&" in folded:
        folded = _AMP_SPACES_RE.sub("&", folded)
    # Without underscores to trim or CJK to split, every match is a token as it stands.
    if "_" not in folded and (folded.isascii() or not _CJK_RE.search(folded)):
        return whole.findall(folded)
    tokens: list[str] = []
    append = tokens.append
    for tag, handle, word, suffix, amp in full.findall(folded):
        if amp:
            amp = amp.strip("_")
            if not amp:
                continue
            if not amp.isascii() and _CJK_RE.search(amp):
                tokens.extend(_split_cjk(amp))  # as a hashtag in such a script
            else:
                append("&" + amp)
        elif word:
            if "_" in word:
                word = word.strip("_")
                if not word:
                    continue
            if not word.isascii() and _CJK_RE.search(word):
                tokens.extend(_split_cjk(word))
                if suffix:
                    tokens[-1] += suffix
                continue
            append(word + suffix if suffix else word)
        elif tag:
            if not tag.isascii() and _CJK_RE.search(tag):
                # A hashtag in a script without spaces is matched like the words in it.
                tokens.extend(_split_cjk(tag))
            else:
                append("#" + tag)
        else:
            append("@" + handle)
    return tokens


def tokenize(text: str) -> list[str]:
    """Fold ``text`` and split it into word, ``#hashtag`` and ``@handle`` tokens.

    >>> tokenize("L'appli Vigie crashe encore #bug @Vigie_App c++")
    ['l', 'appli', 'vigie', 'crashe', 'encore', '#bug', '@vigie_app', 'c++']
    """
    return tokenize_folded(fold(text))
