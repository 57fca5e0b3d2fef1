"""A follower count agrees with its number: "1 follower" / "1 abonné" (French also says
"0 abonné"), "48,213 followers" / "1,9 k abonnés", and "? followers" when unknown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.messages.cards import CardView
from bot.messages.opportunities import OpportunityView
from bot.slack.cards import build_card
from bot.slack.digest_blocks import author_lines
from bot.slack.influencer_blocks import build_influencer_blocks
from bot.slack.opportunity_blocks import build_home_opportunities, build_opportunity_card
from tests.slack.test_french_numbers import _Influencer, _Ranking

WHEN = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
NB = "\u00a0"
WORDS = {"en": ("follower", "followers"), "fr": ("abonné", "abonnés")}


@dataclass(frozen=True)
class _Author:
    handle: str = "@ana"
    network: str = "mastodon"
    followers: int | None = 1
    url: str | None = None
    mentions: int = 3


@dataclass(frozen=True)
class _Home:
    shown: Sequence[OpportunityView]
    total: int = 1


def _card(followers: int | None) -> CardView:
    return CardView(
        mention_id=7, network="x", url="https://x.com/ana/status/1", author_handle="@ana",
        author_name=None, followers=followers, title=None, text="Acme ships",
        published_at=WHEN, watch_name="acme", status="new", sentiment_label="neutral",
        intent="other", priority=40, priority_reason="")


def _opportunity(followers: int | None) -> OpportunityView:
    return OpportunityView(
        id=3, reason="alternative", status="open", group="market", competitor="Rival",
        network="mastodon", url="https://mastodon.social/@ana/1", author_handle="@ana",
        followers=followers, text="any alternative to Rival?", title=None,
        published_at=WHEN, assignee_user_id=None, draft=None)


def _surfaces(followers: int | None, language: str) -> dict[str, str]:
    """Each surface that writes a follower count, as text."""
    def text(blocks: object) -> str:
        return json.dumps(blocks, ensure_ascii=False)
    return {
        "card": text(build_card(_card(followers), language)[1]),
        "digest": author_lines([_Author(followers=followers)], language),
        "influencers": text(build_influencer_blocks(
            _Ranking(ranked=(_Influencer(followers=followers),)), language)[1]),
        "opportunity": text(build_opportunity_card(_opportunity(followers), language)[1]),
        "home": text(build_home_opportunities(_Home((_opportunity(followers),)), language)),
    }


@pytest.mark.parametrize("language", ["en", "fr"])
def test_one_follower_is_singular(language: str) -> None:
    one, many = WORDS[language]
    for surface, text in _surfaces(1, language).items():
        assert f"1 {one}" in text, surface
        assert f"1 {many}" not in text, surface


@pytest.mark.parametrize(("language", "shown"), [("en", "1.2k"), ("fr", f"1,2{NB}k")])
def test_compact_and_plain_counts_stay_plural(language: str, shown: str) -> None:
    _one, many = WORDS[language]
    for surface, text in _surfaces(1_234, language).items():
        if surface in ("digest", "influencers"):  # written in full there
            assert f"{many} ·" in text and f"234 {many}" in text, surface
        else:
            assert f"{shown} {many}" in text, surface


@pytest.mark.parametrize("language", ["en", "fr"])
def test_unknown_followers_stay_plural(language: str) -> None:
    _one, many = WORDS[language]
    surfaces = _surfaces(None, language)
    assert f"? {many}" in surfaces["digest"] and f"? {many}" in surfaces["influencers"]


def test_french_says_zero_follower_in_the_singular() -> None:
    assert "0 abonné ·" in author_lines([_Author(followers=0)], "fr")
    assert "0 followers ·" in author_lines([_Author(followers=0)], "en")
