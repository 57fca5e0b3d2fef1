"""Posts a network's search shows late (a Mastodon status that federates late, numbered
by its creation; a Bluesky post or an HN item indexed after newer ones were read), on
SQLite and PostgreSQL, through the paging stand-ins served by a local HTTP server: found
by the next poll's look-back, stored and alerted once, and what the look-back reads again
never stored or alerted twice, even when the cursor has forgotten it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.outbox import KIND_CARD, KIND_THREAD
from bot.services.polling import run_poll_tick
from bot.services.sources_admin import do_add_source
from bot.services.watches import do_add_watch
from storage.db import transaction
from storage.models import Mention, OutboxMessage, SourceRow
from tests.harness.constants import CHANNEL_ID
from tests.services.test_polling import trusted_client
from tests.sources.paging_stand_ins import (
    BlueskySearch,
    HackerNewsSearch,
    MastodonTagTimeline,
)


@dataclass
class Network:
    """A source kind, its settings on the local server, and how a post is published on
    its stand-in (``post(when)`` gives the post's external id)."""

    kind: str
    values: dict[str, Any]
    post: Callable[[datetime], str]


def mastodon(server: HTTPServer) -> Network:
    timeline = MastodonTagTimeline().serve(server)
    return Network("mastodon", {"base_url": server.url_for("").rstrip("/"), "query": "acme"},
                   lambda when: "https://remote.example/users/author/statuses/"
                   + timeline.post(when)[0])


def bluesky(server: HTTPServer) -> Network:
    search = BlueskySearch().serve(server)
    return Network("bluesky", {"service_url": server.url_for("").rstrip("/"), "query": "acme",
                               "handle": "brand.bsky.social", "app_password": "x-x-x-x"},
                   lambda when: search.post(when)[0])


def hackernews(server: HTTPServer) -> Network:
    search = HackerNewsSearch().serve(server)
    return Network("hackernews", {"base_url": server.url_for("/api/v1"), "query": "acme"},
                   lambda when: search.post(int(when.timestamp()))[0])


def stored(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Mention.external_id)))


def outbox(sessions: sessionmaker[Session]) -> list[tuple[str, int | None]]:
    with sessions() as session:
        return [(m.kind, m.mention_id)
                for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


@pytest.mark.parametrize("network", [mastodon, bluesky, hackernews],
                         ids=lambda n: n.__name__)
def test_a_post_found_late_is_stored_and_alerted_once(
    network: Callable[[HTTPServer], Network], sessions: sessionmaker[Session],
    workspace_id: int, httpserver: HTTPServer,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    net = network(httpserver)
    now = datetime.now(UTC).replace(microsecond=0)
    first = net.post(now - timedelta(minutes=10))
    do_add_source(sessions, workspace_id, CLI, kind=net.kind, watch_name="acme",
                  values=net.values)
    run_poll_tick(sessions, trusted_client, force=True)
    newer = net.post(now - timedelta(seconds=5))
    run_poll_tick(sessions, trusted_client, force=True)
    late = net.post(now - timedelta(seconds=40))  # made before ``newer``, shown after it
    newest = net.post(now - timedelta(seconds=1))

    found = run_poll_tick(sessions, trusted_client, force=True)
    assert found.failures == 0 and found.totals.stored == 2
    assert sorted(stored(sessions)) == sorted([first, newer, late, newest])
    sent = outbox(sessions)
    # a card, then a message in its case's thread for each later post (the stand-ins'
    # posts are one author's: each after the first is a follow-up)
    assert Counter(kind for kind, _ in sent if kind in (KIND_CARD, KIND_THREAD)) == \
        {KIND_CARD: 1, KIND_THREAD: 3}

    # The look-back reads the four again: known by the cursor, then (once the cursor has
    # forgotten them) by ingest, by their ids; never stored nor alerted twice.
    again = run_poll_tick(sessions, trusted_client, force=True)
    with transaction(sessions) as session:
        row = session.scalars(select(SourceRow)).one()
        assert row.cursor.get("seen")
        row.cursor = {k: v for k, v in row.cursor.items() if k != "seen"}
    forgotten = run_poll_tick(sessions, trusted_client, force=True)
    assert again.failures == forgotten.failures == 0
    assert again.totals.stored == forgotten.totals.stored == 0
    assert sorted(stored(sessions)) == sorted([first, newer, late, newest])
    assert outbox(sessions) == sent  # no card, thread message or card update again
