"""A malformed link in one feed item no longer silences the whole source.

``<link>http://[bad/</link>`` or an escaped ``<a href="http://[bad/">`` in one item made
every poll of the feed fail (``ValueError: Invalid IPv6 URL``), with backoff: the watch
went silent. Each feed is served for real on loopback and polled, on SQLite and on
PostgreSQL: the good items are stored, the bad one without its bad link, the source is
healthy.
"""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.net.http import HttpClient
from bot.services.actors import CLI
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source, list_sources
from storage.models import Author, Mention, SourceRow
from tests.sources.bad_link_feeds import BAD, EXPECTED, FEEDS


@pytest.mark.parametrize("kind", sorted(FEEDS))
def test_a_feed_with_malformed_links_is_stored_and_stays_healthy(
    kind: str, sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request(f"/{kind}").respond_with_data(
        FEEDS[kind], content_type="application/xml")
    do_add_source(sessions, workspace_id, CLI, kind="rss", watch_name=watch_name,
                  values={"url": httpserver.url_for(f"/{kind}")})
    report = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
    assert report.failures == 0, [o.error for o in report.outcomes]
    with sessions() as session:
        stored = {m.external_id: m.url for m in session.scalars(select(Mention))}
        row = session.scalars(select(SourceRow)).one()
        assert (row.consecutive_failures, row.last_error) == (0, None)
    assert stored == {key: url for key, (url, _links) in EXPECTED[kind].items()}
    assert BAD not in stored.values()
    (view,) = list_sources(sessions, workspace_id)
    assert view.last_success_at is not None and view.consecutive_failures == 0


def test_a_mastodon_account_with_a_malformed_address_is_stored(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
    httpserver: HTTPServer,
) -> None:
    """A local account (``acct`` without a domain) took its instance from its ``url``:
    a malformed one raised out of the fetch."""
    statuses = [{
        "id": str(100 + n), "uri": f"https://toot.example/s/{n}",
        "url": f"https://toot.example/@ann/{n}", "created_at": f"2026-12-06T08:0{n}:00Z",
        "content": f'<p>acme {n} <a href="{BAD}">x</a></p>', "card": {"url": BAD},
        "account": {"acct": f"user{n}", "username": f"user{n}",
                    "url": BAD if n == 2 else f"https://toot.example/@user{n}"},
    } for n in (1, 2, 3)]
    httpserver.expect_request("/api/v1/timelines/tag/acme").respond_with_json(statuses)
    do_add_source(sessions, workspace_id, CLI, kind="mastodon", watch_name=watch_name,
                  values={"base_url": httpserver.url_for("/").rstrip("/"), "query": "acme"})
    report = run_poll_tick(sessions, lambda _trusted: HttpClient(), force=True)
    assert report.failures == 0, [o.error for o in report.outcomes]
    assert report.totals.stored == 3
    with sessions() as session:
        authors = {a.handle: a.url for a in session.scalars(select(Author))}
        row = session.scalars(select(SourceRow)).one()
        assert (row.consecutive_failures, row.cursor["min_id"]) == (0, "103")
    assert authors["@user2"] is None
    assert authors["@user1@toot.example"] == "https://toot.example/@user1"
