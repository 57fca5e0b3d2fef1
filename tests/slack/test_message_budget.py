"""Every message Vigie posts keeps its blocks' text within ``MESSAGE_TEXT_BUDGET``, which
Slack's undocumented total (``msg_blocks_too_long``, rule 15 of the stand-in) would refuse
whole: the daily digest of a busy day, and the other messages at their largest inputs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.messages.cards import CardView, StoryMember
from bot.messages.delivery import OutgoingMessage
from bot.messages.digest import (
    AuthorData,
    CountData,
    DigestData,
    DigestSpec,
    MentionData,
    ResponsesData,
    SovCountData,
    SovData,
    SovMemberData,
    WaitedData,
)
from bot.messages.spikes import SpikeFigures
from bot.services.competitors import GroupMember, GroupView
from bot.services.sources_admin import SourceView
from bot.services.watches import RefusedChannel, WatchView
from bot.slack.admin_views import build_group_list, build_source_list, build_watch_list
from bot.slack.budget import MESSAGE_TEXT_BUDGET, blocks_text_length, fitted
from bot.slack.cards import build_card
from bot.slack.digest_blocks import blocks_as_text
from bot.slack.escape import slack_date
from bot.slack.mention_views import PAGE_SIZE, build_mention_list
from bot.slack.notifier import SlackNotifier
from bot.slack.opportunity_blocks import build_sov_blocks
from bot.slack.render import render_spec
from handlers.commands.registry import Reply
from tests.harness import blockkit_limits
from tests.harness.blockkit_limits import validate_blocks
from tests.harness.constants import BOT_TOKEN, CHANNEL_ID
from tests.harness.slack_standin import SlackStandIn

NOW = datetime(2026, 12, 6, 8, tzinfo=UTC)
COMPLAINT = ("Bonjour, ma commande passée il y a trois semaines n'est toujours pas arrivée et "
             "le service client ne répond plus à mes messages depuis des jours, c'est "
             "inadmissible.")


def _mention(i: int, status: str = "new", text: str = COMPLAINT,
             author: str | None = None) -> MentionData:
    return MentionData(
        id=1000 + i, network="mastodon",
        author=author or f"@client_mecontent_{i}@mastodon.social", text=text, title=None,
        priority=80, status=status,
        link=f"https://acme-community.slack.com/archives/C07VIGIEFEED/p17650{i:011d}",
        topics=("delivery", "billing"), story_posts=0)


def _member(watch: str, kind: str) -> SovMemberData:
    return SovMemberData(
        watch=watch, kind=kind, current=SovCountData(120),
        share={"mentions": .3, "reach": .2, "positive": .1, "negative": .4},
        trends={"mentions": 1.5, "reach": -2.0, "positive": .5, "negative": 3.0})


def busy_day(*, watches: int = 8, sov_groups: int = 5, spikes: int = 4,
             text: str = COMPLAINT, name: str = "Acme France – marque {}",
             author: str | None = None) -> DigestData:
    """The reviewer's busy day: 8 watches with mentions that waited (3 examples each),
    10 overdue, 5 top priority, 5 share-of-voice groups of 8 watches, 5 authors, 4
    spikes."""
    names = [name.format(i) for i in range(watches)]
    groups = tuple(SovData(
        group=f"groupe-{g}", conquest=True,
        members=tuple(_member(w, "brand" if j == 0 else "competitor")
                      for j, w in enumerate(names)),
        by_network={"mastodon": (), "bluesky": ()}, opportunities=4,
        total=SovCountData(900)) for g in range(sov_groups))
    return DigestData(
        timezone="Europe/Paris", window_start=NOW - timedelta(days=1), window_end=NOW,
        local_date=date(2026, 12, 6), empty=False, total=CountData(640, 410),
        by_network=tuple((n, CountData(80, 50)) for n in
                         ("mastodon", "bluesky", "reddit", "rss", "youtube", "x")),
        by_sentiment=(("negative", CountData(200, 90)), ("neutral", CountData(300, 250)),
                      ("positive", CountData(140, 70))),
        responses=ResponsesData(120, 90, 85, 3600.0, 14400.0, .75), open_total=140,
        open_by_status={"new": 90, "assigned": 30, "drafting": 20}, overdue_count=37,
        overdue=tuple(_mention(i, "assigned", text, author) for i in range(10)),
        top_authors=tuple(AuthorData(f"@influenceur_{i}@mastodon.social", "mastodon", 48213,
                                     f"https://mastodon.social/@influenceur_{i}", 3)
                          for i in range(5)),
        top_priority=tuple(_mention(20 + i, text=text, author=author) for i in range(5)),
        waited=tuple(WaitedData(
            watch_name=w, threshold=60, count=12, watch_id=k + 1,
            examples=tuple(_mention(40 + 3 * k + j, text=text, author=author)
                           for j in range(3))) for k, w in enumerate(names)),
        spikes=tuple(SpikeFigures(
            watch=names[i % watches], hour_start=NOW - timedelta(hours=i + 2),
            kind="negative", total=90, baseline=12.0, negative_share=.7,
            baseline_negative_share=.2) for i in range(spikes)),
        open_by_topic=(("delivery", 40), ("billing", 30)), share_of_voice=groups)


def _post(blocks: list[dict[str, Any]], text: str) -> None:
    """Post to the stand-in, which refuses what Slack refuses (its total included)."""
    with SlackStandIn() as slack:
        client = WebClient(token=BOT_TOKEN, base_url=slack.base_url)
        assert client.chat_postMessage(channel=CHANNEL_ID, text=text, blocks=blocks)["ok"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_busy_day_s_digest_fits_and_says_what_it_left_out(language: str) -> None:
    """15,912 characters (16,416 in French) of block text: Slack answered
    msg_blocks_too_long and the team got no digest at all."""
    text, blocks = render_spec(DigestSpec(report=busy_day(), language=language))
    assert blocks is not None
    assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET
    assert validate_blocks(blocks, "message") == []
    _post(blocks, text)
    shown = blocks_as_text(blocks)
    # What a command shows again gave way first, each part saying which command.
    more = {"en": "…and {} more — {} to see them", "fr": "… et {} de plus — {} pour les voir"}
    assert more[language].format(5, "/cm stats sov 1d") in shown
    assert more[language].format(5, "/cm stats 7d") in shown
    assert {"en": "— /cm mentions to see them",  # some of the highest priority
            "fr": "— /cm mentions pour les voir"}[language] in shown
    # The mentions still waiting for an answer are all there, quoted shorter: the ten
    # overdue ones (whole quotes put the tenth past a section's 2,900 characters) and the
    # three examples of every watch that waited, with their Should-alert buttons.
    assert all(f"#{1000 + i}" in shown for i in range(10))
    assert all(f"#{1040 + i}" in shown for i in range(24))
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [3] * 8
    assert "status:new" not in shown


def test_a_modest_day_s_digest_is_whole() -> None:
    report = busy_day(watches=3, sov_groups=2, spikes=2)
    _text, blocks = render_spec(DigestSpec(report=report, language="fr"))
    assert blocks is not None
    shown = blocks_as_text(blocks)
    assert "de plus" not in shown and "#1048" in shown
    assert sum(b["type"] == "actions" for b in blocks) == 3  # every Should-alert row


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_modest_day_keeps_every_example_that_waited(language: str) -> None:
    """4 watches and 2 share-of-voice groups: 10,331 characters (10,703 in French), and
    the digest cut one example of every watch that waited (the part cut first), where
    these mentions, which no alert showed, are the digest's to show: the glossary and the
    share of voice (a command away) give way before them."""
    text, blocks = render_spec(DigestSpec(report=busy_day(watches=4, sov_groups=2, spikes=2),
                                          language=language))
    assert blocks is not None
    assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET
    assert validate_blocks(blocks, "message") == []
    shown = blocks_as_text(blocks)
    assert all(f"#{1040 + i}" in shown for i in range(12))  # 4 watches x 3 examples
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [3, 3, 3, 3]
    assert "status:new" not in shown  # nothing says examples are left out
    assert all(f"#{1000 + i}" in shown for i in [*range(10), *range(20, 25)])
    _post(blocks, text)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_overdue_mention_is_cut_from_a_digest_that_fits(language: str) -> None:
    """Ten overdue mentions quoted whole are more than one section's 2,900 characters: the
    tenth was cut to a bare "…" on any day, with nothing saying it was there. They now
    run on in a second section, each line whole."""
    report = replace(busy_day(watches=1, sov_groups=0, spikes=0), top_authors=(),
                     top_priority=())
    text, blocks = render_spec(DigestSpec(report=report, language=language))
    assert blocks is not None
    assert validate_blocks(blocks, "message") == []
    shown = blocks_as_text(blocks)
    assert all(f"#{1000 + i}" in shown for i in range(10))
    lines = [line for b in blocks if b["type"] == "section"
             for line in b["text"]["text"].split("\n") if "#100" in line]
    assert len(lines) == 10  # every overdue line whole, down to its status
    assert all(line.endswith({"en": "· Assigned", "fr": "· Attribuée"}[language])
               for line in lines), lines
    _post(blocks, text)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_largest_digest_fits(language: str) -> None:
    """Every part at its largest: texts of ``&`` (five times longer escaped), long
    names; the cuts go as far as the overdue mentions."""
    report = busy_day(text="&" * 400, author="@" + "a" * 60, name="<" * 80 + "{}",
                      spikes=10)
    text, blocks = render_spec(DigestSpec(report=report, language=language))
    assert blocks is not None
    assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET
    assert validate_blocks(blocks, "message") == []
    _post(blocks, text)


def test_vigie_counts_block_text_as_the_stand_in_does() -> None:
    _text, blocks = render_spec(DigestSpec(report=busy_day(), language="fr"))
    assert blocks_text_length(blocks) == blockkit_limits.blocks_text_length(blocks)
    assert MESSAGE_TEXT_BUDGET < blockkit_limits.MESSAGE_BLOCKS_TEXT_MAX


# ------------------------------------------------------- the other messages, at their largest
LONG_URL = "https://example.com/" + "p" * 2700


def largest_card(status: str = "awaiting_approval") -> CardView:
    """A card with every part at its largest: a post and a draft of ``&`` (five times
    longer escaped), every risk flag, a failed reply, a story of long links, a case."""
    return CardView(
        mention_id=7, network="mastodon", url=LONG_URL, author_handle="@" + "a" * 200,
        author_name="<" * 200, followers=1200, title="&" * 500, text="&" * 5000,
        published_at=NOW, watch_name="<" * 80, status=status, sentiment_label="negative",
        intent="complaint", priority=70, priority_reason="&" * 500,
        actions=("assign", "draft", "approve", "reject", "replied", "ignore"),
        story=[StoryMember(network="x", author="@" + "b" * 60, url=LONG_URL, followers=10)
               for _ in range(30)],
        story_count=300, draft_text="&" * 1500, draft_version=3, draft_risk="high",
        draft_hash="a" * 16, reply_error="&" * 500,
        draft_flags=("empty", "too_long", "link_not_allowed", "commitment", "legal",
                     "insult", "pii_iban", "pii_card"),
        direct_to="&" * 200, case_posts=40, case_follow_ups=12, case_reopened=3,
        topics=("billing", "delivery", "account", "outage", "quality", "churn"),
        sla_due=NOW, reply_state="failed", language="fr")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_largest_card_fits_and_keeps_its_draft_and_buttons(language: str) -> None:
    """18,009 characters of block text: the card, its every update too, was refused."""
    whole_draft = build_card(replace(largest_card(), story=[], reply_state=None,
                                     direct_to=None, case_posts=0), language)[1]
    text, blocks = build_card(largest_card(), language)
    assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET
    assert validate_blocks(blocks, "message") == []
    draft = [b for b in whole_draft if "&amp;&amp;" in str(b) and "v3" in str(b)]
    assert draft and draft[0] in blocks  # the draft Approve binds to, as it was
    assert [b for b in blocks if b["type"] == "actions"] == [
        b for b in whole_draft if b["type"] == "actions"]
    _post(blocks, text)


@dataclass
class Row:
    id: int
    network: str = "mastodon"
    sentiment_label: str = "negative"
    author: str = "@" + "a" * 60
    assignee: str | None = "U07ALICE01"
    status: str = "new"
    title: str | None = "&" * 300
    text: str = "&" * 3000
    url: str = "https://mastodon.social/@someone/" + "1" * 18
    published_at: datetime = NOW
    priority: int = 50
    priority_reason: str | None = "complaint · negative · 48k followers"
    intent: str | None = "complaint"
    language: str | None = "en"
    topics: tuple[str, ...] = ("billing", "churn")
    direct_to: str | None = "@acmecare"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_full_page_of_the_largest_mentions_fits_with_every_row(language: str) -> None:
    """12,474 characters: `/cm mentions` answered nothing. Then the last rows were cut from
    their end, so rows 7 to 9 lost their date and their link to the post: now only the
    mention's quoted words are clipped."""
    rows = [Row(i) for i in range(PAGE_SIZE)]
    text, blocks = build_mention_list(rows, language, more_value={"text": "x", "before_id": 3})
    assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET
    label = {"en": "Open post", "fr": "Ouvrir la publication"}[language]
    date = slack_date(NOW)
    for i, block in enumerate(blocks[:PAGE_SIZE]):
        row = block["text"]["text"]
        assert row.startswith(f"*#{i}* ")
        assert row.endswith(f"\n{date} · <{Row(i).url}|{label}>"), (i, row[-80:])
    assert "&amp;&amp;&amp;" in blocks[0]["text"]["text"]  # the first rows' words are whole
    assert blocks[-1]["type"] == "actions"  # the More button pages on from the last row
    _post(blocks, text)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_twenty_share_of_voice_groups_fit_and_say_how_to_see_the_rest(language: str) -> None:
    """52,000 characters (20 groups of 8 watches on 6 networks)."""
    members = tuple(_member(f"acme-competitor-watch-{i}", "brand" if i == 0 else "competitor")
                    for i in range(8))
    groups = [SovData(group=f"group-{g}", conquest=True, members=members,
                      by_network={n: members for n in ("mastodon", "bluesky", "reddit",
                                                       "rss", "x", "hackernews")},
                      opportunities=4, total=SovCountData(900)) for g in range(20)]
    text, blocks = build_sov_blocks(30, groups, language)
    assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET
    assert {"en": "more group(s), left out", "fr": "groupe(s) de plus"}[language] in str(blocks)
    assert "/cm stats sov 30d" in str(blocks)
    _post(blocks, text)


