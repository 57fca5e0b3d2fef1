"""A feed source keeps a network label of its own: it may not be labelled as a network
Vigie has a source for (x, mastodon, webhook...), and one labelled so before the rule
stores its entries under ``rss``, so that an entry by ``@ana_r`` never merges with the X
author ``@ana_r`` (history, reach, "writing again", reply target)."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import t
from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source, list_sources
from storage.db import transaction
from storage.models import Author, Mention, SourceRow
from tests.services.test_cases import NOW, ROOT, ingest, x_batch
from tests.services.test_polling import trusted_client


def _add_feed(sessions: sessionmaker[Session], workspace_id: int, watch: str, url: str,
              **values: str) -> int:
    return do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch,
                         values={"url": url, **values}).id


@pytest.mark.parametrize(("label", "network"), [
    ("x", "X"), ("twitter", "X"), ("mastodon", "Mastodon"), ("fediverse", "Mastodon"),
    ("bluesky", "Bluesky"), ("bsky", "Bluesky"), ("reddit", "Reddit"),
    ("hackernews", "Hacker News"), ("hn", "Hacker News"), ("webhook", "Webhook"),
])
def test_a_feed_cannot_be_labelled_as_another_sources_network(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str, label: str,
    network: str,
) -> None:
    with pytest.raises(ServiceError) as refused:
        _add_feed(sessions, workspace_id, watch_name, "https://news.example.org/feed.xml",
                  network=label)
    assert refused.value.key == "source.network_taken"
    # The network is worded when the message is, in the reader's language.
    params = {**refused.value.params, "network": None}
    assert params == {"kind": "rss", "label": label, "network": None}
    english = refused.value.message()
    assert f"cannot label its posts `{label}`" in english and f"{network} posts" in english
    assert f"'{label}'" in refused.value.message(plain=True)
    french = refused.value.message("fr")
    assert f"ne peut pas étiqueter ses posts `{label}`" in french
    assert list_sources(sessions, workspace_id) == []


def test_a_feed_keeps_a_label_of_its_own(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    for n, label in enumerate(("news", "youtube", "rss", "feed", "atom")):
        _add_feed(sessions, workspace_id, watch_name, f"https://n.example.org/{n}.xml",
                  network=label)
    labels = [view.settings.get("network") for view in list_sources(sessions, workspace_id)]
    assert labels == ["news", "youtube", "rss", "feed", "atom"]


def test_the_locale_strings_exist_in_both_languages() -> None:
    params = {"kind": "rss", "label": "x", "network": "X"}
    for key in ("source.network_taken", "cli.source.network_taken"):
        assert t("en", key, **params) != t("fr", key, **params)


def _feed(*entries: tuple[str, str, str]) -> str:
    """An RSS document of ``(author, guid, text)`` entries."""
    published = format_datetime(NOW - timedelta(minutes=5), usegmt=True)
    items = "".join(
        f"<item><guid>{guid}</guid><link>https://news.example.org/{guid}</link>"
        f"<dc:creator>{author}</dc:creator><description>{text}</description>"
        f"<pubDate>{published}</pubDate></item>" for author, guid, text in entries)
    return ("<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'><channel>"
            f"<title>Partner news</title>{items}</channel></rss>")


def test_a_feed_labelled_x_before_the_rule_does_not_merge_with_x_authors(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer,
) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT))  # @ana_r's complaint on X (80 followers)
    httpserver.expect_request("/feed").respond_with_data(
        _feed(("@ana_r", "feed-1", "Ana again: acme never delivered"),
              ("@ana_r", "1001", "the X post's id, as a feed's guid")),
        content_type="application/rss+xml")
    source = _add_feed(sessions, workspace_id, watch_name, httpserver.url_for("/feed"))
    with transaction(sessions) as session:  # configured so before labels were refused
        row = session.get(SourceRow, source)
        assert row is not None
        row.config = {**row.config, "network": "x"}
    report = run_poll_tick(sessions, trusted_client, force=True, now=NOW)
    assert report.outcomes[0].report.stored == 2, report
    with sessions() as session:
        rows = session.execute(
            select(Mention.network, Mention.external_id, Author.network, Author.handle,
                   Author.followers, Author.mention_count)
            .join(Author, Author.id == Mention.author_id).order_by(Mention.id)).all()
    assert [tuple(r) for r in rows] == [
        ("x", "1001", "x", "@ana_r", 80, 1),
        ("rss", "feed-1", "rss", "@ana_r@news.example.org", None, 2),
        ("rss", "1001", "rss", "@ana_r@news.example.org", None, 2),
    ]
