"""Text helpers shared by the analysis modules: cleaning, accent folding, tokenizing."""

from __future__ import annotations

import html
import re
import unicodedata

from bot.text_links import find_urls

MAX_ANALYZED_CHARS = 2000
"""Analysis reads at most this many characters: the opening of a long article is enough."""

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
"""Links with a scheme or ``www.``: what the learned models' features (``normalize_social``)
were trained to read as ``http``. The rules read words without links through
``strip_links``, which also knows links written without a scheme."""
# A link written without a scheme is replaced only with a path, and find_urls ends its host
# at a top-level domain (two or more letters after a dot or an ideographic full stop) that
# the path's "/", "?" or "#" follows at once: texts without such a run are not searched.
# find_urls costs ~0.1 ms a text; about one tweet in eight holds a dot between two
# non-space characters, and one in several hundred passes this check.
_BARE_LINK_WITH_PATH_RE = re.compile(r"[.\u3002\uff0e\uff61][^\s.\u3002\uff0e\uff61/?#]{2,}[/?#]")
_MENTION_RE = re.compile(r"@\w+")
QUESTION_MARKS = "?？﹖؟՞፧"
"""Question marks of every script that has its own: ASCII, full-width and small (CJK),
Arabic, Armenian, Ethiopic. Not the Greek one, which is the ASCII semicolon."""
EXCLAMATION_MARKS = "!！﹗"
"""Exclamation marks: ASCII, full-width and small (CJK)."""
# 6 to 20 letters, digits or dashes with at least 5 digits in a row, not part of a
# handle, a link or a decimal ("iOS 11.0.3", "@115714" and "2017" are not order ids); a
# sentence may end right after it ("my order number is 88412093. Thanks").
ORDER_ID_RE = re.compile(r"(?<![\w@/.#-])#?(?=[A-Za-z0-9-]*\d{5})[A-Za-z0-9-]{6,20}(?![\w/@]|\.\w)")
"""A number shaped like an order or case id ("88412093", "AB-123456", "#4417829930")."""
# A software version ("iOS 11.1", "11.2.5"), not an amount ("$4.99") or a time ("10:30").
VERSION_RE = re.compile(r"(?<![\w.$£€])\d{1,3}(?:\.\d{1,3}){1,3}(?!\.?\d)(?!\w)")
"""A software version number ("iOS 11.1", "11.2.5")."""
_ESCAPE_RE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Same matches as (\w)\1{2,}, but the two back-references that nearly always fail are
# tested before any repeat, which ``re`` would set up at every word character.
_ELONGATION_RE = re.compile(r"(\w)\1\1+")
# Any character three times in a row: what every _ELONGATION_RE match holds. Without the
# word-class test at each position it is searched about three times as fast, and most
# texts have no such run.
_TRIPLE_RE = re.compile(r"(.)\1\1", re.DOTALL)

# Emoticons first so ":-)" stays one token; then words (with inner apostrophes and a
# leading # or @), then any other single non-space character (punctuation, emoji).
# The lookahead holds every character an emoticon can start with, so the three
# emoticon patterns are not tried one by one at each word.
TOKEN_RE = re.compile(
    r"""(?=[<>:;=8)\](\[/\\|*])(?:[<>]?[:;=8][\-o*']?[)\](\[dDpP/\\|3*]+(?![\w])|[)\](\[/\\|*]+[\-o*']?[:;=]|</?3+)
    |[#@]?\w+(?:'\w+)*
    |[^\w\s]""",
    re.VERBOSE,
)

# Every ASCII digit becomes "1", "." stays and every other byte becomes "0" (see
# digit_shape).
_DIGIT_SHAPE = bytes(49 if 48 <= c <= 57 else 46 if c == 46 else 48 for c in range(256))

