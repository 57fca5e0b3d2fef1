"""A malformed link in one item never fails its feed (nor any other source's batch).

Before: ``<link>http://[bad/</link>`` or an escaped ``<a href="http://[bad/">`` in one
item made urljoin raise ``ValueError: Invalid IPv6 URL`` out of the fetch, and the watch
went silent. Now the link is dropped: the item keeps its other links, and an item whose
own link is malformed falls back as for a missing link.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from bot.net.http import HttpClient
from bot.sources import bluesky, hackernews, mastodon, reddit, x
from bot.sources.rss import RssConfig, RssSource
from tests.sources.bad_link_feeds import BAD, BAD_PORT, EXPECTED, FEEDS


def _served(httpserver: HTTPServer, route: str, document: bytes,
            content_type: str = "application/xml") -> str:
    httpserver.expect_request(route).respond_with_data(document, content_type=content_type)
    return httpserver.url_for(route)


@pytest.mark.parametrize("kind", sorted(FEEDS))
def test_a_malformed_link_drops_only_that_link(
    kind: str, httpserver: HTTPServer, http: HttpClient
) -> None:
    url = _served(httpserver, f"/{kind}", FEEDS[kind])
    result = RssSource().fetch(http, RssConfig(url=url, max_entries=100), {})
    server = httpserver.url_for("/").rstrip("/")
    got = {m.external_id: (m.url, m.links) for m in result.mentions}
    expected = {key: (link, tuple(x.format(server=server) for x in links))
                for key, (link, links) in EXPECTED[kind].items()}
    assert got == expected
    assert result.cursor["seen"], "the cursor moved past every item"


def test_the_tolerant_parser_drops_malformed_links_too(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    """A document with a DOCTYPE goes to feedparser, whose link is taken as it is."""
    document = FEEDS["rss"].replace(b"<rss ", b"<!DOCTYPE rss>\n<rss ", 1)
    url = _served(httpserver, "/doctype", document)
    result = RssSource().fetch(http, RssConfig(url=url, max_entries=100), {})
    got = {m.external_id: (m.url, m.links) for m in result.mentions}
    assert got["item-2"] == ("https://news.example/", ("https://ok.example/b",))
    assert BAD not in str(got) and BAD_PORT not in str(got)
    assert got["https://news.example/1"][0] == "https://news.example/1"


def test_a_malformed_channel_link_falls_back_on_the_feed_address(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    document = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
                f'<link>{BAD}</link><item><guid isPermaLink="false">only-id</guid>'
                f'<title>acme</title></item></channel></rss>').encode()
    url = _served(httpserver, "/channel", document)
    result = RssSource().fetch(http, RssConfig(url=url), {})
    assert [(m.external_id, m.url, m.links) for m in result.mentions] == [
        ("only-id", url, ())]


def test_a_malformed_atom_author_uri_is_no_author_link(
    httpserver: HTTPServer, http: HttpClient
) -> None:
    document = (f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
                f'<title>T</title><entry><id>urn:e</id><title>acme</title>'
                f'<author><name>Ann</name><uri>{BAD}</uri></author></entry></feed>').encode()
    url = _served(httpserver, "/author", document)
    (mention,) = RssSource().fetch(http, RssConfig(url=url), {}).mentions
    assert (mention.author.name, mention.author.url) == ("Ann", None)


def _status(**changes: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "id": "101", "uri": "https://toot.example/users/ann/statuses/101",
        "url": "https://toot.example/@ann/101", "created_at": "2026-12-06T08:00:00Z",
        "content": (f'<p>acme <a href="{BAD}">x</a> <a href="{BAD_PORT}">p</a> '
                    '<a href="https://ok.example/a">a</a></p>'),
        "card": {"url": BAD},
        "account": {"acct": "ann", "username": "ann", "url": BAD},
    }
    status.update(changes)
    return status


def test_mastodon_drops_malformed_links_and_account_addresses() -> None:
    mention = mastodon.status_to_mention(_status(), "https://toot.example")
    assert mention is not None
    assert mention.links == ("https://ok.example/a",)
    assert (mention.author.handle, mention.author.url) == ("@ann", None)


def test_mastodon_malformed_status_url_falls_back_on_its_uri() -> None:
    mention = mastodon.status_to_mention(_status(url=BAD), "https://toot.example")
    assert mention is not None
    assert mention.url == "https://toot.example/users/ann/statuses/101"


def test_hacker_news_drops_a_malformed_story_url() -> None:
    mention = hackernews.hit_to_mention({
        "objectID": "9", "_tags": ["story"], "title": "acme", "url": BAD,
        "story_text": '<a href="https://ok.example/a">a</a>', "author": "pg",
        "created_at_i": 1796544000,
    })
    assert mention is not None and mention.links == ("https://ok.example/a",)


def test_reddit_drops_a_malformed_submission_url() -> None:
    mention = reddit.thing_to_mention("t3", {
        "id": "abc", "name": "t3_abc", "created_utc": 1796544000, "title": "acme",
        "permalink": "/r/acme/comments/abc/acme/", "url": BAD_PORT, "is_self": False,
        "author": "ann",
    })
    assert mention is not None and mention.links == ()


def test_bluesky_drops_malformed_facet_and_embed_links() -> None:
    record = {"$type": "app.bsky.feed.post", "text": "acme", "createdAt": "2026-12-06T08:00:00Z",
              "facets": [{"features": [
                  {"$type": "app.bsky.richtext.facet#link", "uri": BAD},
                  {"$type": "app.bsky.richtext.facet#link", "uri": "https://ok.example/a"}]}],
              "embed": {"$type": "app.bsky.embed.external",
                        "external": {"uri": BAD_PORT, "title": "t", "description": ""}}}
    mention = bluesky.post_to_mention({
        "uri": "at://did:plc:ann/app.bsky.feed.post/3k", "cid": "bafy",
        "author": {"did": "did:plc:ann", "handle": "ann.bsky.social"}, "record": record,
        "indexedAt": "2026-12-06T08:00:01Z"})
    assert mention is not None and mention.links == ("https://ok.example/a",)


def test_x_drops_malformed_expanded_urls() -> None:
    tweet = {"id": "1", "text": "acme", "created_at": "2026-12-06T08:00:00.000Z",
             "entities": {"urls": [{"expanded_url": BAD}, {"unwound_url": BAD_PORT},
                                   {"expanded_url": "https://ok.example/a"}]}}
    mention = x.tweet_to_mention(tweet, {})
    assert mention is not None and mention.links == ("https://ok.example/a",)
