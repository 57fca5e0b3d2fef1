"""Pure Block Kit renderers for influencers: `/cm influencers` and the App Home section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from bot.i18n import network_name, number, plural_key, t
from bot.messages.influencers import InfluencerLine
from bot.slack.escape import (
    author_link,
    clip_mrkdwn,
    escape,
    escape_name,
    labelled_link,
    truncate,
)

TRACK_ACTION = "vigie.influencer_track"
SHOWN = 10
HOME_SHOWN = 5
POST_CHARS = 90


class InfluencerRanking(Protocol):
    """What `/cm influencers` shows (``bot.services.influencers.InfluencerReport`` has it)."""

    @property
    def days(self) -> int: ...
    @property
    def ranked(self) -> Sequence[InfluencerLine]: ...
    @property
    def tracked(self) -> Sequence[tuple[str, str]]: ...


def _line(rank: int, item: InfluencerLine, language: str, *, posts: bool = True) -> str:
    author = (author_link(item.url, item.handle) if item.url
              else escape_name(item.handle))
    followers = (number(item.followers, language) if item.followers is not None
                 else t(language, "influencers.unknown_followers"))
    key = ("influencers.line" if item.followers is None
           else plural_key(language, "influencers.line", item.followers))
    text = t(language, key, rank=rank, author=author,
             network=escape(network_name(item.network, language)), followers=followers,
             mentions=item.mentions,
             engagement=item.engagement,
             trend=t(language, f"influencers.trend_{item.trend}"),
             tracked=t(language, "influencers.tracked_mark") if item.tracked else "")
    if posts and item.last_posts:
        text += "\n   " + t(language, "influencers.last_posts", posts=" · ".join(
            labelled_link(post.url, truncate(" ".join(post.text.split()), POST_CHARS))
            for post in item.last_posts))
    return text


def build_influencer_blocks(report: InfluencerRanking, language: str
                            ) -> tuple[str, list[dict[str, Any]]]:
    """`/cm influencers`: the ranking (with a Track button for whoever is not tracked) and
    the tracked authors."""
    title = t(language, "influencers.title", days=report.days)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(title, 150)}},
        {"type": "context", "elements": [{"type": "mrkdwn",
                                          "text": t(language, "influencers.ranking")}]}]
    if not report.ranked:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": t(
            language, "influencers.empty", days=report.days)}})
    for rank, item in enumerate(report.ranked[:SHOWN], 1):
        section: dict[str, Any] = {"type": "section", "text": {
            "type": "mrkdwn", "text": clip_mrkdwn(_line(rank, item, language), 2900)}}
        if not item.tracked:
            section["accessory"] = {
                "type": "button", "action_id": TRACK_ACTION, "value": str(item.author_id),
                "text": {"type": "plain_text", "text": t(language, "influencers.track_button")}}
        blocks.append(section)
    names = ", ".join(f"{escape_name(handle)} ({escape(network)})"
                      for network, handle in report.tracked)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(
        t(language, "influencers.tracked_list", names=names) if names
        else t(language, "influencers.no_tracked"), 2900)}]})
    return title, blocks


def build_home_influencers(ranked: Sequence[InfluencerLine], language: str) -> list[dict[str, Any]]:
    """The App Home section: the top influencers of the last 30 days, one line each."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {
        "type": "plain_text", "text": t(language, "influencers.home_title")}}]
    if not ranked:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t(
            language, "influencers.empty", days=30)}]})
        return blocks
    lines = [_line(rank, item, language, posts=False)
             for rank, item in enumerate(ranked[:HOME_SHOWN], 1)]
    blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                               "text": clip_mrkdwn("\n".join(lines), 2900)}})
    return blocks
