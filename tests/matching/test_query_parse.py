"""Parsing, rendering, describing and error reporting of watch queries."""

from __future__ import annotations

import pickle

import pytest

from bot.matching.query import _LANGUAGE_NAMES as LANGUAGE_NAMES
from bot.matching.query import (
    MAX_DEPTH,
    MAX_PARENTHESES,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    And,
    Field,
    MatchInput,
    Not,
    Or,
    Phrase,
    Query,
    QueryError,
    Word,
    parse_query,
)


def test_empty_query_is_valid_and_empty() -> None:
    for text in ("", "   ", "\n\t"):
        query = parse_query(text)
        assert query.is_empty
        assert query.root is None
        assert str(query) == ""
        assert query.describe() == "all mentions"


def test_words_are_implicit_and() -> None:
    assert parse_query("vigie bug").root == And((Word("vigie"), Word("bug")))


def test_explicit_and_is_the_same() -> None:
    assert parse_query("vigie AND bug") == parse_query("vigie bug")


def test_or_binds_tighter_than_implicit_and() -> None:
    assert parse_query("a b OR c").root == And((Word("a"), Or((Word("b"), Word("c")))))
    assert parse_query("a OR b c OR d").root == And(
        (Or((Word("a"), Word("b"))), Or((Word("c"), Word("d"))))
    )


def test_parentheses_group() -> None:
    assert parse_query("(a b) OR c").root == Or((And((Word("a"), Word("b"))), Word("c")))
    assert parse_query("((a))").root == Word("a")


def test_nested_operators_are_flattened() -> None:
    assert parse_query("a OR (b OR c)").root == Or((Word("a"), Word("b"), Word("c")))
    assert parse_query("a (b c)").root == And((Word("a"), Word("b"), Word("c")))


def test_lowercase_or_and_are_words() -> None:
    assert parse_query("rock or roll").root == And((Word("rock"), Word("or"), Word("roll")))


def test_phrases_and_quote_styles() -> None:
    phrase = Phrase((Word("free"), Word("trial")))
    assert parse_query('"free trial"').root == phrase
    assert parse_query("“Free Trial”").root == phrase
    assert parse_query("« free trial »").root == phrase
    assert parse_query('"  free,   trial! "').root == phrase


def test_single_word_phrase_is_a_word() -> None:
    assert parse_query('"Vigie"').root == Word("vigie")


def test_multi_token_word_becomes_a_phrase() -> None:
    assert parse_query("l'appli").root == Phrase((Word("l"), Word("appli")))
    assert parse_query("e-mail").root == Phrase((Word("e"), Word("mail")))


def test_words_are_folded() -> None:
    assert parse_query("Élève").root == Word("eleve")
    assert parse_query("cœur").root == Word("coeur")


def test_exclusions() -> None:
    assert parse_query("vigie -spam").root == And((Word("vigie"), Not(Word("spam"))))
    assert parse_query('vigie -"free trial"').root == And(
        (Word("vigie"), Not(Phrase((Word("free"), Word("trial")))))
    )
    assert parse_query("vigie -(a OR b)").root == And(
        (Word("vigie"), Not(Or((Word("a"), Word("b")))))
    )


def test_double_negation_cancels() -> None:
    assert parse_query("--vigie").root == Word("vigie")
    assert parse_query("-(-vigie)").root == Word("vigie")


def test_hyphen_inside_word_is_not_exclusion() -> None:
    assert parse_query("anti-spam").root == Phrase((Word("anti"), Word("spam")))


def test_hashtags_handles_and_prefixes() -> None:
    assert parse_query("#Vigie").root == Word("#vigie")
    assert parse_query("@Vigie").root == Word("@vigie")
    assert parse_query("refund*").root == Word("refund", prefix=True)
    assert parse_query("#vig*").root == Word("#vig", prefix=True)
    assert parse_query('"full refund*"').root == Phrase((Word("full"), Word("refund", prefix=True)))


