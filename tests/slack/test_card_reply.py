"""Honest replies per network: the card says where Vigie cannot post, and what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages.cards import CardView
from bot.replies.prompt import PromptMention, build_messages
from bot.replies.templates import BUILTIN_TEMPLATES
from bot.services.reply_policy import card_actions
from bot.slack.cards import build_card

WHEN = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def _view(network: str, status: str = "new", elsewhere: bool = True,
          url: str = "https://news.example.com/a") -> CardView:
    return CardView(
        mention_id=7, network=network, url=url, author_handle="news", author_name=None,
        followers=None, title="Acme", text="Acme ships", published_at=WHEN, watch_name="acme",
        status=status, sentiment_label="neutral", intent="other", priority=20,
        priority_reason=None,
        actions=tuple(card_actions(["assign", "draft", "replied", "ignore"], network)),
        reply_elsewhere=elsewhere)


def _elements(blocks: list[dict[str, object]]) -> list[dict[str, object]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[attr-defined]


def test_a_feed_item_offers_open_and_reply_there_and_no_draft() -> None:
    _, blocks = build_card(_view("rss"))
    elements = _elements(blocks)
    assert [e["action_id"] for e in elements] == [
        "vigie.open_reply", "vigie.assign", "vigie.replied", "vigie.ignore"]
    assert elements[0]["url"] == "https://news.example.com/a"
    assert elements[0]["text"]["text"] == "Open and reply there"  # type: ignore[index]
    notes = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]  # type: ignore[attr-defined]
    assert ("Vigie cannot post on RSS/Atom feeds: open the post, reply there, then press "
            "Mark replied."
            in notes)


def test_hacker_news_keeps_the_draft_and_approved_says_post_it_by_hand() -> None:
    _, blocks = build_card(_view("hn", status="approved"))
    ids = [e["action_id"] for e in _elements(blocks)]
    assert ids[0] == "vigie.open_reply" and "vigie.draft" in ids
    text = str(blocks)
    assert "Approved. Vigie cannot post on hn: copy the draft, post it there" in text


def test_where_vigie_posts_the_card_is_unchanged() -> None:
    _, blocks = build_card(_view("mastodon", elsewhere=False))
    assert [e["action_id"] for e in _elements(blocks)] == [
        "vigie.assign", "vigie.draft", "vigie.replied", "vigie.ignore"]
    assert "cannot post" not in str(blocks)


def test_closed_or_odd_urls_get_no_link_button() -> None:
    assert "open_reply" not in str(build_card(_view("rss", status="replied"))[1])
    assert "open_reply" not in str(build_card(_view("rss", url="javascript:alert(1)"))[1])


def test_templates_and_prompt_never_assume_a_dm_exists() -> None:
    for text in BUILTIN_TEMPLATES.values():
        assert "direct message" not in text and "message privé" not in text
    system, _user = build_messages(None, PromptMention(text="help", author="@ana",
                                                       network="hn"),
                                   network_limit=None, language="en", brand_name="Acme")
    assert "never assume the person can be messaged privately" in system["content"]
    assert "by direct message" not in system["content"]
