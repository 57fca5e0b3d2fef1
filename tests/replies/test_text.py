"""Links written without a scheme: bare domains are recognised by IANA's list of TLDs."""

from __future__ import annotations

import pytest

from bot.replies.text import ascii_host, find_urls, is_tld


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("voir münchen.de/anfahrt.", "münchen.de/anfahrt"),
        ("go to пример.рф", "пример.рф"),
        ("go to ПРИМЕР.РФ/путь!", "ПРИМЕР.РФ/путь"),
        ("punycode: xn--e1afmkfd.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("see bücher.example.com/x", "bücher.example.com/x"),
        ("sign in at аpple.com/login", "аpple.com/login"),  # Cyrillic "а"
        ("(straße.de/info)", "straße.de/info"),
        ("café.fr", "café.fr"),
        ("中国的例子.中国", "中国的例子.中国"),
    ],
)
def test_internationalized_domains_are_links(text: str, expected: str) -> None:
    """A bare IDN is a link as its ASCII twin is (a label started mid-word would have
    hidden "аpple.com" whole: its first letter is Cyrillic)."""
    assert urls(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Voilà, c'est réglé.Merci de votre patience",
        "Ça marche, à bientôt.Bonne journée",
        "impression de déjà.vu",
        "envoyez fichier.txt, réponse.pdf ou Résumé.docx",
        "naïve.jpg, über.Uns, straße.at",
        "la v1.2 à München, version 3.0 für Köln",
        "т.е. и т.д. в 10.5",
        "e.g. café, i.e. thé, etc.",
    ],
)
def test_accented_and_other_script_prose_has_no_links(text: str) -> None:
    assert urls(text) == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("München.DE", "xn--mnchen-3ya.de"),
        ("пример.рф.", "xn--e1afmkfd.xn--p1ai"),
        ("XN--E1AFMKFD.xn--p1ai", "xn--e1afmkfd.xn--p1ai"),
        ("аpple.com", "xn--pple-43d.com"),  # Cyrillic "а": never apple.com
        ("ａｐｐｌｅ.com", "apple.com"),  # full width: the name browsers resolve
        ("my_host.acme.com", "my_host.acme.com"),
        ("acme.com\u2044evil.io", None),
        ("acme。com", "acme.com"),
        ("acme．com｡", "acme.com"),
        ("", None),
    ],
)
def test_ascii_host(host: str, expected: str | None) -> None:
    assert ascii_host(host) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("evil。com/login", "evil。com/login"),
        ("Voir https://evil．com", "https://evil．com"),
        ("example。com", "example。com"),
        ("acme｡com/help", "acme｡com/help"),
        ("www。evil。com", "www。evil。com"),
        ("sign in at аpple。com", "аpple。com"),
        ("Voir münchen。de", "münchen。de"),
        # the sentence around it is not part of the host
        ("詳細はこちら：example。com。よろしくお願いします", "example。com"),
        ("ありがとうございます。example.com", "example.com"),
        ("Merci ! acme.com。", "acme.com"),
    ],
)
def test_ideographic_and_full_width_full_stops_are_dots(text: str, expected: str) -> None:
    """As browsers and IDNA (UTS #46) read them: "evil。com/login" goes to evil.com."""
    assert urls(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "ご注文ありがとうございます。よろしく",
        "新しいアプリです。App Storeでどうぞ",
        "谢谢您的耐心。中国",
        "감사합니다。좋은 하루",
        "readme。md",
    ],
)
def test_cjk_prose_ending_its_sentences_with_a_full_stop_has_no_links(text: str) -> None:
    assert urls(text) == []


def test_a_rejected_word_does_not_hide_a_link_after_it() -> None:
    assert urls("readme.txt/https://evil.example/x") == ["https://evil.example/x"]


def test_spans_point_at_the_link() -> None:
    text = "Désolé ! acme-support.help/login."
    (url,) = find_urls(text)
    assert text[url.start : url.end] == "acme-support.help/login"


def test_is_tld() -> None:
    assert is_tld("help") and is_tld("ZIP") and is_tld("xn--p1ai") and is_tld("fr")
    assert is_tld("рф") and is_tld("РФ") and is_tld("中国")
    assert not is_tld("txt") and not is_tld("login") and not is_tld("") and not is_tld("été")