def test_a_prefix_counts_every_letter_typed_before_its_star() -> None:
    """Chinese and Japanese characters are a word each, and '.' splits "3.1" into two:
    "東京駅*" was refused as a one-letter prefix though three were typed. The words before
    the last are the prefix's phrase (as "full refund*" is)."""
    assert parse_query("東京駅*").root == Phrase((Word("東"), Word("京"), Word("駅", prefix=True)))
    assert parse_query("テスト*").root == Phrase((Word("テ"), Word("ス"), Word("ト", prefix=True)))
    assert parse_query("3.1*").root == Phrase((Word("3"), Word("1", prefix=True)))
    assert parse_query("v2.0*").root == Phrase((Word("v2"), Word("0", prefix=True)))
    assert parse_query('"東京*"').root == Phrase((Word("東"), Word("京", prefix=True)))
    for short in ("東*", "a*", "#a*", '"東*"'):
        assert "prefix too short" in error_of(short).message, short
    # In a phrase the words before anchor the prefix: '"x 東*"' is how "x東*" is written
    # back (str), so it reads the same.
    assert parse_query('"x 東*"').root == parse_query("x東*").root == \
        Phrase((Word("x"), Word("東", prefix=True)))
    assert parse_query('"c++ a*"').root == Phrase((Word("c++"), Word("a", prefix=True)))


def test_fields() -> None:
    assert parse_query("lang:FR").root == Field("lang", "fr")
    assert parse_query("lang:pt_BR").root == Field("lang", "pt-br")
    assert parse_query("lang:french").root == Field("lang", "fr")
    assert parse_query("lang:Français").root == Field("lang", "fr")
    assert parse_query("from:@Vigie").root == Field("from", "vigie")
    assert parse_query("FROM:vigie@Mastodon.social").root == Field("from", "vigie@mastodon.social")
    assert parse_query("source:Mastodon").root == Field("source", "mastodon")
    assert parse_query("source:twitter").root == Field("source", "x")
    assert parse_query("source:bsky").root == Field("source", "bluesky")


def test_custom_networks() -> None:
    assert parse_query("source:lemmy", networks=["lemmy", "rss"]).root == Field("source", "lemmy")
    with pytest.raises(QueryError):
        parse_query("source:mastodon", networks=["lemmy"])


def test_urls_are_text_not_fields() -> None:
    assert parse_query("https://vigie.app").root == Phrase(
        (Word("https"), Word("vigie"), Word("app"))
    )


def test_only_fields_is_a_positive_query() -> None:
    assert parse_query("lang:fr -spam").root == And((Field("lang", "fr"), Not(Word("spam"))))


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("vigie  bug", "vigie bug"),
        ("Vigie AND Bug", "vigie bug"),
        ("vigie bug OR panne", "vigie (bug OR panne)"),
        ("(a b) OR c", "(a b) OR c"),
        ("-(a OR b) x", "-(a OR b) x"),
        ("-(a b) x", "-(a b) x"),
        ('-"Free Trial" x', '-"free trial" x'),
        ("“free trial”", '"free trial"'),
        ("l'appli", '"l appli"'),
        ("refund* #vigie @vigie", "refund* #vigie @vigie"),
        ("from:@Vigie source:Twitter lang:French", "from:vigie source:x lang:fr"),
        ("-lang:fr vigie", "-lang:fr vigie"),
        ("c++ OR c#", "c++ OR c#"),
    ],
)
def test_str_renders_normalized_form(text: str, rendered: str) -> None:
    query = parse_query(text)
    assert str(query) == rendered
    assert parse_query(rendered) == query


@pytest.mark.parametrize(
    ("text", "description"),
    [
        (
            'vigie bug OR panne lang:fr -"free trial"',
            "mentions containing vigie and (bug or panne), in French, excluding 'free trial'",
        ),
        ("vigie", "mentions containing vigie"),
        ("bug OR panne", "mentions containing bug or panne"),
        ("lang:fr", "mentions in French"),
        ("lang:fr-ca source:mastodon", "mentions in French (CA), on Mastodon"),
        ("from:vigie -source:x", "mentions from @vigie, not on X"),
        ("(lang:fr OR lang:en) vigie", "mentions containing vigie, in French or in English"),
        ("vigie -spam -promo", "mentions containing vigie, excluding spam or promo"),
        ("vigie -(a OR b)", "mentions containing vigie, excluding a or b"),
        ("vigie -(a b) -c", "mentions containing vigie, excluding (a and b) or c"),
        ("refund* #vigie", "mentions containing refund* and #vigie"),
        ("lang:sw vigie", "mentions containing vigie, in Swahili"),
        ("vigie OR -spam", "mentions containing vigie or not spam"),
        ("source:hn", "mentions on Hacker News"),
    ],
)
def test_describe(text: str, description: str) -> None:
    assert parse_query(text).describe() == description


