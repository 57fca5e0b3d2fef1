"""Adding a network: a descriptor and a source are all the rest of Vigie needs.

The test registers a "toy" network the way a new network module would: its descriptor
(``bot.networks``), a minimal source, and the source's line in ``bot.sources.registry``.
Nothing else is edited, yet the query language accepts ``source:toy`` (and its alias),
its mention's card shows its icon, reply limits and risk checks apply its limit, and the
card offers "open and reply" because Vigie cannot post there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.matching.query import Field, parse_query
from bot.net.fetcher import Fetcher
from bot.networks import Network, register, unregister
from bot.publishers.base import PublishError
from bot.publishers.registry import can_publish, get_publisher
from bot.replies.limits import limit_for
from bot.replies.risk import check_draft
from bot.services.actors import CLI
from bot.services.cards import load_card_view
from bot.services.ingest import do_ingest
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.card_reply import OPEN_REPLY_ACTION
from bot.slack.cards import build_card
from bot.sources import registry
from bot.sources.base import (
    Author,
    Cursor,
    FetchedMention,
    FetchResult,
    Source,
    SourceConfig,
)
from storage.db import transaction
from storage.models import Mention
from tests.harness.constants import CHANNEL_ID

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
TOY = Network("toy", "Toy", "on Toy", ":teddy_bear:", aliases=("toys",), reply_limit=100)


class ToyConfig(SourceConfig):
    """The toy network's settings."""

    query: str


@pytest.fixture
def toy_source(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Source[Any]]]:
    """The toy network, registered for one test: its descriptor, then its source."""
    register(TOY)
    try:
        class ToySource(Source[ToyConfig]):
            """Posts on the toy network mentioning the query."""

            kind: ClassVar[str] = TOY.name
            title: ClassVar[str] = "Toy"
            config_model: ClassVar[type[SourceConfig]] = ToyConfig
            default_interval: ClassVar[timedelta] = timedelta(minutes=5)

            def fetch(self, http: Fetcher, config: ToyConfig, cursor: Cursor) -> FetchResult:
                """One post that mentions the query."""
                post = FetchedMention(
                    network=TOY.name, external_id="1", url="https://toy.example/p/1",
                    text=f"{config.query} lost my order, does anyone answer here?",
                    published_at=NOW, author=Author(handle="@kid"))
                return FetchResult([post], {"seen": "1"})

        monkeypatch.setitem(registry.SOURCES, ToySource.kind, ToySource)
        yield ToySource
    finally:
        unregister(TOY.name)


def test_a_toy_network_walks_through_vigie(
    toy_source: type[Source[Any]], sessions: sessionmaker[Session], workspace_id: int
) -> None:
    # The source registry validates its settings; its fetch gives mentions.
    config = registry.parse_config("toy", {"query": "acme"})
    assert registry.get_source("Toy") is toy_source and not toy_source.can_reply
    fetched = toy_source().fetch(None, config, {}).mentions  # type: ignore[arg-type]

    # The query language accepts source:toy and its alias.
    assert parse_query("source:toys").root == Field("source", "toy")
    assert parse_query("source:toy").describe() == "mentions on Toy"
    # No French wording in the catalogue for a plugin's network: its own phrase.
    assert parse_query("source:toy").describe("fr") == "mentions on Toy"
    do_add_watch(sessions, workspace_id, CLI, name="toys", query="acme source:toys",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    with transaction(sessions) as session:
        do_ingest(session, get_watch_by_name(session, workspace_id, "toys"), None, fetched,
                  now=NOW)

    # Its mention's card shows the toy icon and, as Vigie cannot post there, offers to
    # open the post and reply there; a reply can still be drafted.
    with sessions() as session:
        mention_id = session.scalars(select(Mention.id).where(Mention.network == "toy")).one()
        view = load_card_view(session, mention_id)
    assert view is not None and view.reply_elsewhere and "draft" in view.actions
    _text, blocks = build_card(view)
    assert blocks[0]["text"]["text"].startswith(":teddy_bear:")
    buttons = [element for block in blocks if block["type"] == "actions"
               for element in block["elements"]]
    assert OPEN_REPLY_ACTION in {button.get("action_id") for button in buttons}
    assert not can_publish("toy")
    with pytest.raises(PublishError, match="cannot post replies to 'toy'"):
        get_publisher("toy")

    # Reply limits and risk checks apply its limit, named as people call it.
    assert limit_for("toys") == 100
    report = check_draft("a" * 101, network="toy", mention_text=fetched[0].text,
                         link_allowlist=())
    assert [flag.detail for flag in report.flags if flag.code == "too_long"] == [
        "The reply counts 101 characters; Toy allows 100."]