_FRENCH_ELISIONS = frozenset(
    {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu"}
)


def clean_text(text: str) -> str:
    """Undo the encodings social text arrives with: HTML entities, literal ``\\uXXXX``.

    Also folds typographic apostrophes to ``'`` and truncates to ``MAX_ANALYZED_CHARS``.
    """
    text = text[:MAX_ANALYZED_CHARS]
    if "&" in text:
        text = html.unescape(text)
    if "\\u" in text:
        text = _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "`" in text or (not text.isascii() and ("’" in text or "‘" in text or "´" in text)):
        return fold_apostrophes(text)
    return text


def fold_apostrophes(text: str) -> str:
    """``text`` with its typographic apostrophes and quotes (’ ‘ ` ´) written ``'``."""
    # str.translate() would look up every character after the first non-ASCII one in a
    # Python mapping, raising and clearing a KeyError for each it lacks; replace() scans
    # in C, and only for the characters the text holds.
    if "`" in text:
        text = text.replace("`", "'")
    if text.isascii():
        return text
    if "’" in text:
        text = text.replace("’", "'")
    if "‘" in text:
        text = text.replace("‘", "'")
    if "´" in text:
        text = text.replace("´", "'")
    return text


def normalize_social(text: str) -> str:
    """Clean ``text`` and replace what carries no sentiment by placeholders.

    URLs become ``http`` (with a path and no scheme too, as ``strip_links`` finds them, but
    ``pic.twitter.com/ID``), user handles ``@user`` (the convention of the tweet corpora),
    and letters repeated three times or more are cut to two (``soooo`` -> ``soo``).
    """
    text = clean_text(text)
    if "http" in text or "www." in text:
        text = URL_RE.sub(" http ", text)
    # The models learnt links from tweets, where each is a scheme link URL_RE turns into
    # "http" exactly as here (trailing punctuation included); a link written without a
    # scheme is one too, not the words of its path ("youtube.com/watch?v=pricing-update").
    text = _replace_bare_links(text, " http ", for_models=True)
    if "@" in text:
        text = _MENTION_RE.sub("@user", text)
    # sub() with a template hands it to a Python helper on every call; most texts have
    # no elongation, which search() tells without it.
    if _TRIPLE_RE.search(text) is None or _ELONGATION_RE.search(text) is None:
        return text
    return _ELONGATION_RE.sub(r"\1\1", text)


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """Split ``text`` into words, hashtags, handles, emoticons and single symbols.

    Case is kept (emphasis by capitals is a signal). For French, elided articles are
    split off (``l'eau`` -> ``l'``, ``eau``) so the content word can be looked up.
    """
    # No token spans whitespace, and TOKEN_RE looks ahead one character at most (past a
    # chunk's end: whitespace in the text, nothing in the chunk; both are not \w), so the
    # chunks between whitespace tokenize alone to the same tokens. A chunk of word
    # characters only (most words) is one token, whichever branch takes it: found
    # without running the pattern.
    tokens: list[str] = []
    append = tokens.append
    findall = TOKEN_RE.findall
    for chunk in text.split():
        if chunk.isalnum():
            append(chunk)
        else:
            tokens += findall(chunk)
    if lang == "fr" and "'" in text:
        out: list[str] = []
        for tok in tokens:
            head, sep, tail = tok.partition("'")
            if sep and tail and head.lower() in _FRENCH_ELISIONS:
                out.append(head + "'")
                out.append(tail)
            else:
                out.append(tok)
        return out
    return tokens


def _accent_table() -> dict[int, str]:
    """Latin letters with diacritics -> their base letters (built once, from NFKD)."""
    table: dict[int, str] = {}
    for start, end in ((0x00C0, 0x0250), (0x1E00, 0x1F00)):
        for code in range(start, end):
            base = "".join(
                c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c)
            )
            if base != chr(code) and base.isascii():
                table[code] = base.lower()
    table.update({ord("ß"): "ss", ord("æ"): "ae", ord("œ"): "oe", ord("ø"): "o", ord("ł"): "l"})
    return table


_ACCENTS = _accent_table()


_RUNS_RE = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")
"""Runs of ASCII and of non-ASCII characters, alternately."""