def test_fields_lists_every_field() -> None:
    query = parse_query("vigie (lang:fr OR lang:en) -source:x")
    assert query.fields() == [Field("lang", "fr"), Field("lang", "en"), Field("source", "x")]
    assert parse_query("").fields() == []


def test_queries_are_hashable_and_comparable() -> None:
    assert parse_query("a b") == parse_query("a   AND   b")
    assert len({parse_query("a b"), parse_query("a AND b"), parse_query("b a")}) == 2
    assert parse_query("a") != "a"
    assert repr(parse_query("a OR b")) == "Query('a OR b')"


def test_queries_pickle() -> None:
    query = parse_query('vigie (bug OR panne) -"free trial" lang:fr')
    clone = pickle.loads(pickle.dumps(query))  # noqa: S301 - our own data
    assert clone == query
    assert clone.text == query.text
    assert clone.matches(MatchInput(text="Vigie en panne", language="fr"))


def test_field_names_with_accents_are_fields() -> None:
    assert "did you mean source:?" in error_of("réseau:x").message
    assert parse_query("注意:vigie").root == Phrase((Word("注"), Word("意"), Word("vigie")))
    assert parse_query("10:30").root == Phrase((Word("10"), Word("30")))


def test_custom_networks_accept_aliases() -> None:
    assert parse_query("source:twitter", networks=["Twitter"]).root == Field("source", "x")


def test_parse_is_cached() -> None:
    assert parse_query("cached query") is parse_query("cached query")


# --- errors --------------------------------------------------------------------------


def error_of(text: str) -> QueryError:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "position", "token", "words"),
    [
        ('vigie "free trial', 6, '"', "unbalanced quote"),
        ("vigie “free trial", 6, "“", "unbalanced quote"),
        ("vigie free” trial", 10, "”", "unbalanced quote"),
        ("vigie (bug OR panne", 6, "(", "never closed"),
        ("vigie bug)", 9, ")", "no '('"),
        ("vigie OR", 6, "OR", "OR must stand between two terms"),
        ("OR vigie", 0, "OR", "OR must stand between two terms"),
        ("vigie OR OR bug", 6, "OR", "OR must stand between two terms"),
        ("(vigie OR) bug", 7, "OR", "OR must stand between two terms"),
        ("vigie AND", 6, "AND", "AND must stand between two terms"),
        ("AND vigie", 0, "AND", "AND must stand between two terms"),
        ("vigie -OR", 7, "OR", "must stand between two terms"),
        ("vigie () bug", 6, "()", "empty group"),
        ("vigie ( ) bug", 6, "( )", "empty group"),
        ('vigie ""', 6, '""', "empty phrase"),
        ('vigie "!!"', 6, '"!!"', "empty phrase"),
        ("vigie foo:bar", 6, "foo", "unknown field foo:"),
        ("vigie lang:", 6, "lang:", "lang: needs a value"),
        ("vigie from:", 6, "from:", "from: needs a value"),
        ("vigie source:", 6, "source:", "source: needs a value"),
        ("vigie lang:f", 11, "f", "language code"),
        ("vigie lang:xx", 11, "xx", "unknown language code 'xx'"),
        ("vigie lang:eng", 11, "eng", "unknown language code"),
        ("vigie NOT", 6, "NOT", "NOT must be followed by what to exclude"),
        ("vigie NOT)", 6, "NOT", "NOT must be followed"),
        ("vigie AND NOT OR b", 10, "NOT", "NOT must be followed"),
        ("NOT spam", 0, "NOT", "at least one positive term"),
        ("vigie from:a/b", 11, "a/b", "account handle"),
        ("vigie from:@", 11, "@", "account handle"),
        ("vigie source:mastodn", 13, "mastodn", "did you mean source:mastodon"),
        ("-spam", 0, "-", "at least one positive term"),
        ("-spam -promo", 0, "-", "at least one positive term"),
        ('-"free trial"', 0, "-", "at least one positive term"),
        ("-(a OR b)", 0, "-", "at least one positive term"),
        ("-lang:fr", 0, "-", "at least one positive term"),
        ("vigie - bug", 6, "-", "'-' must be directly followed"),
        ("vigie -", 6, "-", "'-' must be directly followed"),
        ("(vigie -)", 7, "-", "'-' must be directly followed"),
        ("vigie 🚀", 6, "🚀", "no letters or digits"),
        ("vigie !!!", 6, "!!!", "no letters or digits"),
        ("vigie *", 6, "*", "'*' must end a word"),
        ("vigie a*", 6, "a*", "prefix too short"),
        ('vigie "a* b"', 6, '"a* b"', "prefix too short"),
    ],
)
def test_error_positions(text: str, position: int, token: str, words: str) -> None:
    err = error_of(text)
    assert words in err.message
    assert (err.position, err.token) == (position, token)
    assert text[position : position + len(token)] == token
    assert err.query == text
    assert str(err) == err.message


