"""Cases and the brand's own accounts, on SQLite and PostgreSQL: a brand reply made outside
Vigie, a follow-up after the brand's reply, the same conversation from two sources and
several workers.

The X payloads follow the documented v2 shape of GET /2/tweets/search/recent with
``expansions=author_id,in_reply_to_user_id`` (no real X capture exists in the shared
data); the Bluesky reply record is the "example of a reply" of the official Posts guide
(shared data api/bluesky/bskydocs_post_record_examples.json, bluesky-social/bsky-docs).
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.services import cases, workflow
from bot.services.actors import CLI, Actor
from bot.services.brand_accounts import (
    do_add_account,
    do_remove_account,
    list_accounts,
    normalize_handle,
)
from bot.services.cards import load_card_view
from bot.services.errors import Forbidden, ServiceError
from bot.services.export import iter_mentions
from bot.services.ingest import IngestReport, do_ingest
from bot.services.members import do_set_role
from bot.services.outbox import KIND_CARD, KIND_POST, KIND_THREAD, KIND_UPDATE_CARD
from bot.services.replies import reply_target
from bot.services.reporting.monthly import sla_kept
from bot.services.reporting.queries import Scope, response_times
from bot.services.sla import REMIND_AT, due_at, run_sla_checks
from bot.services.watch_links import do_record_card
from bot.services.watches import do_add_watch, get_watch_by_name
from bot.slack.cards import build_card
from bot.slack.render import payload_text
from bot.sources.base import Author as FetchedAuthor
from bot.sources.base import FetchedMention
from bot.sources.bluesky import post_to_mention
from bot.sources.hackernews import hit_to_mention
from bot.sources.reddit import thing_to_mention
from bot.sources.x import parse_search
from storage import migrations
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Member, Mention, OutboxMessage, Role, Workspace
from storage.models_base import as_utc
from storage.models_cases import Case, CasePost
from storage.models_sla import SlaNotice
from storage.models_watches import MentionWatch
from tests.harness.constants import CHANNEL_ID
from tests.sources.paging_stand_ins import x_id

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ORDERS_CHANNEL = "C0ORDERS1"
USERS = [
    {"id": "11", "username": "ana_r", "name": "Ana", "public_metrics": {"followers_count": 80}},
    {"id": "22", "username": "bob", "name": "Bob", "public_metrics": {"followers_count": 40}},
    {"id": "99", "username": "AcmeCare", "name": "Acme Support",
     "public_metrics": {"followers_count": 90000}},
]


def tweet(tweet_id: str, author: str, text: str, minutes: int, *, conversation: str | None = None,
          reply_to: str | None = None, reply_to_user: str | None = None) -> dict[str, Any]:
    """One v2 tweet object, ``minutes`` after 08:00 UTC."""
    body: dict[str, Any] = {
        "id": tweet_id, "text": text, "author_id": author, "lang": "en",
        "created_at": (NOW - timedelta(hours=1) + timedelta(minutes=minutes))
        .strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conversation_id": conversation or tweet_id,
        "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0,
                           "quote_count": 0},
    }
    if reply_to:
        body["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
        body["in_reply_to_user_id"] = reply_to_user
    return body


def x_batch(*tweets: dict[str, Any]) -> list[Any]:
    mentions, _ = parse_search({"data": list(tweets), "includes": {"users": USERS}})
    return mentions


ROOT = tweet("1001", "11", "@AcmeCare my order 5512 never arrived, two weeks now", 0)
BRAND_REPLY = tweet("1002", "99", "@ana_r So sorry Ana! Please DM us your order number.", 20,
                    conversation="1001", reply_to="1001", reply_to_user="11")
FOLLOW_UP = tweet("1003", "11", "@AcmeCare @ana_r sent the DM an hour ago, still nothing", 50,
                  conversation="1001", reply_to="1002", reply_to_user="99")


def ingest(sessions: sessionmaker[Session], workspace_id: int, batch: list[Any], *,
           watch: str = "acme", now: datetime = NOW) -> IngestReport:
    with transaction(sessions) as session:
        return do_ingest(session, get_watch_by_name(session, workspace_id, watch), None,
                         batch, now=now)


def mention(sessions: sessionmaker[Session], external_id: str) -> Mention:
    with sessions() as session:
        row = session.scalar(select(Mention).where(Mention.external_id == external_id))
        assert row is not None
        session.expunge(row)
        return row


def outbox(sessions: sessionmaker[Session], kind: str, mention_id: int) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.mention_id == mention_id)))


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def brand(sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> str:
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    return "@acmecare"


def test_handles_are_validated_per_network() -> None:
    assert normalize_handle("X", "@AcmeCare") == ("x", "@acmecare")
    assert normalize_handle("twitter", "AcmeCare") == ("x", "@acmecare")
    assert normalize_handle("mastodon", "@Acme@Mastodon.social") == (
        "mastodon", "@acme@mastodon.social")
    assert normalize_handle("bluesky", "acme.bsky.social") == ("bluesky", "@acme.bsky.social")
    assert normalize_handle("reddit", "/u/Acme_Support") == ("reddit", "u/acme_support")
    # The same rules as tracked influencers (bot.sources.handles): "@name" reads on Reddit
    # and Hacker News too, as people type it there.
    assert normalize_handle("reddit", "@Acme_Support") == ("reddit", "u/acme_support")
    assert normalize_handle("hackernews", "@Acme") == ("hackernews", "acme")
    for network, handle, key in (
            ("myspace", "@acme", "account.bad_network"),
            ("x", "@acme care", "account.bad_handle"),
            ("x", "@a_handle_far_too_long", "account.bad_handle"),  # X allows 15
            ("mastodon", "@acme", "account.bad_handle"),  # the instance is needed
            ("bluesky", "@acme", "account.bad_handle"),
            ("x", "<@U0123ABCD>", "account.bad_handle"),  # a Slack user, not a handle
    ):
        with pytest.raises(ServiceError) as err:
            normalize_handle(network, handle)
        assert err.value.key == key, (network, handle)


def test_accounts_add_list_remove_admins_only(sessions: sessionmaker[Session],
                                              workspace_id: int) -> None:
    agent = Actor("U0AGENT01", "slash_command")
    do_set_role(sessions, workspace_id, CLI, agent.user_id or "", Role.AGENT)
    with pytest.raises(Forbidden):
        do_add_account(sessions, workspace_id, agent, "x", "@acmecare")
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    with pytest.raises(ServiceError) as err:
        do_add_account(sessions, workspace_id, CLI, "x", "acmecare")
    assert err.value.key == "account.exists"
    assert [(v.network, v.handle) for v in list_accounts(sessions, workspace_id)] == [
        ("x", "@acmecare")]
    with pytest.raises(Forbidden):
        do_remove_account(sessions, workspace_id, agent, "x", "@acmecare")
    do_remove_account(sessions, workspace_id, CLI, "x", "@ACMECARE")
    assert list_accounts(sessions, workspace_id) == []
    with pytest.raises(ServiceError) as err:
        do_remove_account(sessions, workspace_id, CLI, "x", "@acmecare")
    assert err.value.key == "account.not_found"


def test_a_mention_addressed_to_the_brand_is_direct(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    same_words = tweet("2001", "22", "my parcel 7781 never arrived, three weeks now", 0)
    ingest(sessions, workspace_id, x_batch(ROOT, same_words))
    direct, other = mention(sessions, "1001"), mention(sessions, "2001")
    assert direct.priority > other.priority
    assert {"name": "direct", "terms": ["@acmecare"]} in direct.intent_flags
    assert "waiting for an answer" in (direct.priority_reason or "")
    assert "waiting for an answer" not in (other.priority_reason or "")
    with sessions() as session:
        view = load_card_view(session, direct.id)
    assert view is not None and view.direct_to == "@acmecare"
    _, blocks = build_card(view)
    assert "Direct: addressed to @acmecare" in str(blocks)


def test_a_brand_reply_made_outside_vigie_marks_the_case_replied(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    first = ingest(sessions, workspace_id, x_batch(ROOT))
    assert first.alerts == 1
    root = mention(sessions, "1001")
    report = ingest(sessions, workspace_id, x_batch(BRAND_REPLY), now=NOW + timedelta(hours=1))
    assert report.brand_posts == 1 and report.stored == 0 and report.alerts == 0
    replied = mention(sessions, "1001")
    assert replied.status == "replied"
    # The real response time: the brand post's published time, not when Vigie saw it.
    assert replied.first_response_at == datetime(2026, 12, 5, 8, 20, tzinfo=UTC)
    assert replied.reply_url == "https://x.com/AcmeCare/status/1002"
    assert count(sessions, Mention) == 1  # the brand's post is not a mention
    notes = [payload_text(row.payload) for row in outbox(sessions, KIND_THREAD, root.id)]
    assert any("replied from the brand's account" in note for note in notes)
    with sessions() as session:
        case = session.scalars(select(Case)).one()
    assert case.root_mention_id == root.id and case.state == "replied"


def test_a_follow_up_after_the_brand_reply_reopens_the_case_and_restarts_its_sla(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT, BRAND_REPLY))
    root = mention(sessions, "1001")
    assert root.status == "replied"
    with transaction(sessions) as session:  # a breach notice sent before the reply
        session.add(SlaNotice(mention_id=root.id, kind="breach", recipient="C0ALERTS1"))
    report = ingest(sessions, workspace_id, x_batch(FOLLOW_UP), now=NOW + timedelta(hours=2))
    assert report.stored == 1 and report.follow_ups == 1 and report.reopened == 1
    follow_up = mention(sessions, "1003")
    assert outbox(sessions, KIND_CARD, follow_up.id) == []  # no card of its own
    # The case had no card (answered before any went out): the follow-up makes it urgent.
    assert len(outbox(sessions, KIND_CARD, root.id)) == 1 and report.alerts == 1
    assert "writes again" in (follow_up.priority_reason or "")  # repeat_contact reached it
    again = mention(sessions, "1001")
    assert again.status == "new"
    assert again.first_response_at == datetime(2026, 12, 5, 8, 20, tzinfo=UTC)  # kept
    with sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.state == "open" and case.follow_ups == 1 and case.reopened == 1
        # Posted at 08:50, found at 11:00: the wait restarts when Vigie received it.
        assert case.sla_started_at == NOW + timedelta(hours=2)
        watch = get_watch_by_name(session, workspace_id, "acme")
        target = {True: watch.sla_urgent_minutes, False: watch.sla_high_minutes}
        due = due_at(session, again)
        assert due is not None and due > case.sla_started_at
        assert (due - case.sla_started_at) in {timedelta(minutes=m) for m in (
            *target.values(), watch.sla_normal_minutes)}
        assert session.scalar(select(func.count()).select_from(SlaNotice)) == 0
        posts = cases.conversation(session, workspace_id, follow_up.id)
    assert [(p.author, p.by_brand) for p in posts] == [
        ("@ana_r", False), ("@acmecare", True), ("@ana_r", False)]
    notes = [payload_text(row.payload) for row in outbox(sessions, KIND_THREAD, root.id)]
    assert any("Follow-up" in note and "still nothing" in note for note in notes), notes
    assert outbox(sessions, KIND_UPDATE_CARD, root.id)


def test_a_follow_up_without_the_watch_words_still_joins_its_case(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="orders", query="order",
                 channel_id="C0ORDERS1", alert_threshold=0)
    ingest(sessions, workspace_id, x_batch(ROOT), watch="orders")
    chaser = tweet("1004", "11", "hello??", 30, conversation="1001", reply_to="1001",
                   reply_to_user="11")
    report = ingest(sessions, workspace_id, x_batch(chaser), watch="orders")
    assert report.stored == 1 and report.follow_ups == 1 and report.filtered == 0
    unrelated = tweet("3001", "22", "hello??", 31)
    assert ingest(sessions, workspace_id, x_batch(unrelated), watch="orders").filtered == 1
    # A bystander in the same conversation is not the case's customer: the query decides.
    bystander = tweet("3002", "22", "lol same", 32, conversation="1001", reply_to="1001",
                      reply_to_user="11")
    assert ingest(sessions, workspace_id, x_batch(bystander), watch="orders").filtered == 1


def test_the_brand_reply_arriving_before_the_customer_mention(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    # Another source carried the brand's reply first; the customer's post comes later.
    assert ingest(sessions, workspace_id, x_batch(BRAND_REPLY)).brand_posts == 1
    report = ingest(sessions, workspace_id, x_batch(ROOT))
    assert report.stored == 1 and report.alerts == 0  # already answered: no card
    root = mention(sessions, "1001")
    assert root.status == "replied"
    assert root.first_response_at == datetime(2026, 12, 5, 8, 20, tzinfo=UTC)


def test_the_same_conversation_from_two_sources_makes_one_case_and_one_card(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="support", query="",
                 channel_id="C0SUPPORT", alert_threshold=0)
    ingest(sessions, workspace_id, x_batch(ROOT, BRAND_REPLY), watch="acme")
    # The second source delivers the whole conversation again, plus the follow-up.
    second = ingest(sessions, workspace_id, x_batch(ROOT, BRAND_REPLY, FOLLOW_UP),
                    watch="support")
    third = ingest(sessions, workspace_id, x_batch(FOLLOW_UP), watch="acme")
    assert second.stored == 1 and third.stored == 0
    assert count(sessions, Case) == 1 and count(sessions, CasePost) == 3
    with sessions() as session:
        cards = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD)).all()
    assert [row.mention_id for row in cards] == [mention(sessions, "1001").id]


def test_a_bluesky_thread_reply_joins_the_case_by_its_root(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    root_uri = "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft22g"
    author = {"did": "did:plc:u5cwb2mwiv2bfq53cjufe6yn", "handle": "ana.bsky.social"}
    first = post_to_mention({"uri": root_uri, "cid": "bafyroot", "author": author,
                             "indexedAt": "2026-12-05T08:00:00Z",
                             "record": {"text": "acme app eats my photos",
                                        "createdAt": "2026-12-05T08:00:00Z"}})
    # The guide's reply record, one level deeper: parent is a post Vigie never saw.
    reply = post_to_mention({
        "uri": "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft99z",
        "cid": "bafyreply", "author": author, "indexedAt": "2026-12-05T08:30:00Z",
        "record": {"text": "example of a reply", "createdAt": "2026-12-05T08:30:00Z",
                   "reply": {"root": {"uri": root_uri, "cid": "bafyroot"},
                             "parent": {"uri": "at://did:plc:other/app.bsky.feed.post/x1",
                                        "cid": "bafyother"}}}})
    assert first is not None and reply is not None
    assert reply.extra["thread_root"] == root_uri
    ingest(sessions, workspace_id, [first])
    report = ingest(sessions, workspace_id, [reply])
    assert report.follow_ups == 1 and report.alerts == 0
    assert count(sessions, Case) == 1


def test_another_customer_in_the_thread_is_not_a_follow_up(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT, BRAND_REPLY))
    bob = tweet("1005", "22", "@AcmeCare same here, order 7781 missing", 40,
                conversation="1001", reply_to="1002", reply_to_user="99")
    report = ingest(sessions, workspace_id, x_batch(bob))
    assert report.follow_ups == 0 and report.alerts == 1
    assert mention(sessions, "1001").status == "replied"


def test_anonymous_posts_in_one_thread_each_root_their_own_case(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    """Two posts with no author (no ``author_id``: X names no account) in Ana's thread
    are two people: the brand answering each marks each one's own case replied. Bob,
    named, in the same thread keeps his case, and his follow-up joins it."""
    anonymous = [tweet(post, "", f"@AcmeCare {text}", minutes, conversation="1001",
                       reply_to="1001", reply_to_user="11")
                 for post, text, minutes in (("1201", "my order 7781 is lost too", 10),
                                             ("1202", "still no refund for order 9914", 11))]
    bob = tweet("1203", "22", "@AcmeCare order 3320 never came either", 12,
                conversation="1001", reply_to="1001", reply_to_user="11")
    posts = x_batch(ROOT, *anonymous, bob)
    assert [p.author.anonymous for p in posts] == [False, True, True, False]
    ingest(sessions, workspace_id, posts)
    answers = [tweet(answer, "99", "@AcmeCare we are on it, please DM us", minutes,
                     conversation="1001", reply_to=post)
               for answer, post, minutes in (("1301", "1201", 20), ("1302", "1202", 21),
                                             ("1303", "1203", 22))]
    report = ingest(sessions, workspace_id, x_batch(*answers), now=NOW + timedelta(hours=1))
    assert report.brand_posts == 3
    for post in ("1201", "1202", "1203"):
        assert mention(sessions, post).status == "replied", post
    assert mention(sessions, "1001").status == "new"  # nobody answered Ana
    chaser = tweet("1204", "22", "@AcmeCare DM sent", 40, conversation="1001",
                   reply_to="1303", reply_to_user="99")
    assert ingest(sessions, workspace_id, x_batch(chaser),
                  now=NOW + timedelta(hours=1)).follow_ups == 1
    filed: dict[str, set[str]] = {}
    with sessions() as session:
        for root, post in session.execute(select(Mention.external_id, CasePost.external_id)
                                          .join(Case, Case.root_mention_id == Mention.id)
                                          .join(CasePost, CasePost.case_id == Case.id)):
            filed.setdefault(root, set()).add(post)
        conversation = cases.conversation(session, workspace_id,
                                          mention(sessions, "1201").id)
    assert filed == {"1201": {"1201", "1301"}, "1202": {"1202", "1302"},
                     "1203": {"1203", "1303", "1204"}}
    assert [(p.author, p.by_brand) for p in conversation] == [
        ("unknown", False), ("@acmecare", True)]


def test_anonymous_bluesky_replies_answered_by_the_brand_are_two_cases(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """The same in a Bluesky thread (posts whose author view names no account): each
    answer is its post's, and the conversation shows the network's placeholder."""
    do_add_account(sessions, workspace_id, CLI, "bluesky", "acme.bsky.social")
    root_uri = "at://did:plc:u5cwb2mwiv2bfq53cjufe6yn/app.bsky.feed.post/3k43tv4rft22g"

    def post(key: str, author: dict[str, str], text: str, minute: int,
             parent: str | None = None) -> FetchedMention:
        when = f"2026-12-05T08:{minute:02d}:00Z"
        record: dict[str, Any] = {"text": text, "createdAt": when}
        if parent:
            record["reply"] = {"root": {"uri": root_uri, "cid": "bafyroot"},
                               "parent": {"uri": parent, "cid": "bafyparent"}}
        uri = root_uri if key == "root" else f"at://did:plc:x/app.bsky.feed.post/{key}"
        made = post_to_mention({"uri": uri, "cid": f"bafy{key}", "author": author,
                                "indexedAt": when, "record": record})
        assert made is not None
        return made

    ana = {"did": "did:plc:u5cwb2mwiv2bfq53cjufe6yn", "handle": "ana.bsky.social"}
    brand_account = {"did": "did:plc:acme", "handle": "acme.bsky.social"}
    first = post("a1", {}, "@acme.bsky.social my photos are gone too", 10, root_uri)
    second = post("a2", {}, "@acme.bsky.social the app crashes on start", 11, root_uri)
    assert first.author.anonymous and second.author.anonymous
    ingest(sessions, workspace_id, [post("root", ana, "acme app eats my photos", 0),
                                    first, second])
    answers = [post(f"b{n}", brand_account, "sorry, we are looking into it", 20 + n,
                    asked.external_id) for n, asked in enumerate((first, second))]
    assert ingest(sessions, workspace_id, answers).brand_posts == 2
    with sessions() as session:
        for asked, answer in zip((first, second), answers, strict=True):
            row = mention(sessions, asked.external_id)
            assert row.status == "replied"
            assert [(p.author, p.by_brand, p.url) for p in cases.conversation(
                session, workspace_id, row.id)] == [
                ("@unknown", False, asked.url), ("@acme.bsky.social", True, answer.url)]
        assert session.scalar(select(func.count()).select_from(Case)) == 2


PRAISE = tweet("1101", "11", "@AcmeCare love the new acme app, great job!", 0)


def reply_to_praise(tweet_id: str, text: str, minutes: int) -> dict[str, Any]:
    """The praise's author replying under it (a thread of their own)."""
    return tweet(tweet_id, "11", text, minutes, conversation="1101", reply_to="1101",
                 reply_to_user="11")


