"""Numbers on Slack surfaces are written the reader's way: ``48,213``, ``1.9k``, ``2.5`` and
``53%`` in English; ``48 213`` (narrow no-break space), ``1,9 k``, ``2,5`` and ``53 %`` in
French."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.i18n import compact, digits, number, percent
from bot.messages.cards import CardView, StoryMember
from bot.messages.spikes import SpikeAlertSpec
from bot.slack.cards import build_card
from bot.slack.influencer_blocks import build_influencer_blocks
from bot.slack.opportunity_blocks import sov_line, sov_table
from bot.slack.spike_blocks import build_spike_alert
from bot.slack.triage_blocks import figures_line

NNB = "\u202f"  # narrow no-break space: French thousands, and before %
NB = "\u00a0"  # no-break space: French, before k, M and Md
WHEN = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _text(blocks: Any) -> str:
    """Blocks as JSON with the characters as they are (str() would write \\u202f)."""
    return json.dumps(blocks, ensure_ascii=False)


@pytest.mark.parametrize(("language", "grouped", "decimal", "share"), [
    ("en", "48,213", "2.5", "53%"),
    ("fr", f"48{NNB}213", "2,5", f"53{NNB}%"),
])
def test_the_number_helpers(language: str, grouped: str, decimal: str, share: str) -> None:
    assert number(48_213, language) == grouped
    assert number(2.46, language, decimals=1) == decimal
    assert percent(0.531, language) == share
    assert digits("+1.5", language) == ("+1.5" if language == "en" else "+1,5")


@pytest.mark.parametrize(("text", "english", "french"), [
    ("48k", "48k", f"48{NB}k"), ("1.9k", "1.9k", f"1,9{NB}k"), ("2.4M", "2.4M", f"2,4{NB}M"),
    ("3.1B", "3.1B", f"3,1{NB}Md"), ("999", "999", "999"), ("", "", ""), ("?", "?", "?"),
])
def test_compact_counts(text: str, english: str, french: str) -> None:
    assert (compact(text, "en"), compact(text, "fr")) == (english, french)


def _card() -> CardView:
    return CardView(
        mention_id=7, network="x", url="https://x.com/ana/status/1", author_handle="@ana",
        author_name=None, followers=1_960_000, title=None, text="Acme ships",
        published_at=WHEN, watch_name="acme", status="new", sentiment_label="neutral",
        intent="other", priority=40, priority_reason="1.9M followers",
        story=[StoryMember("bluesky", "bob", "https://bsky.app/x", 48_213)])


def test_the_card_author_line_and_story_reach() -> None:
    french = _text(build_card(_card(), "fr")[1])
    assert f"1,9{NB}M abonnés" in french and f"audience 2{NB}M" in french
    assert "1.9M" not in french
    english = _text(build_card(_card(), "en")[1])
    assert "1.9M followers" in english and "2M reach" in english


def test_a_story_longer_than_the_card_names_counts_all_its_posts() -> None:
    card = replace(_card(), story_count=29, story_reach=540_000)
    french = _text(build_card(card, "fr")[1])
    assert f"sujet : 30 publications, audience 2,5{NB}M" in french
    assert "https://bsky.app/x|bob (bsky.app)> et 28 autres" in french
    english = _text(build_card(card, "en")[1])
    assert "story: 30 posts, 2.5M reach" in english
    assert "|bob (bsky.app)> and 28 more" in english


def test_the_spike_alert() -> None:
    spec = SpikeAlertSpec(language="fr", watch="acme", kind="both", total=40, baseline=2.46,
                          negative_share=0.5, baseline_negative_share=0.125,
                          authors=(("@loud", 48_213), ("@anon", None)),
                          hour_start=datetime(2026, 11, 20, 14, tzinfo=UTC),
                          counted_until=datetime(2026, 11, 20, 14, 15, tzinfo=UTC),
                          zone="Europe/Paris")
    text, _ = build_spike_alert(spec)
    assert (f"40 mentions le 20 nov. de 15:00 à 15:15 (Europe/Paris) contre 2,5 d'habitude ; "
            f"50{NNB}% négatives contre 12{NNB}% d'habitude") in text
    _, blocks = build_spike_alert(spec)
    assert f"@loud (48{NB}k), @anon (?)" in blocks[0]["text"]["text"]
    english, _ = build_spike_alert(SpikeAlertSpec(
        language="en", watch="acme", kind="both", total=40, baseline=2.46,
        negative_share=0.5, baseline_negative_share=0.125,
        hour_start=datetime(2026, 11, 20, 14, tzinfo=UTC)))
    assert ("40 mentions on 20 Nov, 14:00–15:00 (UTC) vs 2.5 usual; 50% negative vs 12% usual."
            in english)


@dataclass(frozen=True)
class _Influencer:
    author_id: int = 1
    handle: str = "@ana"
    network: str = "mastodon"
    url: str | None = None
    followers: int | None = 48_213
    mentions: int = 3
    engagement: int = 12
    trend: str = "stable"
    tracked: bool = False
    last_posts: Sequence[object] = ()


@dataclass(frozen=True)
class _Ranking:
    days: int = 30
    ranked: Sequence[_Influencer] = (_Influencer(),)
    tracked: Sequence[tuple[str, str]] = ()


def test_influencer_followers() -> None:
    assert f"· 48{NNB}213 abonnés ·" in _text(build_influencer_blocks(_Ranking(), "fr")[1])
    assert "· 48,213 followers ·" in _text(build_influencer_blocks(_Ranking(), "en")[1])


@dataclass(frozen=True)
class _Count:
    mentions: int = 40


@dataclass(frozen=True)
class _Member:
    watch: str
    share: dict[str, float | None]
    kind: str = "own"
    current: _Count = field(default_factory=_Count)

    def trend(self, metric: str) -> float | None:
        return {"mentions": 2.46, "reach": -0.04}.get(metric)


@dataclass(frozen=True)
class _Group:
    group: str = "market"
    conquest: bool = False
    members: Sequence[_Member] = ()
    total: _Count = field(default_factory=_Count)
    by_network: dict[str, Sequence[_Member]] = field(default_factory=dict)
    opportunities: int = 0


def test_share_of_voice() -> None:
    acme = _Member("acme", {"mentions": 0.531, "reach": 0.25, "positive": None,
                            "negative": 0.1})
    group = _Group(members=(acme,), by_network={"x": (acme,)})
    assert f"acme 53{NNB}% (+2,5 pts)" in sov_line(group, "fr")
    assert "acme 53% (+2.5 pts)" in sov_line(group, "en")
    table = sov_table(group, "fr")
    assert f"portée 25{NNB}% (±0,0)" in table and f"X : acme 53{NNB}%" in table


def test_triage_figures() -> None:
    figures = {"before": {"labels": 40, "precision": 0.8333, "recall": 0.5, "tp": 5, "fp": 1},
               "after": {"labels": 40, "precision": 0.9, "recall": 0.75, "tp": 6, "fp": 0}}
    assert "précision 0,83 → 0,90, rappel 0,50 → 0,75" in (figures_line(figures, "fr") or "")
    assert "precision 0.83 → 0.90, recall 0.50 → 0.75" in (figures_line(figures, "en") or "")


def test_the_spike_alert_counts_in_thousands() -> None:
    """The hour's total and each driving term's and link's count are grouped the French way
    (``1 234``); English keeps them as they always were (``1234``)."""
    spec = SpikeAlertSpec(language="fr", watch="acme", kind="both", total=12_345,
                          baseline=1_234.56, negative_share=0.6254,
                          baseline_negative_share=0.1251, terms=(("panne", 4_321),),
                          links=(("https://acme.example/status", 2_048),))
    text, blocks = build_spike_alert(spec)
    assert (f"12{NNB}345 mentions dans l'heure contre 1{NNB}234,6 d'habitude ; 63{NNB}% "
            f"négatives contre 13{NNB}% d'habitude") in text
    body = blocks[0]["text"]["text"]
    assert f"`panne` ×4{NNB}321" in body and f"https://acme.example/status> ×2{NNB}048" in body
    assert "12345" not in body and "4321" not in body and "2048" not in body
    english_text, english_blocks = build_spike_alert(SpikeAlertSpec(
        language="en", watch="acme", kind="both", total=12_345, baseline=1_234.56,
        negative_share=0.6254, baseline_negative_share=0.1251, terms=(("outage", 4_321),),
        links=(("https://acme.example/status", 2_048),)))
    assert "12345 mentions in the hour vs 1,234.6 usual; 63% negative vs 13% usual." in english_text
    english = english_blocks[0]["text"]["text"]
    assert "`outage` ×4321" in english and "https://acme.example/status> ×2048" in english


def test_share_of_voice_counts_in_thousands() -> None:
    """The group's total, each member's mentions and the opportunities found are grouped
    the French way in the digest's line and in `/cm stats sov`; English unchanged."""
    acme = _Member("acme", {"mentions": 0.5315, "reach": 0.125, "positive": None,
                            "negative": 0.1}, current=_Count(mentions=1_234))
    group = _Group(members=(acme,), by_network={"x": (acme,)}, total=_Count(mentions=5_678),
                   conquest=True, opportunities=1_500)
    line = sov_line(group, "fr")
    assert f"(market, 5{NNB}678 mention(s)) : acme 53{NNB}% (+2,5 pts)" in line
    assert f"opportunités de conquête : 1{NNB}500" in line
    table = sov_table(group, "fr")
    assert f"acme : 1{NNB}234 mention(s) · 53{NNB}% (+2,5)" in table
    assert f"portée 12{NNB}% (±0,0)" in table
    assert f"opportunités de conquête : 1{NNB}500" in table
    english = sov_line(group, "en")
    assert "(market, 5678 mention(s)): acme 53% (+2.5 pts)" in english
    assert "conquest opportunities: 1500" in english
    assert "acme: 1234 mention(s) · 53% (+2.5)" in sov_table(group, "en")
