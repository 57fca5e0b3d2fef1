"""The watch query language: parse once, match thousands of mentions per second.

Syntax (case of words does not matter; ``OR``/``AND``/``NOT`` operators are upper case,
so ``and``, ``or`` and ``not`` in lower case are searched as words)::

    vigie bug                 both words (implicit AND)
    "free trial"              an exact phrase (consecutive words)
    bug OR panne              either; OR binds tighter than the implicit AND:
                              ``vigie bug OR panne`` = vigie AND (bug OR panne)
    vigie AND bug             explicit AND, same as ``vigie bug``
    (a b) OR c                parentheses group terms
    -spam -"free trial" -(a OR b)   exclusions (a word, phrase, group or field)
    acme NOT spam             same as ``acme -spam``; ``acme AND NOT (a OR b)`` also works
                              (NOT applies to the one term or group after it)
    refund*                   a prefix: refund, refunds, refunded... (``*`` only ends
                              a word: ``*und`` and ``ref*nd`` are refused; at least 2
                              letters before it, all those of ``東京駅*`` or ``v2.0*``,
                              which are phrases whose last word is the prefix)
    #vigie  @vigie            only the hashtag / only the handle; a bare ``vigie`` also
                              matches ``#vigie`` and ``@vigie``
    AT&T  "Procter & Gamble"  words joined by ``&`` (spaces around it or not): the text
                              must have the ``&`` (``AT&T``, ``at & t``; not ``at t``)
    lang:fr                   the mention's language (``fr`` also matches ``fr-CA``);
                              an unknown code is refused with the list of known ones
    from:vigie  from:@Vigie   the author's handle (``from:vigie`` also matches
                              ``vigie@mastodon.social`` and ``vigie.bsky.social``;
                              ``from:u/vigie`` and ``from:vigie`` Reddit's ``u/vigie``)
    source:mastodon           the network (rss, mastodon, bluesky, hackernews, reddit, x,
                              webhook; aliases such as twitter, bsky, hn: see bot.networks)

Matching is case- and accent-insensitive (``é`` = ``e``) and word-aware (``cat`` does
not match ``concatenate``); see ``bot.matching.text`` for how text becomes words. A query
word that splits into several words (``l'appli``, ``e-mail``) is matched as a phrase.
Words made only of emoji or punctuation are refused (they can never match); inside a
phrase they are ignored. The empty query is valid and matches every mention; a query made
only of exclusions is refused, and so is one holding an invisible control character (a
NUL...), which could not be stored.

Typical use::

    query = parse_query('vigie bug OR panne lang:fr -"free trial"')
    item = MatchInput(text=..., author_handle=..., language="fr", network="mastodon")
    hits = [w for w in watches if w.query.matches(item)]   # text folded once per item
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, TypeAlias

from bot.i18n import has, t
from bot.matching.text import fold, tokenize, tokenize_folded
from bot.networks import get_network, network_names, normalize_network

__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_PARENTHESES",
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "MIN_PREFIX_LENGTH",
    "And",
    "Field",
    "MatchInput",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "PreparedText",
    "Query",
    "QueryError",
    "Word",
    "handle_key",
    "handle_matches",
    "is_quoted",
    "parse_query",
    "prepare",
    "searched_text",
    "split_terms",
    "standing_alone",
]

MAX_QUERY_LENGTH: Final = 500
"""Longest accepted query, in characters."""
MAX_TERMS: Final = 50
"""Most words, phrases and fields one query may hold."""
MAX_DEPTH: Final = 8
"""Deepest nesting of AND/OR/exclusion accepted (``a (b OR -(c d))`` is 4 deep).

Measured on the syntax tree, not on parentheses, so that the normalized ``str`` of a
query (which adds clarifying parentheses) always parses back."""
MAX_PARENTHESES: Final = 24
"""Deepest parenthesis nesting accepted, redundant ones included (``((a))`` is 2)."""
MIN_PREFIX_LENGTH: Final = 2
"""Shortest prefix before ``*`` (``a*`` would match nearly everything)."""

FIELDS: Final = ("lang", "from", "source")
"""The ``name:value`` fields a query may use."""

_LANGUAGE_NAMES: Final = {
    "af": "Afrikaans",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "br": "Breton",
    "ca": "Catalan",
    "co": "Corsican",
    "cs": "Czech",
    "cy": "Welsh",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "et": "Estonian",
    "eu": "Basque",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "is": "Icelandic",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "ms": "Malay",
    "nl": "Dutch",
    "no": "Norwegian",
    "oc": "Occitan",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "sw": "Swahili",
    "ta": "Tamil",
    "th": "Thai",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}

# Language names people type instead of codes (English names, and French ones for the
# French-speaking teams Vigie serves), folded.
_LANGUAGE_ALIASES: Final = {
    **{fold(name): code for code, name in _LANGUAGE_NAMES.items()},
    "francais": "fr",
    "anglais": "en",
    "espagnol": "es",
    "allemand": "de",
    "italien": "it",
    "portugais": "pt",
    "neerlandais": "nl",
    "arabe": "ar",
    "chinois": "zh",
    "japonais": "ja",
    "russe": "ru",
}

# Field names people try, mapped to the field they mean (for "did you mean").
_FIELD_SYNONYMS: Final = {
    "language": "lang",
    "langue": "lang",
    "author": "from",
    "auteur": "from",
    "user": "from",
    "by": "from",
    "handle": "from",
    "network": "source",
    "reseau": "source",
    "site": "source",
    "src": "source",
}

_CONTROL_RE: Final = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
"""Invisible control characters that are no whitespace, and lone surrogates: a NUL would
fail a watch's saving on PostgreSQL, a surrogate on both engines (no UTF-8 for it)."""
_KEYCAP_STAR_RE: Final = re.compile("\\*(?=[\ufe0e\ufe0f\u200d]*\u20e3)")
"""The '*' of a keycap emoji (``*️⃣``), whatever presentation selector follows it."""
_LANG_RE: Final = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_HANDLE_RE: Final = re.compile(r"[\w.@\-]+")
# Latin letters only: "注意:" in a CJK query is text, "réseau:x" is a (mistyped) field.
_FIELD_RE: Final = re.compile(r"([A-Za-z\u00c0-\u024f][A-Za-z\u00c0-\u024f_]*):(.*)", re.DOTALL)
_HANDLE_SHORT_RE: Final = re.compile(r"[.@]")

