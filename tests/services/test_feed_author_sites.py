"""A feed entry's author is its byline on its site: "Admin" of two blogs is two authors
(reach, history, influencers, forget requests), one blog's "Admin" stays one; a forget
names them by byline and site, or by the byline alone (every site's); the brand's accounts
are recognised as before, and a byline is never one of them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug import Request, Response

from bot.matching.query import MatchInput, parse_query
from bot.net.http import HttpClient
from bot.services import influencers
from bot.services.actors import CLI
from bot.services.brand_accounts import do_add_account
from bot.services.errors import ServiceError
from bot.services.ingest import do_ingest
from bot.services.polling import run_poll_tick
from bot.services.privacy import do_forget, do_unforget
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from bot.sources.reddit import RedditConfig, RedditSource
from storage.db import transaction
from storage.models import Author, Mention
from tests.harness.constants import CHANNEL_ID
from tests.services.test_polling import trusted_client
from tests.sources.test_reddit import SEARCH_ATOM

NOW = datetime.now(UTC).replace(microsecond=0)


class Feed:
    """An RSS feed of ``(guid, byline, text)`` entries on ``site`` (the test changes them)."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.entries: list[tuple[str, str, str]] = []

    def __call__(self, _request: Request) -> Response:
        items = "".join(
            f"<item><guid>{guid}</guid><link>https://{self.site}/{guid}</link>"
            f"<dc:creator>{byline}</dc:creator><description>{text}</description>"
            f"<pubDate>{format_datetime(NOW - timedelta(minutes=n + 1), usegmt=True)}"
            "</pubDate></item>" for n, (guid, byline, text) in enumerate(self.entries))
        return Response("<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
                        f"<channel><title>{self.site}</title>{items}</channel></rss>",
                        content_type="application/rss+xml")


@pytest.fixture
def feeds(sessions: sessionmaker[Session], workspace_id: int,
          httpserver: HTTPServer) -> tuple[Feed, Feed]:
    """Two blogs' feeds, each with a post by its "Admin", watched by one source each."""
    blog_a, blog_b = Feed("blog-a.example"), Feed("www.blog-b.example")
    blog_a.entries = [("a1", "Admin", "Acme shipped the new release"),
                      ("a2", "Admin", "Acme support answered in an hour"),
                      ("a3", "John Smith", "Acme prices went up again")]
    blog_b.entries = [("b1", "Admin", "Our review of Acme's vacuum")]
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    for path, feed in (("/a.xml", blog_a), ("/b.xml", blog_b)):
        httpserver.expect_request(path).respond_with_handler(feed)
        do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name="acme",
                      values={"url": httpserver.url_for(path)})
    return blog_a, blog_b


def poll(sessions: sessionmaker[Session]) -> tuple[int, int]:
    totals = run_poll_tick(sessions, trusted_client, force=True, now=NOW).totals
    return totals.stored, totals.forgotten


def authors(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, int, list[str]]]:
    """(network, handle, name, mention count, mention ids) of every author."""
    with sessions() as session:
        rows = session.scalars(select(Author).order_by(Author.handle)).all()
        return [(a.network, a.handle, a.name or "", a.mention_count, sorted(session.scalars(
            select(Mention.external_id).where(Mention.author_id == a.id)))) for a in rows]


def test_one_byline_on_two_sites_is_two_authors(
        sessions: sessionmaker[Session], workspace_id: int, feeds: tuple[Feed, Feed]) -> None:
    assert poll(sessions) == (4, 0)
    assert authors(sessions) == [
        ("rss", "Admin@blog-a.example", "Admin", 2, ["a1", "a2"]),
        ("rss", "Admin@blog-b.example", "Admin", 1, ["b1"]),
        ("rss", "John Smith@blog-a.example", "John Smith", 1, ["a3"]),
    ]
    with sessions() as session:  # what a forget by the byline alone finds them by
        assert list(session.scalars(select(Author.site).order_by(Author.handle))) == [
            "blog-a.example", "blog-b.example", "blog-a.example"]
    # from: still takes the byline (a handle starting with it and an @), or byline and site.
    for query, matched in (("from:admin", [True, True]),
                           ("from:admin@blog-b.example", [False, True])):
        assert [parse_query(query).matches(MatchInput(text="acme", author_handle=handle))
                for handle in ("Admin@blog-a.example", "Admin@blog-b.example")] == matched

    blog_a, blog_b = feeds
    blog_a.entries.insert(0, ("a4", "Admin", "Acme again, a week later"))
    blog_b.entries.insert(0, ("b2", "Admin", "Acme's vacuum, a month later"))
    assert poll(sessions) == (2, 0)
    assert [(a[1], a[3]) for a in authors(sessions)] == [
        ("Admin@blog-a.example", 3), ("Admin@blog-b.example", 2),
        ("John Smith@blog-a.example", 1)]