def test_unknown_field_suggests_the_closest() -> None:
    assert "did you mean lang:?" in error_of("languge:fr").message
    assert "did you mean lang:?" in error_of("language:fr").message
    assert "did you mean from:?" in error_of("form:vigie").message
    assert "did you mean from:?" in error_of("author:vigie").message
    assert "did you mean source:?" in error_of("sourc:x").message
    assert "did you mean source:?" in error_of("network:x").message
    message = error_of("zzz:vigie").message
    assert "did you mean" not in message
    assert "lang:, from: and source:" in message
    assert '"zzz:vigie"' in message  # how to search for the text itself


def test_unknown_source_lists_known_ones() -> None:
    message = error_of("source:myspace").message
    assert "known: bluesky, hackernews, mastodon, reddit, rss, webhook, x" in message


def test_too_long() -> None:
    err = error_of("a" * (MAX_QUERY_LENGTH + 1))
    assert err.position == MAX_QUERY_LENGTH
    assert "too long" in err.message
    parse_query("a" * MAX_QUERY_LENGTH)


def test_too_many_terms() -> None:
    parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS)))
    text = " ".join(f"w{i}" for i in range(MAX_TERMS + 1))
    err = error_of(text)
    assert "too many terms" in err.message
    assert err.token == f"w{MAX_TERMS}"


def test_redundant_parentheses_are_limited() -> None:
    assert parse_query("(" * MAX_PARENTHESES + "a" + ")" * MAX_PARENTHESES).root == Word("a")
    err = error_of("(" * (MAX_PARENTHESES + 1) + "a" + ")" * (MAX_PARENTHESES + 1))
    assert "too many nested parentheses" in err.message
    assert err.position == MAX_PARENTHESES


def nested(levels: int) -> str:
    """A query whose tree is ``levels`` deep: x0 OR (x1 (x2 OR (x3 ...)))."""
    text = "leaf"
    for i in range(levels - 1, -1, -1):
        text = f"x{i} OR ({text})" if i % 2 == 0 else f"x{i} {text}"
    return text


def test_too_deep() -> None:
    query = parse_query(nested(MAX_DEPTH))
    assert parse_query(str(query)) == query
    err = error_of(nested(MAX_DEPTH + 1))
    assert "too deeply nested" in err.message
    assert err.token == "("
    assert err.position == nested(MAX_DEPTH + 1).rindex("(")
    assert "too deeply nested" in error_of("a " + "-(b " * MAX_DEPTH + ")" * MAX_DEPTH).message


def test_pointer_renders_a_caret_under_the_token() -> None:
    err = error_of("vigie foo:bar")
    assert err.pointer() == "vigie foo:bar\n      ^^^"


def test_pointer_at_end_of_query() -> None:
    err = error_of("vigie (bug")
    assert err.pointer().splitlines() == ["vigie (bug", "      ^"]


def test_pointer_counts_wide_characters_twice() -> None:
    err = error_of("東京 foo:bar")
    assert err.pointer().splitlines()[1] == "     ^^^"


def test_pointer_replaces_control_characters() -> None:
    err = error_of("vigie\tfoo:bar")
    assert err.pointer() == "vigie foo:bar\n      ^^^"