def test_any_answer_to_a_command_or_click_fits() -> None:
    """The safety net under the answers with no better way to fit (stats, triage, help,
    influencers...): the last sections are clipped, the buttons kept, the Reply as it was."""
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}
              for _ in range(5)] + [
        {"type": "actions", "elements": [{"type": "button", "action_id": "vigie.more",
                                          "text": {"type": "plain_text", "text": "More"}}]}]
    reply = Reply("answer", blocks)
    sent = reply.as_kwargs()["blocks"]
    assert blocks_text_length(sent) <= MESSAGE_TEXT_BUDGET and sent[-1] == blocks[-1]
    assert sent[0] == blocks[0] and blocks_text_length(reply.blocks) == 14_504
    _post(sent, "answer")


def test_every_message_the_notifier_sends_fits() -> None:
    """Under every message the outbox sends (spike alerts, opportunity cards...)."""
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "y" * 2900}]}
              for _ in range(5)]
    with SlackStandIn() as slack:
        notifier = SlackNotifier(WebClient(token=BOT_TOKEN, base_url=slack.base_url))
        notifier.post(OutgoingMessage(channel=CHANNEL_ID, text="t", blocks=blocks))
        (call,) = slack.calls("chat.postMessage")
        assert call.ok and blocks_text_length(call.args["blocks"]) <= MESSAGE_TEXT_BUDGET


