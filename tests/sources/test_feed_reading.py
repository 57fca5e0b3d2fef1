"""Feeds: what an entry's words and dates are read as (plain-text constructs, dates with
unusual offsets, podcast fields), through the real HTTP layer where a source reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from bot.matching import MatchInput, parse_query
from bot.net.http import HttpClient
from bot.sources.feedparse import _parse_date, parse_feed, parse_tolerant
from bot.sources.rss import RssConfig, RssSource

FORUM_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Support forum</title><id>urn:forum</id><updated>2026-12-07T10:00:00Z</updated>
  <entry><id>urn:forum:1</id><updated>2026-12-07T10:00:00Z</updated>
    <link href="https://forum.example/t/1"/>
    <title>Option&lt;Acme&gt; panics on empty input</title>
    <content type="text">Mail from Jane Doe &lt;jane@acme.com&gt; said it shipped.</content>
  </entry>
  <entry><id>urn:forum:2</id><updated>2026-12-07T10:05:00Z</updated>
    <link href="https://forum.example/t/2"/>
    <title type="html">Read &lt;b&gt;this&lt;/b&gt; first</title>
    <summary type="text/plain">Option&lt;Acme&gt; again</summary>
  </entry>
</feed>"""


def test_atom_plain_text_keeps_its_angle_brackets(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # Atom type="text" (every title's default) is plain text: "<Acme>" was read as an
    # HTML tag and dropped, "Option<Acme> panics" stored as "Option panics".
    httpserver.expect_request("/forum.atom").respond_with_data(
        FORUM_ATOM, content_type="application/atom+xml")
    result = RssSource().fetch(http, RssConfig(url=httpserver.url_for("/forum.atom")), {})
    by_id = {m.external_id: m for m in result.mentions}
    first, second = by_id["urn:forum:1"], by_id["urn:forum:2"]
    assert first.title == "Option<Acme> panics on empty input"
    assert first.text == "Mail from Jane Doe <jane@acme.com> said it shipped."
    assert second.title == "Read this first"  # type="html" stays HTML
    assert second.text == "Option<Acme> again"


def test_a_truncated_atom_feed_reads_plain_text_as_a_well_formed_one() -> None:
    # A malformed feed (here cut short) goes to feedparser, which says each text
    # construct's type: its text/plain was read as HTML there, "<jane@acme.com>" dropped
    # as a tag and a title's "</p>" taken for one.
    stray = (b"<entry><id>urn:forum:3</id><updated>2026-12-07T10:10:00Z</updated>"
             b"<title>Stray &lt;/p&gt; in the editor</title>"
             b"<content type=\"html\">&lt;p&gt;Seen &lt;b&gt;twice&lt;/b&gt;&lt;/p&gt;</content>"
             b"</entry></feed>")
    feed = FORUM_ATOM.replace(b"</feed>", stray)
    fast, tolerant = parse_feed(feed), parse_tolerant(feed.replace(b"</feed>", b""))
    assert (fast.parser, tolerant.parser) == ("fast", "tolerant")
    read = [(e.title, e.text) for e in fast.entries]
    assert [(e.title, e.text) for e in tolerant.entries] == read
    assert read[0][1] == "Mail from Jane Doe <jane@acme.com> said it shipped."
    assert read[2] == ("Stray </p> in the editor", "Seen twice")


@pytest.mark.parametrize(("title", "read"), [
    ("Option&lt;Acme&gt; panics", "Option<Acme> panics"),  # no HTML: kept as written
    ("A &amp; B &lt;c&gt;", "A & B <c>"),
    ("&lt;i&gt;Acme&lt;/i&gt; news", "Acme news"),  # entity-escaped HTML, as is common
    ("Tom &amp;amp; Jerry", "Tom & Jerry"),  # double-escaped: an entity in the text
    ("Acme&amp;apos;s Q&amp;amp;A", "Acme's Q&A"),  # &apos; (HTML5, not HTML 4) is one too
    ("Acme&amp;#39;s &amp;mdash; Q&amp;#x26;A", "Acme's \N{EM DASH} Q&A"),
    ("Tom &amp;jerry; &lt;/b&gt;", "Tom &jerry; </b>"),  # no such entity: text as written
    ("Close &lt;/acme&gt; &amp;amp;", "Close </acme> &amp;"),  # no such HTML tag: text
    ("<![CDATA[Acme <b>rocks</b>]]>", "Acme rocks"),
])
def test_an_rss_title_is_html_only_when_it_looks_like_html(title: str, read: str) -> None:
    # RSS says nothing of a title's type: HTML only when it has a closing tag or an
    # entity (every tag a known HTML one, every entity an HTML5 one), else plain text.
    feed = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title><item>"
            b"<guid>g1</guid><title>" + title.encode() + b"</title></item></channel></rss>")
    assert parse_feed(feed).entries[0].title == read
    assert parse_tolerant(feed.replace(b"</rss>", b"")).entries[0].title == read


DATED_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Acme watchers</title><link>https://news.example/</link>
<item><guid>ny-1</guid><link>https://news.example/ny-1</link><title>Acme in NYC</title>
  <pubDate>Mon, 07 Dec 2026 10:00:00 -05:00</pubDate></item>
<item><guid>msk-1</guid><link>https://news.example/msk-1</link><title>Acme in Moscow</title>
  <pubDate>Mon Dec 07 2026 18:30:00 GMT+0300 (Moscow Standard Time)</pubDate></item>
