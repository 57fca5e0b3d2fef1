"""One reach formatter: the card's author line, its story reach, the opportunity card and
the priority reason all say the same (rounded down), so a card can no longer read "2M" in
one place and "1.9M followers" in another."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.analysis.reach import format_reach
from bot.messages.cards import CardView, StoryMember
from bot.messages.opportunities import HomeOpportunities, OpportunityView
from bot.slack.cards import build_card
from bot.slack.opportunity_blocks import build_home_opportunities, build_opportunity_card

WHEN = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _card(followers: int, story: list[StoryMember] | None = None) -> CardView:
    return CardView(
        mention_id=7, network="x", url="https://x.com/ana/status/1", author_handle="@ana",
        author_name=None, followers=followers, title=None, text="Acme ships", published_at=WHEN,
        watch_name="acme", status="new", sentiment_label="neutral", intent="other", priority=40,
        priority_reason=f"{format_reach(followers)} followers", story=story or [])


@pytest.mark.parametrize(("followers", "shown", "not_shown"), [
    (1_960_000, "1.9M", "2M"), (1_999, "1.9k", "2k"), (1_050, "1k", "1.1k"),
    (48_213, "48k", "48.2k"), (3_100_000_000, "3.1B", "3100M"),
])
def test_the_card_rounds_reach_down_like_the_priority_reason(
        followers: int, shown: str, not_shown: str) -> None:
    text = str(build_card(_card(followers), "en")[1])
    assert f"{shown} followers" in text
    assert f"{not_shown} followers" not in text


def test_the_story_reach_uses_the_same_formatter() -> None:
    story = [StoryMember("bluesky", "bob", "https://bsky.app/x", 960_000)]
    text = str(build_card(_card(1_000_000, story), "en")[1])
    assert "1.9M" in text and "2M" not in text  # 1,960,000 together, rounded down


def test_the_opportunity_card_uses_the_same_formatter() -> None:
    view = OpportunityView(
        id=3, reason="alternative", status="open", group="acme-vs", competitor="Rival",
        network="bluesky", url="https://bsky.app/x", author_handle="bob", followers=1_999,
        text="Rival lost my parcel", title=None, published_at=WHEN, assignee_user_id=None,
        draft=None)
    assert "1.9k" in str(build_opportunity_card(view, "en")[1])


@pytest.mark.parametrize("language", ["en", "fr"])
def test_an_opportunity_whose_reach_is_unknown_shows_no_follower_count(language: str) -> None:
    """Unknown followers (an RSS author): the card and App Home's line leave the count
    out, instead of "rss · *ivy* · followers" and "*ivy* ( followers)"."""
    view = OpportunityView(
        id=3, reason="alternative", status="open", group="acme-vs", competitor="Rival",
        network="rss", url="https://news.example.com/1", author_handle="ivy", followers=None,
        text="Rival lost my parcel", title=None, published_at=WHEN, assignee_user_id=None,
        draft=None)
    word = {"en": "followers", "fr": "abonnés"}[language]
    card = str(build_opportunity_card(view, language)[1])
    home = str(build_home_opportunities(HomeOpportunities(shown=[view], total=1), language))
    for text in (card, home):
        assert "*ivy*" in text and word not in text and "()" not in text and "( " not in text
    known = replace(view, followers=1_999)
    reach = {"en": "1.9k", "fr": "1,9\u00a0k"}[language]  # French: decimal comma, no-break space
    assert f"*ivy* · {reach} {word}" in json.dumps(build_opportunity_card(known, language)[1],
                                                  ensure_ascii=False)
    assert f"*ivy* ({reach} {word})" in json.dumps(build_home_opportunities(
        HomeOpportunities(shown=[known], total=1), language), ensure_ascii=False)