def _watch(i: int) -> WatchView:
    """A watch as a busy workspace writes them: a long query, described at length."""
    terms = " OR ".join(f'"acme produit {j}"' for j in range(20))
    return WatchView(
        id=i, name=f"acme-service-client-région-{i}", channel_id="C07VIGIEFEED",
        query=f'("acme" OR "acmé" OR {terms}) -emploi -recrutement lang:fr',
        query_description="mentions of acme or one of its products, in French, "
                          + "not about jobs or hiring " * 20,
        alert_threshold=50, learned_shift=10, paused=i % 7 == 0, source_count=3,
        mention_count=12_345, group=f"concurrence-télécom-{i % 3}",
        refused=RefusedChannel("C07VIGIEOLD", NOW, "not_in_channel") if i % 5 == 0 else None)


def _source(i: int) -> SourceView:
    """A failing feed source, its address and error at the most a line shows."""
    return SourceView(
        id=i, kind="rss", watch_name=f"acme-service-client-région-{i}",
        settings={"feed_url": f"https://actualites.example/flux/{i}/" + "rubrique/" * 10,
                  "user_agent": "Mozilla/5.0 (compatible; Vigie) " * 4},
        interval_minutes=15, paused=False, trusted=False, last_success_at=NOW,
        last_error="HTTP 503 from actualites.example: " + "Service Unavailable. " * 20,
        last_error_at=NOW, consecutive_failures=3, next_poll_at=NOW, backfilled=40,
        backfill_hours=24)