# Opening quote -> the quotes that may close it (typographic quotes come from phones
# and word processors; French guillemets from French keyboards).
_QUOTES: Final = {'"': '"', "“": '”"', "«": "»", "„": '“”"'}
_STRAY_CLOSING_QUOTES: Final = "”»"
_BREAK_CHARS: Final = frozenset('()"“”«»„')
_QUOTE_MARKS: Final = _BREAK_CHARS - {"(", ")"}
_OPERATORS: Final = ("OR", "AND", "NOT")
"""Upper-case words read as operators (Boolean syntax of Brandwatch, Talkwalker, Meltwater)."""


# ---------------------------------------------------------------------------------------
# Errors


class QueryError(ValueError):
    """A query that cannot be parsed, with where it went wrong.

    ``key`` names what is wrong and how to fix it in the catalogue (``query.KEY`` in
    bot/locales), with ``params``; ``text(language)`` words it for the reader, ``message``
    in English. ``position`` is the 0-based index of the offending ``token`` in ``query``.
    ``pointer()`` renders the caret display.
    """

    def __init__(self, key: str, position: int, token: str, query: str = "",
                 params: Mapping[str, str | int] | None = None) -> None:
        self.key = key
        self.params = dict(params or {})
        self.position = position
        self.token = token
        self.query = query
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """What is wrong and how to fix it, in English (logs, ``str``)."""
        return self.text("en")

    def text(self, language: str) -> str:
        """What is wrong and how to fix it, in ``language``."""
        return t(language, f"query.{self.key}", **self.params)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[QueryError],
                                  tuple[str, int, str, str, dict[str, str | int]]]:
        return (type(self), (self.key, self.position, self.token, self.query, self.params))

    def pointer(self, width: int = 72) -> str:
        """Return two lines: the query, and ``^`` marks under the offending token.

        Long queries are shown as a window of about ``width`` characters around the
        token, with ``…`` where text was cut. Wide (CJK) characters count as two
        columns so the marks line up in a monospace font.
        """
        query = self.query
        start = 0
        end = len(query)
        if end > width:
            start = max(0, min(self.position - width // 3, end - width))
            end = min(len(query), start + width)
        shown = "".join(" " if c.isspace() or not c.isprintable() else c for c in query)
        head = "…" if start > 0 else ""
        tail = "…" if end < len(query) else ""
        line = head + shown[start:end] + tail
        column = len(head) + _display_width(shown[start : max(start, self.position)])
        token = self.token[: max(1, end - self.position)]
        marks = "^" * max(1, _display_width(token))
        return f"{line}\n{' ' * column}{marks}"


def _display_width(text: str) -> int:
    """Monospace columns taken by ``text``: 2 for wide characters, 0 for marks."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


# ---------------------------------------------------------------------------------------
# Syntax tree


@dataclass(frozen=True, slots=True)
class Word:
    """One folded token: a word, ``#hashtag`` or ``@handle``, optionally a prefix (``*``)."""

    token: str
    prefix: bool = False

    @property
    def kind(self) -> str:
        """``"hashtag"``, ``"handle"`` or ``"word"``."""
        if self.token.startswith("#"):
            return "hashtag"
        if self.token.startswith("@"):
            return "handle"
        return "word"


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive words, in order (at least two)."""

    words: tuple[Word, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """A ``name:value`` filter on the mention's metadata; ``value`` is normalized."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    """An exclusion: matches when ``child`` does not."""

    child: Node


@dataclass(frozen=True, slots=True)
class And:
    """Matches when every child matches (at least two children)."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Matches when any child matches (at least two children)."""

    children: tuple[Node, ...]


Node: TypeAlias = Word | Phrase | Field | Not | And | Or


# ---------------------------------------------------------------------------------------
# What a query is matched against


@lru_cache(maxsize=256)
def _normalize_language(language: str) -> str:
    return fold(language.strip()).replace("_", "-")


@lru_cache(maxsize=4096)
def _normalize_handle(handle: str) -> str:
    """A handle as ``from:`` compares it: folded, without its ``@``, and a Reddit name
    without its ``u/`` or ``/u/`` (stored ``u/NAME``, typed any of the three ways)."""
    value = fold(handle.strip())
    value = value[1:] if value.startswith("@") else value
    return value.removeprefix("/").removeprefix("u/") if value.startswith(("u/", "/u/")) \
        else value


HANDLE_KEY_CHARS: Final = 200


def handle_key(handle: str) -> str:
    """The key an author handle is looked up by for ``from:``: its folded first label
    (``@Alice@mastodon.social``, ``alice.bsky.social`` and ``u/Alice`` are ``alice``). Every handle
    ``from:VALUE`` matches has the key of ``VALUE`` (a handle it matches starts with it),
    so an index on the key finds them all; ``Query.matches`` then tells them apart."""
    return _HANDLE_SHORT_RE.split(_normalize_handle(handle), maxsplit=1)[0][:HANDLE_KEY_CHARS]


def handle_matches(value: str, handle: str | None) -> bool:
    """Whether ``from:VALUE`` (``value`` as the parser normalized it) matches an author
    with this handle, as ``Query.matches`` decides it."""
    if handle is None:
        return False
    author = _normalize_handle(handle)
    return author == value or author.startswith((value + "@", value + "."))


class PreparedText:
    """A mention folded and tokenized once, ready to be matched by any number of queries.

    Build it with ``prepare`` (or let ``MatchInput.prepared`` do it). Attributes are
    read-only by convention: ``tokens`` (title tokens, a separator, text tokens),
    ``token_set`` (plus the short form ``@name`` of ``@name@domain``/``@name.domain``
    handles), and the normalized ``language``, ``network`` and ``author``.
    """

    __slots__ = ("_sorted", "author", "language", "network", "token_set", "tokens")

    def __init__(
        self,
        tokens: tuple[str, ...],
        *,
        language: str | None = None,
        network: str | None = None,
        author: str | None = None,
    ) -> None:
        self.tokens = tokens
        forms = frozenset(tokens)
        # Only handle tokens contain "@", so one C-level scan skips the loop for most texts.
        if _SEPARATOR in forms or "@" in "".join(tokens):
            extra = set(forms)
            extra.discard(_SEPARATOR)
            for token in tokens:
                if token.startswith("@"):
                    short = _HANDLE_SHORT_RE.split(token[1:], maxsplit=1)
                    if len(short) > 1:
                        extra.add("@" + short[0])
            forms = frozenset(extra)
        self.token_set: frozenset[str] = forms
        self.language = language
        self.network = network
        self.author = author
        self._sorted: tuple[str, ...] | None = None

    @property
    def sorted_tokens(self) -> tuple[str, ...]:
        """The distinct token forms in sorted order (for prefix search), built on demand."""
        if self._sorted is None:
            self._sorted = tuple(sorted(self.token_set))
        return self._sorted

    def __repr__(self) -> str:
        return f"PreparedText(tokens={self.tokens!r}, language={self.language!r}, " + (
            f"network={self.network!r}, author={self.author!r})"
        )


# Between title and text tokens: keeps a phrase from spanning the two.
_SEPARATOR: Final = "\x00"


def prepare(
    text: str,
    title: str | None = None,
    *,
    author_handle: str | None = None,
    language: str | None = None,
    network: str | None = None,
) -> PreparedText:
    """Fold and tokenize a mention once so that many queries can match it cheaply.

    Words of ``title`` and ``text`` are both searched; a phrase never spans the two.
    ``language`` is a code such as ``fr`` or ``fr-CA``; ``network`` a source kind.
    """
    tokens = tokenize_folded(fold(text))
    if title:
        tokens = [*tokenize_folded(fold(title)), _SEPARATOR, *tokens]
    return PreparedText(
        tuple(tokens),
        language=_normalize_language(language) if language else None,
        network=normalize_network(network) if network else None,
        author=_normalize_handle(author_handle) if author_handle else None,
    )


def searched_text(text: str, aside: str | None) -> str:
    """What a watch's query reads of a mention: its text, then the lines aside from it that
    the network's search reads too (``aside``: a Mastodon image description, a poll's
    options, one a line; stored as ``Mention.aside``). Ingest's filter, the query trial,
    the mention search and the full-text index all read this, so a mention kept for its
    alt text is found again by the same query."""
    return f"{text}\n{aside}" if aside else text


@dataclass(frozen=True, slots=True)
class MatchInput:
    """A mention as the query language sees it. Treat it as immutable.

    ``prepared`` folds and tokenizes it on first use and keeps the result, so matching
    one ``MatchInput`` against many queries folds its text only once.
    """

    text: str
    title: str | None = None
    author_handle: str | None = None
    language: str | None = None
    network: str | None = None
    _prepared: PreparedText | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def prepared(self) -> PreparedText:
        """The folded, tokenized form of this mention (computed once)."""
        prepared = self._prepared
        if prepared is None:
            prepared = prepare(
                self.text,
                self.title,
                author_handle=self.author_handle,
                language=self.language,
                network=self.network,
            )
            # Frozen for callers; this cache is the one sanctioned mutation.
            object.__setattr__(self, "_prepared", prepared)
        return prepared


# ---------------------------------------------------------------------------------------
# Lexer


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "(", ")", "-", "OR", "AND", "NOT", "word", "phrase"
    text: str
    pos: int


def _lex(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Tok(char, char, i))
            i += 1
        elif char in _QUOTES:
            closers = _QUOTES[char]
            j = i + 1
            while j < n and text[j] not in closers:
                j += 1
            if j >= n:
                raise QueryError("unclosed_quote", i, char, text)
            tokens.append(_Tok("phrase", text[i : j + 1], i))
            i = j + 1
        elif char in _STRAY_CLOSING_QUOTES:
            raise QueryError("stray_quote", i, char, text, {"quote": char})
        elif char == "-":
            nxt = text[i + 1] if i + 1 < n else ""
            if not nxt or nxt.isspace() or nxt == ")":
                raise QueryError("dangling_minus", i, char, text)
            tokens.append(_Tok("-", char, i))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _BREAK_CHARS:
                j += 1
            raw = text[i:j]
            kind = raw if raw in _OPERATORS else "word"
            tokens.append(_Tok(kind, raw, i))
            i = j
    return tokens


def split_terms(text: str) -> list[str]:
    """``text`` cut at the whitespace outside phrases, each piece as typed, quotes kept
    (a phrase's quotes pair as the lexer pairs them: ``“free trial”``, ``«panne»``): how a
    command line sets its own ``name:value`` options apart and hands the rest to
    ``parse_query`` unchanged. An unclosed quote runs to the end, where the parser will
    say where it opened."""
    pieces: list[str] = []
    start: int | None = None
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            if start is not None:
                pieces.append(text[start:i])
                start = None
            i += 1
            continue
        if start is None:
            start = i
        if char in _QUOTES:
            closers = _QUOTES[char]
            i += 1
            while i < n and text[i] not in closers:
                i += 1
        i += 1
    if start is not None:
        pieces.append(text[start:])
    return pieces


def _parentheses(piece: str) -> tuple[int, int]:
    """How many ``(`` and ``)`` a piece of ``split_terms`` holds outside its quotes."""
    opened = closed = 0
    i, n = 0, len(piece)
    while i < n:
        char = piece[i]
        if char in _QUOTES:
            closers = _QUOTES[char]
            i += 1
            while i < n and piece[i] not in closers:
                i += 1
        elif char == "(":
            opened += 1
        elif char == ")":
            closed += 1
        i += 1
    return opened, closed


def standing_alone(pieces: Sequence[str]) -> list[bool]:
    """For each piece of ``split_terms``, whether the query reads it as a term of its own
    that every result must satisfy: outside every parenthesis, holding none, and with no
    operator (``OR``, ``AND``, ``NOT``) next to it. Taking such a piece out of the query
    leaves the rest meaning what it meant; ``source:x`` in ``(a source:x)`` or in
    ``a OR source:x`` is part of a group or an alternative instead."""
    alone: list[bool] = []
    depth = 0
    for index, piece in enumerate(pieces):
        opened, closed = _parentheses(piece)
        before = pieces[index - 1] if index else None
        after = pieces[index + 1] if index + 1 < len(pieces) else None
        alone.append(depth <= 0 and not opened and not closed
                     and before not in _OPERATORS and after not in _OPERATORS)
        depth += opened - closed
    return alone


def is_quoted(piece: str) -> bool:
    """Whether a piece of ``split_terms`` holds a quote mark (a phrase, even half-typed)."""
    return any(char in _QUOTE_MARKS for char in piece)


# ---------------------------------------------------------------------------------------
# Parser


def _letters(words: Sequence[Word]) -> int:
    """The letters typed in ``words`` (their ``#``, ``@`` and ``&`` marks left out): what a
    prefix's minimum length counts."""
    return sum(len(w.token.lstrip("#@&")) for w in words)


class _Parser:
    def __init__(self, text: str, networks: frozenset[str], stored: bool = False) -> None:
        self.text = text
        self.networks = networks
        self.stored = stored
        self.tokens = _lex(text)
        self.index = 0
        self.terms = 0
        self.first_minus: _Tok | None = None
        self.deepest: tuple[int, _Tok] | None = None

    def error(self, key: str, tok: _Tok, **params: str | int) -> QueryError:
        return QueryError(key, tok.pos, tok.text, self.text, params)

    def peek(self) -> _Tok | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Tok:
        tok = self.tokens[self.index]
        self.index += 1
        return tok

    def parse(self) -> Node | None:
        children = self.conjunction(depth=0, opener=None)
        return _make_and(children) if children else None

    def conjunction(self, depth: int, opener: _Tok | None) -> list[Node]:
        children: list[Node] = []
        while (tok := self.peek()) is not None:
            if tok.kind == ")":
                if opener is None:
                    raise self.error("stray_parenthesis", tok)
                break
            if tok.kind == "AND":
                self.take()
                nxt = self.peek()
                if not children or nxt is None or nxt.kind in (")", "OR", "AND"):
                    raise self.error("and_between", tok)
                continue
            if tok.kind == "OR":
                raise self.error("or_between", tok)
            children.append(self.disjunction(depth))
        return children

    def disjunction(self, depth: int) -> Node:
        items = [self.unary(depth)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in (")", "OR", "AND"):
                raise self.error("or_between", tok)
            items.append(self.unary(depth))
        if len(items) == 1:
            return items[0]
        flat: list[Node] = []
        for item in items:
            flat.extend(item.children if isinstance(item, Or) else (item,))
        return Or(tuple(flat))

    def unary(self, depth: int) -> Node:
        negated = False
        while (tok := self.peek()) is not None and tok.kind in ("-", "NOT"):
            self.first_minus = self.first_minus or tok
            negated = not negated
            self.take()
            nxt = self.peek()
            if tok.kind == "NOT" and (nxt is None or nxt.kind in (")", "OR", "AND")):
                raise self.error("dangling_not", tok)
        node = self.primary(depth)
        if negated:
            return node.child if isinstance(node, Not) else Not(node)
        return node

    def primary(self, depth: int) -> Node:
        tok = self.peek()
        if tok is None:  # only reachable after '-', which the lexer already checks
            raise QueryError("ends_early", len(self.text), "", self.text)
        self.take()
        if tok.kind == "(":
            if depth >= MAX_PARENTHESES:
                raise self.error("too_many_parentheses", tok, limit=MAX_PARENTHESES)
            if self.deepest is None or depth + 1 > self.deepest[0]:
                self.deepest = (depth + 1, tok)
            children = self.conjunction(depth + 1, opener=tok)
            close = self.peek()
            if close is None:
                raise self.error("unclosed_parenthesis", tok)
            self.take()
            if not children:
                raise QueryError(
                    "empty_group",
                    tok.pos,
                    self.text[tok.pos : close.pos + 1],
                    self.text,
                )
            return _make_and(children)
        if tok.kind in ("OR", "AND"):
            raise self.error("operator_alone", tok, operator=tok.kind, word=tok.kind.lower())
        self.count_term(tok)
        if tok.kind == "phrase":
            return self.phrase(tok)
        match = _FIELD_RE.fullmatch(tok.text)
        if match and not match.group(2).startswith("//"):  # "https://..." is text
            return self.field(tok, match.group(1), match.group(2))
        return self.word(tok)

    def count_term(self, tok: _Tok) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.error("too_many_terms", tok, limit=MAX_TERMS)

    def words_of(self, chunk: str, tok: _Tok, at: int, anchored: int = 0) -> list[Word]:
        """The words one whitespace-free chunk (at ``at`` in the text) stands for (trailing
        ``*`` = prefix). ``anchored``: the letters of the phrase's words before the chunk,
        which anchor its prefix too."""
        # The '*' of a keycap ("*\ufe0f\u20e3", an emoji) is text, as in a mention.
        star = _KEYCAP_STAR_RE.sub("k", chunk).rstrip("*").find("*")
        # Word splitting would drop a '*' elsewhere ("*anne" searched "anne", "pa*nne" the
        # phrase "pa nne"): refused as typed, kept as it always read in a stored query.
        if star >= 0 and not self.stored:
            raise QueryError("misplaced_star", at + star, "*", self.text,
                             {"token": chunk, "limit": MIN_PREFIX_LENGTH})
        prefix = chunk.endswith("*")
        tokens = tokenize(chunk.rstrip("*")) if prefix else tokenize(chunk)
        words = [Word(token) for token in tokens]
        if prefix and words:
            # The letters typed before '*', all its words' ("東京駅*", "v2.0*" are the
            # phrases 東 京 駅*, v2 0*): those before the last anchor its prefix as well.
            if anchored + _letters(words) < MIN_PREFIX_LENGTH:
                raise self.error("prefix_too_short", tok, limit=MIN_PREFIX_LENGTH)
            words[-1] = Word(words[-1].token, prefix=True)
        return words

    def word(self, tok: _Tok) -> Node:
        words = self.words_of(tok.text, tok, tok.pos)
        if not words:
            if not tok.text.strip("*"):
                raise self.error("star_alone", tok)
            raise self.error("no_letters", tok, token=tok.text)
        return words[0] if len(words) == 1 else Phrase(tuple(words))

    def phrase(self, tok: _Tok) -> Node:
        words: list[Word] = []
        joined = False  # the previous chunk ended with "&" ("at& t", "at & t")
        for chunk in re.finditer(r"\S+", tok.text[1:-1]):
            text = chunk.group()
            # A quoted "c++ a*" is the phrase "c++a*" reads as (str renders it so).
            at = tok.pos + 1 + chunk.start()
            found = self.words_of(text, tok, at, _letters(words))
            if not found and not text.strip("*") and not self.stored:
                # A lone '*' is no wildcard word ("ab *"): it would be silently ignored.
                raise QueryError("star_alone", at, text, self.text)
            if (found and words and (joined or text.startswith("&"))
                    and found[0].token[0] not in "#@&"):
                # The "&" of "at &t" and "at & t" joins the words as in "at&t" (the text
                # is tokenized the same way).
                found[0] = Word("&" + found[0].token, found[0].prefix)
            joined = text.endswith("&") and bool(words or found)
            words.extend(found)
        if not words:
            raise self.error("empty_phrase", tok)
        return words[0] if len(words) == 1 else Phrase(tuple(words))

    def field(self, tok: _Tok, raw_name: str, raw_value: str) -> Node:
        name = fold(raw_name)
        if name not in FIELDS:
            guess = _FIELD_SYNONYMS.get(name) or next(
                iter(difflib.get_close_matches(name, FIELDS, n=1, cutoff=0.6)), None
            )
            raise QueryError(
                "unknown_field_guess" if guess else "unknown_field",
                tok.pos,
                raw_name,
                self.text,
                {"name": raw_name, "guess": guess or "", "text": tok.text},
            )
        value_pos = tok.pos + len(raw_name) + 1
        if not raw_value:
            example = {"lang": "lang:fr", "from": "from:vigie", "source": "source:mastodon"}
            raise self.error("field_needs_value", tok, name=name, example=example[name])

        def bad_value(key: str, **params: str) -> QueryError:
            return QueryError(key, value_pos, raw_value, self.text, params)

        if name == "lang":
            value = _normalize_language(raw_value)
            value = _LANGUAGE_ALIASES.get(value, value)
            if not _LANG_RE.fullmatch(value):
                raise bad_value("bad_language")
            if value.partition("-")[0] not in _LANGUAGE_NAMES:
                raise bad_value("unknown_language", value=raw_value,
                                codes=", ".join(sorted(_LANGUAGE_NAMES)))
        elif name == "from":
            value = _normalize_handle(raw_value)
            if not value or not _HANDLE_RE.fullmatch(value):
                raise bad_value("bad_handle")
        else:
            value = normalize_network(raw_value)
            if value not in self.networks:
                known = sorted(self.networks)
                guess = next(iter(difflib.get_close_matches(value, known, n=1)), None)
                raise bad_value("unknown_source_guess" if guess else "unknown_source",
                                value=raw_value, guess=guess or "", known=", ".join(known))
        return Field(name, value)


def _make_and(children: list[Node]) -> Node:
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for child in children:
        flat.extend(child.children if isinstance(child, And) else (child,))
    return And(tuple(flat))


def _nesting(node: Node) -> int:
    """How many AND/OR/exclusion nodes sit inside one another, at most."""
    if isinstance(node, Not):
        return 1 + _nesting(node.child)
    if isinstance(node, And | Or):
        return 1 + max(_nesting(child) for child in node.children)
    return 0


def _has_positive(node: Node, negated: bool = False) -> bool:
    """Whether some term of ``node`` is looked for rather than excluded."""
    if isinstance(node, Not):
        return _has_positive(node.child, not negated)
    if isinstance(node, And | Or):
        return any(_has_positive(child, negated) for child in node.children)
    return not negated


def parse_query(text: str, *, networks: Collection[str] | None = None,
                stored: bool = False) -> Query:
    """Parse a watch query; raise ``QueryError`` (with position) if it is invalid.

    ``networks`` lists the networks ``source:`` accepts (default: every network of
    ``bot.networks``, aliases included). ``stored``: a query read back from the database,
    which older Vigie versions accepted as typed: a ``*`` that does not end a word is read
    as they read it (dropped, or splitting the word) instead of refused, so a stored
    watch keeps matching. Results are cached: parsing the same text again is a dictionary
    lookup, and the returned ``Query`` is immutable.
    """
    allowed = (
        frozenset(normalize_network(n) for n in networks) if networks is not None
        else network_names()
    )
    return _parse_cached(text, allowed, stored)


@lru_cache(maxsize=1024)
def _parse_cached(text: str, networks: frozenset[str], stored: bool) -> Query:
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            "too_long",
            MAX_QUERY_LENGTH,
            text[MAX_QUERY_LENGTH:],
            text,
            {"length": len(text), "limit": MAX_QUERY_LENGTH},
        )
    control = None if stored else _CONTROL_RE.search(text)
    if control is not None:
        raise QueryError("control_character", control.start(), control.group(), text,
                         {"code": f"U+{ord(control.group()):04X}"})
    parser = _Parser(text, networks, stored)
    root = parser.parse()
    if root is not None and _nesting(root) > MAX_DEPTH:
        where = parser.deepest[1] if parser.deepest else _Tok("", text, 0)
        raise QueryError("too_deep", where.pos, where.text, text, {"limit": MAX_DEPTH})
    if root is not None and not _has_positive(root):
        minus = parser.first_minus
        raise QueryError(
            "no_positive",
            minus.pos if minus else 0,
            minus.text if minus else text,
            text,
        )
    return Query(root, text)


# ---------------------------------------------------------------------------------------
# Compilation to matcher functions

_Matcher: TypeAlias = Callable[[PreparedText], bool]


def _forms(word: Word) -> tuple[str, ...]:
    """Token forms a word matches: a bare word also matches its hashtag and handle."""
    token = word.token
    if token[0] in "#@&":
        return (token,)
    return (token, "#" + token, "@" + token, "&" + token)


def _always(_: PreparedText) -> bool:
    return True


def _set_matcher(forms: frozenset[str]) -> _Matcher:
    if len(forms) == 1:
        (only,) = forms

        def match_one(p: PreparedText) -> bool:
            return only in p.token_set

        return match_one

    def match_any(p: PreparedText) -> bool:
        return not forms.isdisjoint(p.token_set)

    return match_any


def _prefix_matcher(word: Word) -> _Matcher:
    prefixes = _forms(word)

    def match(p: PreparedText) -> bool:
        tokens = p.sorted_tokens
        size = len(tokens)
        for prefix in prefixes:
            i = bisect_left(tokens, prefix)
            if i < size and tokens[i].startswith(prefix):
                return True
        return False

    return match


def _token_predicate(word: Word) -> Callable[[str], bool]:
    """Whether the token at one position of a phrase is this word."""
    token = word.token
    if word.prefix:
        starts = _forms(word)
        return lambda t: t.startswith(starts)
    if token[0] in "#&":
        return lambda t: t == token
    handle = token if token[0] == "@" else "@" + token
    longer = (handle + "@", handle + ".")
    if token[0] == "@":
        return lambda t: t == token or t.startswith(longer)
    exact = frozenset(_forms(word))
    return lambda t: t in exact or t.startswith(longer)


def _phrase_matcher(phrase: Phrase) -> _Matcher:
    checks = [_word_matcher(w) for w in phrase.words]
    first = _token_predicate(phrase.words[0])
    rest = [(k, _token_predicate(w)) for k, w in enumerate(phrase.words) if k]
    span = len(phrase.words)

    def match(p: PreparedText) -> bool:
        for check in checks:  # cheap set lookups reject almost every text
            if not check(p):
                return False
        tokens = p.tokens
        for i in range(len(tokens) - span + 1):
            if first(tokens[i]) and all(pred(tokens[i + k]) for k, pred in rest):
                return True
        return False

    return match


def _word_matcher(word: Word) -> _Matcher:
    if word.prefix:
        return _prefix_matcher(word)
    return _set_matcher(frozenset(_forms(word)))


def _field_matcher(node: Field) -> _Matcher:
    value = node.value
    if node.name == "lang":
        longer = value + "-"

        def match_lang(p: PreparedText) -> bool:
            lang = p.language
            return lang is not None and (lang == value or lang.startswith(longer))

        return match_lang
    if node.name == "source":
        return lambda p: p.network == value
    qualified = (value + "@", value + ".")

    def match_from(p: PreparedText) -> bool:
        author = p.author
        return author is not None and (author == value or author.startswith(qualified))

    return match_from


def _cost(node: Node) -> int:
    """Rough evaluation cost, to test cheap and selective conditions first."""
    if isinstance(node, Field):
        return 0
    if isinstance(node, Word):
        return 3 if node.prefix else 1
    if isinstance(node, Phrase):
        return 4 + len(node.words)
    if isinstance(node, Not):
        return _cost(node.child)
    return sum(_cost(child) for child in node.children)


def _compile(node: Node | None) -> _Matcher:
    if node is None:
        return _always
    if isinstance(node, Word):
        return _word_matcher(node)
    if isinstance(node, Phrase):
        return _phrase_matcher(node)
    if isinstance(node, Field):
        return _field_matcher(node)
    if isinstance(node, Not):
        inner = _compile(node.child)
        return lambda p: not inner(p)
    if isinstance(node, Or):
        # Plain words of an OR collapse into one set-intersection test.
        forms: set[str] = set()
        others: list[Node] = []
        for child in node.children:
            if isinstance(child, Word) and not child.prefix:
                forms.update(_forms(child))
            else:
                others.append(child)
        matchers = [_set_matcher(frozenset(forms))] if forms else []
        matchers += [_compile(child) for child in sorted(others, key=_cost)]
        if len(matchers) == 1:
            return matchers[0]

        def match_or(p: PreparedText) -> bool:
            # A plain loop: any() with a generator costs ~2x on this hot path.
            for matcher in matchers:  # noqa: SIM110
                if matcher(p):
                    return True
            return False

        return match_or
    all_of = [_compile(child) for child in sorted(node.children, key=_cost)]

    def match_and(p: PreparedText) -> bool:
        for matcher in all_of:  # noqa: SIM110 (hot path, see match_or)
            if not matcher(p):
                return False
        return True

    return match_and


# ---------------------------------------------------------------------------------------
# Rendering


def _phrase_words(words: tuple[Word, ...], render: Callable[[Word], str]) -> str:
    """A phrase's words as typed: a word after ``&`` joined to the one before (``at&t``),
    which is how the parser reads it back."""
    return "".join((" " if i and not w.token.startswith("&") else "") + render(w)
                   for i, w in enumerate(words))


def _render(node: Node) -> str:
    if isinstance(node, Word):
        return node.token + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        return '"' + _phrase_words(node.words, _render) + '"'
    if isinstance(node, Field):
        return f"{node.name}:{node.value}"
    if isinstance(node, Not):
        inner = _render(node.child)
        return "-" + (f"({inner})" if isinstance(node.child, And | Or) else inner)
    if isinstance(node, Or):
        return " OR ".join(
            f"({_render(c)})" if isinstance(c, And) else _render(c) for c in node.children
        )
    # OR already binds tighter than the implicit AND; the parentheses are for readers.
    return " ".join(f"({_render(c)})" if isinstance(c, Or) else _render(c) for c in node.children)


def _describe_field(node: Field, language: str) -> str:
    if node.name == "lang":
        base, _, region = node.value.partition("-")
        if base not in _LANGUAGE_NAMES:
            return t(language, "describe.in_unknown_language", code=node.value)
        name = t(language, f"describe.language.{base}")
        if region:
            return t(language, "describe.in_language_region", name=name,
                     region=region.upper())
        return t(language, "describe.in_language", name=name)
    if node.name == "source":
        network = get_network(node.value)
        if network is None:
            return t(language, "describe.from_source", name=node.value)
        # A network registered by a plugin may have no wording in the catalogues.
        key = f"describe.network.{network.name}"
        return t(language, key) if has(key) else network.query_phrase
    return t(language, "describe.from_handle", handle=node.value)


def _describe(node: Node, nested: bool, language: str) -> str:
    if isinstance(node, Word):
        return node.token + ("*" if node.prefix else "")
    if isinstance(node, Phrase):
        return t(language, "describe.phrase",
                 words=_phrase_words(node.words, lambda w: _describe(w, False, language)))
    if isinstance(node, Field):
        return _describe_field(node, language)
    if isinstance(node, Not):
        return t(language, "describe.not", term=_describe(node.child, True, language))
    joiner = t(language, "describe.or" if isinstance(node, Or) else "describe.and")
    text = joiner.join(_describe(child, True, language) for child in node.children)
    return f"({text})" if nested else text


def _is_filter(node: Node) -> bool:
    """Metadata-only conditions, described as "in French", "not on X"..."""
    if isinstance(node, Field):
        return True
    if isinstance(node, Not):
        return isinstance(node.child, Field)
    if isinstance(node, Or):
        return all(isinstance(child, Field) for child in node.children)
    return False


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Not):
        yield from _walk(node.child)
    elif isinstance(node, And | Or):
        for child in node.children:
            yield from _walk(child)


class Query:
    """A parsed, compiled watch query. Immutable; build it with ``parse_query``.

    Two queries are equal when their syntax trees are (``str`` renders the normalized
    form, which parses back to an equal query).
    """

    __slots__ = ("_match", "root", "text")

    def __init__(self, root: Node | None, text: str = "") -> None:
        self.root = root
        self.text = text
        self._match = _compile(root)

    @property
    def is_empty(self) -> bool:
        """True for the empty query, which matches every mention."""
        return self.root is None

    def matches(self, item: MatchInput | PreparedText) -> bool:
        """Whether the mention satisfies the query (fields that are unknown never match)."""
        if self.root is None:  # no need to fold and tokenize the text
            return True
        prepared = item if isinstance(item, PreparedText) else item.prepared
        return self._match(prepared)

    def fields(self) -> list[Field]:
        """Every ``name:value`` filter in the query, in order."""
        return [node for node in _walk(self.root) if isinstance(node, Field)] if self.root else []

    def describe(self, language: str = "en") -> str:
        """Explain the query in plain words in ``language``, for the answers of
        ``/cm watch add`` and ``/cm watch list`` and for ``vigie watch test``.

        >>> parse_query('vigie bug OR panne lang:fr -"free trial"').describe()
        "mentions containing vigie and (bug or panne), in French, excluding 'free trial'"
        """
        if self.root is None:
            return t(language, "describe.all")
        conjuncts = self.root.children if isinstance(self.root, And) else (self.root,)
        texts: list[Node] = []
        filters: list[str] = []
        exclusions: list[Node] = []
        for node in conjuncts:
            if _is_filter(node):
                filters.append(_describe(node, False, language))
            elif isinstance(node, Not):
                exclusions.append(node.child)
            else:
                texts.append(node)
        out = t(language, "describe.mentions")
        if texts:
            nested = len(texts) > 1
            out += " " + t(language, "describe.containing", terms=t(
                language, "describe.and").join(
                    _describe(n, nested, language) for n in texts))
        if filters:
            out += (", " if texts else " ") + ", ".join(filters)
        if exclusions:
            nested = len(exclusions) > 1
            out += ", " + t(language, "describe.excluding", terms=t(
                language, "describe.or").join(
                    _describe(n, nested, language) for n in exclusions))
        return out

    def __str__(self) -> str:
        return _render(self.root) if self.root is not None else ""

    def __repr__(self) -> str:
        return f"Query({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Query):
            return NotImplemented
        return self.root == other.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __reduce__(self) -> tuple[type[Query], tuple[Node | None, str]]:
        # The compiled matcher is a closure; rebuild it from the tree.
        return (type(self), (self.root, self.text))
