"""Mastodon replies against a fake instance (see ``fakes.FakeMastodon`` for the sources of
its bodies): the request, visibility, reconciliation after a lost answer, error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
from bot.publishers.mastodon import (
    MastodonCredentials,
    MastodonPublisher,
    comparable_text,
    reply_visibility,
)
from bot.sources.mastodon import status_to_mention
from tests.publishers.fakes import WRONG_SHAPES, Failure, FakeMastodon, with_field

KEY = "draft-41-v2"


@pytest.fixture
def fake(httpserver: HTTPServer, load_json: Callable[[str], Any]) -> FakeMastodon:
    """A fresh fake instance on the local server."""
    return FakeMastodon(httpserver, load_json)


def creds(fake: FakeMastodon, **values: Any) -> MastodonCredentials:
    """Credentials of the brand account on the fake instance."""
    return MastodonCredentials(instance_url=fake.base, access_token=SecretStr(fake.TOKEN), **values)


def local_target(fake: FakeMastodon, status: dict[str, Any]) -> ReplyTarget:
    """The target as the Mastodon source produced it when reading the same instance."""
    mention = status_to_mention(status, fake.base)
    assert mention is not None
    return ReplyTarget.from_mention(mention)


def posts(httpserver: HTTPServer) -> list[Any]:
    """The POST /api/v1/statuses requests the server received."""
    return [r for r, _ in httpserver.log if r.method == "POST"]


def test_publish_sends_reply_with_idempotency_key(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer
) -> None:
    parent = fake.add_status()
    target = local_target(fake, parent)
    assert target.status_id == parent["id"] and target.instance == fake.base

    posted = MastodonPublisher().publish(
        http, creds(fake), target, "Hi! We're on it: https://status.example.com/incident/42", KEY
    )

    (request,) = posts(httpserver)
    assert request.path == "/api/v1/statuses"
    assert request.headers["Authorization"] == f"Bearer {fake.TOKEN}"
    assert request.headers["Idempotency-Key"] == KEY
    assert request.get_json() == {
        # The author it answers is mentioned (the docs example account, local: no domain).
        "status": "@Gargron Hi! We're on it: https://status.example.com/incident/42",
        "in_reply_to_id": parent["id"],
        "visibility": "public",
        "language": "en",  # the mention's language (the docs example status is "en")
    }
    (new_id,) = fake.created
    assert posted.external_id == f"{fake.base}/users/brand/statuses/{new_id}"
    assert posted.url == f"{fake.base}/@brand/{new_id}"
    assert posted.extra == {"status_id": new_id}
    assert posted.posted_at.isoformat() == "2025-05-01T10:00:00+00:00"


def test_target_on_another_instance_is_resolved_by_uri(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer
) -> None:
    parent = fake.add_status(remote=True)
    target = ReplyTarget(network="mastodon", external_id=parent["uri"], language="fr-CA")

    MastodonPublisher().publish(http, creds(fake), target, "Merci !", KEY)

    search = next(r for r, _ in httpserver.log if r.path == "/api/v2/search")
    assert search.args["q"] == parent["uri"]
    assert search.args["resolve"] == "true"
    body = posts(httpserver)[0].get_json()
    assert body["in_reply_to_id"] == parent["id"]
    assert body["language"] == "fr"


@pytest.mark.parametrize(
    ("configured", "parent", "expected"),
    [
        ("public", "public", "public"),
        ("public", "unlisted", "unlisted"),
        ("public", "private", "private"),
        ("unlisted", "public", "unlisted"),
        ("private", "unlisted", "private"),
    ],
)
def test_reply_is_never_more_visible_than_its_parent(
    http: HttpClient,
    fake: FakeMastodon,
    httpserver: HTTPServer,
    configured: str,
    parent: str,
    expected: str,
) -> None:
    status = fake.add_status(visibility=parent)
    MastodonPublisher().publish(
        http, creds(fake, visibility=configured), local_target(fake, status), "Thanks!", KEY
    )
    assert posts(httpserver)[0].get_json()["visibility"] == expected


@pytest.mark.parametrize("parent", ["list", "list:12", "local", None])
def test_reply_to_a_status_of_unknown_visibility_is_direct(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer, parent: str | None
) -> None:
    """Pleroma/Akkoma's "local" and "list" audiences, or no visibility at all, are
    narrower than public for all we know: the reply goes to the mentioned people only."""
    status = fake.add_status()
    if parent is None:
        status.pop("visibility", None)
    else:
        status["visibility"] = parent
    MastodonPublisher().publish(
        http, creds(fake, visibility="public"), local_target(fake, status), "Thanks!", KEY
    )
    assert posts(httpserver)[0].get_json()["visibility"] == "direct"
    assert reply_visibility("unlisted", parent) == "direct"


def test_lost_answer_is_found_and_never_posted_twice(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer
) -> None:
    publisher = MastodonPublisher()
    target = local_target(fake, fake.add_status())
    text = "Sorry @alice@other.example & team: see https://help.example.com/a/very/long/path/to/article"

    first = publisher.publish(http, creds(fake), target, text, KEY)  # result "lost" in a crash

    found = publisher.find_existing(http, creds(fake), target, KEY, text)
    again = publish_once(publisher, http, creds(fake), target, text, KEY, attempted_before=True)
    retried = publisher.publish(http, creds(fake), target, text, KEY)  # the instance dedupes

    assert found == first
    assert again == first
    assert retried.external_id == first.external_id
    assert len(fake.created) == 1
    # The rendered HTML (link spans, h-card mention) was enough to recognise the text.
    assert not [r for r, _ in httpserver.log if r.path.endswith("/source")]


def test_dropped_connection_after_the_write_is_unknown_then_reconciled(
    http: HttpClient, fake: FakeMastodon
) -> None:
    publisher = MastodonPublisher()
    target = local_target(fake, fake.add_status())
    fake.failure = Failure(drop=True, after_write=True)

    with pytest.raises(PublishUnknownOutcome) as caught:
        publisher.publish(http, creds(fake), target, "On it!", KEY)

    assert caught.value.may_have_posted and caught.value.retryable
    found = publish_once(publisher, http, creds(fake), target, "On it!", KEY, attempted_before=True)
    assert found.extra == {"status_id": fake.created[0]}
    assert len(fake.created) == 1


def test_find_existing_falls_back_on_the_plain_text_source(
    http: HttpClient, fake: FakeMastodon
) -> None:
    publisher = MastodonPublisher()
    target = local_target(fake, fake.add_status())
    fake.render = lambda text: "<p>rendered differently</p>"  # e.g. a custom emoji as <img>
    posted = publisher.publish(http, creds(fake), target, "Thanks :blobheart:", KEY)

    assert publisher.find_existing(http, creds(fake), target, KEY, "Thanks :blobheart:") == posted


def test_find_existing_ignores_other_replies(http: HttpClient, fake: FakeMastodon) -> None:
    publisher = MastodonPublisher()
    first, second = fake.add_status(), fake.add_status()
    publisher.publish(http, creds(fake), local_target(fake, first), "Same words", KEY)

    credentials = creds(fake)
    assert (
        publisher.find_existing(http, credentials, local_target(fake, second), KEY, "Same words")
        is None
    )
    assert (
        publisher.find_existing(http, credentials, local_target(fake, first), KEY, "Other") is None
    )


def test_comparable_text_matches_mastodon_rendering() -> None:
    text = "Hi @bob@example.social,\n\nsee https://example.com/x"
    assert comparable_text(text) == "Hi @bob, see https://example.com/x"


def test_unauthorized_token(http: HttpClient, fake: FakeMastodon) -> None:
    bad = MastodonCredentials(instance_url=fake.base, access_token=SecretStr("wrong-token"))
    with pytest.raises(PublishAuthError) as caught:
        MastodonPublisher().publish(http, bad, local_target(fake, fake.add_status()), "Hi", KEY)
    assert "wrong-token" not in str(caught.value)
    assert fake.created == []


def test_deleted_target(http: HttpClient, fake: FakeMastodon) -> None:
    status = fake.add_status()
    target = local_target(fake, status)
    del fake.statuses[status["id"]]
    with pytest.raises(PublishTargetGone):
        MastodonPublisher().publish(http, creds(fake), target, "Hi", KEY)
    remote = ReplyTarget(network="mastodon", external_id="https://gone.example/statuses/1")
    with pytest.raises(PublishTargetGone):
        MastodonPublisher().publish(http, creds(fake), remote, "Hi", KEY)


def test_target_deleted_between_lookup_and_post(http: HttpClient, fake: FakeMastodon) -> None:
    fake.failure = Failure(404, {"error": "Record not found"})
    with pytest.raises(PublishTargetGone):
        MastodonPublisher().publish(
            http, creds(fake), local_target(fake, fake.add_status()), "Hi", KEY
        )


def test_too_long_is_rejected(http: HttpClient, fake: FakeMastodon) -> None:
    with pytest.raises(PublishRejected) as caught:
        MastodonPublisher().publish(
            http, creds(fake), local_target(fake, fake.add_status()), "x" * 501, KEY
        )
    assert caught.value.reason == "too_long"
    assert "500" in str(caught.value)
    assert not caught.value.retryable


def test_rate_limited_with_retry_after(http: HttpClient, fake: FakeMastodon) -> None:
    fake.failure = Failure(429, {"error": "Too many requests"}, {"Retry-After": "120"})
    with pytest.raises(PublishRateLimited) as caught:
        MastodonPublisher().publish(
            http, creds(fake), local_target(fake, fake.add_status()), "Hi", KEY
        )
    assert caught.value.retry_after == 120
    assert fake.created == []


@pytest.mark.parametrize("failure", [Failure(500), Failure(502), Failure(drop=True)])
def test_server_error_or_dropped_connection_is_unknown_outcome(
    http: HttpClient, fake: FakeMastodon, failure: Failure
) -> None:
    fake.failure = failure
    with pytest.raises(PublishUnknownOutcome) as caught:
        MastodonPublisher().publish(
            http, creds(fake), local_target(fake, fake.add_status()), "Hi", KEY
        )
    assert fake.TOKEN not in str(caught.value)
    # A POST that may have been processed is not retried.
    assert failure.answered == 1
    assert fake.created == []


def test_wrong_network_or_key_is_refused(http: HttpClient, fake: FakeMastodon) -> None:
    target = ReplyTarget(network="bluesky", external_id="at://x/app.bsky.feed.post/1")
    with pytest.raises(PublishError):
        MastodonPublisher().publish(http, creds(fake), target, "Hi", KEY)
    with pytest.raises(ValueError, match="idempotency key"):
        MastodonPublisher().publish(
            http, creds(fake), local_target(fake, fake.add_status()), "Hi", "has space"
        )


def test_credentials_hide_the_token() -> None:
    credentials = MastodonCredentials(
        instance_url="https://m.example/", access_token=SecretStr("s3cret")
    )
    assert credentials.instance_url == "https://m.example"
    assert "s3cret" not in repr(credentials)


def test_find_existing_sees_a_reply_older_than_the_accounts_recent_statuses(
    http: HttpClient, fake: FakeMastodon
) -> None:
    """A busy brand account posts more than the few pages of its timeline that are read
    (120 statuses) after a reply whose answer was lost: the reply is still found, among
    the replies to the status, and not posted twice."""
    publisher = MastodonPublisher()
    target = local_target(fake, fake.add_status())
    posted = publisher.publish(http, creds(fake), target, "We are on it, sorry!", KEY)
    for number in range(150):
        fake.add_status(text=f"Brand news {number}", account=fake.account)
    fake.by_key.clear()  # more than an hour later: the instance forgot the Idempotency-Key

    assert publisher.find_existing(http, creds(fake), target, KEY, "We are on it, sorry!") == posted
    again = publish_once(publisher, http, creds(fake), target, "We are on it, sorry!", KEY,
                         attempted_before=True)
    assert again == posted
    assert len(fake.created) == 1


def test_find_existing_ignores_someone_elses_reply_with_the_same_text(
    http: HttpClient, fake: FakeMastodon
) -> None:
    publisher = MastodonPublisher()
    parent = fake.add_status()
    other = fake.account | {"id": "777", "username": "someone", "acct": "someone"}
    fake.add_status(text="Same words", in_reply_to_id=parent["id"], account=other)
    assert publisher.find_existing(http, creds(fake), local_target(fake, parent), KEY,
                                   "Same words") is None


@pytest.mark.parametrize("field", ["id", "uri", "url"])
def test_a_created_status_field_of_the_wrong_shape_is_an_unknown_outcome_or_read_as_missing(
    http: HttpClient, httpserver: HTTPServer, load_json: Callable[[str], Any], field: str
) -> None:
    # An object as the new status's id or uri was recorded as the reply's id or link
    # ("{'a': 1}"): without an id the post may exist but is unknown, a uri or url of the
    # wrong type is read as missing (the other one stands in, as when one is absent).
    for value in WRONG_SHAPES:
        if value in (5, "x"):
            continue  # a number or a string is an id, a string is a uri (a Mastodon id is any)
        httpserver.clear()
        fake = FakeMastodon(httpserver, load_json)
        target = local_target(fake, fake.add_status())
        httpserver.expect_oneshot_request("/api/v1/statuses", method="POST").respond_with_handler(
            with_field(fake._post, (field,), value)
        )
        try:
            posted = MastodonPublisher().publish(http, creds(fake), target, "On it!", KEY)
        except PublishUnknownOutcome:
            assert field == "id"
        else:
            (new_id,) = fake.created
            status = fake.statuses[new_id]
            assert posted.external_id in (status["uri"], status["url"])
            assert posted.url in (status["uri"], status["url"])
            assert posted.extra == {"status_id": new_id}
        assert len(fake.created) == 1


@pytest.mark.parametrize("field", ["id", "content", "account"])
def test_a_reply_field_of_the_wrong_shape_costs_that_reply_not_the_reconciliation(
    http: HttpClient, fake: FakeMastodon, field: str
) -> None:
    # A number as a reply's content or account raised TypeError or AttributeError, which
    # failed every reconciliation while it stayed among the status's replies; an object as
    # its id was matched and recorded as the reply's id.
    publisher = MastodonPublisher()
    target = local_target(fake, fake.add_status())
    publisher.publish(http, creds(fake), target, "On it!", KEY)
    found = publisher.find_existing(http, creds(fake), target, KEY, "On it!")
    assert found is not None
    statuses = dict(fake.statuses)
    reply = statuses[found.extra["status_id"]]
    for value in WRONG_SHAPES:
        if field == "id" and value in (5, "x"):
            continue  # a number or a string is an id (of a status with the same text)
        fake.statuses = {"1": {**reply, field: value}} | statuses  # the first of the replies
        assert publisher.find_existing(http, creds(fake), target, KEY, "On it!") == found


def test_an_account_id_of_the_wrong_shape_is_a_clear_error(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer
) -> None:
    # Its repr ("[1]") was asked for as the account whose statuses to read.
    publisher = MastodonPublisher()
    target = local_target(fake, fake.add_status())
    for value in WRONG_SHAPES:
        if value in (5, "x"):
            continue  # a number or a string is an id
        fake.account = {**fake.account, "id": value}
        with pytest.raises(PublishError, match="which account"):
            publisher.find_existing(http, creds(fake), target, KEY, "On it!")
    assert not [r for r, _ in httpserver.log if r.path.endswith("/statuses")]


@pytest.mark.parametrize("remote", [False, True], ids=["same instance", "searched"])
def test_a_parent_status_id_of_the_wrong_shape_is_a_clear_error_before_posting(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer, remote: bool
) -> None:
    # Its repr ("[1]") was sent as in_reply_to_id.
    parent = fake.add_status(remote=remote)
    target = (
        ReplyTarget(network="mastodon", external_id=parent["uri"])
        if remote else local_target(fake, parent)
    )
    for value in WRONG_SHAPES:
        if value in (5, "x"):
            continue  # a number or a string is an id
        parent["id"] = value
        with pytest.raises(PublishError, match="unexpected answer"):
            MastodonPublisher().publish(http, creds(fake), target, "On it!", KEY)
    assert posts(httpserver) == []


@pytest.mark.parametrize("broken", [{"uri": {"a": 1}, "url": None}, {"id": {"a": 1}},
                                    {"id": [1], "uri": 5, "url": 5}])
def test_our_reply_shown_only_without_an_id_or_link_is_an_error_not_a_second_post(
    http: HttpClient, fake: FakeMastodon, broken: dict[str, Any]
) -> None:
    # "Not found" would have the reply posted again once the idempotency key is forgotten.
    publisher = MastodonPublisher()
    target = local_target(fake, fake.add_status())
    publisher.publish(http, creds(fake), target, "On it!", KEY)
    (new_id,) = fake.created
    fake.statuses[new_id] = {**fake.statuses[new_id], **broken}
    with pytest.raises(PublishError, match="already posted") as caught:
        publisher.find_existing(http, creds(fake), target, KEY, "On it!")
    assert not caught.value.retryable
    assert len(fake.created) == 1


@pytest.mark.parametrize(("links", "kept"), [
    ({"uri": "x", "url": "x"}, None),
    ({"uri": "x", "url": None}, None),
    ({"url": "javascript:alert(1)", "uri": "/users/brand/statuses/1"}, None),
    ({"url": "https:///@brand/1", "uri": "mailto:brand@example.com"}, None),
    # our account's reply is on our instance: a link elsewhere is no link to it
    ({"url": "https://elsewhere.example/@brand/1",
      "uri": "https://elsewhere.example/users/brand/statuses/1"}, None),
    ({"url": "x"}, "uri"),
    ({"uri": "x"}, "url"),
])
def test_a_reply_link_that_is_not_an_address_on_the_instance_is_not_recorded(
    http: HttpClient, httpserver: HTTPServer, load_json: Callable[[str], Any],
    caplog: pytest.LogCaptureFixture, links: dict[str, Any], kept: str | None,
) -> None:
    # A well-typed but meaningless uri or url ("x") was recorded as the reply's link: the
    # thread said "Reply posted: x" and exports carried it.
    fake = FakeMastodon(httpserver, load_json)
    target = local_target(fake, fake.add_status())
    answer = fake._post
    for field, value in links.items():
        answer = with_field(answer, (field,), value)
    httpserver.expect_oneshot_request("/api/v1/statuses", method="POST").respond_with_handler(
        answer)
    publisher = MastodonPublisher()
    with caplog.at_level("WARNING", logger="bot.publishers.mastodon"):
        posted = publisher.publish(http, creds(fake), target, "On it!", KEY)
    (new_id,) = fake.created
    status = fake.statuses[new_id]
    assert posted.extra == {"status_id": new_id}
    assert posted.url == (status[kept] if kept else None)
    warned = [r for r in caplog.records if "without a link" in r.getMessage()]
    assert len(warned) == (0 if kept else 1)
    # The same status found again when reconciling is read the same way.
    fake.statuses[new_id] = status | links
    found = publisher.find_existing(http, creds(fake), target, KEY, "On it!")
    assert found is not None and found.url == posted.url


@pytest.mark.parametrize("visibility", ["public", "unlisted", "private", "direct"])
def test_a_reply_mentions_the_author_it_answers(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer, visibility: str
) -> None:
    """A direct or followers-only reply reaches only whom it mentions; only a mention
    notifies: the replied-to author is mentioned as Mastodon's apps prefill it."""
    parent = fake.add_status(visibility=visibility, remote=True,
                             account=fake.account | {"id": "7", "username": "alice",
                                                     "acct": "alice@other.example"})
    target = ReplyTarget(network="mastodon", external_id=parent["uri"])

    MastodonPublisher().publish(http, creds(fake), target, "We're on it!", KEY)

    body = posts(httpserver)[-1].get_json()
    assert body["status"] == "@alice@other.example We're on it!"
    assert body["visibility"] == visibility


