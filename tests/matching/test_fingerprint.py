"""Content fingerprints and story keys."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.matching.fingerprint import (
    FINGERPRINT_MAX_TOKENS,
    _split,
    canonical_url,
    content_fingerprint,
    fingerprint_text,
    is_social_post_url,
    story_key,
    story_key_for,
)

ORIGINAL = "Notre nouvelle appli Vigie est disponible sur iOS et Android !"


@pytest.mark.parametrize(
    "variant",
    [
        ORIGINAL,
        "RT @vigie: " + ORIGINAL,
        "rt @vigie : RT @other: " + ORIGINAL,
        "MT @vigie: " + ORIGINAL,
        ORIGINAL + " https://vigie.app/?utm_source=twitter",
        ORIGINAL + " https://t.co/AbCdEf",
        "NOTRE nouvelle appli vigie est DISPONIBLE sur iOS et Android 🎉🎉",
        "Notre   nouvelle appli Vigie est disponible\nsur iOS et Android.",
        "@vigie@mastodon.social " + ORIGINAL,
        "@alice @bob " + ORIGINAL,
        ORIGINAL + " via @vigie",
        ORIGINAL + " (via @vigie.bsky.social)",
        "Notre nouvelle appli #Vigie est disponible sur #iOS et #Android",
        "Notre nouvelle appli Vigie est disponible sur iOS et Android www.vigie.app/launch",
    ],
)
def test_near_duplicates_collapse(variant: str) -> None:
    assert content_fingerprint(variant) == content_fingerprint(ORIGINAL)


@pytest.mark.parametrize("credit", [
    "via @news", "VIA @news", "vİa @news", "vıa @news", "(Via: @news)", "h/t @news",
    "H/T @news", "cc @news @other", "CC: @news",
])
def test_every_spelling_of_a_trailing_credit_is_dropped(credit: str) -> None:
    # The text holds no "vi", "vı", "h/t" or "cc" of its own: only the credit can let the
    # suffix pattern run (Turkish dotted and dotless i match "i" case-insensitively).
    text = "Our new app is out on phones and tablets today"
    assert content_fingerprint(f"{text} {credit}") == content_fingerprint(text)


def test_accents_are_folded_in_fingerprints() -> None:
    assert content_fingerprint("L'équipe a réparé la panne hier soir") == content_fingerprint(
        "L’EQUIPE a repare la panne hier soir"
    )


def test_handles_inside_text_count_by_their_first_label() -> None:
    base = "merci @vigie pour la réparation si rapide"
    assert content_fingerprint(base) == content_fingerprint(
        "merci @vigie@mastodon.social pour la réparation si rapide"
    )
    assert content_fingerprint(base) != content_fingerprint(
        "merci @other pour la réparation si rapide"
    )


def test_different_texts_differ() -> None:
    assert content_fingerprint(ORIGINAL) != content_fingerprint(
        "Notre nouvelle appli Vigie est disponible sur iOS seulement"
    )


@pytest.mark.parametrize(
    "short",
    [
        "",
        "lol",
        "Thanks @vigie!",
        "I love this product",
        "a b c d e f",
        "RT @vigie: lol 🎉",
        "🎉🎉🎉🎉",
    ],
)
def test_short_texts_have_no_fingerprint(short: str) -> None:
    assert content_fingerprint(short) is None
    assert fingerprint_text(short) is None


def test_fingerprint_format() -> None:
    fingerprint = content_fingerprint(ORIGINAL)
    assert fingerprint is not None
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprint)


def test_truncated_cross_post_matches_when_long_enough() -> None:
    words = [f"mot{i}" for i in range(FINGERPRINT_MAX_TOKENS + 20)]
    full = " ".join(words)
    truncated = " ".join(words[: FINGERPRINT_MAX_TOKENS + 5]) + " mo… https://vigie.app/p/1"
    assert content_fingerprint(full) == content_fingerprint(truncated)


def test_fingerprint_text_shows_the_normalized_words() -> None:
    assert fingerprint_text("RT @vigie: L'appli Vigie CRASHE encore ! #bug https://x.co/1") == (
        "l appli vigie crashe encore bug"
    )


# --- URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://WWW.Example.COM/Path", "https://example.com/Path"),
        ("https://example.com/a/", "https://example.com/a"),
        ("https://example.com/", "https://example.com"),
        ("https://example.com/a#section", "https://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://user:secret@example.com/a", "https://example.com/a"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9"),
        ("https://example.com/café", "https://example.com/caf%C3%A9"),
        ("https://example.com/%7euser", "https://example.com/~user"),
        ("https://café.example/x", "https://xn--caf-dma.example/x"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        (
            "https://example.com/a?utm_source=x&UTM_Medium=y&fbclid=1&gclid=2&mc_cid=3"
            "&mc_eid=4&ref=5&ref_src=6&igshid=7&si=8&id=9",
            "https://example.com/a?id=9",
        ),
        ("https://example.com/?s=vigie", "https://example.com?s=vigie"),
        ("https://x.com/vigie/status/1?s=20&t=abc", "https://x.com/vigie/status/1"),
        ("https://twitter.com/vigie/status/1", "https://x.com/vigie/status/1"),
        ("https://mobile.twitter.com/vigie", "https://x.com/vigie"),
        ("https://old.reddit.com/r/vigie/", "https://reddit.com/r/vigie"),
        ("www.example.com/a", "https://example.com/a"),
        ("//example.com/a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
        ("https://[2001:DB8::1]:8080/a", "https://[2001:db8::1]:8080/a"),
        ("https://t.co/AbC123", "https://t.co/AbC123"),
        ("https://bit.ly/3xYz", "https://bit.ly/3xYz"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "https://youtu.be/dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?si=abc&t=42",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&list=PL1",
        "https://youtube.com/shorts/dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ?autoplay=1",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        "https://www.youtube.com/live/dQw4w9WgXcQ",
        "https://music.youtube.com/watch?v=dQw4w9WgXcQ",
    ],
)
def test_youtube_forms_share_one_url(url: str) -> None:
    assert canonical_url(url) == "https://youtube.com/watch?v=dQw4w9WgXcQ"


def test_other_youtube_pages_are_kept() -> None:
    assert canonical_url("https://www.youtube.com/@vigie?si=x") == "https://youtube.com/@vigie"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.google.com/url?rct=j&sa=t&url=https://news.example.fr/article%3Fid%3D3"
        "&ct=ga&cd=CAIyGg&usg=AOvVaw",
        "https://www.google.fr/url?q=https%3A%2F%2Fnews.example.fr%2Farticle%3Fid%3D3",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fnews.example.fr%2Farticle%3Fid%3D3"
        "%26fbclid%3DIwAR&h=AT0",
        "https://lm.facebook.com/l.php?u=https%3A%2F%2Fnews.example.fr%2Farticle%3Fid%3D3",
        "https://l.instagram.com/?u=https%3A%2F%2Fnews.example.fr%2Farticle%3Fid%3D3&e=AT",
        "https://www.youtube.com/redirect?q=https%3A%2F%2Fnews.example.fr%2Farticle%3Fid%3D3",
        "https://out.reddit.com/t3_x?url=https%3A%2F%2Fnews.example.fr%2Farticle%3Fid%3D3",
        "https://href.li/?https://news.example.fr/article?id=3",
        "https://duckduckgo.com/l/?uddg=https%3A%2F%2Fnews.example.fr%2Farticle%3Fid%3D3",
        "https://www.google.com/amp/s/news.example.fr/article?id=3",
        "https://www.google.com/url?q=https%3A%2F%2Fl.facebook.com%2Fl.php%3Fu%3D"
        "https%253A%252F%252Fnews.example.fr%252Farticle%253Fid%253D3",
    ],
)
def test_redirectors_are_unwrapped(url: str) -> None:
    assert story_key(url) == story_key("https://news.example.fr/article?id=3")


def test_google_search_pages_are_not_redirects() -> None:
    assert canonical_url("https://www.google.com/search?q=vigie") == (
        "https://google.com/search?q=vigie"
    )
    assert canonical_url("https://www.google.com/url?q=javascript:alert(1)") == (
        "https://google.com/url?q=javascript%3Aalert%281%29"
    )


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "mailto:team@vigie.app",
        "ftp://example.com/file",
        "javascript:alert(1)",
        "https://",
        "https:///path",
        "http://exa mple.com/",
        "https://a..b/",
        "https://example.com:99999/",
        "http://[::1",
        "https://\ud800.com/",
    ],
)
def test_unusable_urls(url: str) -> None:
    assert canonical_url(url) is None
    assert story_key(url) is None


def test_story_key_ignores_scheme_and_noise() -> None:
    key = story_key("https://www.example.com/post?utm_source=mastodon#comments")
    assert key is not None
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert key == story_key("http://example.com/post/")
    assert key != story_key("https://example.com/other")


@pytest.mark.parametrize(
    ("url", "social"),
    [
        ("https://mastodon.social/@vigie/112233445566", True),
        ("https://piaille.fr/@vigie", True),
        ("https://piaille.fr/users/vigie/statuses/1122", True),
        ("https://piaille.fr/tags/vigie", True),
        ("https://pleroma.example/notice/AbC", True),
        ("https://bsky.app/profile/vigie.bsky.social/post/3kxyz", True),
        ("https://news.ycombinator.com/item?id=123", True),
        ("https://www.reddit.com/r/vigie/comments/abc/title/", True),
        ("https://redd.it/abc", True),
        ("https://twitter.com/vigie/status/1", True),
        ("not a url", True),
        ("https://vigie.app/blog/launch", False),
        ("https://medium.com/@vigie/launching-vigie-1a2b3c", False),
        ("https://youtu.be/dQw4w9WgXcQ", False),
        ("https://t.co/AbC123", False),
    ],
)
def test_is_social_post_url(url: str, social: bool) -> None:
    assert is_social_post_url(url) is social


ARTICLE = "https://news.example.fr/2024/vigie-leve-des-fonds"
ARTICLE_KEY = story_key(ARTICLE)


def test_mastodon_post_story_is_its_external_link() -> None:
    links = [
        "https://mastodon.social/tags/vigie",
        "https://mastodon.social/@alice",
        "https://piaille.fr/@bob",
        ARTICLE + "?utm_source=mastodon",
        "https://other.example/second-link",
    ]
    assert story_key_for(links, "https://mastodon.social/@carol/1122334455") == ARTICLE_KEY


def test_same_link_on_several_networks_is_one_story() -> None:
    keys = {
        story_key_for([ARTICLE], "https://bsky.app/profile/a.bsky.social/post/3k"),
        story_key_for([ARTICLE + "/"], "https://news.ycombinator.com/item?id=1"),
        story_key_for(
            ["https://www.reddit.com/user/bob", "http://www." + ARTICLE[8:]],
            "https://www.reddit.com/r/france/comments/abc/vigie/",
        ),
        story_key_for([], ARTICLE + "#comments"),  # the feed entry is the article itself
        story_key_for([], "https://www.google.com/url?url=" + ARTICLE + "&ct=ga"),  # Google Alerts
    }
    assert keys == {ARTICLE_KEY}


def test_social_post_without_external_link_has_no_story() -> None:
    assert story_key_for([], "https://mastodon.social/@vigie/1") is None
    assert (
        story_key_for(
            ["https://mastodon.social/tags/vigie", "https://x.com/vigie/status/2", "mailto:a@b.c"],
            "https://mastodon.social/@vigie/1",
        )
        is None
    )
    assert story_key_for(["https://news.ycombinator.com/user?id=pg"], "") is None


def test_no_own_url() -> None:
    assert story_key_for(["not a url", ARTICLE], None) == ARTICLE_KEY
    assert story_key_for([], None) is None


_URL_PIECES = st.sampled_from([
    "http://", "https://", "HTTPS://", "www.", "//", "/", "..", ".", "a", "B", "google.com",
    "youtu.be", ":", "443", "8080", "@", "user:pw@", "?", "#", "&", "=", "utm_source", "v",
    "%41", "%", " ", "\t", "\n", "\u00e9", "[", "]", "::1", "m.", "-", "_", "\x01", ";",
])


@given(st.sampled_from(["http://", "https://", "HTTP://", "", "//"]),
       st.lists(_URL_PIECES, max_size=12).map("".join))
def test_plain_urls_are_split_as_urlsplit_splits_them(scheme: str, rest: str) -> None:
    url = scheme + rest
    try:
        parts = urlsplit(url)
        expected = (parts.scheme.lower(), parts.hostname, parts.port, parts.path, parts.query)
    except ValueError:
        assert _split(url) is None
        return
    assert _split(url) == expected


def test_an_ampersand_joining_words_leaves_the_fingerprint_as_it_was() -> None:
    # Stored fingerprints were computed with "&" as a word separator.
    assert fingerprint_text("AT&T network down again in Paris today") == (
        "at t network down again in paris today")
    assert content_fingerprint("AT & T network down again in Paris today") == (
        content_fingerprint("AT T network down again in Paris today"))