@pytest.mark.parametrize("text", ["@AcmeCare 👍", "@AcmeCare lol", "@AcmeCare solved, thanks!"])
def test_a_follow_up_with_nothing_to_answer_does_not_alert_its_case(
        sessions: sessionmaker[Session], workspace_id: int, brand: str, text: str) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="brand", query="acme",
                 channel_id=ORDERS_CHANNEL)  # the default threshold
    assert ingest(sessions, workspace_id, x_batch(PRAISE), watch="brand").alerts == 0
    report = ingest(sessions, workspace_id, x_batch(reply_to_praise("1102", text, 30)),
                    watch="brand")
    assert report.follow_ups == 1 and report.alerts == 0
    follow_up = mention(sessions, "1102")
    assert follow_up.priority < 50 and "writes again" not in (follow_up.priority_reason or "")
    assert outbox(sessions, KIND_CARD, mention(sessions, "1101").id) == []


def test_a_follow_up_that_makes_its_case_urgent_is_counted_as_an_alert(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="brand", query="acme",
                 channel_id=ORDERS_CHANNEL)
    ingest(sessions, workspace_id, x_batch(PRAISE), watch="brand")
    chaser = reply_to_praise("1103", "@AcmeCare now it won't let me log in at all", 30)
    report = ingest(sessions, workspace_id, x_batch(chaser), watch="brand")
    follow_up = mention(sessions, "1103")
    assert "writes again" in (follow_up.priority_reason or "")
    root_cards = outbox(sessions, KIND_CARD, mention(sessions, "1101").id)
    assert [row.channel for row in root_cards] == [ORDERS_CHANNEL]
    assert report.follow_ups == 1 and report.alerts == 1  # the case's card went out