def fold_accents(text: str) -> str:
    """Lowercase and strip diacritics: ``"Élève"`` -> ``"eleve"``; other scripts are kept."""
    text = text.lower()
    if text.isascii():
        return text
    # The table maps non-ASCII characters only, and translate() looks up every character
    # after the first non-ASCII one in it, raising and clearing a KeyError for each it
    # lacks: only the non-ASCII runs (an accent, an emoji) go through it.
    return "".join([run if run.isascii() else run.translate(_ACCENTS)
                    for run in _RUNS_RE.findall(text)])


def has_question_mark(text: str) -> bool:
    """Whether ``text`` holds a question mark of any script (``QUESTION_MARKS``)."""
    if "?" in text:
        return True
    return not text.isascii() and any(mark in text for mark in QUESTION_MARKS[1:])


def count_marks(text: str, marks: str) -> int:
    """How many of ``marks`` (``QUESTION_MARKS``, ``EXCLAMATION_MARKS``) ``text`` holds."""
    if text.isascii():
        return text.count(marks[0])
    return sum(text.count(mark) for mark in marks)


def digit_shape(ascii_text: str) -> bytes:
    """``ascii_text`` with every digit as ``1``, every ``.`` as is and every other character
    as ``0``: in ASCII text, where ``\\d`` is a digit, ``\\d\\d\\d\\d`` matches when
    ``b"1111"`` is in the shape and ``\\d\\.\\d`` when ``b"1.1"`` is; finding those bytes
    is far cheaper than trying a pattern at every position."""
    return ascii_text.encode("ascii").translate(_DIGIT_SHAPE)


def strip_links(text: str) -> str:
    """``text`` with each of its links replaced by a space: those ``URL_RE`` finds (a
    scheme or ``www.``, to the next space), and those written without a scheme on a
    delegated TLD with a path (``acme.com/blog/how-to-cancel``,
    ``youtube.com/watch?v=pricing-update``), as ``bot.text_links.find_urls`` finds them,
    without the punctuation that ends the sentence ("is acme.com/pricing down?" keeps its
    question mark).

    A bare name without a path (``acme.com``) stays: its words name a site, not a request,
    and a sentence written without a space after its full stop reads as one ("it is
    down.Help me", "crashed.Support").
    """
    # Every URL_RE match holds "://" or "w." in some case.
    if "://" in text or "w." in text or "W." in text:
        text = URL_RE.sub(_link_to_space, text)
    return _replace_bare_links(text, " ", for_models=False)


# What ends a sentence right after a link, not part of it ("can you check
# https://acme.com/order/123?"): find_urls' trailing punctuation.
_SENTENCE_END_AFTER_LINK = ".,;:!?)]}»…" + QUESTION_MARKS + EXCLAMATION_MARKS


def _link_to_space(match: re.Match[str]) -> str:
    """A link with a scheme as a space, the punctuation that ends its sentence kept."""
    link = match.group(0)
    kept = link.rstrip(_SENTENCE_END_AFTER_LINK)
    return " " + link[len(kept):]


def _replace_bare_links(text: str, replacement: str, *, for_models: bool) -> str:
    """``text`` with the links written without a scheme that ``strip_links`` removes
    replaced by ``replacement``. ``for_models`` (the models' features) keeps
    ``pic.twitter.com/ID``: tweets copied as text show an attached photo so, the only bare
    link of the models' training corpora, whose words they learnt to read."""
    if _BARE_LINK_WITH_PATH_RE.search(text) is None:
        return text
    kept: list[str] = []
    pos = 0
    for link in find_urls(text):
        url = link.url
        if "://" in url or url[:3].lower() == "www" or not any(c in url for c in "/?#"):
            continue
        if for_models and url[:16].lower() == "pic.twitter.com/":
            continue
        kept.append(text[pos : link.start])
        pos = link.end
    if not kept:
        return text
    kept.append(text[pos:])
    return replacement.join(kept)


def extract_urls(text: str) -> list[str]:
    """The URLs found in ``text``, in order, without trailing punctuation."""
    return [m.group(0).rstrip(".,;:!?)]}") for m in URL_RE.finditer(text)]
