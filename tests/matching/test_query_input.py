"""What a typed query is told in the reader's language, the '*' that only ends a word, and
how a command line's pieces keep a query's quotes."""

from __future__ import annotations

import pickle

import pytest

from bot.i18n import catalogue, t
from bot.matching.query import (
    MAX_DEPTH,
    MAX_PARENTHESES,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    MatchInput,
    Phrase,
    QueryError,
    Word,
    is_quoted,
    parse_query,
    split_terms,
)
from bot.matching.text import tokenize


def nested(levels: int) -> str:
    """A query whose tree is ``levels`` deep."""
    text = "leaf"
    for i in range(levels - 1, -1, -1):
        text = f"x{i} OR ({text})" if i % 2 == 0 else f"x{i} {text}"
    return text


# One query per mistake the parser names (every QueryError raised in bot.matching.query).
MISTAKES = {
    "unclosed_quote": 'vigie "free trial',
    "stray_quote": "vigie free» trial",
    "dangling_minus": "vigie -",
    "stray_parenthesis": "vigie bug)",
    "and_between": "vigie AND",
    "or_between": "vigie OR",
    "dangling_not": "vigie NOT",
    "too_many_parentheses": "(" * (MAX_PARENTHESES + 1) + "a" + ")" * (MAX_PARENTHESES + 1),
    "unclosed_parenthesis": "vigie (bug",
    "empty_group": "vigie ()",
    "operator_alone": "vigie -OR",
    "too_many_terms": " ".join(f"w{i}" for i in range(MAX_TERMS + 1)),
    "prefix_too_short": "vigie a*",
    "star_alone": "vigie *",
    "misplaced_star": "vigie pa*nne",
    "no_letters": "vigie 🚀",
    "empty_phrase": 'vigie ""',
    "unknown_field": "vigie foo:bar",
    "unknown_field_guess": "languge:fr",
    "field_needs_value": "vigie lang:",
    "bad_language": "vigie lang:f",
    "unknown_language": "vigie lang:xx",
    "bad_handle": "vigie from:a/b",
    "unknown_source": "vigie source:zzzzzz",
    "unknown_source_guess": "vigie source:mastodn",
    "too_long": "a" * (MAX_QUERY_LENGTH + 1),
    "control_character": "vigie\x00bug",
    "too_deep": nested(MAX_DEPTH + 1),
    "no_positive": "-spam",
}
UNREACHABLE = {"ends_early"}
"""Raised only after a '-' that ends the query, which the lexer refuses first."""


def error_of(text: str, *, stored: bool = False) -> QueryError:
    with pytest.raises(QueryError) as info:
        parse_query(text, stored=stored)
    return info.value


def test_every_mistake_has_a_key_in_both_languages() -> None:
    keys = {key.removeprefix("query.") for key in catalogue("en") if key.startswith("query.")}
    assert keys == set(MISTAKES) | UNREACHABLE
    assert {k for k in catalogue("fr") if k.startswith("query.")} == {
        f"query.{key}" for key in keys}


@pytest.mark.parametrize(("key", "text"), sorted(MISTAKES.items()))
def test_a_mistake_is_worded_in_the_readers_language(key: str, text: str) -> None:
    err = error_of(text)
    assert err.key == key
    english, french = err.text("en"), err.text("fr")
    assert english == err.message == str(err) == t("en", f"query.{key}", **err.params)
    assert french == t("fr", f"query.{key}", **err.params) != english
    assert "{" not in french.replace(text, "")  # every parameter filled in
    copy = pickle.loads(pickle.dumps(err))  # noqa: S301 - our own data
    assert (copy.key, copy.params, copy.position, copy.token, copy.query) == (
        err.key, err.params, err.position, err.token, err.query)
    assert copy.text("fr") == french


def test_french_words_of_a_few_mistakes() -> None:
    assert error_of('acme "x').text("fr") == (
        "guillemet non fermé : ce guillemet n'est jamais refermé")
    assert error_of("acme source:mastodn").text("fr").startswith(
        "source inconnue 'mastodn' : vouliez-vous dire source:mastodon ? (connues : ")
    assert error_of("a" * 600).text("fr") == (
        "requête trop longue (600 caractères ; 500 au plus) : raccourcissez-la")