@pytest.mark.postgres
def test_several_workers_file_one_conversation_once(fresh_postgres_url: str) -> None:
    """Two workers ingest two follow-ups of one mention at the same moment: one case."""
    migrations.upgrade(fresh_postgres_url)
    engine = make_engine(fresh_postgres_url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0CASES01")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id="C0CASES01",
                 alert_threshold=0)
    ingest(sessions, workspace_id, x_batch(ROOT))
    chasers = [tweet(f"40{n}", "11", f"any news on order 5512? ({n})", 30 + n,
                     conversation="1001", reply_to="1001", reply_to_user="11")
               for n in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(item: dict[str, Any]) -> None:
        try:
            barrier.wait()
            ingest(sessions, workspace_id, x_batch(item))
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=work, args=(c,)) for c in chasers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert count(sessions, Case) == 1 and count(sessions, CasePost) == 3
    with sessions() as session:
        assert session.scalar(select(Case.follow_ups)) == 2
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD)) == 1
    engine.dispose()


def test_reports_count_the_case_once_not_each_follow_up(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    ingest(sessions, workspace_id, x_batch(ROOT, BRAND_REPLY))
    ingest(sessions, workspace_id, x_batch(FOLLOW_UP))
    with sessions() as session:
        times = response_times(session, Scope(workspace_id), NOW - timedelta(days=1),
                               NOW + timedelta(days=1))
    # Two customer mentions stored, one case: answered once (then reopened, still answered).
    assert (times.actionable, times.answered, times.responded) == (1, 1, 1)


def test_a_brand_reply_found_with_the_post_counts_from_the_post_never_negative(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    # Posted 08:00, answered natively 08:20, both found by one poll at 09:00: the customer
    # waited 20 minutes. From when Vigie found the post the answer came 40 minutes before.
    ingest(sessions, workspace_id, x_batch(ROOT, BRAND_REPLY))
    # And one stored before the fix whose brand answer predates even its publication (a
    # clock off on the network's side): it counts zero, not below.
    ingest(sessions, workspace_id, x_batch(tweet("6001", "22", "@AcmeCare where is 6001?", 30)))
    with transaction(sessions) as session:
        skewed = session.scalars(select(Mention).where(Mention.external_id == "6001")).one()
        workflow.mark_replied(session, workspace_id, CLI, skewed,
                              now=skewed.published_at - timedelta(minutes=5))
    with sessions() as session:
        window = (NOW - timedelta(days=1), NOW + timedelta(days=1))
        times = response_times(session, Scope(workspace_id), *window)
        kept = sla_kept(session, Scope(workspace_id), *window)
        exported = {r["id"]: r["first_response_minutes"]
                    for r in iter_mentions(session, workspace_id, since=window[0],
                                           until=window[1])}
    assert times.responded == 2
    # The median of 0 and 1200 s; the p90 is 1080 s (percentile_cont between the two).
    assert (times.median_seconds, times.p90_seconds) == (600.0, 1080.0), times
    assert (kept.answered, kept.on_time) == (2, 2)
    assert exported == {mention(sessions, "1001").id: 20.0,
                        mention(sessions, "6001").id: 0.0}


def test_a_reply_to_a_brand_post_is_direct(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    announcement = tweet("5001", "99", "Our spring range is out today!", 0)
    # No in_reply_to_user_id here: only the parent being a brand post makes it direct.
    reply = tweet("5002", "22", "does it come in blue?", 5, conversation="5001",
                  reply_to="5001")
    report = ingest(sessions, workspace_id, x_batch(announcement))
    assert report.brand_posts == 1 and report.stored == 0
    ingest(sessions, workspace_id, x_batch(reply))
    assert {"name": "direct", "terms": ["@acmecare"]} in mention(sessions, "5002").intent_flags


def test_a_follow_up_several_watches_hold_joins_once_and_updates_every_card(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="orders", query="order",
                 channel_id=ORDERS_CHANNEL, alert_threshold=0)
    for name in ("acme", "orders"):  # both watches' sources carry the customer's post
        ingest(sessions, workspace_id, x_batch(ROOT), watch=name)
    root = mention(sessions, "1001")
    assert sorted(row.channel for row in outbox(sessions, KIND_CARD, root.id)) == sorted(
        [CHANNEL_ID, ORDERS_CHANNEL])
    with transaction(sessions) as session:  # both cards are posted
        stored = session.get(Mention, root.id)
        assert stored is not None
        do_record_card(session, stored, CHANNEL_ID, "1700000000.000100")
        do_record_card(session, stored, ORDERS_CHANNEL, "1700000000.000200")
    chaser = tweet("1005", "11", "@AcmeCare hello?? order 5512", 40, conversation="1001",
                   reply_to="1001", reply_to_user="11")
    first = ingest(sessions, workspace_id, x_batch(chaser), watch="orders")
    second = ingest(sessions, workspace_id, x_batch(chaser), watch="acme")
    assert (first.stored, first.follow_ups, first.alerts) == (1, 1, 0)
    assert (second.stored, second.linked, second.follow_ups, second.alerts) == (0, 1, 0, 0)
    follow_up = mention(sessions, "1005")
    assert outbox(sessions, KIND_CARD, follow_up.id) == []  # no card in any watch channel
    with sessions() as session:
        assert session.scalar(select(Case.follow_ups)) == 1
        assert session.scalar(select(func.count()).select_from(MentionWatch).where(
            MentionWatch.mention_id == follow_up.id)) == 2
        scopes = [Scope(workspace_id), *(Scope(workspace_id, (
            get_watch_by_name(session, workspace_id, name).id,)) for name in ("acme", "orders"))]
        actionable = [response_times(session, scope, NOW - timedelta(days=1),
                                     NOW + timedelta(days=1)).actionable for scope in scopes]
    assert count(sessions, CasePost) == 2
    assert actionable == [1, 1, 1]  # the case, not each of its posts, in every scope
    updated = {row.channel for row in outbox(sessions, KIND_UPDATE_CARD, root.id)}
    assert updated == {CHANNEL_ID, ORDERS_CHANNEL}  # every card of the case hears it
    notes = [row.channel for row in outbox(sessions, KIND_THREAD, root.id)
             if "hello??" in payload_text(row.payload)]
    assert sorted(notes) == sorted([CHANNEL_ID, ORDERS_CHANNEL])  # once in each card's thread


def _concurrent_ingests(sessions: sessionmaker[Session], workspace_id: int,
                        batches: list[tuple[str, list[Any]]]) -> list[IngestReport]:
    """Each batch ingested by its own worker; every worker ingests before any commits
    (a worker that waits for another's commit is let go after a few seconds)."""
    barrier = threading.Barrier(len(batches))
    reports: list[IngestReport] = []
    errors: list[BaseException] = []

    def work(watch: str, batch: list[Any]) -> None:
        try:
            with transaction(sessions) as session:
                reports.append(do_ingest(session, get_watch_by_name(
                    session, workspace_id, watch), None, batch, now=NOW))
                # A worker waiting for the other's commit breaks the barrier: go on.
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=3)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=work, args=batch) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return reports


def _postgres_workspace(url: str, *watches: tuple[str, str]
                        ) -> tuple[Any, sessionmaker[Session], int]:
    migrations.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        workspace = Workspace(team_id="T0CASES02")
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    for name, channel in watches:
        do_add_watch(sessions, workspace_id, CLI, name=name, query="", channel_id=channel,
                     alert_threshold=0)
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    return engine, sessions, workspace_id


@pytest.mark.postgres
@pytest.mark.parametrize("brand_first", [True, False])
def test_a_brand_reply_stored_at_the_same_instant_as_the_customer_post_is_linked(
        fresh_postgres_url: str, brand_first: bool) -> None:
    """Two workers, two sources: one carries the brand's reply, the other the customer's
    post, both ingested before either commits."""
    engine, sessions, workspace_id = _postgres_workspace(
        fresh_postgres_url, ("acme", "C0CASES01"), ("support", "C0SUPPORT"))
    batches = [("support", x_batch(BRAND_REPLY)), ("acme", x_batch(ROOT))]
    _concurrent_ingests(sessions, workspace_id, batches if brand_first else batches[::-1])
    root = mention(sessions, "1001")
    assert root.status == "replied"
    assert root.first_response_at == datetime(2026, 12, 5, 8, 20, tzinfo=UTC)
    with sessions() as session:
        assert session.scalar(select(CasePost.case_id).where(
            CasePost.external_id == "1002")) is not None
    engine.dispose()


@pytest.mark.postgres
def test_two_workers_two_sources_one_conversation_make_one_case_and_no_duplicate_card(
        fresh_postgres_url: str) -> None:
    """The same conversation from two sources, ingested by two workers at once."""
    engine, sessions, workspace_id = _postgres_workspace(
        fresh_postgres_url, ("acme", "C0CASES01"), ("support", "C0CASES01"))
    conversation = [ROOT, BRAND_REPLY, FOLLOW_UP]
    reports = _concurrent_ingests(sessions, workspace_id, [
        ("acme", x_batch(*conversation)), ("support", x_batch(*conversation))])
    assert sum(r.stored for r in reports) == 2  # the root and the follow-up, once each
    assert count(sessions, Case) == 1 and count(sessions, CasePost) == 3
    with sessions() as session:
        cards = session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD)).all()
        # One channel, both watches: at most one card, for the case's root.
        assert len(cards) <= 1 and {c.mention_id for c in cards} <= {
            mention(sessions, "1001").id}
    engine.dispose()


