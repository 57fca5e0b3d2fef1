"""A watch does not get the same source twice (the same feed fetched twice a round, every
post of the second copy a duplicate); another watch, or another feed, may."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.errors import ServiceError
from bot.services.sources_admin import do_add_source, list_sources
from bot.services.watches import do_add_watch
from tests.harness.constants import CHANNEL_ID
from tests.services.racing import race

FEED = "https://news.example.org/feed.xml"


def _add(sessions: sessionmaker[Session], workspace_id: int, watch: str, kind: str,
         **values: str) -> int:
    return do_add_source(sessions, workspace_id, CLI, kind=kind, watch_name=watch,
                         values=values).id


def test_the_same_source_twice_on_one_watch_is_refused(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    first = _add(sessions, workspace_id, watch_name, "rss", url=FEED)
    with pytest.raises(ServiceError) as refused:
        _add(sessions, workspace_id, watch_name, "rss", url=FEED)
    assert refused.value.key == "source.exists"
    assert f"#{first}" in refused.value.message(plain=True)
    mastodon = {"base_url": "https://toot.example", "query": "acme"}
    _add(sessions, workspace_id, watch_name, "mastodon", **mastodon, access_token="tok-one-1234")
    with pytest.raises(ServiceError):  # another token does not make it another source
        _add(sessions, workspace_id, watch_name, "mastodon", **mastodon,
             access_token="tok-two-5678")
    assert len(list_sources(sessions, workspace_id)) == 2


def test_other_feeds_other_watches_and_webhooks_are_not_the_same_source(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="other", query="acme", channel_id=CHANNEL_ID)
    _add(sessions, workspace_id, watch_name, "rss", url=FEED)
    _add(sessions, workspace_id, "other", "rss", url=FEED)
    _add(sessions, workspace_id, watch_name, "rss", url=FEED + "?page=2")
    _add(sessions, workspace_id, watch_name, "webhook")
    _add(sessions, workspace_id, watch_name, "webhook")  # two senders, two secrets
    assert len(list_sources(sessions, workspace_id)) == 5


def test_two_admins_adding_the_same_feed_at_once_get_one_source(
    sessions: sessionmaker[Session], workspace_id: int, watch_name: str,
) -> None:
    """Both adds check for the same source before either writes: one must be refused."""
    results = race(sessions, lambda: _add(sessions, workspace_id, watch_name, "rss", url=FEED),
                   lambda: _add(sessions, workspace_id, watch_name, "rss", url=FEED))
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert [r.key for r in refused] == ["source.exists"], results
    assert len(list_sources(sessions, workspace_id)) == 1
