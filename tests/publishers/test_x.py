"""X replies against a fake API v2 (see ``fakes.FakeX``: written from the X API docs, as no
capture is shared): the request, reconciliation without an idempotency key, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer

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
from bot.publishers.x import RECONCILE_PAGE_SIZE, XCredentials, XPublisher, comparable_text
from bot.replies.limits import fits
from bot.sources.x import tweet_to_mention
from tests.publishers.conftest import NOW, SleepRecorder
from tests.publishers.fakes import WRONG_SHAPES, Failure, FakeX, with_field, x_weighted_length
from tests.replies.test_limits import TWITTER_TEXT_3_1_0

KEY = "draft-9-v1"
TARGET_ID = "1917000000000000001"
CLOCK = datetime(2025, 5, 1, 10, 0, 5, tzinfo=UTC)


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeX:
    """A fresh fake X API on the local server."""
    return FakeX(httpserver)


@pytest.fixture
def publisher() -> XPublisher:
    """A publisher with a fixed clock."""
    return XPublisher(now=lambda: CLOCK)


@pytest.fixture
def target() -> ReplyTarget:
    """The target as the X source produced it."""
    mention = tweet_to_mention(
        {"id": TARGET_ID, "text": "@brand my order?", "created_at": "2025-05-01T09:00:00Z"}, {}
    )
    assert mention is not None
    return ReplyTarget.from_mention(mention)


def creds(fake: FakeX, token: str | None = None) -> XCredentials:
    """The brand account's user token, against the fake API."""
    return XCredentials(access_token=SecretStr(token or fake.TOKEN), base_url=fake.base)


def test_publish_posts_a_reply(
    http: HttpClient,
    fake: FakeX,
    httpserver: HTTPServer,
    publisher: XPublisher,
    target: ReplyTarget,
) -> None:
    posted = publisher.publish(http, creds(fake), target, "Sorry! DM us & we'll fix it", KEY)

    (request,) = [r for r, _ in httpserver.log if r.method == "POST"]
    assert request.path == "/2/tweets"
    assert request.headers["Authorization"] == f"Bearer {fake.TOKEN}"
    assert request.get_json() == {
        "text": "Sorry! DM us & we'll fix it",
        "reply": {"in_reply_to_tweet_id": TARGET_ID},
    }
    new_id = fake.tweets[0]["id"]
    assert posted.external_id == new_id
    assert posted.url == f"https://x.com/i/web/status/{new_id}"
    assert posted.posted_at == CLOCK


def test_lost_answer_is_found_and_never_posted_twice(
    http: HttpClient,
    fake: FakeX,
    httpserver: HTTPServer,
    publisher: XPublisher,
    target: ReplyTarget,
) -> None:
    text = "Fixed: https://help.example.com/orders?id=1 & thanks <3"
    first = publisher.publish(http, creds(fake), target, text, KEY)  # result "lost"

    found = publisher.find_existing(http, creds(fake), target, KEY, text)
    assert found is not None
    assert found.external_id == first.external_id
    assert found.url == f"https://x.com/brand/status/{first.external_id}"
    assert found.posted_at == datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    timeline = next(
        r for r, _ in httpserver.log if r.path.endswith("/tweets") and r.method == "GET"
    )
    assert timeline.path == f"/2/users/{fake.USER['id']}/tweets"
    assert "referenced_tweets" in timeline.args["tweet.fields"]

    # A blind retry hits X's duplicate refusal and returns the first post.
    again = publisher.publish(http, creds(fake), target, text, KEY)
    assert again.external_id == first.external_id
    assert (
        publish_once(
            publisher, http, creds(fake), target, text, KEY, attempted_before=True
        ).external_id
        == first.external_id
    )
    assert len(fake.tweets) == 1