def test_a_forget_names_a_feed_author_by_byline_and_site_or_byline_alone(
        sessions: sessionmaker[Session], workspace_id: int, feeds: tuple[Feed, Feed]) -> None:
    assert poll(sessions) == (4, 0)
    # Only blog-a's Admin asked: blog-b's keeps their posts.
    report = do_forget(sessions, workspace_id, CLI, "admin@Blog-A.example")
    assert (report.authors, report.mentions) == (1, 2)
    assert [a[1] for a in authors(sessions)] == ["Admin@blog-b.example",
                                                 "John Smith@blog-a.example"]
    blog_a, blog_b = feeds
    blog_a.entries.insert(0, ("a4", "Admin", "Acme again, a week later"))
    blog_b.entries.insert(0, ("b2", "Admin", "Acme's vacuum, a month later"))
    assert poll(sessions) == (1, 1)
    assert [(a[1], a[4]) for a in authors(sessions)] == [
        ("Admin@blog-b.example", ["b1", "b2"]), ("John Smith@blog-a.example", ["a3"])]

    # The byline alone names every site's Admin: the rest go, and none comes back.
    report = do_forget(sessions, workspace_id, CLI, "@ADMIN")
    assert (report.authors, report.mentions) == (1, 2)
    blog_a.entries.insert(0, ("a5", "Admin", "Acme, the third time"))
    blog_b.entries.insert(0, ("b3", "admin", "Acme's vacuum, a year later"))
    assert poll(sessions) == (0, 2)
    assert [a[1] for a in authors(sessions)] == ["John Smith@blog-a.example"]

    # Undone as made: blog-a's Admin alone is still forgotten by the bare byline.
    assert do_unforget(sessions, workspace_id, CLI, "Admin@blog-a.example") >= 1
    blog_a.entries.insert(0, ("a6", "Admin", "Acme, the fourth time"))
    assert poll(sessions) == (0, 1)


def test_the_brands_accounts_are_recognised_and_a_byline_is_never_one(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID)
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    # A feed is never one of the brand's accounts (they are the networks' own handles).
    with pytest.raises(ServiceError) as refused:
        do_add_account(sessions, workspace_id, CLI, "rss", "AcmeCare")
    assert refused.value.key == "account.bad_network"

    def post(network: str, external_id: str, author: FetchedAuthor) -> FetchedMention:
        return FetchedMention(network=network, external_id=external_id,
                              url=f"https://{network}.example/{external_id}",
                              text=f"Acme: the new release is out ({external_id})",
                              author=author,
                              published_at=NOW)

    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None, [
            post("x", "1", FetchedAuthor(handle="@acmecare")),
            post("rss", "2", FetchedAuthor(handle="AcmeCare@acme.example", name="AcmeCare",
                                           site="acme.example")),
            post("rss", "3", FetchedAuthor(handle="@acmecare"))], now=NOW)
    assert (report.brand_posts, report.stored) == (1, 2)


def test_a_byline_tracked_before_it_is_seen_is_its_first_sites_and_then_needs_its_site(
        sessions: sessionmaker[Session], workspace_id: int, feeds: tuple[Feed, Feed]) -> None:
    # Known once seen: the network must hold an author already (a webhook's, here).
    with transaction(sessions) as session:
        session.add(Author(workspace_id=workspace_id, network="rss", handle="Someone",
                           mention_count=1, first_seen_at=NOW, last_seen_at=NOW))
    assert influencers.do_track(sessions, workspace_id, CLI, handle="John Smith",
                                network="rss", now=NOW) == ("John Smith", True)
    assert poll(sessions) == (4, 0)
    with sessions() as session:
        assert influencers.tracked_list(session, workspace_id) == [
            ("rss", "John Smith@blog-a.example")]
        # The typed row went: the byline is one author, blog-a's.
        assert session.scalar(select(func.count()).select_from(Author).where(
            Author.handle.startswith("John Smith"))) == 1
    # "Admin" signs on two sites: which one is for the person to say.
    with pytest.raises(ServiceError) as refused:
        influencers.do_track(sessions, workspace_id, CLI, handle="Admin", network="rss",
                             now=NOW)
    assert refused.value.key == "influencers.byline_sites"
    assert refused.value.params == {"value": "Admin", "example": "Admin@blog-a.example",
                                    "known": "2"}
    assert "`byline@site`" in refused.value.message()
    assert "`signature@site`" in refused.value.message("fr")
    assert influencers.do_track(sessions, workspace_id, CLI, handle="Admin@blog-b.example",
                                network="rss", now=NOW) == ("Admin@blog-b.example", True)
    # A byline one site signs is found by the byline alone.
    assert influencers.do_untrack(sessions, workspace_id, CLI, handle="John Smith",
                                  network="rss") == "John Smith@blog-a.example"


def test_the_brands_reddit_post_in_the_search_feed_is_the_brand_speaking(
        sessions: sessionmaker[Session], workspace_id: int, httpserver: HTTPServer) -> None:
    """A Reddit source in rss mode names the brand's account as ``vigie account add``
    stores it (``u/acme_support``): its post is the brand's, not a customer alert."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    do_add_account(sessions, workspace_id, CLI, "reddit", "u/acme_support")
    httpserver.expect_request("/search.rss").respond_with_data(
        SEARCH_ATOM, content_type="application/atom+xml")
    config = RedditConfig(mode="rss", query="acme", rss_base=httpserver.url_for("").rstrip("/"))
    with HttpClient() as http:
        fetched = RedditSource().fetch(http, config, {}).mentions
    with transaction(sessions) as session:
        report = do_ingest(session, get_watch_by_name(session, workspace_id, "acme"), None,
                           fetched, now=NOW)
    assert (report.brand_posts, report.stored) == (1, 0)