@pytest.mark.parametrize("brand_first", [True, False])
def test_a_brand_reply_in_the_same_batch_as_the_customer_post_is_linked(
        sessions: sessionmaker[Session], workspace_id: int, brand: str,
        brand_first: bool) -> None:
    batch = [BRAND_REPLY, ROOT] if brand_first else [ROOT, BRAND_REPLY]
    report = ingest(sessions, workspace_id, x_batch(*batch))
    assert (report.stored, report.brand_posts, report.alerts) == (1, 1, 0)
    assert mention(sessions, "1001").status == "replied"


def test_a_case_reopened_long_after_its_first_post_gets_its_reminder_and_breach(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    """The customer's first post reached Vigie 40 days ago and was answered; they write
    again now. The SLA restarts from their new post, so the reminder and the breach notice
    come on time, however old the case's first mention (the checks read past 30 days of
    received mentions the ones whose clock restarted since)."""
    old = -40 * 24 * 60  # minutes: 40 days before the follow-up
    ingest(sessions, workspace_id, x_batch(
        tweet("1001", "11", "@AcmeCare my order 5512 never arrived, two weeks now", old),
        tweet("1002", "99", "@ana_r So sorry Ana! Please DM us your order number.", old + 20,
              conversation="1001", reply_to="1001", reply_to_user="11")),
        now=NOW - timedelta(days=40))
    assert mention(sessions, "1001").status == "replied"
    ingest(sessions, workspace_id, x_batch(FOLLOW_UP), now=NOW)
    root = mention(sessions, "1001")
    assert root.status == "new" and root.created_at == NOW - timedelta(days=40)
    agent = Actor("U0AGENT01", "slash_command")
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=agent.user_id, role="agent"))
    workflow.do_assign(sessions, workspace_id, agent, root.id, "U0AGENT01")
    with sessions() as session:
        due = due_at(session, session.get_one(Mention, root.id))
    assert due is not None and due > NOW
    remind_at = NOW + (due - NOW) * REMIND_AT + timedelta(minutes=1)

    def notices() -> set[str]:
        with sessions() as session:
            return set(session.scalars(select(SlaNotice.kind).where(
                SlaNotice.mention_id == root.id)))

    run_sla_checks(sessions, NOW + timedelta(minutes=1), "UTC")
    assert notices() == set()
    run_sla_checks(sessions, remind_at, "UTC")
    assert notices() == {"reminder"}
    run_sla_checks(sessions, due + timedelta(minutes=1), "UTC")
    assert {"reminder", "breach"} <= notices()
    assert [row.channel for row in outbox(sessions, KIND_POST, root.id)][:1] == ["U0AGENT01"]


