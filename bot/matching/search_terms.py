"""The words a full-text index stores for a mention, and index queries built from a ``Query``.

Both indexes (SQLite FTS5 and PostgreSQL ``tsvector``) store the query language's own
tokens (``bot.matching.text``), so folding (case, accents, ``œ``/``ß``...) and word
boundaries are exactly those of watch matching; no database tokenizer, dictionary or
``unaccent`` decides what a word is. Each token is stored as one *index term*:

- a hashtag, handle or word after ``&`` loses its sigil (``#vigie``, ``@vigie`` and the
  ``&t`` of ``at&t`` are stored as ``vigie`` and ``t``), because a bare query word also
  matches them (``"at&t"`` is searched as the phrase ``at t``, then confirmed);
- a fediverse/Bluesky handle keeps only its first part (``@vigie@mastodon.social`` is
  ``vigie``), as ``@vigie`` matches it too, and it stays one position for phrases;
- terms are cut at ``MAX_TERM_CHARS`` (both sides the same way).

SQLite's FTS5 table splits its columns with the ascii tokenizer (migration 0066): every
character outside ASCII belongs to a token, so each term, marks and all, is one FTS5
token. A query term FTS5 would split anyway (an ASCII character other than letters,
digits and ``_+#-``) is not looked up: that part of the query does not narrow the search.

An index query built here is a *superset* of the query: it may let through a mention the
query rejects (``#vigie`` also finds a plain ``vigie``; exclusions and fields are not
translated), never the reverse. The caller re-checks every candidate with
``Query.matches``, so listings are exactly what watch matching would say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from bot.matching.query import And, Field, Node, Not, Or, Phrase, Query, Word
from bot.matching.text import fold, tokenize_folded

__all__ = [
    "MAX_TERM_CHARS",
    "fts5_document",
    "fts5_query",
    "index_is_exact",
    "index_term",
    "index_terms",
    "only_rare_terms",
    "tsquery",
    "tsvector_literal",
]

MAX_TERM_CHARS: Final = 100
"""Longest stored term (PostgreSQL refuses lexemes over 2,047 bytes)."""

# PostgreSQL keeps positions 1..16383 and at most 256 per lexeme; a document beyond
# either limit would lose phrase positions, so it is not given a vector (see tsvector_literal).
_PG_MAX_POSITION: Final = 16383
_PG_MAX_POSITIONS_PER_LEXEME: Final = 256

_HANDLE_PART_RE: Final = re.compile(r"[.@]")


def index_term(token: str) -> str:
    """The index term of one token of ``tokenize`` (see the module docstring)."""
    if token[0] in "#&":
        token = token[1:]
    elif token[0] == "@":
        token = _HANDLE_PART_RE.split(token[1:], maxsplit=1)[0]
    return token[:MAX_TERM_CHARS]


def index_terms(text: str | None) -> list[str]:
    """The index terms of a text, in order (one per token)."""
    if not text:
        return []
    return [index_term(token) for token in tokenize_folded(fold(text))]


def fts5_document(terms: Sequence[str]) -> str:
    """Terms as one FTS5 column value (the FTS5 table splits it on spaces)."""
    return " ".join(terms)


def tsvector_literal(title_terms: Sequence[str], body_terms: Sequence[str]) -> str | None:
    """A ``tsvector`` input literal with the terms at their positions; ``None`` when
    PostgreSQL's position limits would cut it (such mentions are always re-checked).

    Title positions come first; one position is skipped before the body, so a phrase
    never spans title and text (as in ``Query.matches``).
    """
    offset = len(title_terms) + 1 if title_terms else 0
    if offset + len(body_terms) > _PG_MAX_POSITION:
        return None
    positions: dict[str, list[str]] = {}
    get = positions.get
    for start, terms in ((1, title_terms), (offset + 1, body_terms)):
        for index, term in enumerate(terms, start=start):
            found = get(term)
            if found is None:
                positions[term] = [str(index)]
            else:
                found.append(str(index))
    if any(len(found) > _PG_MAX_POSITIONS_PER_LEXEME for found in positions.values()):
        return None
    return " ".join(
        f"{_pg_quote(term)}:{','.join(found)}" for term, found in positions.items()
    )


# ---------------------------------------------------------------------------------------
# Query translation (None = "cannot narrow": every mention is a candidate)


def _word_term(word: Word) -> tuple[str, bool]:
    """The index term a query word looks for, and whether it is a prefix."""
    token = word.token
    if word.prefix and token[0] == "@" and _HANDLE_PART_RE.search(token[1:]):
        # "@vigie@mast*": every token it matches is stored as the complete term "vigie".
        return index_term(token), False
    term = index_term(token)
    # A prefix cut at MAX_TERM_CHARS still prefixes the (equally cut) stored terms.
    return term, word.prefix


def _fts5_string(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


# What the FTS5 table's tokenizer keeps as one token (see the module docstring).
_FTS5_TOKEN_RE: Final = re.compile(r"(?:[a-z0-9_+#\-]|[^\x00-\x7f])+")


def _fts5(node: Node) -> str | None:
    if isinstance(node, Word):
        term, prefix = _word_term(node)
        if not _FTS5_TOKEN_RE.fullmatch(term):
            return None  # FTS5 would look for other tokens than the one stored
        return _fts5_string(term) + ("*" if prefix else "")
    if isinstance(node, Phrase):
        words = [_word_term(w) for w in node.words]
        if not all(_FTS5_TOKEN_RE.fullmatch(term) for term, _ in words):
            return None
        if any(prefix for _, prefix in words[:-1]):
            # FTS5 allows '*' only at a phrase's end: require each word instead.
            return "(" + " AND ".join(
                _fts5_string(t) + ("*" if p else "") for t, p in words) + ")"
        return _fts5_string(" ".join(t for t, _ in words)) + ("*" if words[-1][1] else "")
    if isinstance(node, (Field, Not)):
        return None  # fields and exclusions are checked on the candidates
    parts = [_fts5(child) for child in node.children]
    if isinstance(node, Or):
        if any(part is None for part in parts):
            return None
        return "(" + " OR ".join(p for p in parts if p) + ")"
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else "(" + " AND ".join(kept) + ")"


def fts5_query(query: Query) -> str | None:
    """An FTS5 MATCH expression finding every mention ``query`` matches (and maybe more);
    ``None`` when the index cannot narrow the search (only fields or exclusions)."""
    return _fts5(query.root) if query.root is not None else None


def _pg_quote(term: str) -> str:
    if "'" in term or "\\" in term:
        term = term.replace("\\", "\\\\").replace("'", "''")
    return f"'{term}'"


def _pg_word(word: Word) -> str:
    term, prefix = _word_term(word)
    return _pg_quote(term) + (":*" if prefix else "")


def _tsquery(node: Node) -> str | None:
    if isinstance(node, Word):
        return _pg_word(node)
    if isinstance(node, Phrase):
        return "(" + " <-> ".join(_pg_word(w) for w in node.words) + ")"
    if isinstance(node, (Field, Not)):
        return None
    parts = [_tsquery(child) for child in node.children]
    if isinstance(node, Or):
        if any(part is None for part in parts):
            return None
        return "(" + " | ".join(p for p in parts if p) + ")"
    kept = [p for p in parts if p is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else "(" + " & ".join(kept) + ")"


def tsquery(query: Query) -> str | None:
    """A ``tsquery`` input literal finding every mention ``query`` matches (and maybe
    more); ``None`` when the index cannot narrow the search."""
    return _tsquery(query.root) if query.root is not None else None


# ASCII letters and digits: stored as this very term (FTS5 keeps it one token) from the
# token itself, its hashtag and its handles, which are exactly the forms a bare word matches.
_PLAIN_WORD_RE: Final = re.compile(r"[a-z0-9]+")


def _exact(node: Node, *, prefix: bool = True) -> bool:
    if isinstance(node, Word):
        return ((prefix or not node.prefix) and len(node.token) < MAX_TERM_CHARS
                and _PLAIN_WORD_RE.fullmatch(node.token) is not None)
    if isinstance(node, Phrase):  # one position per token on both sides
        return all(_exact(word, prefix=False) for word in node.words)
    if isinstance(node, (And, Or)):
        return all(_exact(child) for child in node.children)
    return False  # fields and exclusions are confirmed


def index_is_exact(query: Query) -> bool:
    """True when the index's hits are exactly the mentions ``query`` matches: plain words
    (ASCII letters and digits, whole or prefix*) and phrases of whole ones, joined by
    AND and OR. Only
    mentions the index has caught up with may then skip ``Query.matches`` (queued ones,
    and on PostgreSQL those without a vector, are always checked)."""
    return query.root is not None and _exact(query.root)


_SKIP: Final = "skip"  # a part the index query leaves out (fields, exclusions)


def _rare(node: Node, common: Callable[[str], bool]) -> bool | str | None:
    if isinstance(node, Word):
        term, prefix = _word_term(node)
        return None if prefix else not common(term)
    if isinstance(node, Phrase):
        words = [_word_term(w) for w in node.words]
        if any(not prefix and not common(term) for term, prefix in words):
            return True
        return None if any(prefix for _, prefix in words) else False
    if isinstance(node, (Field, Not)):
        return _SKIP
    parts = [_rare(child, common) for child in node.children]
    if isinstance(node, Or):
        if _SKIP in parts:
            return _SKIP
        if all(part is True for part in parts):
            return True
        return False if any(part is False for part in parts) else None
    kept = [part for part in parts if part != _SKIP]
    if not kept:
        return _SKIP
    if any(part is True for part in kept):
        return True
    return None if any(part is None for part in kept) else False


def only_rare_terms(query: Query, common: Callable[[str], bool]) -> bool | None:
    """Whether every hit of the index query must hold a term ``common`` says is not
    common (True), or may come from common terms only (False); None when a prefix
    keeps it from telling."""
    if query.root is None:
        return None
    found = _rare(query.root, common)
    return found if isinstance(found, bool) else None


def _least(node: Node, hits: Callable[[str], float]) -> float | str:
    if isinstance(node, Word):  # a prefix's hits include its whole term's
        return hits(_word_term(node)[0])
    if isinstance(node, Phrase):
        return 0.0  # its words may all be common and never follow each other
    if isinstance(node, (Field, Not)):
        return _SKIP
    parts = [p for p in (_least(child, hits) for child in node.children) if p != _SKIP]
    if not parts:
        return _SKIP
    if isinstance(node, Or):
        return max(float(p) for p in parts)
    return float(parts[0]) if len(parts) == 1 else 0.0  # terms together: no bound known


def least_hits(query: Query, hits: Callable[[str], float]) -> float:
    """How many hits the index query has at least, given ``hits`` of single terms (0 for
    a term it does not know): a word's own, the largest part of an OR; 0 for phrases and
    for several terms that must all be present (no bound is known)."""
    if query.root is None:
        return 0.0
    found = _least(query.root, hits)
    return 0.0 if found == _SKIP else float(found)
