"""Network length limits, counted the way each network counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.replies.limits import (
    NETWORK_LIMITS,
    URL_LENGTH,
    fits,
    last_full_sentence,
    limit_for,
    measure,
    trim_to_limit,
)
from bot.replies.text import find_urls, grapheme_count


def test_default_limits() -> None:
    assert limit_for("x") == 280
    assert limit_for("twitter") == 280
    assert limit_for("Bluesky") == 300
    assert limit_for("mastodon") == 500
    assert limit_for("rss") is None
    assert limit_for("hn") is None
    assert limit_for("mastodon", limit=1000) == 1000
    assert dict(NETWORK_LIMITS) == {"x": 280, "bluesky": 300, "mastodon": 500}


def test_x_counts_urls_as_23() -> None:
    long_url = "https://example.com/" + "a" * 200
    assert measure(f"See {long_url}", "x") == (4 + URL_LENGTH, 280)
    assert measure("See https://t.co/x", "x") == (4 + URL_LENGTH, 280)
    assert measure("See example.com/promo now", "x") == (4 + URL_LENGTH + 4, 280)


def test_x_weights_cjk_and_emoji_as_two() -> None:
    assert measure("abc", "x")[0] == 3
    assert measure("日本", "x")[0] == 4
    assert measure("😀", "x")[0] == 2
    assert measure("👨‍👩‍👧‍👦", "x")[0] == 2  # one emoji sequence
    assert measure("🇫🇷", "x")[0] == 2
    assert measure("e\u0301", "x")[0] == 1  # NFC: é
    assert measure("“quoted”—ok", "x")[0] == 11


def test_bluesky_counts_graphemes() -> None:
    assert measure("👨‍👩‍👧‍👦🇫🇷e\u0301", "bluesky") == (3, 300)
    text = "https://example.com/" + "a" * 50
    assert measure(text, "bluesky")[0] == len(text)  # links are not shortened
    assert not fits("é" * 301, "bluesky")
    assert fits("é" * 300, "bluesky")


def test_mastodon_urls_and_remote_mentions() -> None:
    url = "https://example.org/" + "b" * 80
    assert measure(f"Hi @alice@mastodon.social {url}", "mastodon") == (3 + 6 + 1 + 23, 500)
    # bare domains are not shortened on Mastodon
    assert measure("example.org/abc", "mastodon")[0] == len("example.org/abc")
    assert measure("x" * 600, "mastodon", limit=1000) == (600, 1000)


def test_unlimited_networks() -> None:
    assert measure("hello 👋", "reddit") == (7, None)
    assert fits("x" * 100_000, "rss")


def test_find_urls_trims_punctuation() -> None:
    urls = [u.url for u in find_urls("Go to https://a.example/x. Or (www.b.fr/y), or c.com!")]
    assert urls == ["https://a.example/x", "www.b.fr/y", "c.com"]
    wiki = "https://en.wikipedia.org/wiki/Foo_(bar)"
    assert [u.url for u in find_urls(f"see {wiki}")] == [wiki]
    assert find_urls("mail me at jane@example.com") == []
    assert find_urls("Node.js and e.g. version 2.0.1") == []


def test_x_counts_a_bare_domain_on_any_tld_as_a_link() -> None:
    assert measure("see a.help", "x")[0] == len("see ") + URL_LENGTH
    assert measure("see a.txt", "x")[0] == len("see a.txt")


# weightedLength of twitter-text 3.1.0's parseTweet (the npm package X's docs point to),
# measured for these texts: v3 links a bare name on any TLD, one label on a country code
# too ("readme.md"), and the first labels of a name that end on one ("foo.bar" of
# "foo.bar.baz", ".baz" being no TLD); a non-ASCII host ("пример.рф", 9) is counted as a
# link here, more.
TWITTER_TEXT_3_1_0 = [
    ("see readme.md", 27),
    ("run script.py", 27),
    ("merci.je", 23),
    ("done.it", 23),
    ("evil.io", 23),
    ("acme.help/login", 23),
    ("see README.MD now", 31),
    ("open file.txt now", 17),
    ("Node.js rocks", 13),
    ("price is 3.50 today", 19),
    ("ご注文ありがとうございます。よろしく", 36),
    # A name whose last label is no TLD: X links its first labels that end on one.
    ("foo.bar.baz", 27),
    ("see foo.bar.baz now", 35),
    ("status.acme.io", 23),
    ("status.acme.io.x", 25),
    ("see readme.md.bak", 31),
    ("a.b.com.zz.qq", 29),
    ("foo.bar.baz/x", 29),
    ("foo.bar+x", 9),
    ("a.b.c", 5),
    ("Merci ! Les étapes sont dans readme.md et script.py ; la FAQ est sur merci.je et done.it."
     + " Nous restons disponibles." * 7, 330),
]


@pytest.mark.parametrize(("text", "weighted"), TWITTER_TEXT_3_1_0)
def test_x_counts_as_twitter_text_v3(text: str, weighted: int) -> None:
    assert measure(text, "x")[0] == weighted


def test_x_never_counts_less_than_twitter_text_for_a_non_ascii_host() -> None:
    assert measure("пример.рф", "x")[0] >= 9


def test_trim_prefers_sentence_end() -> None:
    text = "Thanks for your message. We are looking into it right now and will come back."
    trimmed = trim_to_limit(text, 40)
    assert trimmed == "Thanks for your message."


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("We are on it. They will refund the", "We are on it."),
        ("Version 3.5 is out and", ""),
        ("ご連絡ありがとうございます。担当者が確認して", "ご連絡ありがとうございます。"),
        ("本当ですか！？確認します。担当", "本当ですか！？確認します。"),
        ("感谢您的反馈！我们会尽快处理。请您", "感谢您的反馈！我们会尽快处理。"),
        ("「承知しました。」担当者が", "「承知しました。」"),
        ("ｺﾞ連絡ｱﾘｶﾞﾄｳ｡担当", "ｺﾞ連絡ｱﾘｶﾞﾄｳ｡"),
        ("धन्यवाद। हम इसे देख रहे", "धन्यवाद।"),
        ("هل جربت إعادة التشغيل؟ سنقوم", "هل جربت إعادة التشغيل؟"),
        ("Շնորհակալություն։ Մենք", "Շնորհակալություն։"),
    ],
    ids=["latin", "decimal", "japanese", "exclamation-question", "chinese", "bracket",
         "halfwidth", "hindi", "arabic", "armenian"],
)
def test_last_full_sentence(text: str, kept: str) -> None:
    assert last_full_sentence(text) == kept


def test_trim_prefers_a_cjk_sentence_end() -> None:
    thanks, sorry = "ご連絡ありがとうございます。", "ご不便をおかけして申し訳ありません。"
    text = (thanks + sorry) * 5
    assert trim_to_limit(text, 100, "x") == thanks + sorry + thanks  # 92 of 100 on X


def test_trim_at_word_boundary_with_ellipsis() -> None:
    text = "a" * 5 + " " + "bbbbbbbbbb " * 10
    trimmed = trim_to_limit(text, 30, "x")
    assert trimmed.endswith("…")
    assert fits(trimmed, "x", limit=30)
    assert " bbbbbbbbbb…" in trimmed or trimmed == "aaaaa…"


def test_trim_single_long_word() -> None:
    assert trim_to_limit("😀" * 20, 5, "bluesky") == "😀" * 4 + "…"


def test_trim_noop_when_it_fits() -> None:
    assert trim_to_limit("short", 280, "x") == "short"
    assert trim_to_limit("anything", None) == "anything"


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.integers(min_value=1, max_value=300),
    st.sampled_from(["x", "bluesky", "mastodon", "rss"]),
)
def test_trim_always_fits(text: str, limit: int, network: str) -> None:
    trimmed = trim_to_limit(text, limit, network)
    assert fits(trimmed, network, limit=limit)
    assert measure(trimmed, network)[0] >= 0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_grapheme_count_never_exceeds_code_points(text: str) -> None:
    assert grapheme_count(text) <= len(text)


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_exact_limit_fits(network: str) -> None:
    limit = limit_for(network)
    assert limit is not None
    assert fits("a" * limit, network)
    assert not fits("a" * (limit + 1), network)