<item><guid>tw-1</guid><link>https://news.example/tw-1</link><title>Acme in Taipei</title>
  <pubDate>2026/03/05 10:00:00</pubDate></item>
</channel></rss>"""


def test_feed_dates_with_unusual_offsets_keep_their_offset(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    # An offset with a colon, or JavaScript's "GMT+0300 (...)", was dropped and the time
    # read as UTC (5 hours early for New York, 3 late for Moscow); "2026/03/05" was read
    # by feedparser's fallback as 1 December 2026.
    httpserver.expect_request("/dated.xml").respond_with_data(
        DATED_RSS, content_type="application/rss+xml")
    result = RssSource().fetch(http, RssConfig(url=httpserver.url_for("/dated.xml")), {})
    assert {m.external_id: m.published_at for m in result.mentions} == {
        "ny-1": datetime(2026, 12, 7, 15, 0, tzinfo=UTC),
        "msk-1": datetime(2026, 12, 7, 15, 30, tzinfo=UTC),
        "tw-1": datetime(2026, 3, 5, 10, 0, tzinfo=UTC),
    }


@pytest.mark.parametrize(("written", "read"), [
    ("Tue, 10 Jun 2003 04:00:00 +05:30", datetime(2003, 6, 9, 22, 30, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 +05:30 (IST)", datetime(2003, 6, 9, 22, 30, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 UTC-03:00", datetime(2003, 6, 10, 7, 0, tzinfo=UTC)),
    ("Tue Jun 10 2003 04:00:00 GMT-0700 (Pacific Daylight Time)",
     datetime(2003, 6, 10, 11, 0, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 GMT", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
    ("Tue, 10 Jun 2003 04:00:00 CET", datetime(2003, 6, 10, 3, 0, tzinfo=UTC)),
    ("2003/6/10", datetime(2003, 6, 10, tzinfo=UTC)),
    ("2003/06/10 04:00", datetime(2003, 6, 10, 4, 0, tzinfo=UTC)),
    ("2003/06/10 04:00:00 +08:00", datetime(2003, 6, 9, 20, 0, tzinfo=UTC)),
    ("2003-06-10T04:00:00+02:00", datetime(2003, 6, 10, 2, 0, tzinfo=UTC)),
])
def test_feed_date_offsets(written: str, read: datetime) -> None:
    assert _parse_date(written) == read


@pytest.mark.parametrize("written", [
    "2026/13/05", "2026/02/30", "2026/00/10", "2026/02/30 10:00",
    "2026/13/05 10:00:00 +08:00", "2026/03/05 25:00",
])
def test_an_invalid_slashed_date_is_no_date(written: str) -> None:
    # An invalid YYYY/MM/DD date fell through to feedparser, which reads any "2026/..."
    # as 1 December 2026: an entry of March dated in December, as new. It is no date now,
    # as other unreadable dates are.
    assert _parse_date(written) is None


def test_slashed_dates_read_alike_by_both_parsers() -> None:
    # The tolerant parser took feedparser's own reading of a malformed feed's dates: every
    # YYYY/MM/DD date, valid or not, was 1 December of its year.
    feed = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
            b"<item><guid>g1</guid><title>a</title><pubDate>2026/03/05 10:00:00</pubDate>"
            b"</item><item><guid>g2</guid><title>b</title><pubDate>2026/13/05</pubDate>"
            b"</item></channel></rss>")
    expected = [datetime(2026, 3, 5, 10, 0, tzinfo=UTC), None]
    assert [e.published for e in parse_feed(feed).entries] == expected
    tolerant = parse_tolerant(feed.replace(b"</rss>", b""))
    assert tolerant.parser == "tolerant"
    assert [e.published for e in tolerant.entries] == expected


def test_a_podcast_episode_is_read_from_its_itunes_fields(
    shared_data: Path, httpserver: HTTPServer, http: HttpClient
) -> None:
    # Apple's example podcast feed: its episodes have no <description>, their notes are in
    # <itunes:summary> and their author in <itunes:author>; they were stored with no text
    # and no author, and a watch for a word of the notes never matched.
    httpserver.expect_request("/podcast.rss").respond_with_data(
        (shared_data / "feeds" / "huginn__podcast.rss").read_bytes(),
        content_type="application/rss+xml")
    result = RssSource().fetch(http, RssConfig(url=httpserver.url_for("/podcast.rss")), {})
    spices = next(m for m in result.mentions if m.title == "Shake Shake Shake Your Spices")
    assert spices.text.startswith("This week we talk about salt and pepper shakers, ")
    assert spices.author.name == "John Doe"
    assert parse_query("pepper").matches(MatchInput(text=spices.text))
    assert "https://itunes/apple.com/us/book/antique-trader-salt-pepper/id429691295?mt=11" \
        in spices.links


def test_a_podcast_subtitle_is_the_text_when_nothing_else_is() -> None:
    feed = (b"<?xml version='1.0'?><rss version='2.0' xmlns:itunes="
            b"'http://www.itunes.com/dtds/podcast-1.0.dtd'><channel><title>t</title><item>"
            b"<guid>g1</guid><title>Ep 1</title><itunes:subtitle>Acme rockets, reviewed"
            b"</itunes:subtitle></item><item><guid>g2</guid><title>Ep 2</title><description>"
            b"Notes</description><itunes:summary>Summary</itunes:summary></item></channel>"
            b"</rss>")
    first, second = parse_feed(feed).entries
    assert first.text == "Acme rockets, reviewed"
    assert second.text == "Notes"  # a description comes first