# Retweets as X's search returns them (it includes retweets unless the query says
# -is:retweet): "RT @author: " and the original's words, cut at 140 characters, with a
# ``retweeted`` reference to the original, which ``expansions=referenced_tweets.id`` puts
# in ``includes.tweets``. Ids are snowflakes of their posting time, as X's are.
FANS = [{"id": str(100 + n), "username": f"fan{n}", "name": f"Fan {n}",
         "public_metrics": {"followers_count": 150}} for n in range(5)]
RECALL = tweet(x_id(NOW - timedelta(hours=1)), "99",
               "Acme Roadster recall: please stop riding your Roadster now. Full refund, "
               "details and pick-up booking at acme.com/recall", 0)


def retweet_page(original: dict[str, Any], *, included: bool,
                 also: tuple[dict[str, Any], ...] = ()) -> list[Any]:
    """The mentions of a search page of five fans' retweets of ``original`` (newest first),
    with ``original`` in includes.tweets when ``included``, and the posts ``also``."""
    handle = next(u["username"] for u in USERS if u["id"] == original["author_id"])
    text = f"RT @{handle}: {original['text']}"
    retweets = []
    for n in reversed(range(5)):
        body = tweet(x_id(NOW - timedelta(minutes=55 - n)), str(100 + n),
                     text if len(text) <= 140 else text[:139] + "…", 5 + n)
        body["referenced_tweets"] = [{"type": "retweeted", "id": original["id"]}]
        retweets.append(body)
    mentions, _ = parse_search({
        "data": [*retweets, *also],
        "includes": {"users": USERS + FANS, **({"tweets": [original]} if included else {})},
        "meta": {"result_count": 5 + len(also)}})
    return mentions


@pytest.mark.parametrize("page", ["with the post", "included", "neither"])
def test_customers_retweeting_the_brand_post_repeat_it_and_never_alert(
        sessions: sessionmaker[Session], workspace_id: int, brand: str, page: str) -> None:
    # Five customers retweeting the brand's recall notice made one "complaint" of theirs,
    # priority 91, carded in every channel: a retweet was its retweeter's own post.
    batch = retweet_page(RECALL, included=page == "included",
                         also=(RECALL,) if page == "with the post" else ())
    report = ingest(sessions, workspace_id, batch)
    assert report.stored == 0 and report.alerts == 0 and report.brand_posts == len(batch)
    assert count(sessions, Mention) == 0 and count(sessions, OutboxMessage) == 0
    with sessions() as session:
        filed = session.scalars(select(CasePost)).one()
    assert (filed.external_id, filed.author, filed.by_brand) == (RECALL["id"], brand, True)
    assert filed.url == f"https://x.com/AcmeCare/status/{RECALL['id']}"