@pytest.mark.parametrize(
    ("text", "position"),
    [("*anne", 0), ("*panne", 0), ("pa*nne", 2), ("acme -pa*nne", 8), ("**anne", 0),
     ("pa*nne*", 2), ('"free *trial"', 6), ('acme "free tr*al now"', 13), ("#*vigie", 1),
     ("a*b", 1)],
)
def test_a_star_that_does_not_end_a_word_is_refused(text: str, position: int) -> None:
    err = error_of(text)
    assert err.key == "misplaced_star"
    assert (err.position, err.token) == (position, "*")
    assert text[position] == "*"
    assert "'*' can only end a word of at least 2 letters, as in refund*" in err.message
    assert err.pointer().splitlines()[1] == " " * position + "^"


def test_a_stored_query_keeps_its_old_reading_of_a_misplaced_star() -> None:
    """Older Vigie versions stored these: ``*panne`` searched ``panne``, ``pa*nne`` the
    phrase ``pa nne``. A stored watch keeps matching what it matched."""
    assert parse_query("*panne", stored=True).root == Word("panne")
    assert parse_query("pa*nne", stored=True).root == Phrase((Word("pa"), Word("nne")))
    assert parse_query("acme -*anne", stored=True) == parse_query("acme -anne")
    # every other mistake is still one
    assert error_of('acme "x', stored=True).key == "unclosed_quote"
    assert error_of("*", stored=True).key == "star_alone"


@pytest.mark.parametrize(("text", "position"), [
    ('"refund *"', 8), ('acme "free * trial"', 11), ('"**"', 1), ('"*"', 1)])
def test_a_lone_star_in_a_phrase_is_refused(text: str, position: int) -> None:
    """``"refund *"`` searched ``refund`` alone: the '*' (no wildcard word) was dropped."""
    err = error_of(text)
    assert (err.key, err.position) == ("star_alone", position), err.message
    assert err.message == "'*' must end a word, as in refund*"
    assert parse_query('"refund *"', stored=True).root == Word("refund")  # as it read


def test_the_star_of_a_keycap_is_text_as_in_a_mention() -> None:
    """``*️⃣`` (``*`` then U+FE0F U+20E3, an emoji) was refused as a misplaced '*'."""
    for keycap in ("*\ufe0f\u20e3", "*\u20e3", "*\ufe0e\u20e3"):
        query = parse_query(keycap)
        assert query.root == Word(tokenize(keycap)[0]), keycap
        assert query.matches(MatchInput(text=f"press {keycap} to skip"))
        assert not query.matches(MatchInput(text="press * to skip"))
    assert parse_query("skip*\ufe0f\u20e3") == parse_query('"skip \u20e3"')
    assert error_of("*\ufe0f\u20e3anne*x").key == "misplaced_star"


def test_a_trailing_star_is_still_a_prefix() -> None:
    assert parse_query("refund*").root == Word("refund", prefix=True)
    assert parse_query("refund**").root == Word("refund", prefix=True)
    assert parse_query('"free tri*"').root == Phrase((Word("free"), Word("tri", prefix=True)))


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ('acme -"free trial" status:new', ["acme", '-"free trial"', "status:new"]),
        ("“free trial”  «a b» „x y“", ["“free trial”", "«a b»", "„x y“"]),
        ('"status:new" since:1d', ['"status:new"', "since:1d"]),
        ('acme "free trial status:new', ["acme", '"free trial status:new']),
        ('a"b c"d e', ['a"b c"d', "e"]),
        ("(a OR b)\tc\n", ["(a", "OR", "b)", "c"]),
        ("", []),
    ],
)
def test_split_terms_keeps_phrases_and_their_quotes(text: str, pieces: list[str]) -> None:
    assert split_terms(text) == pieces
    # the pieces, joined, are the same query
    try:
        expected = parse_query(text)
    except QueryError as err:
        with pytest.raises(QueryError) as again:
            parse_query(" ".join(pieces))
        assert again.value.key == err.key
    else:
        assert parse_query(" ".join(pieces)) == expected


def test_is_quoted() -> None:
    assert is_quoted('"status:new"') and is_quoted("«a»") and is_quoted('-"x')
    assert not is_quoted("status:new") and not is_quoted("l'appli")
