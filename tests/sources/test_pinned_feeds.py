"""Feed parsing gives the same results, to the character, as when they were pinned.

What makes parsing faster must not change what it reads: every feed file of the test set
(well-formed, malformed, DTDs, wrong encodings, not feeds at all) and documents built here
to reach every branch of the fast path the files do not (RSS, RDF and Atom items combining
each kind of id, link, text, title, date, author, language and xml:base; and the bench's
feed of real tweets) go through ``parse_feed`` as served without a charset, and again as
served with a wrong one (HTTP says ISO-8859-1), the built ones also without a URL to
resolve links against, and everything a ``ParsedFeed`` holds is
compared with the pinned results:
the feed's title, link and language, which parser read it and whether it was recovered,
and each entry's id, link, title, text, author, author URI, date (with its time zone),
language and links; or the SourceError's message.

To stay small, each entry is pinned as a digest of all its fields, and only the first entry
of each feed in full. Results change on purpose (a parsing fix, a feedparser upgrade that
reads a malformed file otherwise): then write them again, after checking each change is the
intended one::

    python -m tests.sources.test_pinned_feeds --write
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bot.net.errors import SourceError
from bot.sources.feedparse import FeedEntry, parse_feed

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "tests" / "data" / "feeds"
PINNED = REPO / "tests" / "data" / "sources" / "pinned_feeds.json"
URL = "http://example.test/feed"
CASES = {
    "": (URL, None),
    "wrong charset": (URL, "application/rss+xml; charset=iso-8859-1"),
    "no url": ("", None),
}
"""How each document is served: name of the case -> (its URL, its Content-Type header).
Files are read in the first two cases, built documents in all three."""
LONG = 80
"""Pinned in full up to this many characters; longer values as a digest and a length."""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _short(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"sha256:{_digest(text)}:{len(text)}" if len(text) > LONG else value


def _entry(entry: FeedEntry) -> list[Any]:
    """Every field of an entry, the date as its repr (time zone included)."""
    return [*entry[:6], repr(entry.published), entry.language, list(entry.links)]


def result(content: bytes, url: str, content_type: str | None) -> dict[str, Any]:
    """What is pinned for one document read from ``url``, served with ``content_type``."""
    try:
        feed = parse_feed(content, url=url, content_type=content_type)
    except SourceError as err:
        return {"error": str(err)}
    entries = [_entry(entry) for entry in feed.entries]
    return {
        "title": _short(feed.title),
        "link": _short(feed.link),
        "language": feed.language,
        "parser": feed.parser,
        "recovered": feed.recovered,
        "first": [_short(field) for field in entries[0]] if entries else None,
        "entries": [_digest(json.dumps(entry)) for entry in entries],
    }


# Values combined item by item in the built documents: the i-th item takes option
# i * STEP % len(options) of each list (lengths and steps chosen so the combinations vary).
TEXTS = [
    "plain text",
    "Q&amp;A &amp;amp; more",
    "&lt;b&gt;bold&lt;/b&gt; and &lt;a href=&quot;/r?a=1&amp;amp;b=2&quot;&gt;rel&lt;/a&gt;",
    "<![CDATA[<p>para</p><p>two</p><a href='https://abs.test/x'>x</a> <a href=\"sub/y\">y</a>]]>",
    "&amp;#xFDD0;nonchar &amp;#38; num &amp;#x80; &amp;#0; &amp;notit; &amp;copy2024 &#xFDD1;",
    "  spaced\n\ttext  ",
    "",
    " ",
    "caf\u00e9 \u2615 \U0001f600 \u00e2\u0080\u0099 \u0092",
    "&amp;nbsp;x&amp;lt;",
    "<![CDATA[<script>alert(1)</script>kept<style>p{}</style> <!-- c --> end]]>",
    "text <b>child</b> tail",
]
TITLES = [
    "Post",
    "Q&amp;A",
    "&lt;i&gt;it&lt;/i&gt;",
    "<![CDATA[a & b]]>",
    "",
    "t<b>nested</b>x",
    "  two  spaces  ",
    "&#233;t&#xE9;",
]
DATES = [
    "Thu, 01 Jan 2004 19:48:21 GMT",
    "Thu, 01 Jan 2004 19:48:21 +0230",
    "1 Jan 2004 19:48:21 -0500",
    "2004-01-01T19:48:21Z",
    "2004-01-01T19:48:21.123456+01:00",
    "2004-01-01 19:48",
    "garbage",
    "",
    "Thu, 31 Feb 2004 19:48:21 GMT",
    "Fri, 31 Dec 9999 23:00:00 -2359",
    " Sat, 3 Jan 2004 01:02:03 EST ",
    "2004-13-01T00:00:00Z",
]
DATE_TAGS = ["pubDate", "dc:date", "atom:published", "atom:updated", "date", "pubDate"]
AUTHORS = [
    "<author>joe@example.com (Joe  Bloggs)</author>",
    "<author>Joe</author>",
    "<dc:creator>Ann\n Other</dc:creator>",
    "<atom:author><atom:name>Atom N</atom:name></atom:author>",
    "",
    "<author>(x)</author>",
    "<author>a@b (c) (d)</author>",
    "<dc:creator></dc:creator><author>B</author>",
]
LINKS = [
    "<link>https://x.test/a</link>",
    "<link> /rel/path?q=1#f </link>",
    "<atom:link href='https://x.test/atom'/>",
    "",
    "<link></link><guid>https://guid.test/p</guid>",
    "<link>HTTP://X.test/Upper</link>",
    "<atom:link href='  '/>",
]
GUIDS = [
    "<guid>id-{n}</guid>",
    "<guid isPermaLink='false'>https://g.test/{n}</guid>",
    "<guid>https://g.test/{n}</guid>",
    "",
    "<guid>  </guid>",
]
LANGS = [
    "",
    "<dc:language>fr-FR</dc:language>",
    "<dc:language>und</dc:language>",
    "LANG:de-AT",
    "<dc:language> EN_gb </dc:language>",
]
BASES = ["", " xml:base='https://base.test/dir/'", " xml:base='sub/'"]
EXTRAS = [
    "",
    "<title>second title</title><link>https://second.test/</link><guid>second</guid>",
    "<content:encoded>\n\t</content:encoded>",
    "<dc:description>dc &amp;amp; d</dc:description>",
    "<description>  </description><media:description>m</media:description>",
    "<dc:title>dct</dc:title>",
    "<dc:date>2001-02-03T04:05:06Z</dc:date><date>2002-02-03</date>",
]
TEXT_TAGS = ["description", "content:encoded", "dc:description", "media:description", "description"]
NAMESPACES = (
    "xmlns:dc='http://purl.org/dc/elements/1.1/' xmlns:content='http://purl.org/rss/1.0/modules/content/'"
    " xmlns:media='http://search.yahoo.com/mrss/' xmlns:atom='http://www.w3.org/2005/Atom'"
)


def _pick(options: list[str], n: int, step: int) -> str:
    return options[n * step % len(options)]


def _rss_item(n: int, item_tag: str = "item", about: str = "") -> str:
    lang = _pick(LANGS, n, 3)
    attributes = _pick(BASES, n, 5) + about
    if lang.startswith("LANG:"):
        attributes, lang = f"{attributes} xml:lang='{lang[5:]}'", ""
    text_tag = _pick(TEXT_TAGS, n, 7)
    date_tag = _pick(DATE_TAGS, n, 11)
    return (
        f"<{item_tag}{attributes}>{_pick(GUIDS, n, 2).format(n=n)}{_pick(LINKS, n, 3)}"
        f"<title>{_pick(TITLES, n, 5)}</title><{text_tag}>{_pick(TEXTS, n, 7)}</{text_tag}>"
        f"<{date_tag}>{_pick(DATES, n, 5)}</{date_tag}>{_pick(AUTHORS, n, 3)}{lang}"
        f"<category>c</category><!-- comment --><?pi x?>{_pick(EXTRAS, n, 1)}</{item_tag}>"
    )


ATOM_CONTENTS = [
    "<content type='text'>plain &amp; text</content>",
    "<content type='html'>&lt;p&gt;a&lt;/p&gt;"
    "&lt;a href=&quot;rel/1&quot;&gt;l&lt;/a&gt;</content>",
    "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>x<a href='/h'>h</a></p>"
    " tail</div></content>",
    "<content type='application/octet-stream'>aGVsbG8gd29ybGQ=</content>",
    "<content type='text/plain'>typed</content>",
    "<content type='image/svg+xml'>svg</content>",
    "<content>bare <b>child</b></content>",
    "",
    "<content type='html'></content>",
    "<content type='TEXT'> a  &lt;b </content>",
]
ATOM_SUMMARIES = [
    "<summary>sum &amp; mary</summary>",
    "",
    "<media:group><media:description>media d</media:description></media:group>",
    "<summary type='html'>&lt;em&gt;e&lt;/em&gt;</summary>",
]
ATOM_LINKS = [
    "<link href='https://a.test/alt'/>",
    "<link rel='self' href='/self'/><link rel='related' href='rel'/>",
    "<link rel='enclosure' href='e'/>",
    "",
    "<link rel='ALTERNATE ' href=' /x ' xml:base='https://lb.test/'/>",
    "<link href=''/><link rel='alternate' href='second'/>",
    "<link rel='related' href='related'/><link href='alternate'/>",
]
ATOM_AUTHORS = [
    "<author><name>Al  Ice</name><uri>https://al.test</uri></author>",
    "",
    "<author><url>https://u.test</url></author>",
    "<author><name> </name></author>",
]
ATOM_DATES = [
    "<published>2004-01-01T19:48:21Z</published>",
    "<updated>Thu, 01 Jan 2004 19:48:21 GMT</updated>",
    "<published>junk</published><updated>2005-02-03T04:05:06+02:00</updated>",
    "",
    "<issued>2003-12-31T10:14:55Z</issued>",
    "<modified>2003-12-31T10:14:55-08:00</modified>",
]


def _atom_entry(n: int, atom03: bool) -> str:
    content = _pick(ATOM_CONTENTS, n, 3)
    if atom03 and n % 2:
        content = [
            "<content type='text/plain' mode='base64'>aGVsbG8gPGI+d29ybGQ8L2I+</content>",
            "<content mode='escaped' type='text/html'>&lt;i&gt;x</content>",
            "<content mode='escaped'>&amp;lt;i&amp;gt;x</content>",
            "<content mode='xml'><div>d<b>x</b></div></content>",
        ][n // 2 % 4]
    lang = " xml:lang='pt-BR'" if n % 4 == 0 else ""
    return (
        f"<entry{_pick(BASES, n, 2)}{lang}><id> urn:{n} </id>"
        f"<title type='{_pick(['text', 'html'], n, 1)}'>{_pick(TITLES, n, 3)}</title>"
        f"{_pick(ATOM_LINKS, n, 5)}{content}"
        f"{_pick(ATOM_SUMMARIES, n, 3)}{_pick(ATOM_AUTHORS, n, 3)}{_pick(ATOM_DATES, n, 5)}</entry>"
    )


def bench_feed(count: int = 300) -> bytes:
    """bench/bench_ingest.py's feed of real tweets, with fixed dates."""
    lines = (REPO / "tests/data/sentiment/eval/en_tweets_test.tsv").read_text(encoding="utf-8")
    texts = [line.split("\t", 1)[1] for line in lines.splitlines() if "\t" in line]
    items = [
        f"<item><title>Post {n}</title><link>https://news.example.com/r/{n}</link>"
        f"<guid>r-{n}</guid><author>user{n % 97}@example.com (User {n % 97})</author>"
        f"<pubDate>Sun, 06 Dec 2026 {n // 60 % 24:02d}:{n % 60:02d}:00 -0000</pubDate>"
        f"<description>{escape(texts[n % len(texts)])}</description></item>"
        for n in range(count)
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>bench</title><link>https://news.example.com/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def built() -> dict[str, bytes]:
    """Documents reaching every branch of the fast path, by name."""
    rss_items = "".join(_rss_item(n) for n in range(240))
    rdf_items = "".join(_rss_item(n, "rss:item", f" rdf:about='urn:about:{n}'") for n in range(60))
    atom = "".join(_atom_entry(n, atom03=False) for n in range(120))
    atom03 = "".join(_atom_entry(n, atom03=True) for n in range(60))
    return {
        "built: rss": (
            f"<rss version='2.0' {NAMESPACES}><channel xml:base='https://chan.test/'>"
            f"<title>T &amp; <b>x</b></title><link>/home</link><language>en-us</language>"
            f"{rss_items}</channel></rss>"
        ).encode(),
        "built: rss without channel": (
            f"<rss {NAMESPACES}>{''.join(_rss_item(n) for n in range(30))}</rss>"
        ).encode(),
        "built: rdf": (
            "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' "
            f"xmlns:rss='http://purl.org/rss/1.0/' {NAMESPACES}><rss:channel>"
            "<rss:title>R</rss:title><rss:link>https://rdf.test/</rss:link><dc:language>ja</dc:language></rss:channel>"
            f"{rdf_items.replace('<title>', '<rss:title>').replace('</title>', '</rss:title>')}"
            "</rdf:RDF>"
        ).encode(),
        "built: atom": (
            "<feed xmlns='http://www.w3.org/2005/Atom' xmlns:media='http://search.yahoo.com/mrss/'"
            " xml:lang='en' xml:base='https://feed.test/a/'>"
            "<title type='html'>&lt;b&gt;F&lt;/b&gt;</title><link rel='alternate' href='/'/>"
            "<author><name>Feed A</name><uri>https://fa.test</uri>"
            f"</author>{atom}</feed>"
        ).encode(),
        "built: atom 0.3": (
            f"<feed version='0.3' xmlns='http://purl.org/atom/ns#' "
            "xmlns:media='http://search.yahoo.com/mrss/'><title mode='escaped'>&lt;i&gt;"
            f"o&lt;/i&gt;</title>{atom03}</feed>"
        ).encode(),
        "built: bench feed": bench_feed(),
    }


def compute() -> dict[str, dict[str, Any]]:
    """Pinned results by "document" or "document | case"."""
    files = {p.name: p.read_bytes() for p in sorted(FEEDS.iterdir()) if p.name != "INDEX.tsv"}
    out = {}
    for documents, cases in ((files, list(CASES)[:2]), (built(), list(CASES))):
        for name, content in documents.items():
            for case in cases:
                out[f"{name} | {case}" if case else name] = result(content, *CASES[case])
    return out


def _difference(where: str, expected: Any, actual: Any) -> str:
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        changed = [i for i, (e, a) in enumerate(zip(expected, actual, strict=True)) if e != a]
        return f"{where}: items {changed[:20]} changed"
    return f"{where}: {expected!r} -> {actual!r}"


def test_every_feed_file_is_pinned() -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))["feeds"]
    assert sorted(pinned) == sorted(compute())


def test_parsed_feeds_are_the_pinned_ones() -> None:
    pinned = json.loads(PINNED.read_text(encoding="utf-8"))["feeds"]
    actual = json.loads(json.dumps(compute()))
    assert len(pinned) > 130
    assert sum(len(feed.get("entries", ())) for feed in pinned.values()) > 2000
    differences = [
        _difference(f"{name}.{key}", value, actual.get(name, {}).get(key))
        for name, feed in pinned.items()
        for key, value in feed.items()
        if actual.get(name, {}).get(key) != value
    ]
    assert differences == [], f"{len(differences)} differences, first: {differences[:10]}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python -m tests.sources.test_pinned_feeds --write")
    PINNED.parent.mkdir(exist_ok=True)
    lines = [
        f"{json.dumps(name)}:{json.dumps(feed, ensure_ascii=False, separators=(',', ':'))}"
        for name, feed in compute().items()
    ]
    PINNED.write_text('{"feeds":{\n' + ",\n".join(lines) + "\n}}\n", encoding="utf-8")
    print(f"wrote {len(lines)} pinned feed results to {PINNED.relative_to(REPO)}")
