"""Every network has one descriptor, and every part of Vigie that cares reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.matching.query import Field, MatchInput, parse_query
from bot.networks import (
    DEFAULT_ICON,
    NETWORKS,
    Network,
    ReplyCredentials,
    get_network,
    icon_for,
    network_names,
    normalize_network,
    register,
    resolve_network,
    unregister,
)
from bot.publishers.registry import PUBLISHERS, can_publish, get_publisher
from bot.replies.limits import limit_for, measure
from bot.replies.risk import check_draft
from bot.services.reply_policy import card_actions
from bot.slack.cards import CardView, build_card
from bot.sources.registry import SOURCES

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
KNOWN = sorted(set(SOURCES) | set(PUBLISHERS))
"""Every network some registry knows (the sources', the publishers')."""


def _card(network: str) -> CardView:
    return CardView(mention_id=1, network=network, url="https://example.com/p/1",
                    author_handle="@someone", author_name=None, followers=None, title=None,
                    text="Acme is down again", published_at=NOW, watch_name="acme",
                    status="new", sentiment_label=None, intent=None, priority=0,
                    priority_reason=None)


def test_the_descriptors_are_exactly_the_sources_networks() -> None:
    assert network_names() == set(SOURCES)
    assert set(PUBLISHERS) <= network_names()


@pytest.mark.parametrize("name", KNOWN)
def test_every_registered_network_has_a_descriptor(name: str) -> None:
    network = get_network(name)
    assert network is not None and network.name == name
    assert NETWORKS[name] is network
    assert network.display_name and network.query_phrase and network.icon


FRENCH_PHRASES = {"rss": "dans les flux RSS/Atom", "mastodon": "sur Mastodon",
                  "bluesky": "sur Bluesky", "hackernews": "sur Hacker News",
                  "reddit": "sur Reddit", "x": "sur X", "webhook": "du webhook"}


@pytest.mark.parametrize("name", KNOWN)
def test_the_query_language_knows_every_network_and_its_aliases(name: str) -> None:
    network = NETWORKS[name]
    for typed in (name, name.upper(), *network.aliases):
        query = parse_query(f"source:{typed}")
        assert query.root == Field("source", name), typed
        assert query.describe() == f"mentions {network.query_phrase}"
        assert query.describe("fr") == f"mentions {FRENCH_PHRASES[name]}"
        assert query.matches(MatchInput(text="acme", network=name))
        assert normalize_network(typed) == name
        assert resolve_network(typed) is network


@pytest.mark.parametrize("name", KNOWN)
def test_reply_limits_and_risk_checks_read_the_descriptor(name: str) -> None:
    network = NETWORKS[name]
    for typed in (name, *network.aliases):
        assert limit_for(typed) == network.reply_limit
    if network.reply_limit is None:
        assert measure("a" * 5000, name) == (5000, None)
        return
    report = check_draft("a" * (network.reply_limit + 1), network=name, mention_text="hi",
                         link_allowlist=())
    too_long = [flag for flag in report.flags if flag.code == "too_long"]
    assert too_long and f"{network.display_name} allows {network.reply_limit}" in (
        too_long[0].detail)


@pytest.mark.parametrize("name", KNOWN)
def test_cards_show_every_networks_icon(name: str) -> None:
    assert icon_for(name) == NETWORKS[name].icon
    _text, blocks = build_card(_card(name))
    assert blocks[0]["text"]["text"].startswith(NETWORKS[name].icon)


def test_unknown_networks_get_the_default_icon_and_no_limit() -> None:
    assert icon_for("news") == icon_for(None) == DEFAULT_ICON
    assert limit_for("news") is None
    assert not can_publish("news")
    assert card_actions(["draft", "replied"], "news") == ["draft", "replied"]


@pytest.mark.parametrize("name", KNOWN)
def test_reply_routing_reads_the_descriptor(name: str) -> None:
    network = NETWORKS[name]
    assert can_publish(name) is network.posts_replies
    assert SOURCES[name].can_reply is network.posts_replies
    assert ("draft" in card_actions(["draft", "replied"], name)) is network.drafts_replies
    if not network.posts_replies:
        assert name not in PUBLISHERS and network.credentials is None
        return
    # The credentials named by the descriptor are settings of the source and fields of
    # the publisher's credentials.
    credentials = network.credentials
    assert credentials is not None
    publisher = get_publisher(name)
    settings = SOURCES[name].config_model.model_fields
    fields = publisher.credentials_model.model_fields
    pairs = [credentials.secret, *credentials.always.items(), *credentials.when_set.items()]
    for field_name, setting in pairs:
        assert setting in settings, (name, setting)
        assert field_name in fields, (name, field_name)
    required = {n for n, info in fields.items() if info.is_required()}
    assert required <= {credentials.secret[0], *credentials.always}


def test_credentials_come_from_the_named_settings() -> None:
    credentials = ReplyCredentials(("token", "reply_token"), always={"host": "base_url"},
                                   when_set={"extra": "extra_url"})
    assert credentials.from_settings({"base_url": "https://h"}) is None
    assert credentials.from_settings({"reply_token": "", "base_url": "https://h"}) is None
    assert credentials.from_settings({"reply_token": "s"}) == {"token": "s", "host": None}
    assert credentials.from_settings({"reply_token": "s", "extra_url": "e"}) == {
        "token": "s", "host": None, "extra": "e"}


def test_one_vocabulary_the_stored_names_are_canonical() -> None:
    assert normalize_network("HN") == normalize_network("hackernews") == "hackernews"
    assert normalize_network(" Twitter ") == "x"
    assert normalize_network("ｂｓｋｙ") == "bluesky"  # full-width, as a query may carry it
    assert normalize_network("news") == "news"  # a feed's own label stays its own
    assert get_network("feed") is None  # stored names are never alias-resolved
    aliases = [alias for network in NETWORKS.values() for alias in network.aliases]
    assert len(aliases) == len(set(aliases)) and not set(aliases) & network_names()


def test_register_refuses_taken_or_malformed_names() -> None:
    with pytest.raises(ValueError, match="already used"):
        register(Network("x", "X", "on X", ":x:"))
    with pytest.raises(ValueError, match="already used: hn"):
        register(Network("lemmy", "Lemmy", "on Lemmy", ":mouse:", aliases=("hn",)))
    with pytest.raises(ValueError, match="lower-case"):
        register(Network("Lemmy", "Lemmy", "on Lemmy", ":mouse:"))
    assert "lemmy" not in network_names()
    register(Network("lemmy", "Lemmy", "on Lemmy", ":mouse:", aliases=("threadiverse",)))
    try:
        assert normalize_network("threadiverse") == "lemmy"
    finally:
        unregister("lemmy")
    assert normalize_network("threadiverse") == "threadiverse"