def _group(i: int) -> GroupView:
    """A watch group of a brand and its eleven competitors."""
    return GroupView(id=i, name=f"concurrence-télécom-{i}", conquest=True, members=tuple(
        GroupMember(j, f"acme-service-client-région-{j}", "brand" if j == 0 else "competitor",
                    "C07VIGIEFEED") for j in range(12)))


@pytest.mark.parametrize("language, more", [("en", "{} more, no room to show them here: "),
                                            ("fr", "{} de plus, sans place pour les montrer "
                                                   "ici : ")])
def test_sixty_long_watches_and_sources_list_whole_sections_and_name_the_rest(
        language: str, more: str) -> None:
    """`/cm watch list` showed 45 sections whatever their length (47,000 characters for
    these watches), so ``fitted`` clipped 42 of them to a few words each. The list now shows
    the sections that fit the message whole and names the others; so does `/cm source
    list` and `/cm watch group list`, whose sections hold the group's watches."""
    lists: list[tuple[Any, list[Any], Any]] = [
        (build_watch_list, [_watch(i) for i in range(60)], lambda v: f"*{v.name}*"),
        (build_source_list, [_source(i) for i in range(60)],
         lambda v: f"#{v.id} ({v.watch_name})"),
        (build_group_list, [_group(i) for i in range(60)], lambda v: f"*{v.name}*")]
    for build, views, name in lists:
        text, blocks = build(views, language)
        assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET and fitted(blocks) == blocks
        *sections, rest = blocks
        assert len(sections) > 1 and [b["type"] for b in sections] == ["section"] * len(sections)
        for view, section in zip(views, sections, strict=False):
            assert [section] == build([view], language)[1]  # whole, not clipped
        hidden = views[len(sections):]
        line = rest["elements"][0]["text"]
        assert line.startswith(more.format(len(hidden)) + name(hidden[0])), line[:120]
        assert all(name(view) in line for view in hidden)
        assert validate_blocks(blocks, "message") == []
        _post(blocks, text)