def test_a_retweeted_complaint_is_its_customer_s_one_mention(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    # Retweets of a customer's complaint were a mention of the first retweeter's, with
    # the words of another: they are the complaint, counted once, as a Mastodon boost is.
    complaint = tweet(x_id(NOW - timedelta(hours=2)), "11",
                      "@AcmeCare my Roadster order 5512 never arrived, two weeks now and "
                      "nobody answers my emails", -60)
    complaint["public_metrics"] |= {"retweet_count": 5, "like_count": 12}
    first = ingest(sessions, workspace_id, retweet_page(complaint, included=True))
    assert first.stored == 1 and first.alerts == 1 and first.brand_posts == 0
    again = ingest(sessions, workspace_id, retweet_page(complaint, included=False)
                   + x_batch(complaint), now=NOW + timedelta(minutes=15))
    assert again.stored == 0 and again.alerts == 0
    stored = mention(sessions, complaint["id"])
    assert count(sessions, Mention) == 1 and stored.engagement == 17
    assert stored.url == f"https://x.com/ana_r/status/{complaint['id']}"
    with sessions() as session:
        author = session.get(Mention, stored.id).author  # type: ignore[union-attr]
        assert author is not None and author.handle == "@ana_r"
    assert len(outbox(sessions, KIND_CARD, stored.id)) == 1


def test_a_quote_of_the_brand_post_is_the_quoter_s_own_mention(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    quote = tweet(x_id(NOW - timedelta(minutes=30)), "22",
                  "Third recall this year @AcmeCare, I want my money back", 30)
    quote["referenced_tweets"] = [{"type": "quoted", "id": RECALL["id"]}]
    mentions, _ = parse_search({"data": [quote],
                                "includes": {"users": USERS, "tweets": [RECALL]}})
    report = ingest(sessions, workspace_id, mentions)
    assert report.stored == 1 and report.alerts == 1 and report.brand_posts == 0
    assert mention(sessions, quote["id"]).text.startswith("Third recall")


ASKS = [tweet("7001", "11", "@AcmeCare my Roadster is on the recall list, refund how?", 0),
        tweet("7002", "11", "@AcmeCare still no answer about my Roadster refund. Hello?", 30),
        tweet("7003", "11", "@AcmeCare 3rd time asking: refund, order 88123. Anyone there?", 60),
        tweet("7004", "11", "@AcmeCare this is ridiculous, you ignore your recall customers", 90)]


def test_a_customer_asking_again_in_new_posts_joins_their_open_case(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    # Four posts of their own, 30 minutes apart, each found by its own poll: one card.
    for minutes, ask in zip((5, 35, 65, 95), ASKS, strict=True):
        ingest(sessions, workspace_id, x_batch(ask), now=NOW - timedelta(hours=1)
               + timedelta(minutes=minutes))
    root, *again = (mention(sessions, f"700{n}") for n in range(1, 5))
    with sessions() as session:
        cards = session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD)).all()
        case = session.scalars(select(Case)).one()
        summary = cases.case_summary(session, root.id)
        target = reply_target(session, session.get(Mention, root.id))
    assert cards == [root.id]
    assert [m.status for m in again] == ["follow_up"] * 3
    assert all("writes again" in (m.priority_reason or "") for m in again)
    assert case.root_mention_id == root.id and case.state == "open" and case.follow_ups == 3
    assert summary == cases.CaseSummary(4, 3, 0)
    # The reply answers their newest post, where they wait.
    assert target.external_id == "7004"
    notes = [payload_text(row.payload) for row in outbox(sessions, KIND_THREAD, root.id)]
    assert sum("Follow-up" in note for note in notes) == 3
    assert any("ignore your recall customers" in note for note in notes), notes
    assert len(outbox(sessions, KIND_UPDATE_CARD, root.id)) == 3


def test_posts_of_one_customer_in_one_batch_make_one_case(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    # A backlog after downtime: the poll finds all four at once.
    report = ingest(sessions, workspace_id, x_batch(*ASKS))
    assert report.stored == 4 and report.follow_ups == 3
    with sessions() as session:
        cards = session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD)).all()
    assert cards == [mention(sessions, "7001").id]