def test_dropped_connection_after_the_write_is_unknown_then_reconciled(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    fake.failure = Failure(drop=True, after_write=True)
    with pytest.raises(PublishUnknownOutcome):
        publisher.publish(http, creds(fake), target, "On it!", KEY)

    found = publish_once(publisher, http, creds(fake), target, "On it!", KEY, attempted_before=True)
    assert found.external_id == fake.tweets[0]["id"]
    assert len(fake.tweets) == 1


def test_find_existing_needs_same_target_and_text(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    publisher.publish(http, creds(fake), target, "Thanks!", KEY)
    other = ReplyTarget(network="x", external_id="1917000000000000002")
    assert publisher.find_existing(http, creds(fake), other, KEY, "Thanks!") is None
    assert publisher.find_existing(http, creds(fake), target, KEY, "Thanks!!") is None


def test_duplicate_text_to_another_post_is_rejected(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    publisher.publish(http, creds(fake), target, "Thanks!", KEY)
    other = ReplyTarget(network="x", external_id="1917000000000000002")
    with pytest.raises(PublishRejected) as caught:
        publisher.publish(http, creds(fake), other, "Thanks!", "draft-10-v1")
    assert caught.value.reason == "same_text"


def test_comparable_text_ignores_tco_links_and_entities() -> None:
    assert comparable_text("a &amp; b https://t.co/xyz") == comparable_text(
        "a & b https://example.com/long"
    )


def test_unauthorized_token(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    with pytest.raises(PublishAuthError) as caught:
        publisher.publish(http, creds(fake, "expired-user-token"), target, "Hi", KEY)
    assert "expired-user-token" not in str(caught.value)


def test_deleted_target(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    fake.deleted.add(TARGET_ID)
    with pytest.raises(PublishTargetGone):
        publisher.publish(http, creds(fake), target, "Hi", KEY)


def test_restricted_conversation(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    fake.restricted.add(TARGET_ID)
    with pytest.raises(PublishRejected) as caught:
        publisher.publish(http, creds(fake), target, "Hi", KEY)
    assert caught.value.reason == "not_allowed"


def test_too_long(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    with pytest.raises(PublishRejected) as caught:
        publisher.publish(http, creds(fake), target, "x" * 281, KEY)
    assert not caught.value.retryable
    assert fake.tweets == []


def test_rate_limited_until_reset(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    fake.failure = Failure(
        429,
        {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        {"x-rate-limit-reset": str(int(NOW) + 900), "x-rate-limit-remaining": "0"},
    )
    with pytest.raises(PublishRateLimited) as caught:
        publisher.publish(http, creds(fake), target, "Hi", KEY)
    assert caught.value.retry_after == 900


def test_a_spent_daily_cap_waits_until_the_daily_reset(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    # Reported: only x-rate-limit-reset (the 15-minute window) was read, so a reply over
    # X's 24-hour posting cap was tried again every 15 minutes for a day.
    fake.failure = Failure(
        429,
        {"title": "Too Many Requests", "detail": "Too Many Requests",
         "type": "about:blank", "status": 429},
        {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "97",
         "x-rate-limit-reset": str(int(NOW) + 600),
         "x-user-limit-24hour-limit": "100", "x-user-limit-24hour-remaining": "0",
         "x-user-limit-24hour-reset": str(int(NOW) + 20 * 3600)},
    )
    with pytest.raises(PublishRateLimited) as caught:
        publisher.publish(http, creds(fake), target, "Hi", KEY)
    assert caught.value.retry_after == 20 * 3600


@pytest.mark.parametrize("failure", [Failure(500), Failure(502), Failure(drop=True)])
def test_server_error_or_dropped_connection_is_unknown_outcome(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget, failure: Failure
) -> None:
    fake.failure = failure
    with pytest.raises(PublishUnknownOutcome) as caught:
        publisher.publish(http, creds(fake), target, "Hi", KEY)
    assert fake.TOKEN not in str(caught.value)


def test_a_503_is_never_retried_as_it_may_have_posted(
    http: HttpClient,
    fake: FakeX,
    httpserver: HTTPServer,
    publisher: XPublisher,
    target: ReplyTarget,
    sleeps: SleepRecorder,
) -> None:
    # The client repeated the POST; X refused the repeat as duplicate content, the lagging
    # timeline did not list the first post yet, and the reply failed with "change the
    # reply a little": reworded, it was posted a second time.
    fake.lagging = True
    fake.failure = Failure(503, {"title": "Service Unavailable", "status": 503},
                           after_write=True)
    with pytest.raises(PublishUnknownOutcome):
        publisher.publish(http, creds(fake), target, "Hi", KEY)
    assert len([r for r, _ in httpserver.log if r.method == "POST"]) == 1
    assert sleeps.calls == [] and len(fake.tweets) == 1


def test_a_duplicate_refusal_whose_post_is_not_listed_yet_is_an_unknown_outcome(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    fake.lagging = True
    publisher.publish(http, creds(fake), target, "On it!", KEY)
    with pytest.raises(PublishUnknownOutcome) as caught:
        publish_once(publisher, http, creds(fake), target, "On it!", KEY,
                     attempted_before=False)
    assert caught.value.phrase.key == "publish.same_text_unconfirmed"
    assert "change the reply" not in str(caught.value)
    fake.unlisted.clear()  # the timeline caught up
    found = publish_once(publisher, http, creds(fake), target, "On it!", KEY,
                         attempted_before=True)
    assert found.external_id == fake.tweets[0]["id"] and len(fake.tweets) == 1


def test_a_created_post_id_of_the_wrong_shape_is_an_unknown_outcome(
    http: HttpClient, httpserver: HTTPServer, publisher: XPublisher, target: ReplyTarget
) -> None:
    # An object as the new post's id was recorded as the reply's id ("{'a': 1}"), and its
    # link: the post may exist, but Vigie does not know which it is.
    for value in WRONG_SHAPES:
        if value == 5:
            continue  # a number is an id
        httpserver.clear()
        fake = FakeX(httpserver)
        httpserver.expect_oneshot_request("/2/tweets", method="POST").respond_with_handler(
            with_field(fake._post, ("data", "id"), value)
        )
        with pytest.raises(PublishUnknownOutcome):
            publisher.publish(http, creds(fake), target, "On it!", KEY)
        assert len(fake.tweets) == 1


@pytest.mark.parametrize("field", ["id", "referenced_tweets"])
def test_a_timeline_post_field_of_the_wrong_shape_costs_that_post_not_the_reconciliation(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget, field: str
) -> None:
    # A number as referenced_tweets failed every reconciliation while that post was among
    # the account's latest; an object as id was taken for the reply's id.
    posted = publisher.publish(http, creds(fake), target, "On it!", KEY)
    found = publisher.find_existing(http, creds(fake), target, KEY, "On it!")
    assert found is not None and found.external_id == posted.external_id
    reply = fake.tweets[0]
    for value in WRONG_SHAPES:
        if field == "id" and value == 5:
            continue  # a number is an id
        fake.tweets[:] = [{**reply, field: value}, reply]
        assert publisher.find_existing(http, creds(fake), target, KEY, "On it!") == found


def test_an_account_id_of_the_wrong_shape_is_a_clear_error(
    http: HttpClient,
    fake: FakeX,
    httpserver: HTTPServer,
    publisher: XPublisher,
    target: ReplyTarget,
) -> None:
    # Its repr ("[1]") was asked for as the account whose posts to read.
    for value in WRONG_SHAPES:
        if value == 5:
            continue  # a number is an id
        fake.USER = {**FakeX.USER, "id": value}
        with pytest.raises(PublishError, match="which account"):
            publisher.find_existing(http, creds(fake), target, KEY, "On it!")
    assert not [r for r, _ in httpserver.log if r.path.endswith("/tweets")]


def test_comparable_text_drops_the_reply_prefix_and_masks_bare_domains() -> None:
    sent = "On it! Log in at acme.help/login & DM us."
    stored = "@customer @brand On it! Log in at https://t.co/Ab12 &amp; DM us."
    assert comparable_text(stored) == comparable_text(sent)
    # A domain X leaves as text compares the same on both sides.
    assert comparable_text("@customer see readme.md") == comparable_text("see readme.md")
    assert comparable_text("@customer On it!") != comparable_text("On it!!")


def test_a_lost_answer_is_found_under_the_text_x_stores(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    # X stores "@customer On it! ... https://t.co/..." for this reply (see FakeX).
    text = "On it! Log in at acme.help/login and DM us your order number."
    fake.failure = Failure(500, after_write=True)
    with pytest.raises(PublishUnknownOutcome):
        publisher.publish(http, creds(fake), target, text, KEY)
    assert fake.tweets[0]["text"].startswith("@customer On it! Log in at https://t.co/")

    found = publish_once(publisher, http, creds(fake), target, text, KEY, attempted_before=True)

    assert found.external_id == fake.tweets[0]["id"]
    assert len(fake.tweets) == 1


def test_a_duplicate_refusal_after_a_lost_answer_never_says_to_change_the_text(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    fake.failure = Failure(drop=True, after_write=True)
    with pytest.raises(PublishUnknownOutcome):
        publisher.publish(http, creds(fake), target, "On it!", KEY)
    # The account posted a lot since: the reply is beyond the latest 100 posts.
    for n in range(RECONCILE_PAGE_SIZE):
        fake.tweets.insert(
            0,
            {
                "id": str(1_930_000_000_000_000_000 + n),
                "text": f"news {n}",
                "edit_history_tweet_ids": [],
                "created_at": "2025-05-01T11:00:00Z",
            },
        )

    with pytest.raises(PublishUnknownOutcome) as caught:
        publish_once(publisher, http, creds(fake), target, "On it!", KEY, attempted_before=True)

    assert caught.value.retryable
    assert "change the reply" not in str(caught.value)
    assert "Check the account" in str(caught.value)
    assert len(fake.raw_texts) == 1


def test_x_refuses_what_twitter_text_v3_finds_too_long(
    http: HttpClient, fake: FakeX, publisher: XPublisher, target: ReplyTarget
) -> None:
    """Bare "readme.md" and "merci.je" are t.co links on X (23 each): the editor counts them
    so, and X (the stand-in counts as X) refuses the text the editor says is too long."""
    text = (
        "Merci ! Les étapes sont dans readme.md et script.py ; la FAQ est sur merci.je et "
        "done.it." + " Nous restons disponibles." * 7
    )
    assert not fits(text, "x")
    with pytest.raises(PublishRejected):
        publisher.publish(http, creds(fake), target, text, KEY)
    assert fake.tweets == []


@pytest.mark.parametrize(("text", "weighted"), TWITTER_TEXT_3_1_0)
def test_the_x_stand_in_counts_as_twitter_text_v3(text: str, weighted: int) -> None:
    """The stand-in refuses what X refuses: it counts as twitter-text 3.1.0 does."""
    assert x_weighted_length(text) == weighted
