"""Outside text used as a link's label (a feed entry's title, a handle, a post's words)
never passes for another destination: the card and the influencer lines show the host a
link leads to beside its label, and a label naming another host is not a link at all."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from slack_sdk import WebClient

from bot.messages.cards import CardView, StoryMember
from bot.slack.budget import MESSAGE_TEXT_BUDGET, blocks_text_length
from bot.slack.cards import TEXT_BUDGET, build_card
from bot.slack.escape import slack_len
from bot.slack.influencer_blocks import build_home_influencers, build_influencer_blocks
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn

WHEN = datetime(2026, 12, 7, 9, tzinfo=UTC)
LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")


def _card(title: str | None, url: str, **overrides: Any) -> CardView:
    values: dict[str, Any] = dict(
        mention_id=7, network="rss", url=url, author_handle="blog.example",
        author_name=None, followers=None, title=title, text="Read this before Friday.",
        published_at=WHEN, watch_name="acme", status="new", sentiment_label="neutral",
        intent=None, priority=40, priority_reason="", actions=("assign", "draft"))
    values.update(overrides)
    return CardView(**values)


def _texts(blocks: Any) -> list[str]:
    if isinstance(blocks, dict):
        own = [blocks["text"]] if isinstance(blocks.get("text"), str) else []
        return own + [t for value in blocks.values() for t in _texts(value)]
    if isinstance(blocks, list):
        return [t for value in blocks for t in _texts(value)]
    return []


def _links(blocks: Any) -> list[tuple[str, str]]:
    """(host, label) of every link in ``blocks``, the host as browsers read it."""
    return [(unquote(urlsplit(url).hostname or ""), label)
            for text in _texts(blocks) for url, label in LINK.findall(text)]


def _no_label_names_acme_elsewhere(blocks: Any) -> None:
    """Only links to acme.com have "acme" in their label, but for the real host shown, and
    the Bluesky handle "acme.com" on its own profile or post (a handle there is a domain)."""
    for text in _texts(blocks):
        for url, label in LINK.findall(text):
            host = unquote(urlsplit(url).hostname or "")
            words = label.removesuffix(f"({host})").removesuffix(f"(…{host[-59:]})")
            handle = words.strip().removeprefix("@")
            if url.split("/")[:5] == ["https:", "", "bsky.app", "profile", handle.lower()]:
                continue
            if words != host and "acme" in words.casefold():
                assert host == "acme.com", (host, label)


def _post(text: str, blocks: list[dict[str, Any]]) -> None:
    """Post to the stand-in, which refuses what Slack refuses."""
    with SlackStandIn() as slack:
        client = WebClient(token=BOT_TOKEN, base_url=slack.base_url)
        assert client.chat_postMessage(channel=CHANNEL_ID, text=text, blocks=blocks)["ok"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_title_that_is_another_sites_url_is_not_the_link(language: str) -> None:
    card = _card("https://acme.com/account/verify …", "https://evil.example/login")
    text, blocks = build_card(card, language)
    body = blocks[1]["text"]["text"]
    assert body.startswith(
        "*https://acme.com/account/verify … (<https://evil.example/login|evil.example>)*\n")
    _no_label_names_acme_elsewhere(blocks)
    _post(text, blocks)


@pytest.mark.parametrize("title, url, first_line", [
    ("Sign in at acme.com to keep your account", "https://acme.com@evil.example/login",
     "*Sign in at acme.com to keep your account (<https://acme.com@evil.example/login|"
     "evil.example>)*"),
    ("ａｃｍｅ．ｃｏｍ/verify", "https://evil.example/v",
     "*ａｃｍｅ．ｃｏｍ/verify (<https://evil.example/v|evil.example>)*"),
    ("ac\u200bme.com support", "https://evil.example/s",
     "*ac\u200bme.com support (<https://evil.example/s|evil.example>)*"),
    ("support@acme.com answers", "https://acme.com.evil.example/s",
     "*support@acme.com answers (<https://acme.com.evil.example/s|acme.com.evil.example>)*"),
    ("Your order", "https://acme.com%2Eevil.example/o",  # where browsers go: "%2E" is "."
     "*<https://acme.com%2Eevil.example/o|Your order (acme.com.evil.example)>*"),
    ("Your order", "https://xn--acm-dma.com/o",  # "acmé"'s punycode: shown as typed
     "*<https://xn--acm-dma.com/o|Your order (xn--acm-dma.com)>*"),
    ("Your order", "https://\u0430cme.com/o",  # a Cyrillic "а": shown as punycode
     "*<https://\u0430cme.com/o|Your order (xn--cme-5cd.com)>*"),
])
def test_disguised_hosts_in_a_title_or_url_show_the_real_one(
        title: str, url: str, first_line: str) -> None:
    _, blocks = build_card(_card(title, url))
    assert blocks[1]["text"]["text"].split("\n")[0] == first_line
    _no_label_names_acme_elsewhere(blocks)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_normal_title_stays_the_link_with_its_host_beside(language: str) -> None:
    card = _card("Acme's new app is down again & <b>nobody</b> answers",
                 "https://www.news.example/2026/12/acme-down")
    text, blocks = build_card(card, language)
    assert blocks[1]["text"]["text"].startswith(
        "*<https://www.news.example/2026/12/acme-down|Acme's new app is down again &amp; "
        "&lt;b&gt;nobody&lt;/b&gt; answers (news.example)>*\n")
    _post(text, blocks)


def test_a_title_naming_its_own_site_is_linked_alone() -> None:
    _, blocks = build_card(_card("Why acme.com was down", "https://acme.com/blog/down"))
    assert blocks[1]["text"]["text"].startswith(
        "*<https://acme.com/blog/down|Why acme.com was down>*\n")
    _, blocks = build_card(_card("acme.com: Q3 results", "https://investors.acme.com/q3"))
    assert blocks[1]["text"]["text"].startswith(
        "*<https://investors.acme.com/q3|acme.com: Q3 results (investors.acme.com)>*\n")


def test_the_story_line_shows_where_each_other_post_leads() -> None:
    story = [StoryMember("rss", "acme.com", "https://evil.example/copy", 10),
             StoryMember("mastodon", "@bob", "https://m.example/@bob/1", 10)]
    _, blocks = build_card(_card("Title", "https://news.example/a", story=story))
    line = _texts(blocks[-1])[0]
    assert "rss acme.com (<https://evil.example/copy|evil.example>)" in line
    assert "<https://m.example/@bob/1|mastodon @bob (m.example)>" in line
    _no_label_names_acme_elsewhere(blocks)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_long_titles_and_hosts_keep_the_host_and_the_limits(language: str) -> None:
    host = "login." + "a" * 120 + ".evil.example"
    shown = "…" + host[-59:]
    url = f"https://{host}/" + "p" * 300
    long_title = "https://acme.com/" + "verify-" * 100
    _, spoof = build_card(_card(long_title, url), language)
    body = spoof[1]["text"]["text"]
    assert body.split("\n")[0].endswith(f"… (<{url}|{shown}>)*")
    assert slack_len(body) <= TEXT_BUDGET
    _no_label_names_acme_elsewhere(spoof)
    short = f"https://{host}/p"
    for long_url in (short, url + "p" * 1200):  # the second too long to link twice
        text, blocks = build_card(_card("&" * 500, long_url, text="&<>" * 2000), language)
        first = blocks[1]["text"]["text"].split("\n")[0]
        assert first.endswith(f"… ({shown})>*" if long_url == short else f"… ({shown})*")
        assert all(slack_len(t) <= TEXT_BUDGET for t in _texts(blocks))
        assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET
        assert validate_blocks(blocks, "message") == []
        _post(text, blocks)


@dataclass(frozen=True)
class Post:
    url: str
    text: str


@dataclass(frozen=True)
class Line:
    author_id: int
    handle: str
    network: str
    url: str | None
    followers: int | None = 1200
    mentions: int = 3
    engagement: int = 40
    trend: str = "stable"
    tracked: bool = False
    last_posts: tuple[Post, ...] = ()


@dataclass(frozen=True)
class Ranking:
    days: int = 30
    ranked: tuple[Line, ...] = ()
    tracked: tuple[tuple[str, str], ...] = field(default_factory=tuple)


LINES = (
    Line(1, "acme.com", "bluesky", "https://bsky.app/profile/acme.com", last_posts=(
        Post("https://evil.example/p/1", "https://acme.com/verify your account now"),
        Post("https://bsky.app/profile/acme.com/post/2", "Our new   app is out"))),
    Line(2, "@ana", "mastodon", "https://mastodon.example/@ana"),
)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_influencer_lines_show_where_handles_and_posts_lead(language: str) -> None:
    _, blocks = build_influencer_blocks(Ranking(ranked=LINES), language)
    first, second = blocks[2]["text"]["text"], blocks[3]["text"]["text"]
    assert first.startswith("*1. <https://bsky.app/profile/acme.com|acme.com (bsky.app)>* ")
    assert ("https://acme.com/verify your account now (<https://evil.example/p/1|"
            "evil.example>) · <https://bsky.app/profile/acme.com/post/2|Our new app is out "
            "(bsky.app)>") in first
    assert second.startswith("*2. <https://mastodon.example/@ana|@ana (mastodon.example)>* ")
    _no_label_names_acme_elsewhere(blocks)
    assert validate_blocks(blocks, "message") == []
    home = build_home_influencers(list(LINES), language)
    lines = home[1]["text"]["text"].split("\n")
    assert lines[0].startswith("*1. <https://bsky.app/profile/acme.com|acme.com (bsky.app)>* ")
    assert lines[1].startswith("*2. <https://mastodon.example/@ana|@ana (mastodon.example)>* ")
    _no_label_names_acme_elsewhere(home)
    assert json.dumps(home).count("evil.example") == 0


def test_influencer_posts_at_their_longest_stay_within_the_section() -> None:
    host = "a" * 200 + ".evil.example"
    posts = tuple(Post(f"https://{host}/{i}", "acme.com " * 40) for i in range(50))
    ranked = tuple(replace(LINES[0], author_id=i, last_posts=posts) for i in range(10))
    _, blocks = build_influencer_blocks(Ranking(ranked=ranked), "fr")
    assert validate_blocks(blocks, "message") == []
    assert all(slack_len(text) <= 2900 for text in _texts(blocks))
    _no_label_names_acme_elsewhere(blocks)


@dataclass(frozen=True)
class _DigestAuthor:
    handle: str
    url: str
    network: str = "bluesky"
    followers: int | None = 120
    mentions: int = 2


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_digests_top_authors_show_where_their_links_lead(language: str) -> None:
    """The digest's top-authors line linked a handle to its profile with the handle alone
    as label: a handle naming acme.com led wherever its profile URL said."""
    from bot.slack.digest_blocks import author_lines

    lines = author_lines([_DigestAuthor("acme.com", "https://evil.example/acme"),
                          _DigestAuthor("@ana", "https://mastodon.example/@ana")], language)
    _no_label_names_acme_elsewhere({"text": lines})
    assert ("mastodon.example", "@ana (mastodon.example)") in _links({"text": lines})
    assert "acme.com (<https://evil.example/acme|evil.example>)" in lines


BSKY = "https://bsky.app/profile/"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_bluesky_handle_on_its_own_profile_stays_linked(language: str) -> None:
    """Bluesky handles are domains: "@acme.com" on its own bsky.app profile was shown as text
    beside a bsky.app link, as if it named another site. The author's own handle on that
    network's page of it is linked, with the network's host beside it."""
    from bot.slack.digest_blocks import author_lines

    lines = (Line(1, "@acme.com", "bluesky", BSKY + "acme.com"),
             Line(2, "alice.bsky.social", "bluesky", BSKY + "alice.bsky.social", last_posts=(
                 Post(BSKY + "alice.bsky.social/post/3", "acme.com"),)))
    _, blocks = build_influencer_blocks(Ranking(ranked=lines), language)
    first, second = blocks[2]["text"]["text"], blocks[3]["text"]["text"]
    assert first.startswith(f"*1. <{BSKY}acme.com|@acme.com (bsky.app)>* ")
    assert second.startswith(f"*2. <{BSKY}alice.bsky.social|alice.bsky.social (bsky.app)>* ")
    # A post's words are no handle: "acme.com" as a post's text still names another site.
    assert f"acme.com (<{BSKY}alice.bsky.social/post/3|bsky.app>)" in second
    home = build_home_influencers(list(lines), language)[1]["text"]["text"]
    assert f"<{BSKY}acme.com|@acme.com (bsky.app)>" in home
    digest = author_lines([_DigestAuthor("@Acme.com", BSKY + "acme.com")], language)
    assert digest.startswith(f"• <{BSKY}acme.com|@Acme.com (bsky.app)> (Bluesky) · ")


@pytest.mark.parametrize("handle, url", [
    ("@acme.com", BSKY + "evil.example"),                     # another profile
    ("@acme.com", BSKY + "acme.com.evil.example"),            # a longer handle
    ("@acme.com", "https://evil.example/profile/acme.com"),   # not the network
    ("@acme.com", "https://bsky.app.evil.example/profile/acme.com"),
    ("@acme.com", "https://bsky.app@evil.example/profile/acme.com"),
    ("@acme.com", "https://bsky.app/search?q=/profile/acme.com"),
    ("@acme.com", "https://bsky.app/x/profile/acme.com"),
    ("@ａｃｍｅ.com", BSKY + "acme.com"),                      # full-width letters
    ("@acme.com support", BSKY + "acme.com"),                 # more than the handle
    ("https://acme.com", BSKY + "https://acme.com"),
])
def test_a_handle_that_is_not_its_profiles_own_is_not_linked(handle: str, url: str) -> None:
    from bot.slack.digest_blocks import author_lines

    _, blocks = build_influencer_blocks(Ranking(ranked=(Line(1, handle, "bluesky", url),)),
                                        "en")
    text = blocks[2]["text"]["text"]
    assert not any(handle in label for _host, label in _links(blocks)), text
    _no_label_names_acme_elsewhere(blocks)
    lines = author_lines([_DigestAuthor(handle, url)], "en")
    assert not any(handle in label for _host, label in _links({"text": lines})), lines


def test_a_title_or_post_naming_a_bluesky_profile_is_still_unlinked() -> None:
    """Only author handles qualify: a feed title or a post's words that read as the
    handle of the profile they lead to still name another site."""
    _, blocks = build_card(_card("acme.com", BSKY + "acme.com", network="bluesky",
                                 author_handle="@acme.com"))
    assert blocks[1]["text"]["text"].startswith(f"*acme.com (<{BSKY}acme.com|bsky.app>)*")


@pytest.mark.parametrize("language, opening", [("en", "Same link also posted by "),
                                               ("fr", "Même lien publié aussi par ")])
def test_the_story_line_names_the_network_only_when_the_host_does_not(
        language: str, opening: str) -> None:
    """The story line repeated the network: "x user2 (x.com)". A post on the network's own
    site reads "user2 (x.com)"; elsewhere the network's name stays ("mastodon @bob
    (m.example)"), and a Bluesky handle on its own profile's post stays the link."""
    story = [StoryMember("x", "user2", "https://x.com/user2/status/1", 10),
             StoryMember("bluesky", "@acme.com", BSKY + "acme.com/post/3k2", 10),
             StoryMember("mastodon", "@bob", "https://m.example/@bob/1", 10),
             StoryMember("x", "acme.com", "https://evil.example/status/2", 10),
             StoryMember("reddit", "u/ann", "https://old.reddit.com/r/a/comments/1", 10)]
    text, blocks = build_card(_card("Title", "https://news.example/a", story=story), language)
    line = _texts(blocks[-1])[0]
    assert line.startswith(opening), line
    assert "<https://x.com/user2/status/1|user2 (x.com)>" in line
    assert f"<{BSKY}acme.com/post/3k2|@acme.com (bsky.app)>" in line
    assert "<https://m.example/@bob/1|mastodon @bob (m.example)>" in line
    assert "x acme.com (<https://evil.example/status/2|evil.example>)" in line
    assert "<https://old.reddit.com/r/a/comments/1|u/ann (old.reddit.com)>" in line
    assert "x user2" not in line and "bluesky @" not in line
    _no_label_names_acme_elsewhere(blocks)
    _post(text, blocks)