def test_pointer_windows_long_queries() -> None:
    text = " ".join(["vigie"] * 40) + " foo:bar " + " ".join(["bug"] * 40)
    err = error_of(text)
    line, marks = err.pointer().splitlines()
    assert line.startswith("…") and line.endswith("…")
    assert len(line) <= 80
    column = marks.index("^")
    assert line[column : column + 3] == "foo"


def test_query_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(error_of("vigie foo:bar")))  # noqa: S301 - our own data
    assert (err.message, err.position, err.token, err.query)[1:] == (6, "foo", "vigie foo:bar")


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("acme AND NOT foo", "acme -foo"),
        ("acme NOT foo", "acme -foo"),
        ("acme NOT (jobs OR hiring)", "acme -(jobs OR hiring)"),
        ('acme NOT "free trial" lang:fr', 'acme -"free trial" lang:fr'),
        ("acme OR NOT foo bar", "(acme OR -foo) bar"),
        ("acme NOT NOT foo", "acme foo"),
        ("acme and not foo", "acme and not foo"),  # lower case: searched as words
    ],
)
def test_upper_case_not_is_an_exclusion(text: str, normalized: str) -> None:
    assert str(parse_query(text)) == normalized
    assert parse_query(normalized) == parse_query(text)


def test_not_excludes_when_matching() -> None:
    query = parse_query("acme AND NOT foo")
    assert query.matches(MatchInput(text="Acme is great"))
    assert not query.matches(MatchInput(text="acme foo bar"))


def test_unknown_language_code_lists_the_known_ones() -> None:
    message = error_of("acme lang:xx").message
    assert "fr, " in message and "en, " in message and "zh" in message
    assert parse_query("acme lang:pt-BR").fields() == [Field("lang", "pt-br")]


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("", "toutes les mentions"),
        ("vigie", "mentions contenant vigie"),
        ("bug OR panne", "mentions contenant bug ou panne"),
        (
            'vigie bug OR panne lang:fr -"free trial"',
            "mentions contenant vigie et (bug ou panne), en français, "
            "en excluant «\u00a0free trial\u00a0»",
        ),
        ('"appli vigie"', "mentions contenant «\u00a0appli vigie\u00a0»"),
        ("lang:fr", "mentions en français"),
        ("lang:en-gb source:mastodon", "mentions en anglais (GB), sur Mastodon"),
        ("from:vigie -source:x", "mentions de @vigie, pas sur X"),
        ("(lang:fr OR lang:es) vigie", "mentions contenant vigie, en français ou en espagnol"),
        ("vigie -(a b) -c", "mentions contenant vigie, en excluant (a et b) ou c"),
        ("vigie OR -spam", "mentions contenant vigie ou pas spam"),
        ("source:rss source:webhook", "mentions dans les flux RSS/Atom, du webhook"),
    ],
)
def test_describe_in_french(text: str, description: str) -> None:
    """The description is shown in Slack in the workspace's language, not only English."""
    assert parse_query(text).describe("fr") == description


def test_fields_the_language_does_not_know_are_described_as_given() -> None:
    """Only a query built outside the parser (it refuses unknown codes and sources)."""
    query = Query(And((Field("lang", "zz"), Field("source", "gopher"))))
    assert query.describe() == "mentions in language 'zz', from source 'gopher'"
    assert query.describe("fr") == (
        "mentions en langue «\u00a0zz\u00a0», de la source «\u00a0gopher\u00a0»")


@pytest.mark.parametrize("code", sorted(LANGUAGE_NAMES))
def test_every_language_is_named_in_both_languages(code: str) -> None:
    english = parse_query(f"lang:{code}").describe()
    assert english == f"mentions in {LANGUAGE_NAMES[code]}"
    french = parse_query(f"lang:{code}").describe("fr")
    assert french.startswith("mentions en ") and french[len("mentions en "):].islower()


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("AT&T", '"at&t"'),
        ('"AT & T" OR "H&M"', '"at&t" OR "h&m"'),
        ('"Procter &Gamble co"', '"procter&gamble co"'),
        ('"Procter& Gamble"', '"procter&gamble"'),
    ],
)
def test_words_joined_by_an_ampersand_keep_it_and_parse_back(text: str, normalized: str
                                                             ) -> None:
    query = parse_query(text)
    assert str(query) == normalized
    assert parse_query(normalized) == query
    assert "&" in query.describe()
