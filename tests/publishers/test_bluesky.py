"""Bluesky replies against a fake PDS (see ``fakes.FakeBluesky`` for the sources of its
bodies): record keys, reply refs, facets in UTF-8 bytes, create-only writes, errors."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

from bot.messages.notes import plain_text
from bot.net.http import HttpClient
from bot.publishers.base import (
    PublishAuthError,
    PublishError,
    PublishRateLimited,
    PublishRejected,
    PublishTargetGone,
    PublishUnknownOutcome,
    ReplyTarget,
    publish_once,
)
from bot.publishers.bluesky import (
    BlueskyCredentials,
    BlueskyPublisher,
    detect_facets,
    record_key,
)
from bot.sources.bluesky import post_to_mention
from tests.publishers.conftest import NOW
from tests.publishers.fakes import WRONG_SHAPES, Failure, FakeBluesky, set_field

KEY = "draft-7-v1"
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
CLOCK = datetime(2025, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def fake(httpserver: HTTPServer, load_json: Callable[[str], Any]) -> FakeBluesky:
    """A fresh fake PDS on the local server."""
    return FakeBluesky(httpserver, load_json)


@pytest.fixture
def publisher() -> BlueskyPublisher:
    """A publisher with a fixed clock."""
    return BlueskyPublisher(now=lambda: CLOCK)


def creds(fake: FakeBluesky, password: str | None = None) -> BlueskyCredentials:
    """Credentials of the brand account on the fake PDS."""
    return BlueskyCredentials(
        handle="@" + fake.HANDLE,
        app_password=SecretStr(password or fake.PASSWORD),
        service_url=fake.base,
    )


def target_of(post: dict[str, Any]) -> ReplyTarget:
    """The target as the Bluesky source produced it."""
    mention = post_to_mention(post)
    assert mention is not None
    return ReplyTarget.from_mention(mention)


def calls(httpserver: HTTPServer, method: str) -> list[Any]:
    """Requests to one XRPC method."""
    return [r for r, _ in httpserver.log if r.path == f"/xrpc/{method}"]


def test_record_key_is_a_stable_tid_in_the_past() -> None:
    rkey = record_key(KEY)
    assert TID.match(rkey)
    assert record_key(KEY) == rkey
    assert record_key("draft-7-v2") != rkey
    number = 0
    for char in rkey:
        number = number * 32 + "234567abcdefghijklmnopqrstuvwxyz".index(char)
    micros = number >> 10
    assert datetime(2023, 1, 1, tzinfo=UTC).timestamp() * 1e6 <= micros < NOW * 1e6


def test_facets_match_the_docs_example(load_json: Callable[[str], Any]) -> None:
    # The "Posts" guide's example: a mention and a link after emoji (and a ZWJ sequence).
    example = load_json("bluesky/bskydocs_post_record_examples.json")[3]["record"]
    facets = detect_facets(example["text"])
    resolved = {"atproto.com": "did:plc:ewvi7nxzyoun6zhxrhs64oiz"}
    records = [f.to_record(resolved.get(f.value)) for f in facets]
    assert records == example["facets"]


def test_facets_count_utf8_bytes_after_accents_and_emoji() -> None:
    text = "Café ☕ 👩🏽‍💻 voilà: https://exemple.fr/déjà?q=1, merci @alice.bsky.social!"
    link, mention = detect_facets(text)
    data = text.encode("utf-8")
    assert data[link.byte_start : link.byte_end].decode() == "https://exemple.fr/déjà?q=1"
    assert link.byte_start == len("Café ☕ 👩🏽‍💻 voilà: ".encode())
    assert data[mention.byte_start : mention.byte_end].decode() == "@alice.bsky.social"
    assert (mention.kind, mention.value) == ("mention", "alice.bsky.social")
    assert [f.kind for f in detect_facets("mail me@example.com or see www.example.org")] == ["link"]
    assert detect_facets("see www.example.org")[0].value == "https://www.example.org"


def test_facets_link_bare_domains_on_any_tld_but_not_ordinary_words() -> None:
    text = "Voir acme.help/faq ou acme.zip, pas readme.md, e.g. file.txt ni v2.0.1"
    data = text.encode("utf-8")
    facets = detect_facets(text)
    assert [data[f.byte_start : f.byte_end].decode() for f in facets] == [
        "acme.help/faq",
        "acme.zip",
    ]
    assert [f.value for f in facets] == ["https://acme.help/faq", "https://acme.zip"]


def test_hashtags_get_tag_facets_as_bluesky_detects_them() -> None:
    """app.bsky.richtext.facet#tag, as RichText.detectFacets makes it: the facet spans
    "#" and the tag, trailing punctuation left out; the tag is written without "#"."""
    text = ("Café ☕ #Crème! Live on https://status.acme.example#top and #AcmeStatus. "
            "＃日本語、 (#paren) x#glued #1 #!! #2025s #tag\u200bafter @alice.bsky.social")
    data = text.encode("utf-8")
    facets = detect_facets(text)
    assert [(f.kind, f.value, data[f.byte_start:f.byte_end].decode()) for f in facets] == [
        ("tag", "Crème", "#Crème"),
        ("link", "https://status.acme.example#top", "https://status.acme.example#top"),
        ("tag", "AcmeStatus", "#AcmeStatus"),
        ("tag", "日本語", "＃日本語"),
        ("tag", "2025s", "#2025s"),
        ("tag", "tag", "#tag"),
        ("mention", "alice.bsky.social", "@alice.bsky.social"),
    ]
    assert facets[0].byte_start == len("Café ☕ ".encode())
    assert facets[0].to_record() == {
        "index": {"byteStart": facets[0].byte_start, "byteEnd": facets[0].byte_end},
        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Crème"}]}
    assert detect_facets("#" + "a" * 64)[0].value == "a" * 64
    assert detect_facets("#" + "a" * 65) == []


def test_a_replys_hashtag_is_posted_with_its_tag_facet(
    http: HttpClient, fake: FakeBluesky, httpserver: HTTPServer, publisher: BlueskyPublisher
) -> None:
    text = "Sorry! Live updates on https://status.acme.example and #AcmeStatus."
    publisher.publish(http, creds(fake), target_of(fake.add_post()), text, KEY)
    record = calls(httpserver, "com.atproto.repo.putRecord")[0].get_json()["record"]
    start = len(text.encode()) - len("#AcmeStatus.")
    assert record["facets"][-1] == {
        "index": {"byteStart": start, "byteEnd": start + len("#AcmeStatus")},
        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "AcmeStatus"}]}
    assert [f["features"][0]["$type"] for f in record["facets"]] == [
        "app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag"]


def test_publish_writes_a_create_only_reply(
    http: HttpClient, fake: FakeBluesky, httpserver: HTTPServer, publisher: BlueskyPublisher
) -> None:
    parent = fake.add_post()
    fake.handles["alice.bsky.social"] = "did:plc:alice2alice3alice4alice5"
    text = "Désolé 😕 @alice.bsky.social, voir https://status.example.com/ — @ghost.example"

    posted = publisher.publish(http, creds(fake), target_of(parent), text, KEY)

    (login,) = calls(httpserver, "com.atproto.server.createSession")
    assert login.get_json() == {"identifier": fake.HANDLE, "password": fake.PASSWORD}
    (lookup,) = calls(httpserver, "app.bsky.feed.getPosts")
    assert lookup.args["uris"] == parent["uri"]
    assert lookup.headers["Authorization"] == "Bearer access-1"
    (put,) = calls(httpserver, "com.atproto.repo.putRecord")
    assert put.headers["Authorization"] == "Bearer access-1"
    body = put.get_json()
    rkey = record_key(KEY)
    assert body["repo"] == fake.DID
    assert body["collection"] == "app.bsky.feed.post"
    assert body["rkey"] == rkey
    assert "swapRecord" in body and body["swapRecord"] is None
    ref = {"uri": parent["uri"], "cid": parent["cid"]}
    data = text.encode("utf-8")
    start = data.index(b"@alice")
    url_start = data.index(b"https://")
    assert body["record"] == {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2025-05-01T10:00:00.123Z",
        "langs": ["en"],
        "reply": {"root": ref, "parent": ref},
        "facets": [
            {
                "index": {"byteStart": start, "byteEnd": start + len(b"@alice.bsky.social")},
                "features": [
                    {
                        "$type": "app.bsky.richtext.facet#mention",
                        "did": "did:plc:alice2alice3alice4alice5",
                    }
                ],
            },
            {
                "index": {
                    "byteStart": url_start,
                    "byteEnd": url_start + len(b"https://status.example.com/"),
                },
                "features": [
                    {
                        "$type": "app.bsky.richtext.facet#link",
                        "uri": "https://status.example.com/",
                    }
                ],
            },
        ],  # @ghost.example does not resolve: no facet
    }
    assert posted.external_id == f"at://{fake.DID}/app.bsky.feed.post/{rkey}"
    assert posted.url == f"https://bsky.app/profile/{fake.HANDLE}/post/{rkey}"
    assert posted.posted_at == datetime(2025, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert posted.extra["rkey"] == rkey


def test_reply_to_a_reply_keeps_the_thread_root(
    http: HttpClient,
    fake: FakeBluesky,
    httpserver: HTTPServer,
    load_json: Callable[[str], Any],
    publisher: BlueskyPublisher,
) -> None:
    # The root reference of the docs' reply example.
    root = load_json("bluesky/bskydocs_post_record_examples.json")[4]["record"]["reply"]["root"]
    parent = fake.add_post("3kaheyt6vpc33", reply_root=root)

    publisher.publish(http, creds(fake), target_of(parent), "Thanks!", KEY, language="fr")

    record = calls(httpserver, "com.atproto.repo.putRecord")[0].get_json()["record"]
    assert record["reply"] == {
        "root": root,
        "parent": {"uri": parent["uri"], "cid": parent["cid"]},
    }
    assert record["langs"] == ["fr"]


def test_lost_answer_is_found_and_never_posted_twice(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher
) -> None:
    target = target_of(fake.add_post())
    first = publisher.publish(http, creds(fake), target, "On it!", KEY)  # result "lost"

    assert publisher.find_existing(http, creds(fake), target, KEY, "On it!") == first
    again = publisher.publish(http, creds(fake), target, "On it!", KEY)  # key already taken
    assert again.external_id == first.external_id
    assert again.url == first.url
    assert (
        publish_once(publisher, http, creds(fake), target, "On it!", KEY, attempted_before=True)
        == first
    )
    assert fake.created == [record_key(KEY)]


def test_dropped_connection_after_the_write_is_unknown_then_reconciled(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher
) -> None:
    target = target_of(fake.add_post())
    fake.failure = Failure(drop=True, after_write=True)

    with pytest.raises(PublishUnknownOutcome):
        publisher.publish(http, creds(fake), target, "On it!", KEY)

    found = publisher.find_existing(http, creds(fake), target, KEY, "On it!")
    assert found is not None and found.extra["rkey"] == record_key(KEY)
    assert publisher.publish(http, creds(fake), target, "On it!", KEY) == found
    assert len(fake.created) == 1


def test_find_existing_is_none_before_any_post(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher
) -> None:
    assert publisher.find_existing(http, creds(fake), target_of(fake.add_post()), KEY, "x") is None


def test_find_existing_refuses_a_key_used_for_another_post(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher
) -> None:
    publisher.publish(http, creds(fake), target_of(fake.add_post()), "Hi", KEY)
    other = target_of(fake.add_post("3kaheyt6vpc44"))
    with pytest.raises(PublishRejected) as caught:
        publisher.find_existing(http, creds(fake), other, KEY, "Hi")
    assert caught.value.reason == "duplicate"


def test_expired_token_is_refreshed_and_posts_once(
    http: HttpClient, fake: FakeBluesky, httpserver: HTTPServer, publisher: BlueskyPublisher
) -> None:
    target = target_of(fake.add_post())
    fake.expire_tokens_before_put = True

    posted = publisher.publish(http, creds(fake), target, "Hi", KEY)

    assert len(calls(httpserver, "com.atproto.server.refreshSession")) == 1
    assert calls(httpserver, "com.atproto.repo.putRecord")[-1].headers["Authorization"] == (
        "Bearer access-2"
    )
    assert fake.created == [posted.extra["rkey"]]


def test_wrong_app_password(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher
) -> None:
    with pytest.raises(PublishAuthError) as caught:
        publisher.publish(http, creds(fake, "wrong-pass"), target_of(fake.add_post()), "Hi", KEY)
    assert "wrong-pass" not in str(caught.value)
    assert fake.created == []


def test_deleted_target(http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher) -> None:
    post = fake.add_post()
    del fake.posts[post["uri"]]
    with pytest.raises(PublishTargetGone):
        publisher.publish(http, creds(fake), target_of(post), "Hi", KEY)


def test_reply_gated_post_is_refused_before_writing(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher
) -> None:
    """getPosts says the author's threadgate leaves the brand account out: a PDS would
    write the reply but the AppView hides it, so it is refused as X's restricted replies
    are, with a phrase the team reads in Slack, and nothing is written."""
    parent = fake.add_post()
    parent["viewer"] = {**parent.get("viewer", {}), "replyDisabled": True}
    parent["threadgate"] = {  # app.bsky.feed.defs#threadgateView
        "uri": parent["uri"].replace("app.bsky.feed.post", "app.bsky.feed.threadgate"),
        "cid": "bafyreigate", "lists": [],
        "record": {"$type": "app.bsky.feed.threadgate", "post": parent["uri"],
                   "allow": [{"$type": "app.bsky.feed.threadgate#mentionRule"}],
                   "createdAt": "2025-05-01T09:00:00.000Z"}}
    with pytest.raises(PublishRejected) as caught:
        publisher.publish(http, creds(fake), target_of(parent), "Hi! Sorry about this.", KEY)
    assert caught.value.reason == "not_allowed"
    assert not caught.value.retryable
    assert "limited who can reply" in plain_text(caught.value.phrase, "en")
    assert "limité qui peut répondre" in plain_text(caught.value.phrase, "fr")
    assert fake.created == []

    parent["viewer"]["replyDisabled"] = False  # the account is let in: it replies
    publisher.publish(http, creds(fake), target_of(parent), "Hi! Sorry about this.", KEY)
    assert len(fake.created) == 1


def test_over_300_graphemes_is_refused_before_any_request(
    http: HttpClient, fake: FakeBluesky, httpserver: HTTPServer, publisher: BlueskyPublisher
) -> None:
    target = target_of(fake.add_post())
    publisher.publish(http, creds(fake), target, "é" * 299 + "👩🏽‍💻", KEY)  # 300 graphemes fit
    httpserver.clear_log()
    with pytest.raises(PublishRejected) as caught:
        publisher.publish(http, creds(fake), target, "é" * 301, "draft-7-v3")
    assert caught.value.reason == "too_long"
    assert "300" in str(caught.value)
    # 201 graphemes but 15 bytes each: over the lexicon's 3000-byte limit.
    with pytest.raises(PublishRejected, match="3000 bytes"):
        publisher.publish(http, creds(fake), target, "👩🏽‍💻" * 201, "draft-7-v4")
    assert httpserver.log == []


def test_server_side_validation_error_is_rejected(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher
) -> None:
    fake.failure = Failure(
        400,
        {
            "error": "InvalidRequest",
            "message": "Invalid app.bsky.feed.post record: "
            "Record/text must not be longer than 300 graphemes",
        },
    )
    with pytest.raises(PublishRejected) as caught:
        publisher.publish(http, creds(fake), target_of(fake.add_post()), "Hi", KEY)
    assert caught.value.reason == "too_long"


def test_rate_limited(http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher) -> None:
    fake.failure = Failure(
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        {"ratelimit-reset": str(int(NOW) + 600)},
    )
    with pytest.raises(PublishRateLimited) as caught:
        publisher.publish(http, creds(fake), target_of(fake.add_post()), "Hi", KEY)
    assert caught.value.retry_after == 600
    assert fake.created == []


@pytest.mark.parametrize("failure", [Failure(500), Failure(drop=True)])
def test_server_error_or_dropped_connection_is_unknown_outcome(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher, failure: Failure
) -> None:
    fake.failure = failure
    with pytest.raises(PublishUnknownOutcome) as caught:
        publisher.publish(http, creds(fake), target_of(fake.add_post()), "Hi", KEY)
    assert fake.PASSWORD not in str(caught.value)
    assert "access-1" not in str(caught.value)


@pytest.mark.parametrize("path", [("record",), ("record", "reply"), ("record", "reply", "root")],
                         ids="/".join)
def test_a_parent_post_field_of_the_wrong_shape_is_a_clear_error_before_posting(
    http: HttpClient,
    fake: FakeBluesky,
    load_json: Callable[[str], Any],
    publisher: BlueskyPublisher,
    path: tuple[str, ...],
) -> None:
    # A number as the parent's record or reply raised AttributeError; posting under the
    # parent as the thread root would have started a broken thread.
    root = load_json("bluesky/bskydocs_post_record_examples.json")[4]["record"]["reply"]["root"]
    good = fake.add_post("3kaheyt6vpc33", reply_root=root)
    target = target_of(good)
    for value in WRONG_SHAPES:
        fake.posts[good["uri"]] = set_field(copy.deepcopy(good), path, value)
        read_as_no_reply = (path == ("record",) and isinstance(value, dict)) or (
            path == ("record", "reply") and value is None
        )
        if read_as_no_reply:
            posted = publisher.publish(http, creds(fake), target, "Hi", KEY)
            parent = {"uri": good["uri"], "cid": good["cid"]}
            assert fake.records[posted.extra["rkey"]]["value"]["reply"]["root"] == parent
            fake.records.clear()
            fake.created.clear()
            continue
        with pytest.raises(PublishError, match="unexpected answer"):
            publisher.publish(http, creds(fake), target, "Hi", KEY)
        assert fake.created == []


@pytest.mark.parametrize("path", [("uri",), ("value", "reply"), ("value", "reply", "parent")],
                         ids="/".join)
def test_a_stored_reply_field_of_the_wrong_shape_is_an_error_never_a_match(
    http: HttpClient, fake: FakeBluesky, publisher: BlueskyPublisher, path: tuple[str, ...]
) -> None:
    # A number as the stored reply's reply or parent raised AttributeError; a uri that is
    # no at:// address became the reply's id.
    target = target_of(fake.add_post())
    posted = publisher.publish(http, creds(fake), target, "On it!", KEY)
    good = fake.records[posted.extra["rkey"]]
    for value in WRONG_SHAPES:
        fake.records[posted.extra["rkey"]] = set_field(copy.deepcopy(good), path, value)
        with pytest.raises(PublishError):
            publisher.find_existing(http, creds(fake), target, KEY, "On it!")
        with pytest.raises(PublishError):
            publisher.publish(http, creds(fake), target, "On it!", KEY)  # the key is taken
    assert fake.created == [posted.extra["rkey"]]


@pytest.mark.parametrize("answer", [
    *({"did": value} for value in WRONG_SHAPES),
    {"did": "did:"}, {"did": "did:plc:"}, {"did": "alice.bsky.social"}, {"did": "did:PLC:abc"},
    {"handle": "alice.bsky.social"}, [], "did:plc:alice2alice3alice4alice5",
], ids=repr)
def test_a_malformed_handle_resolution_fails_the_post_for_a_retry(
    http: HttpClient, fake: FakeBluesky, httpserver: HTTPServer, publisher: BlueskyPublisher,
    answer: Any,
) -> None:
    # The lexicon's output requires a did; the only documented "no DID" is the
    # HandleNotFound error. A 200 answer without a valid did was read as "does not
    # resolve" and the reply went out with @alice as plain text, not a mention.
    target = target_of(fake.add_post())
    fake.handles["alice.bsky.social"] = "did:plc:alice2alice3alice4alice5"
    httpserver.expect_oneshot_request(
        "/xrpc/com.atproto.identity.resolveHandle", method="GET").respond_with_json(answer)
    with pytest.raises(PublishError, match=r"could not check who @alice\.bsky\.social") as caught:
        publisher.publish(http, creds(fake), target, "Sorry @alice.bsky.social, on it", KEY)
    assert caught.value.retryable
    assert fake.created == []
    # The next attempt, with a proper answer, posts the reply with its mention.
    posted = publisher.publish(http, creds(fake), target, "Sorry @alice.bsky.social, on it", KEY)
    (facet,) = fake.records[posted.extra["rkey"]]["value"]["facets"]
    assert facet["features"][0]["did"] == "did:plc:alice2alice3alice4alice5"


def test_a_handle_the_network_cannot_resolve_is_left_plain(
    http: HttpClient, fake: FakeBluesky, httpserver: HTTPServer, publisher: BlueskyPublisher
) -> None:
    # The documented answer for an unknown handle (400 HandleNotFound) still means "post
    # the handle as plain text", as Bluesky's own guide does.
    target = target_of(fake.add_post())
    httpserver.expect_oneshot_request(
        "/xrpc/com.atproto.identity.resolveHandle", method="GET").respond_with_json(
        {"error": "HandleNotFound", "message": "Unable to resolve handle"}, status=400)
    posted = publisher.publish(http, creds(fake), target, "Sorry @ghost.example, on it", KEY)
    assert "facets" not in fake.records[posted.extra["rkey"]]["value"]
