"""Normalization helpers: HTML to text, links, redirects, dates."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from html.entities import html5
from urllib.parse import urljoin, urlsplit

import nh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sources.text import (
    MAX_TEXT_CHARS,
    collapse_whitespace,
    extract_links,
    fix_mojibake,
    from_epoch,
    html_to_text,
    join_url,
    language_tag,
    parse_iso,
    parse_rfc822,
    unwrap_redirect,
    usable_url,
)


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Hello</p><p>world</p>", "Hello world"),
        ("a<br>b<br/>c", "a b c"),
        ("AT&amp;T &lt;3 &#8217; &nbsp;ok", "AT&T <3 \u2019 ok"),
        ("<script>alert(1)</script>safe<style>p{}</style>", "safe"),
        ("<!-- hidden -->shown", "shown"),
        ("<a href='x'>link</a>   text\n\n\tmore", "link text more"),
        ("plain text", "plain text"),
        ("", ""),
        (None, ""),
        ("don\x92t", "don\u2019t"),
        ("\xe2\x80\xa6", "\u2026"),
    ],
)
def test_html_to_text(markup: str | None, text: str) -> None:
    assert html_to_text(markup) == text


@given(st.text(max_size=300))
def test_html_to_text_never_leaves_tags_or_controls(markup: str) -> None:
    text = html_to_text(markup)
    assert "<script" not in text.lower()
    assert not any(ord(ch) < 32 for ch in text)
    assert text == text.strip()


def _through_the_html_parser(markup: str) -> str:
    """What html_to_text gives for markup without a tag when the HTML parser reads it."""
    cleaned = nh3.clean(markup, tags=set(), attributes={}, strip_comments=True)
    return collapse_whitespace(html.unescape(cleaned))


def test_text_without_tags_reads_its_references_as_the_html_parser_does() -> None:
    named = [f"a&{name}{end}b" for name in html5 for end in ("", ";", "x", "=", "1", " ", "&amp;")]
    numeric = [
        f"a{ref}b"
        for point in (0, 9, 13, 0x1F, 0x7F, 0x80, 0x9D, 0xA0, 0xD800, 0xFDD0, 0xFFFE, 0x1FFFE,
                      0x10FFFF, 0x110000)
        for ref in (f"&#{point};", f"&#x{point:x};", f"&#X{point:X}", f"&#{point}")
    ]
    for markup in [*named, *numeric, "&amp;lt;b&amp;gt; &&amp;; &#", "Q&A\r\n&nbsp;\x00"]:
        assert html_to_text(markup) == _through_the_html_parser(markup), markup


@given(st.text(alphabet="&;#xX0123456789abcdefglmnopt \r\n\t\x00\x0b\x85\xa0\ufffe=>!-?",
               max_size=30))
def test_any_text_without_tags_reads_as_through_the_html_parser(markup: str) -> None:
    assert html_to_text(markup) == _through_the_html_parser(markup)


def test_fix_mojibake_leaves_good_text_alone() -> None:
    assert fix_mojibake("caf\xe9 \u2019") == "caf\xe9 \u2019"


def test_extract_links() -> None:
    markup = (
        '<a href="https://a.test/1">1</a> <a class="mention hashtag" href="https://m.test/tags/x">#x</a>'
        "<a href='/rel'>r</a> <a href=mailto:x@y.z>m</a> <a href=\"https://a.test/1\">dup</a>"
    )
    assert extract_links(markup, skip_classes=("mention",)) == ("https://a.test/1",)
    assert extract_links(markup, base="https://base.test/x/", skip_classes=("hashtag",)) == (
        "https://a.test/1",
        "https://base.test/rel",
    )


@pytest.mark.parametrize(
    ("url", "real"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://news.test/a%3Fb%3D1&ct=ga",
            "https://news.test/a?b=1",
        ),
        ("https://www.google.fr/url?q=https://x.test/&sa=U", "https://x.test/"),
        (
            "https://www.google.com/url?url=javascript:alert(1)",
            "https://www.google.com/url?url=javascript:alert(1)",
        ),
        (
            "https://evilgoogle.com/url?url=https://x.test/",
            "https://evilgoogle.com/url?url=https://x.test/",
        ),
        ("https://news.test/google.com/url", "https://news.test/google.com/url"),
    ],
)
def test_unwrap_redirect(url: str, real: str) -> None:
    assert unwrap_redirect(url) == real


def test_dates_are_aware_utc() -> None:
    assert parse_iso("2019-12-08T03:48:33.901Z") == datetime(
        2019, 12, 8, 3, 48, 33, 901000, tzinfo=UTC
    )
    assert parse_iso("2024-02-22T19:58:13.903293+00:00") == datetime(
        2024, 2, 22, 19, 58, 13, 903293, tzinfo=UTC
    )
    assert parse_iso("2024-01-01T01:00:00+0100") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_iso("2023-08-07T05:31:12.1568889Z") == datetime(
        2023, 8, 7, 5, 31, 12, 156888, tzinfo=UTC
    )
    assert parse_iso("2024-01-01T00:00:00") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_iso("yesterday") is None and parse_iso(None) is None
    assert parse_rfc822("Thu, 01 Jan 2004 19:48:21 GMT") == datetime(
        2004, 1, 1, 19, 48, 21, tzinfo=UTC
    )
    assert parse_rfc822("Thu, 01 Jan 2004 21:48:21 +0200") == datetime(
        2004, 1, 1, 19, 48, 21, tzinfo=UTC
    )


def test_epoch_seconds_are_numbers_not_booleans() -> None:
    assert from_epoch(True) is None and from_epoch(False) is None
    assert from_epoch(86400) == from_epoch("86400") == datetime(1970, 1, 2, tzinfo=UTC)
    assert from_epoch(1.5e300) is None and from_epoch("soon") is None


@pytest.mark.parametrize("value", [
    "9999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+05:00", "9999-12-31 23:00-0500",
    "9999-12-31T23:59:59.5-01:00"])
def test_an_iso_time_whose_offset_leaves_the_calendar_has_no_date(value: str) -> None:
    assert parse_iso(value) is None


@pytest.mark.parametrize("value", [
    "Fri, 31 Dec 9999 23:00:00 -0500", "31 Dec 9999 23:59:59 -0100",
    "Mon, 01 Jan 2024 24:00:00 GMT", "Mon, 01 Jan 2024 24:00:00 +0100",
    "Mon, 01 Jan 2024 23:60:00 GMT", "Mon, 32 Jan 2024 10:00:00 GMT"])
def test_an_rfc822_time_out_of_range_has_no_date(value: str) -> None:
    assert parse_rfc822(value) is None


@pytest.mark.parametrize(
    ("tag", "primary"), [("en-US", "en"), ("pt_BR", "pt"), ("und", None), ("", None), ("x1", None)]
)
def test_language_tag(tag: str, primary: str | None) -> None:
    assert language_tag(tag) == primary


def _collapse_slowly(text: str) -> str:
    """What collapse_whitespace means, written without its shortcut."""
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", fix_mojibake(text))
    return re.sub(r"\s+", " ", text).strip()[:MAX_TEXT_CHARS]


@given(st.text(max_size=80) | st.text(alphabet=" \t\n\xa0\x85\u2028\x92ab\u00e9", max_size=40))
def test_collapse_whitespace_shortcut_changes_nothing(text: str) -> None:
    assert collapse_whitespace(text) == _collapse_slowly(text)


_URL_PIECES = st.sampled_from([
    "http://", "https://", "HTTP://", "ftp://", "//", "/", "../", "./", "a", "b.c", "-", ":",
    "8080", "?", "#", ";", "=", "&", "[", "]", "@", " ", "\t", "\n", "%20", "\u00e9", "x", ".",
])
_BASES = st.sampled_from([
    "", "https://news.example.com/feed/", "http://a.example/dir/page?q=1#f", "https://h/",
    "ftp://files.example/x", "relative/base", "https://[::1]:8443/a;p?q",
])


@given(_BASES, st.lists(_URL_PIECES, max_size=12).map("".join))
def test_join_url_agrees_with_urljoin(base: str, link: str) -> None:
    """urljoin's answer when it has one that urlsplit reads (port included), else None:
    a malformed link is dropped, never raised."""
    expected: str | None
    try:
        expected = urljoin(base, link)
        urlsplit(expected).port  # noqa: B018 -- ValueError on a port out of range
    except ValueError:
        expected = None
    assert join_url(base, link) == expected


@given(st.lists(_URL_PIECES, max_size=12).map("".join))
def test_usable_url_is_what_urlsplit_reads(url: str) -> None:
    try:
        urlsplit(url).port  # noqa: B018 -- ValueError on a malformed URL or port
    except ValueError:
        assert usable_url(url) is None
    else:
        assert usable_url(url) == url


@pytest.mark.parametrize(("base", "link"), [
    ("https://news.example/feed", "http://[bad/"),
    ("https://news.example/feed", "http://a:99999/"),
    ("https://news.example/feed", "https://a.example:65536/x"),
    ("https://news.example/feed", "http://[not-ipv6]/"),
    ("http://[bad/", "/relative"),
    ("http://a:99999/", "relative"),
])
def test_join_url_drops_links_that_cannot_be_parsed_or_joined(base: str, link: str) -> None:
    assert join_url(base, link) is None


def test_join_url_keeps_ports_urlsplit_reads() -> None:
    assert join_url("https://n.example/", "http://a.example:0000065535/x") == (
        "http://a.example:0000065535/x")
    assert join_url("https://n.example/", "http://a.example:0/") == "http://a.example:0/"


def test_extract_links_drops_malformed_targets_with_or_without_a_base() -> None:
    markup = ('<a href="http://[bad/">bad</a> <a href="https://ok.example/1">ok</a>'
              ' <a href="http://a:99999/">port</a> <a href="/rel">rel</a>')
    assert extract_links(markup) == ("https://ok.example/1",)
    assert extract_links(markup, base="https://site.example/post") == (
        "https://ok.example/1", "https://site.example/rel")
    assert extract_links(markup, base="http://[bad/") == ("https://ok.example/1",)


@pytest.mark.parametrize("link", [
    "https://news.example.com/2026/11/story?id=4&utm_source=x#top",
    "http://example.com", "http://example.com:8080/a/b", "https://example.com?x=1",
])
def test_join_url_keeps_plain_absolute_links(link: str) -> None:
    assert join_url("https://other.example/feed", link) == link == urljoin(
        "https://other.example/feed", link)


def test_markup_nested_too_deep_takes_the_strip_path_with_the_same_rules() -> None:
    from bot.sources.text import MAX_HTML_DEPTH, nesting_depth

    inner = ("<p>Hello <b>world</b> &amp; co</p><script>alert(1)</script>"
             "<style>p{}</style><!-- note --><a href='https://x.example/'>link</a>")
    assert nesting_depth(inner) == 1  # <p> is closed by the next block: it never nests
    deep = "<div>" * (MAX_HTML_DEPTH + 1) + inner + "</div>" * (MAX_HTML_DEPTH + 1)
    assert nesting_depth(deep) > MAX_HTML_DEPTH
    assert html_to_text(deep) == html_to_text(inner) == "Hello world & co link"
    # Void and implied-end elements do not deepen the tree.
    assert nesting_depth("<p>a<br><li>b<img src=x/>" * 1000) <= 1


def test_unclosed_tags_are_read_in_linear_time() -> None:
    """Thousands of "<a" or "<br" without ">" once made the tag searches quadratic."""
    from bot.sources.text import extract_links

    assert extract_links("<a " * 200_000 + '<a href="https://ok.example/">x</a>') == ()
    assert extract_links('<a href="https://ok.example/">x</a>' + "<a " * 200_000) == (
        "https://ok.example/",)
    assert html_to_text("<br " * 20_000 + "end") == ""


def test_long_tag_and_attribute_names_are_read_in_linear_time() -> None:
    """A 40,000-letter attribute name in ``<a ...>`` took 27 s (a match tried from every
    letter backtracked to the name's end), a "<" followed by 40,000 letters and no ">"
    18 s: these, at the 80,000-character cap, would take minutes."""
    n = MAX_TEXT_CHARS * 4 - 100
    for letter in "abc":
        name = letter * n
        assert extract_links(f"<a {name}>x</a>") == ()
        assert extract_links(f'<a href="https://ok.example/{letter}" {name}>x</a>') == (
            f"https://ok.example/{letter}",)
        assert html_to_text(f"x <{name}") == "x"


@pytest.mark.parametrize(("value", "utc"), [
    ("Mon, 07 Dec 2026 10:00:00 CET", datetime(2026, 12, 7, 9, tzinfo=UTC)),
    ("Tue, 07 Jul 2026 10:00:00 CEST", datetime(2026, 7, 7, 8, tzinfo=UTC)),
    ("Mon, 07 Dec 2026 10:00:00 EET", datetime(2026, 12, 7, 8, tzinfo=UTC)),
    ("Tue, 07 Jul 2026 10:00:00 EEST", datetime(2026, 7, 7, 7, tzinfo=UTC)),
    ("Mon, 07 Dec 2026 10:00:00 WET", datetime(2026, 12, 7, 10, tzinfo=UTC)),
    ("Tue, 07 Jul 2026 10:00:00 WEST", datetime(2026, 7, 7, 9, tzinfo=UTC)),
    ("Mon, 07 Dec 2026 10:00:00 JST", datetime(2026, 12, 7, 1, tzinfo=UTC)),
    ("Mon, 07 Dec 2026 10:00:00 msk", datetime(2026, 12, 7, 7, tzinfo=UTC)),
    # RFC 822's own zones, as before; PST is also the Philippines' in the tz database.
    ("Mon, 07 Dec 2026 10:00:00 PST", datetime(2026, 12, 7, 18, tzinfo=UTC)),
    ("Mon, 07 Dec 2026 10:00:00 EST", datetime(2026, 12, 7, 15, tzinfo=UTC)),
    # IST is India's, Ireland's and Israel's: no guess, read as UTC as before.
    ("Mon, 07 Dec 2026 10:00:00 IST", datetime(2026, 12, 7, 10, tzinfo=UTC)),
    ("Mon, 07 Dec 2026 10:00:00 XYZ", datetime(2026, 12, 7, 10, tzinfo=UTC)),
    # Abbreviations in common use with another meaning than the tz database's, read as
    # UTC as before: SST is Samoa's there (-11) and Singapore's for its feeds (+8), BST
    # British Summer Time and Bangladesh's.
    ("Mon, 07 Dec 2026 10:00:00 SST", datetime(2026, 12, 7, 10, tzinfo=UTC)),
    ("Tue, 07 Jul 2026 10:00:00 BST", datetime(2026, 7, 7, 10, tzinfo=UTC)),
    # The offset of the date's own year: Moscow was at +4 from 2011 to 2014.
    ("Sat, 07 Jul 2012 10:00:00 MSK", datetime(2012, 7, 7, 6, tzinfo=UTC)),
    ("Mon, 07 Dec 2015 10:00:00 MSK", datetime(2015, 12, 7, 7, tzinfo=UTC)),
])
def test_an_rfc822_time_in_a_named_zone_is_read_in_that_zone(value: str, utc: datetime) -> None:
    """CET was read as UTC: a German feed's posts an hour (CEST: two) in the future."""
    assert parse_rfc822(value) == utc
