"""Feeds where one item has a malformed link and another a malformed href in its text.

``http://[bad/`` made urljoin raise ``ValueError: Invalid IPv6 URL`` out of the whole
fetch, so the source failed on every poll; ``http://a.example:99999/`` is read by
urlsplit but its ``.port`` raises. Shared by the fetch tests (tests/sources) and the
polling tests (tests/services).
"""

from __future__ import annotations

BAD = "http://[bad/"
BAD_PORT = "http://a.example:99999/"
BAD_HREFS = (f"&lt;a href=&quot;{BAD}&quot;&gt;x&lt;/a&gt; "
             f"&lt;a href=&quot;{BAD_PORT}&quot;&gt;p&lt;/a&gt; ")

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Acme news</title><link>https://news.example/</link>
<item><title>Good one</title><link>https://news.example/1</link>
  <guid>https://news.example/1</guid><pubDate>Sun, 06 Dec 2026 08:01:00 GMT</pubDate>
  <description>acme &lt;a href="https://ok.example/a"&gt;a&lt;/a&gt;</description></item>
<item><title>Bad link</title><link>{BAD}</link><guid isPermaLink="false">item-2</guid>
  <pubDate>Sun, 06 Dec 2026 08:02:00 GMT</pubDate>
  <description>acme &lt;a href="https://ok.example/b"&gt;b&lt;/a&gt;</description></item>
<item><title>Bad href</title><link>https://news.example/3</link>
  <guid>https://news.example/3</guid><pubDate>Sun, 06 Dec 2026 08:03:00 GMT</pubDate>
  <description>acme {BAD_HREFS}&lt;a href="/rel/3"&gt;r&lt;/a&gt;</description></item>
<item><title>Bad link, guid to fall back on</title><link>{BAD}</link>
  <guid>https://news.example/4</guid><pubDate>Sun, 06 Dec 2026 08:04:00 GMT</pubDate></item>
<item><link>{BAD}</link></item>
</channel></rss>
""".encode()
"""Item 2 keeps its id and its good href; item 4 falls back on its permalink guid, as
for a missing link; item 5 has nothing else (skipped, as an item without a link)."""

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Acme blog</title>
<link href="https://blog.example/"/><id>urn:acme:blog</id><updated>2026-12-06T08:00:00Z</updated>
<entry><id>urn:acme:1</id><title>Good one</title><link href="https://blog.example/1"/>
  <updated>2026-12-06T08:01:00Z</updated>
  <content type="html">acme &lt;a href="https://ok.example/a"&gt;a&lt;/a&gt;</content></entry>
<entry><id>urn:acme:2</id><title>Bad link</title><link href="{BAD}"/>
  <updated>2026-12-06T08:02:00Z</updated>
  <content type="html">acme &lt;a href="https://ok.example/b"&gt;b&lt;/a&gt;</content></entry>
<entry><id>urn:acme:3</id><title>Bad href</title><link href="https://blog.example/3"/>
  <updated>2026-12-06T08:03:00Z</updated>
  <content type="html">acme {BAD_HREFS}&lt;a href="/rel/3"&gt;r&lt;/a&gt;</content></entry>
<entry><id>urn:acme:4</id><title>Bad alternate, another link</title><link href="{BAD}"/>
  <link rel="related" href="https://blog.example/4"/><updated>2026-12-06T08:04:00Z</updated>
</entry>
</feed>
""".encode()
"""Entry 4's bad alternate link is skipped as a missing one: its other link is used."""

RDF = f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>Acme RDF</title>
  <link>https://rdf.example/</link></channel>
<item rdf:about="https://rdf.example/1"><title>Good one</title><link>https://rdf.example/1</link>
  <dc:date>2026-12-06T08:01:00Z</dc:date>
  <description>acme &lt;a href="https://ok.example/a"&gt;a&lt;/a&gt;</description></item>
<item rdf:about="{BAD}"><title>Bad link</title><link>{BAD}</link>
  <dc:date>2026-12-06T08:02:00Z</dc:date>
  <description>acme &lt;a href="https://ok.example/b"&gt;b&lt;/a&gt;</description></item>
<item rdf:about="https://rdf.example/3"><title>Bad href</title><link>https://rdf.example/3</link>
  <dc:date>2026-12-06T08:03:00Z</dc:date>
  <description>acme {BAD_HREFS}&lt;a href="/rel/3"&gt;r&lt;/a&gt;</description></item>
</rdf:RDF>
""".encode()
"""Item 2's id (rdf:about) is the malformed address too: it stays its id, not its link."""

FEEDS = {"rss": RSS, "atom": ATOM, "rdf": RDF}

EXPECTED: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "rss": {
        "https://news.example/1": (
            "https://news.example/1", ("https://news.example/1", "https://ok.example/a")),
        "item-2": ("https://news.example/", ("https://ok.example/b",)),
        "https://news.example/3": (
            "https://news.example/3", ("https://news.example/3", "{server}/rel/3")),
        "https://news.example/4": ("https://news.example/4", ("https://news.example/4",)),
    },
    "atom": {
        "urn:acme:1": (
            "https://blog.example/1", ("https://blog.example/1", "https://ok.example/a")),
        "urn:acme:2": ("https://blog.example/", ("https://ok.example/b",)),
        "urn:acme:3": (
            "https://blog.example/3", ("https://blog.example/3", "{server}/rel/3")),
        "urn:acme:4": ("https://blog.example/4", ("https://blog.example/4",)),
    },
    "rdf": {
        "https://rdf.example/1": (
            "https://rdf.example/1", ("https://rdf.example/1", "https://ok.example/a")),
        BAD: ("https://rdf.example/", ("https://ok.example/b",)),
        "https://rdf.example/3": (
            "https://rdf.example/3", ("https://rdf.example/3", "{server}/rel/3")),
    },
}
"""Per feed: each stored entry's id -> (mention URL, links); ``{server}`` is the local
server the feed is served from (relative hrefs resolve against the feed's address)."""