@pytest.mark.parametrize("language, opening", [("en", "Shared links: "),
                                               ("fr", "Liens partagés : ")])
def test_a_spike_alerts_shared_links_show_where_they_lead(language: str, opening: str) -> None:
    """A spike alert labelled each shared link with its address cut to 60 characters, so
    "https://www.acme.com.secure-login.account-verification…" passed for acme.com's site.
    Each link now shows the host it leads to, its count after it."""
    from bot.messages.spikes import SpikeAlertSpec
    from bot.slack.escape import shown_host
    from bot.slack.spike_blocks import build_spike_alert

    links = (("https://www.acme.com.secure-login.account-verification.evil.example/reset?id=1",
              1200),
             ("https://www.acme.com:secure-login-account-verification-now@evil.example/reset",
              9),
             ("https://news.example/2026/12/acme-down", 3))
    text, blocks = build_spike_alert(SpikeAlertSpec(
        language=language, watch="acme", kind="volume", total=40, baseline=2.0,
        negative_share=0.8, baseline_negative_share=0.2, links=links))
    line = blocks[0]["text"]["text"].split("\n")[-1]
    assert line.startswith(opening), line
    found = LINK.findall(line)
    assert [url for url, _ in found] == [url for url, _ in links]
    for url, label in found:
        assert str(shown_host(url)) in label and "×" not in label, (url, label)
    assert ("https://www.acme.com:secure-login-account-verification-now@…"
            " (<https://www.acme.com:secure-login-account-verification-now@evil.example/reset"
            "|evil.example>) ×9") in line
    assert "<https://news.example/2026/12/acme-down|https://news.example/2026/12/acme-down>"\
           " ×3" in line
    assert ("evil.example>) ×1\u202f200, " if language == "fr"
            else "evil.example>) ×1200, ") in line
    assert validate_blocks(blocks, "message") == []
    _post(text, blocks)
