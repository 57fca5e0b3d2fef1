"""Rendered mrkdwn is never cut inside a link, date or entity, fits Slack's limits with a
margin, and outside text is escaped (issue 15, items 2 and 7)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk import WebClient

from bot.messages.cards import CardView, StoryMember
from bot.services.errors import Mrkdwn, ServiceError
from bot.slack.cards import build_card
from bot.slack.escape import clip_mrkdwn, escape, fit_source, slack_date, slack_len
from bot.slack.mention_views import build_history, build_mention_list, more_button_value
from handlers.actions import _filters_from
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import CHANNEL_ID
from tests.harness.slack_standin import sdk_block_errors

WHEN = datetime(2026, 11, 21, 8, tzinfo=UTC)
LONG_URL = "https://example.com/" + "p" * 2700


def card_view(text: str, **overrides: Any) -> CardView:
    values: dict[str, Any] = dict(
        mention_id=7, network="mastodon", url="https://m.social/@ana/1", author_handle="@ana",
        author_name="Ana", followers=1200, title=None, text=text, published_at=WHEN,
        watch_name="acme", status="new", sentiment_label="negative", intent="complaint",
        priority=70, priority_reason="complaint", actions=("assign", "draft"))
    values.update(overrides)
    return CardView(**values)


def texts_of(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn/plain text in ``blocks``."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text"} and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


def assert_whole(blocks: list[dict[str, Any]]) -> None:
    """Valid for Slack, within 3,000 UTF-16 units, no split <...> or &...; anywhere."""
    assert validate_blocks(blocks, "message") == []
    assert sdk_block_errors(blocks) == []
    for text in texts_of(blocks):
        assert 1 <= slack_len(text) <= 3000, text[:80]
        unquoted = re.sub(r"(?m)^>", "", text)  # block-quote markers are literal ">"
        assert unquoted.count("<") == unquoted.count(">"), text[-120:]
        assert not ENTITY.search(text), text[-120:]
        assert not re.search(r"&[a-z]*$", text.removesuffix("…")), text[-40:]


# --------------------------------------------------------------- item 2: empty text
@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_media_only_mention_gets_a_card_slack_accepts(slack_client: WebClient,
                                                      text: str) -> None:
    fallback, blocks = build_card(card_view(text))
    assert_whole(blocks)
    assert "no text" in json.dumps(blocks)
    assert slack_client.chat_postMessage(channel=CHANNEL_ID, text=fallback, blocks=blocks)["ok"]


# ---------------------------------------------------------------- item 7: cutting
def test_escaped_text_longer_than_the_limit_is_not_cut_inside_an_entity() -> None:
    _, blocks = build_card(card_view("&" * 700))  # escapes to 3,500 characters
    assert_whole(blocks)
    assert "Read the whole post" in blocks[1]["text"]["text"]


def test_long_urls_and_titles_never_split_a_link() -> None:
    story = [StoryMember("bluesky", f"bob{i}", LONG_URL, 10) for i in range(8)]
    _, blocks = build_card(card_view("<b> & " * 150, url=LONG_URL, title="T&" * 100,
                                     story=story, reply_url=LONG_URL, reply_state="failed",
                                     reply_error="<oops> " * 800, draft_text="&<>" * 600,
                                     status="drafting", draft_version=2))
    assert_whole(blocks)


def test_emoji_count_double_under_the_margin() -> None:
    _, blocks = build_card(card_view("😀" * 700))
    assert_whole(blocks)


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("ab <>&\n😀é|*_~")), max_size=900),
       title=st.none() | st.text(alphabet=st.sampled_from(list("t<&>😀 ")), max_size=200),
       long_url=st.booleans())
def test_any_card_is_whole(text: str, title: str | None, long_url: bool) -> None:
    url = LONG_URL if long_url else "https://m.social/@ana/1"
    _, blocks = build_card(card_view(text, title=title, url=url))
    assert_whole(blocks)


def test_clip_mrkdwn_cuts_between_entities() -> None:
    dates = " ".join(slack_date(WHEN + timedelta(minutes=i)) for i in range(60))
    for limit in range(10, 600, 7):
        clipped = clip_mrkdwn(dates, limit)
        assert slack_len(clipped) <= limit
        assert clipped.count("<") == clipped.count(">")
    assert clip_mrkdwn("a &amp; b", 7) == "a…"


def test_fit_source_cuts_before_escaping() -> None:
    rendered, cut = fit_source("<" * 100, 50, escape)
    assert cut and slack_len(rendered) <= 50 and not ENTITY.search(rendered)


# ----------------------------------------------------------------------- histories
@dataclass
class Entry:
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    surface: str


@pytest.mark.parametrize("count", [10, 25, 40, 60])
def test_history_keeps_the_newest_entries_whole(count: int) -> None:
    entries = [Entry(WHEN + timedelta(minutes=i), "U07ALICE01", f"note{i}", "new", "assigned",
                     "<!channel> & " * 20, "button") for i in range(count)]
    blocks = build_history(entries, "en")
    assert_whole(blocks)
    text = blocks[0]["text"]["text"]
    assert f"note{count - 1} " in text  # the newest is always there
    shown = len(re.findall(r"note\d+ ", text))
    if shown < count:
        assert f"_{count - shown} earlier entries not shown_" in text
        assert "note0 " not in text


# ------------------------------------------------------------------ the More button
@pytest.mark.parametrize("text", ['"' * 200, "\\" * 200, "é😀" * 100, "\x01\x02" * 100])
def test_more_button_value_is_valid_json_under_the_limit(text: str) -> None:
    state = {"text": text, "watch": '"\\' * 150, "status": "new", "before_id": 123456789,
             "since": 86400}
    value = more_button_value(state)
    assert value is not None and slack_len(value) <= 2000
    filters = _filters_from(value)
    assert filters is not None and filters.before_id == 123456789
    assert filters.text == "".join(ch for ch in text if ch >= " ")


def test_the_more_button_carries_a_long_search_whole_or_not_at_all() -> None:
    """Page 2 is the same search: a query past 200 characters used to be cut there, which
    dropped its last -exclusion (`-crash`) and showed the mentions it excluded."""
    query = "refund " + " ".join(f"-zzzzqq{n}" for n in range(30)) + " -crash"
    value = more_button_value({"text": query, "before_id": 99})
    assert value is not None
    filters = _filters_from(value)
    assert filters is not None and filters.text == query and filters.text.endswith("-crash")
    huge = "refund " + " ".join(f'-"{n}"' for n in range(400))  # ~2,800 characters
    assert more_button_value({"text": huge, "before_id": 99}) is None


def test_a_list_whose_search_no_button_can_carry_says_so() -> None:
    @dataclass
    class Row:
        id: int = 1
        network: str = "x"
        author: str = "@ana"
        text: str = "refund please"
        title: str | None = None
        priority: int = 40
        status: str = "new"
        sentiment_label: str = "negative"
        assignee: str | None = None
        url: str = "https://x.com/ana/status/1"
        published_at: datetime = datetime(2026, 12, 1, tzinfo=UTC)
        language: str | None = "en"
        intent: str | None = "complaint"
        priority_reason: str | None = None

    huge = "refund " + " ".join(f'-"{n}"' for n in range(400))
    for language in ("en", "fr"):
        _text, blocks = build_mention_list([Row()], language,
                                           more_value={"text": huge, "before_id": 1})
        assert not [b for b in blocks if b["type"] == "actions"]
        assert blocks[-1]["type"] == "context"
        assert {"en": "More button", "fr": "bouton Plus"}[language] in str(blocks[-1])


def test_mention_list_rows_are_whole_with_long_urls() -> None:
    @dataclass
    class Row:
        id: int
        network: str
        sentiment_label: str
        author: str
        assignee: str | None
        status: str
        title: str | None
        text: str
        url: str
        published_at: datetime
        priority: int
        priority_reason: str | None = "complaint · waiting for an answer"
        intent: str | None = "complaint"
        language: str | None = "en"
        topics: tuple[str, ...] = ("billing", "churn")
        direct_to: str | None = "<!channel>&" * 20

    rows = [Row(i, "x", "neutral", "<a>&" * 30, None, "new", None, "&<>" * 80, LONG_URL,
                WHEN, 50) for i in range(10)]
    _, blocks = build_mention_list(rows, "en", more_value={"text": '"' * 200, "before_id": 3})
    assert_whole(blocks)
    assert json.loads(blocks[-1]["elements"][0]["value"])["before_id"] == 3


# ------------------------------------------------------------------ echoes escaped
def test_service_error_escapes_echoed_input() -> None:
    message = ServiceError("list.bad_filter", value="<!channel> <http://x|y> &").message()
    assert "<!channel>" not in message and "&lt;!channel&gt;" in message
    assert "<http" not in message
    no_role = ServiceError("role.no_role", user=Mrkdwn("<@U1>"), role="agent").message()
    assert no_role.count("<@U1>") == 1
    assert "<!channel>" in str(ServiceError("list.bad_filter", value="<!channel>"))


# ------------------------------------------------------- other renderers' long lists
def test_home_lists_are_cut_between_items_not_inside_dates() -> None:
    from bot.messages.home import HomeItem, HomeSummary
    from bot.slack.home import build_home

    items = [HomeItem(channel="C1", ts=f"1700000000.{i:06d}", url="https://x/1", network="x",
                      id=i, priority=50, status="assigned",
                      created_at=WHEN + timedelta(minutes=i), text="&" * 43,
                      reason="complaint · waiting for an answer", intent="complaint",
                      topics=("billing",), direct_to="<@U1>&")
             for i in range(12)]
    summary = HomeSummary(counts={"assigned": 12}, role="agent", assigned=items,
                          to_approve=[], overdue=[])
    blocks = build_home(summary, "en")["blocks"]
    assert validate_blocks(blocks, "home") == []
    for text in texts_of(blocks):
        assert slack_len(text) <= 3000
        assert text.count("<") == text.count(">"), text[-120:]
        assert not re.search(r"&[a-z]*$", text.removesuffix("…")), text[-40:]


def test_a_malformed_stored_link_renders_as_text_not_an_error() -> None:
    """Links stored before sources dropped malformed ones ("http://[bad/": urlsplit raises)
    must not stop a card or a listing from rendering: the label shows, unlinked."""
    from bot.slack.escape import link, safe_url

    for url in ("http://[bad/", "https://[not-ipv6]/x"):
        assert safe_url(url) is None
        assert link(url, "Post <1>") == "Post &lt;1&gt;"