def test_a_new_post_after_the_answer_or_a_day_later_is_a_case_of_its_own(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    answer = tweet("7100", "99", "@ana_r Sorry Ana, the refund form is at acme.com/recall", 10,
                   conversation="7001", reply_to="7001", reply_to_user="11")
    ingest(sessions, workspace_id, x_batch(ASKS[0], answer))
    assert mention(sessions, "7001").status == "replied"
    # Answered: a new post of theirs is a new request (a reply in the thread reopens it).
    report = ingest(sessions, workspace_id, x_batch(ASKS[1]))
    assert report.follow_ups == 0 and report.reopened == 0
    second = mention(sessions, "7002")
    assert second.status == "new" and len(outbox(sessions, KIND_CARD, second.id)) == 1
    assert mention(sessions, "7001").status == "replied"
    # Unanswered but quiet for longer than the window: a case of its own again.
    late = tweet("7003", "11", "@AcmeCare refund, order 88123?", 60)
    report = ingest(sessions, workspace_id, x_batch(late),
                    now=NOW + cases.RETURNING_WINDOW + timedelta(minutes=1))
    assert report.follow_ups == 0
    assert len(outbox(sessions, KIND_CARD, mention(sessions, "7003").id)) == 1
    # Another customer's post never joins Ana's case.
    other = tweet("7004", "22", "@AcmeCare how do I get a recall refund?", 70)
    ingest(sessions, workspace_id, x_batch(other), now=NOW + timedelta(minutes=15))
    assert mention(sessions, "7004").status == "new"


def test_someone_else_s_repost_of_a_customer_s_old_post_never_joins_their_case(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    """Bob retweeting a 40-day-old post of Ana's, which X's search returns as Ana's post
    (bot.sources.x unwraps retweets), is not Ana asking again: it joins no case, nor
    stretches her case's window, and the reply still answers her complaint (the final
    review's repro)."""
    ingest(sessions, workspace_id, x_batch(ASKS[0]))
    old = tweet("6000", "11", "@AcmeCare love my new Roadster, best purchase ever", 0)
    old["created_at"] = (NOW - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    retweet = tweet("7050", "22", "RT @ana_r: @AcmeCare love my new Roadster, best purchase "
                    "ever", 30)
    retweet["referenced_tweets"] = [{"type": "retweeted", "id": "6000"}]
    batch, _ = parse_search({"data": [retweet],
                             "includes": {"users": USERS, "tweets": [old]}})
    assert batch[0].author.handle.lower() == "@ana_r"
    report = ingest(sessions, workspace_id, batch, now=NOW + timedelta(minutes=30))
    root = mention(sessions, "7001")
    assert report.follow_ups == 0 and mention(sessions, "6000").status != "follow_up"
    assert not any("love my new Roadster" in payload_text(row.payload)
                   for row in outbox(sessions, KIND_THREAD, root.id))
    with sessions() as session:
        assert reply_target(session, session.get(Mention, root.id)).external_id == "7001"
    # A post of her own written then, but found only now (a backlog), is no return either.
    late = tweet("7060", "11", "@AcmeCare my Roadster arrived", 0)
    late["created_at"] = (NOW - cases.RETURNING_WINDOW - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z")
    assert ingest(sessions, workspace_id, x_batch(late),
                  now=NOW + timedelta(minutes=40)).follow_ups == 0


def test_a_competitor_watch_and_another_watch_s_words_keep_their_own_cards(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    do_add_watch(sessions, workspace_id, CLI, name="bikes", query="bike",
                 channel_id="C0BIKES01", alert_threshold=0)
    do_add_watch(sessions, workspace_id, CLI, name="rival", query="globex",
                 channel_id="C0RIVAL01", alert_threshold=0, kind="competitor")
    ingest(sessions, workspace_id, x_batch(ASKS[0]))
    # Not addressed to the brand, in a watch that does not hold the case: its own card.
    bike = tweet("7201", "11", "my bike chain snapped again today", 20)
    ingest(sessions, workspace_id, x_batch(bike), watch="bikes")
    assert mention(sessions, "7201").status == "new"
    assert len(outbox(sessions, KIND_CARD, mention(sessions, "7201").id)) == 1
    # A competitor's watch counts its posts, never files them in the brand's cases.
    rival = tweet("7202", "11", "@AcmeCare globex gave me a refund in a day", 25)
    report = ingest(sessions, workspace_id, x_batch(rival), watch="rival")
    assert report.stored == 1 and report.follow_ups == 0
    assert mention(sessions, "7202").status == "new"


def test_a_feed_s_entries_by_one_author_keep_their_own_cards(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    # A news site's articles share one author: publications, not a customer asking again.
    articles = [FetchedMention(
        network="rss", external_id=f"https://news.example/acme-{n}",
        url=f"https://news.example/acme-{n}", author=FetchedAuthor(handle="Newsroom"),
        text=f"Acme recall, day {n}", published_at=NOW - timedelta(minutes=60 - n))
        for n in range(3)]
    for n, article in enumerate(articles):
        ingest(sessions, workspace_id, [article], now=NOW + timedelta(minutes=n))
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == KIND_CARD)) == 3
        assert session.scalar(select(func.count()).select_from(Case)) == 0


def _hn_hit(object_id: str, author: str, minutes: int, text: str, *,
            parent: str | None = None) -> FetchedMention:
    """An Algolia hit of Ask HN story 500 (shape of shared data
    api/hn/fraction_search_comment.json): the story itself, or a comment under it."""
    hit: dict[str, Any] = {
        "objectID": object_id, "author": author, "story_id": 500, "points": 1,
        "num_comments": 0,
        "created_at_i": int((NOW - timedelta(hours=1) + timedelta(minutes=minutes))
                            .timestamp())}
    if parent is None:
        hit.update({"_tags": ["story", f"author_{author}", "story_500", "ask_hn"],
                    "title": "Ask HN: Acme sync lost my files", "story_text": text})
    else:
        hit.update({"_tags": ["comment", f"author_{author}", "story_500"],
                    "comment_text": text, "parent_id": int(parent),
                    "story_title": "Ask HN: Acme sync lost my files"})
    found = hit_to_mention(hit)
    assert found is not None
    return found


def _reddit_thing(kind: str, thing_id: str, author: str, minutes: int, text: str, *,
                  parent: str | None = None) -> FetchedMention:
    """A submission t3_abc123 of r/acme or a comment in it (shape of shared data
    api/reddit/asyncpraw_submission_2gmzqe_with_comments_2020.json)."""
    data: dict[str, Any] = {
        "id": thing_id, "name": f"{kind}_{thing_id}", "author": author, "subreddit": "acme",
        "score": 1, "created_utc": (NOW - timedelta(hours=1) + timedelta(minutes=minutes))
        .timestamp()}
    if kind == "t3":
        data.update({"title": text, "selftext": text, "is_self": True, "num_comments": 0,
                     "permalink": f"/r/acme/comments/{thing_id}/post/"})
    else:
        data.update({"body": text, "parent_id": parent, "link_id": "t3_abc123",
                     "link_title": "Acme 4.2 update is out",
                     "permalink": f"/r/acme/comments/abc123/post/{thing_id}/"})
    found = thing_to_mention(kind, data)
    assert found is not None
    return found


def _cards(sessions: sessionmaker[Session]) -> list[int | None]:
    with sessions() as session:
        return list(session.scalars(select(OutboxMessage.mention_id).where(
            OutboxMessage.kind == KIND_CARD).order_by(OutboxMessage.id)))


@pytest.mark.parametrize("network", ["hackernews", "reddit"])
def test_a_customer_answering_a_commenter_in_their_own_thread_stays_on_one_card(
        sessions: sessionmaker[Session], workspace_id: int, network: str) -> None:
    """Ana's story, Bob's comment under it (not about the brand), Ana's answer to Bob: her
    answer is in her thread (the story an HN comment or a Reddit comment is in), a
    follow-up on her card, not a card of its own."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="acme",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    if network == "hackernews":
        story = _hn_hit("500", "ana", 0, "Acme sync deleted my project folder")
        bob = _hn_hit("501", "bob", 10, "Did you check the trash?", parent="500")
        ana = _hn_hit("502", "ana", 20, "Yes, the Acme trash is empty too, no answer yet",
                      parent="501")
    else:
        story = _reddit_thing("t3", "abc123", "ana_r", 0, "Acme sync deleted my project")
        bob = _reddit_thing("t1", "c1", "bob", 10, "did you check the trash?",
                            parent="t3_abc123")
        ana = _reddit_thing("t1", "c2", "ana_r", 20, "yes the Acme trash is empty too",
                            parent="t1_c1")
    ingest(sessions, workspace_id, [story])
    report = ingest(sessions, workspace_id, [bob, ana], now=NOW + timedelta(minutes=30))
    assert report.follow_ups == 1 and report.alerts == 0
    assert _cards(sessions) == [mention(sessions, story.external_id).id]
    assert mention(sessions, ana.external_id).status == "follow_up"


def test_a_brand_reply_to_someone_else_in_the_thread_leaves_the_customer_s_case_open(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Bob writes in Ana's thread (Vigie does not keep his post: no watch words), the brand
    answers Bob: Ana is still waiting, her case stays open with its SLA running. The
    brand's answer to Ana herself in the same thread does mark it replied."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="order",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    do_add_account(sessions, workspace_id, CLI, "x", "@AcmeCare")
    ingest(sessions, workspace_id, x_batch(ROOT))
    bob = tweet("1010", "22", "@ana_r @AcmeCare same thing happened to me last month", 10,
                conversation="1001", reply_to="1001", reply_to_user="11")
    to_bob = tweet("1011", "99", "@bob Sorry Bob, please DM us your details", 20,
                   conversation="1001", reply_to="1010", reply_to_user="22")
    report = ingest(sessions, workspace_id, x_batch(bob, to_bob),
                    now=NOW + timedelta(minutes=30))
    assert report.brand_posts == 1 and report.stored == 0
    ana = mention(sessions, "1001")
    assert ana.status == "new" and ana.first_response_at is None and ana.reply_url is None
    # An answer to Ana under a post of the thread Vigie never saw is hers.
    to_ana = tweet("1012", "99", "@ana_r So sorry Ana, a new parcel ships today", 25,
                   conversation="1001", reply_to="1099", reply_to_user="11")
    ingest(sessions, workspace_id, x_batch(to_ana), now=NOW + timedelta(minutes=35))
    ana = mention(sessions, "1001")
    assert ana.status == "replied"
    assert ana.reply_url == "https://x.com/AcmeCare/status/1012"


def test_a_brand_reply_seen_after_the_customer_wrote_again_leaves_the_case_open(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    """Ana 08:00, the brand 08:20, Ana again 08:50; the brand's post reaches Vigie last.
    As if they had arrived in order: the brand answered (first response at 08:20), and
    the case waits on the brand again since Ana's 08:50 post."""
    ingest(sessions, workspace_id, x_batch(ROOT))
    report = ingest(sessions, workspace_id, x_batch(FOLLOW_UP), now=NOW + timedelta(minutes=55))
    assert report.follow_ups == 1
    ingest(sessions, workspace_id, x_batch(BRAND_REPLY), now=NOW + timedelta(minutes=60))
    root = mention(sessions, "1001")
    assert root.status == "new"
    assert root.first_response_at == NOW - timedelta(minutes=40)
    with sessions() as session:
        case = session.scalars(select(Case)).one()
        posts = session.scalars(select(CasePost.external_id).where(
            CasePost.case_id == case.id).order_by(CasePost.published_at)).all()
    assert case.state == "open" and case.reopened == 1
    # Its SLA runs again from when the later post reached Vigie.
    assert case.sla_started_at is not None
    assert as_utc(case.sla_started_at) == as_utc(mention(sessions, "1003").created_at)
    assert posts == ["1001", "1002", "1003"]


def test_a_chase_written_before_the_brand_answer_found_in_one_poll_does_not_reopen(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    """Ana 08:00, Ana chases 08:30, the brand answers her 08:45; one poll finds both
    replies: the case is replied, the chase is a follow-up that reopens nothing."""
    ingest(sessions, workspace_id, x_batch(ROOT))
    chase = tweet("1005", "11", "@AcmeCare hello? order 5512", 30, conversation="1001",
                  reply_to="1001", reply_to_user="11")
    answer = tweet("1006", "99", "@ana_r So sorry! A new parcel ships today", 45,
                   conversation="1001", reply_to="1001", reply_to_user="11")
    report = ingest(sessions, workspace_id, x_batch(answer, chase),
                    now=NOW + timedelta(minutes=50))
    assert report.follow_ups == 1 and report.reopened == 0
    root = mention(sessions, "1001")
    assert root.status == "replied"
    assert root.reply_url == "https://x.com/AcmeCare/status/1006"
    with sessions() as session:
        case = session.scalars(select(Case)).one()
    assert case.state == "replied" and case.reopened == 0
    notes = [payload_text(row.payload) for row in outbox(sessions, KIND_THREAD, root.id)]
    assert not any("reopen" in note.lower() for note in notes), notes


def test_a_customer_s_second_reply_under_a_brand_post_joins_their_first(
        sessions: sessionmaker[Session], workspace_id: int, brand: str) -> None:
    """Ana replies twice under the brand's announcement (a post Vigie never stored): one
    card, the second reply a follow-up on it. On Reddit too."""
    first = tweet("1101", "11", "@AcmeCare your update broke my login", 0,
                  conversation="900", reply_to="900", reply_to_user="99")
    again = tweet("1102", "11", "@AcmeCare still can't log in, anyone there??", 30,
                  conversation="900", reply_to="900", reply_to_user="99")
    ingest(sessions, workspace_id, x_batch(first))
    report = ingest(sessions, workspace_id, x_batch(again), now=NOW + timedelta(minutes=40))
    assert report.follow_ups == 1
    assert _cards(sessions) == [mention(sessions, "1101").id]
    assert mention(sessions, "1102").status == "follow_up"
    do_add_account(sessions, workspace_id, CLI, "reddit", "u/acme_support")
    ingest(sessions, workspace_id, [_reddit_thing(
        "t1", "c1", "ana_r", 0, "the update broke my login", parent="t3_abc123")])
    report = ingest(sessions, workspace_id, [_reddit_thing(
        "t1", "c2", "ana_r", 30, "still can't log in, anyone?", parent="t3_abc123")],
        now=NOW + timedelta(minutes=40))
    assert report.follow_ups == 1
    assert _cards(sessions) == [mention(sessions, "1101").id, mention(sessions, "t1_c1").id]
    # Found by one poll, the later one joins the earlier whichever comes first.
    report = ingest(sessions, workspace_id, x_batch(
        tweet("1202", "22", "@AcmeCare hello??", 20, conversation="901", reply_to="901",
              reply_to_user="99"),
        tweet("1201", "22", "@AcmeCare the app crashes on start", 10, conversation="901",
              reply_to="901", reply_to_user="99")), now=NOW + timedelta(minutes=45))
    assert report.follow_ups == 1
    assert _cards(sessions)[2:] == [mention(sessions, "1201").id]


def test_a_bluesky_brand_reply_is_the_case_s_only_when_it_answers_the_customer(
        sessions: sessionmaker[Session], workspace_id: int) -> None:
    """On Bluesky the post a reply answers names its author's account (its at:// URI): the
    brand answering Bob (a post Vigie did not keep) in Ana's thread leaves her case open;
    answering Ana's own reply Vigie never saw marks it replied."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="order",
                 channel_id=CHANNEL_ID, alert_threshold=0)
    do_add_account(sessions, workspace_id, CLI, "bluesky", "acme.bsky.social")
    ana = {"did": "did:plc:anaaaaaaaaaaaaaaaaaaaaaa", "handle": "ana.bsky.social"}
    brand_author = {"did": "did:plc:acmeaaaaaaaaaaaaaaaaaaaa", "handle": "acme.bsky.social"}
    root_uri = f"at://{ana['did']}/app.bsky.feed.post/3k43tv4rft22g"

    def post(uri: str, author: dict[str, str], text: str, minutes: int,
             parent: str | None = None) -> FetchedMention:
        at = (NOW - timedelta(hours=1) + timedelta(minutes=minutes)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        record: dict[str, Any] = {"text": text, "createdAt": at}
        if parent:
            record["reply"] = {"root": {"uri": root_uri, "cid": "bafyroot"},
                               "parent": {"uri": parent, "cid": "bafyparent"}}
        found = post_to_mention({"uri": uri, "cid": "bafy" + uri[-4:], "author": author,
                                 "indexedAt": at, "record": record})
        assert found is not None
        return found

    ingest(sessions, workspace_id, [post(root_uri, ana, "my order 5512 never arrived", 0)])
    bob_uri = "at://did:plc:bobbbbbbbbbbbbbbbbbbbbbb/app.bsky.feed.post/3k43tv4rfb0b1"
    to_bob = post("at://did:plc:acmeaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3k43tv4rfa001",
                  brand_author, "Sorry Bob, please DM us", 20, parent=bob_uri)
    report = ingest(sessions, workspace_id, [to_bob], now=NOW + timedelta(minutes=30))
    assert report.brand_posts == 1
    assert mention(sessions, root_uri).status == "new"
    to_ana = post("at://did:plc:acmeaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3k43tv4rfa002",
                  brand_author, "So sorry, a new parcel ships today", 25,
                  parent=f"at://{ana['did']}/app.bsky.feed.post/3k43tv4rfa0a1")
    ingest(sessions, workspace_id, [to_ana], now=NOW + timedelta(minutes=35))
    assert mention(sessions, root_uri).status == "replied"


def test_bluesky_replies_of_one_customer_to_one_brand_post_make_one_card(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """Three replies of Ana straight under the brand's post (Vigie never held it; a reply
    to a thread's first post names no separate root on Bluesky): one card, two
    follow-ups."""
    ana = {"did": "did:plc:anaaaaaaaaaaaaaaaaaaaaaa", "handle": "ana.bsky.social"}
    brand_post = "at://did:plc:acmeaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3k43tv4rfa000"

    def reply(rkey: str, text: str, minutes: int) -> FetchedMention:
        at = (NOW - timedelta(hours=1) + timedelta(minutes=minutes)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        found = post_to_mention({
            "uri": f"at://{ana['did']}/app.bsky.feed.post/{rkey}", "cid": "bafy" + rkey,
            "author": ana, "indexedAt": at,
            "record": {"text": text, "createdAt": at,
                       "reply": {"root": {"uri": brand_post, "cid": "bafybrand"},
                                 "parent": {"uri": brand_post, "cid": "bafybrand"}}}})
        assert found is not None
        return found

    for n, (text, minutes) in enumerate((("the update broke my login", 0),
                                         ("still can't log in", 30),
                                         ("anyone there??", 60))):
        ingest(sessions, workspace_id, [reply(f"3k43tv4rfa0a{n}", text, minutes)],
               now=NOW + timedelta(minutes=minutes))
    first = mention(sessions, f"at://{ana['did']}/app.bsky.feed.post/3k43tv4rfa0a0")
    assert _cards(sessions) == [first.id]
    with sessions() as session:
        case = session.scalars(select(Case)).one()
    assert case.root_mention_id == first.id and case.follow_ups == 2