@pytest.mark.parametrize("written", ["@alice@other.example thanks!",
                                     "Thanks @ALICE@other.example!"])
def test_a_reply_that_mentions_the_author_is_posted_as_written(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer, written: str
) -> None:
    parent = fake.add_status(remote=True, account=fake.account | {
        "id": "7", "username": "alice", "acct": "alice@other.example"})
    target = ReplyTarget(network="mastodon", external_id=parent["uri"])
    publisher = MastodonPublisher()
    fake.failure = Failure(500, after_write=True)
    with pytest.raises(PublishUnknownOutcome):
        publisher.publish(http, creds(fake), target, written, KEY)

    assert posts(httpserver)[-1].get_json()["status"] == written
    # Past the Idempotency-Key's hour the reply is still found, and not posted again.
    fake.by_key.clear()
    found = publish_once(publisher, http, creds(fake), target, written, KEY,
                         attempted_before=True)
    assert found.extra["status_id"] == fake.created[-1]
    assert len(fake.created) == 1


def test_a_local_author_is_mentioned_without_a_domain(
    http: HttpClient, fake: FakeMastodon, httpserver: HTTPServer
) -> None:
    fake.failure = Failure(500, after_write=True)
    parent = fake.add_status(account=fake.account | {"id": "7", "username": "bob",
                                                     "acct": "bob"})
    target = local_target(fake, parent)
    with pytest.raises(PublishUnknownOutcome):
        MastodonPublisher().publish(http, creds(fake), target, "Sorry Bob!", KEY)
    assert posts(httpserver)[-1].get_json()["status"] == "@bob Sorry Bob!"
    fake.by_key.clear()
    assert publish_once(MastodonPublisher(), http, creds(fake), target, "Sorry Bob!", KEY,
                        attempted_before=True).extra["status_id"] == fake.created[-1]


def test_a_key_that_holds_a_reply_in_another_thread_is_refused(
    http: HttpClient, fake: FakeMastodon
) -> None:
    # Another database (a restored backup, a staging copy on the same account) used this
    # key within Mastodon's hour: the instance answers with that reply, in thread A, and
    # it was recorded as the reply to thread B.
    thread_a, thread_b = fake.add_status(), fake.add_status()
    publisher = MastodonPublisher()
    publisher.publish(http, creds(fake), local_target(fake, thread_a), "Thread A", KEY)
    with pytest.raises(PublishRejected) as caught:
        publisher.publish(http, creds(fake), local_target(fake, thread_b), "Thread B", KEY)
    assert caught.value.reason == "duplicate" and not caught.value.retryable
    assert caught.value.phrase.key == "publish.key_taken"
    assert len(fake.created) == 1
