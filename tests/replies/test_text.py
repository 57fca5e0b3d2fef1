"""Links written without a scheme: bare domains are recognised by IANA's list of TLDs."""

from __future__ import annotations

import pytest

from bot.replies.text import find_urls, is_tld


def urls(text: str) -> list[str]:
    return [u.url for u in find_urls(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sign in at acme-support.help/login and", "acme-support.help/login"),
        ("go to evil.support", "evil.support"),
        ("open acme.zip now", "acme.zip"),
        ("see acme-refunds.me/claim", "acme-refunds.me/claim"),
        ("see acme-refunds.us/claim.", "acme-refunds.us/claim"),
        ("see acme-refunds.to?x=1", "acme-refunds.to?x=1"),
        ("see refunds.acme.it", "refunds.acme.it"),
        ("(acme-deals.top)", "acme-deals.top"),
        ("ACME-SUPPORT.BANK/Login!", "ACME-SUPPORT.BANK/Login"),
        ("claim at acme.live, today", "acme.live"),
        ("punycode: acme.xn--p1ai/x", "acme.xn--p1ai/x"),
        ("DM us at evil.io", "evil.io"),
        ("short: acme.co", "acme.co"),
    ],
)
def test_bare_domains_with_any_delegated_tld_are_links(text: str, expected: str) -> None:
    assert urls(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "e.g. this, i.e. that, etc.",
        "see file.txt and notes.docx",
        "version 2.0.1, v3.12 or 10.5",
        "Mr.Smith and Dr.Jones, St.Louis",
        "Node.js, config.json, index.html, photo.jpg",
        "open readme.md, run script.py or setup.sh",
        "merci.Je reviens vers vous",
        "ok.So we did it",
        "10 a.m. to 5 p.m. in the U.S.A.",
        "mail jane@acme.help",
        "our handle @acme.bsky.social",
        "acme.login/reset",
        "acme.help-desk",
        "acme.help2",
    ],
)
def test_ordinary_text_has_no_links(text: str) -> None:
    assert urls(text) == []


def test_a_rejected_word_does_not_hide_a_link_after_it() -> None:
    assert urls("readme.txt/https://evil.example/x") == ["https://evil.example/x"]


def test_spans_point_at_the_link() -> None:
    text = "Désolé ! acme-support.help/login."
    (url,) = find_urls(text)
    assert text[url.start : url.end] == "acme-support.help/login"


def test_is_tld() -> None:
    assert is_tld("help") and is_tld("ZIP") and is_tld("xn--p1ai") and is_tld("fr")
    assert not is_tld("txt") and not is_tld("login") and not is_tld("")
