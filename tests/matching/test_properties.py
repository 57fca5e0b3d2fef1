"""Property-based tests (hypothesis) for folding, queries and dedupe keys."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.matching.fingerprint import canonical_url, content_fingerprint, story_key
from bot.matching.query import MatchInput, QueryError, parse_query
from bot.matching.text import fold, tokenize

# Pieces of query syntax, valid and invalid, so that generated queries exercise the
# parser far more often than uniformly random text would.
FRAGMENTS = [
    "vigie", "Vigie", "élève", "ELEVE", "cœur", "Straße", "l'appli", "l’appli", "e-mail",
    "c++", "C#", "i18n", "#vigie", "#Bug", "@vigie", "@vigie@mastodon.social", "refund*",
    "a*", "*", "東京", "🙂", "!!", "OR", "AND", "or", "and", "(", ")", "()", '"', "“",
    "”", "«", "»", '"free trial"', "-", "--", "-spam", "lang:fr", "lang:FR-ca", "lang:",
    "lang:x", "from:@Vigie", "from:", "source:twitter", "source:mastodon", "source:nope",
    "foo:bar", "https://vigie.app/x?utm_source=y", "ＶＩＧＩＥ", "\t", "\n",
]  # fmt: skip

query_texts = st.lists(
    st.tuples(st.sampled_from(FRAGMENTS), st.sampled_from([" ", " ", "", "  "])),
    max_size=24,
).map(lambda parts: "".join(a + b for a, b in parts))

mention_texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from([*FRAGMENTS, "bug", "panne", "free", "trial"]), max_size=30).map(
        " ".join
    ),
)


@given(st.text(max_size=300))
@example("((((((((((((((((((((((((((((((((((((((((((((((((((a")
@example("-" * 400 + "a")
@example('"' + "a" * 600)
def test_parse_raises_only_query_error_on_any_text(text: str) -> None:
    try:
        parse_query(text)
    except QueryError as err:
        assert 0 <= err.position <= len(text)
        lines = err.pointer().split("\n")
        assert len(lines) == 2
        assert lines[1].strip(" ").strip("^") == ""


@given(query_texts)
@settings(max_examples=400)
def test_parse_raises_only_query_error_on_syntax_soup(text: str) -> None:
    try:
        parse_query(text)
    except QueryError as err:
        assert 0 <= err.position <= len(text)
        assert text[err.position : err.position + len(err.token)] == err.token or (
            "too long" in err.message
        )


@given(query_texts)
@settings(max_examples=200)
def test_str_round_trips(text: str) -> None:
    try:
        query = parse_query(text)
    except QueryError:
        assume(False)
        return
    rendered = str(query)
    reparsed = parse_query(rendered)
    assert reparsed == query
    assert str(reparsed) == rendered
    assert reparsed.describe() == query.describe()


@given(query_texts, mention_texts)
@settings(max_examples=150, suppress_health_check=[HealthCheck.filter_too_much])
def test_rendered_query_matches_the_same_mentions(text: str, mention: str) -> None:
    try:
        query = parse_query(text)
    except QueryError:
        assume(False)
        return
    item = MatchInput(text=mention, language="fr", network="x", author_handle="@Vigie")
    assert parse_query(str(query)).matches(item) == query.matches(item)


@given(query_texts, mention_texts)
@settings(max_examples=150, suppress_health_check=[HealthCheck.filter_too_much])
def test_exclusion_is_negation(text: str, mention: str) -> None:
    try:
        query = parse_query(text)
        negated = parse_query(f"qqqneverword OR -({text})")
    except QueryError:
        assume(False)
        return
    assume(not query.is_empty)
    item = MatchInput(text=mention, language="en")
    assert negated.matches(item) == (not query.matches(item))


@given(st.text(max_size=200), st.text(max_size=100))
def test_matching_never_raises(text: str, query_text: str) -> None:
    try:
        query = parse_query(query_text)
    except QueryError:
        return
    query.matches(MatchInput(text=text, title=text[:10], language=text[:3], network=text[:5]))


@given(mention_texts, st.data())
def test_every_token_of_a_text_finds_it(text: str, data: st.DataObject) -> None:
    tokens = tokenize(text)
    assume(tokens)
    start = data.draw(st.integers(0, len(tokens) - 1))
    end = data.draw(st.integers(start + 1, min(len(tokens), start + 4)))
    phrase = '"' + " ".join(tokens[start:end]) + '"'
    item = MatchInput(text=text)
    assert parse_query(tokens[start]).matches(item)
    assert parse_query(phrase).matches(item)


@given(mention_texts)
def test_matching_ignores_case_and_accents_of_the_text(text: str) -> None:
    query = parse_query("vigie OR eleve OR (coeur -spam)")
    expected = query.matches(MatchInput(text=text))
    assert query.matches(MatchInput(text=fold(text))) == expected
    if text.isascii():
        assert query.matches(MatchInput(text=text.upper())) == expected


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


@given(st.text())
def test_tokens_are_folded_and_non_empty(text: str) -> None:
    for token in tokenize(text):
        assert token
        assert fold(token) == token
        assert not any(c.isspace() for c in token)


# --- dedupe keys ---------------------------------------------------------------------


@given(st.text(max_size=300))
def test_url_functions_never_raise(text: str) -> None:
    canonical = canonical_url(text)
    key = story_key(text)
    assert (canonical is None) == (key is None)
    content_fingerprint(text)


urls = st.builds(
    lambda scheme, www, host, tld, path, params, frag: (
        f"{scheme}://{www}{host}.{tld}/{'/'.join(path)}"
        + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
        + (f"#{frag}" if frag else "")
    ),
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["", "www.", "WWW.", "m."]),
    st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True),
    st.sampled_from(["com", "fr", "co.uk", "social"]),
    st.lists(
        st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s and s.strip() == s),
        max_size=4,
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["utm_source", "fbclid", "id", "page", "q", "si", "ref", "v"]),
            st.from_regex(r"[a-zA-Z0-9%._-]{0,8}", fullmatch=True),
        ),
        max_size=4,
    ),
    st.text(max_size=5),
)


@given(urls)
def test_canonical_url_is_idempotent(url: str) -> None:
    canonical = canonical_url(url)
    if canonical is not None:
        assert canonical_url(canonical) == canonical
        assert story_key(canonical) == story_key(url)


@given(urls)
def test_story_key_ignores_tracking_and_fragments(url: str) -> None:
    key = story_key(url)
    assume(key is not None)
    separator = "&" if "?" in url.split("#")[0] else "?"
    base, _, fragment = url.partition("#")
    noisy = f"{base}{separator}utm_campaign=spring&fbclid=abc#{fragment or 'top'}"
    assert story_key(noisy) == key


@given(
    st.lists(
        st.sampled_from(["vigie", "panne", "bug", "merci", "élève", "appli"]),
        min_size=5,
        max_size=30,
    )
)
def test_fingerprint_ignores_case_punctuation_and_links(words: list[str]) -> None:
    text = " ".join(words)
    noisy = "RT @someone: " + ", ".join(w.upper() for w in words) + "!! https://t.co/x 🎉"
    assert content_fingerprint(text) == content_fingerprint(noisy)
