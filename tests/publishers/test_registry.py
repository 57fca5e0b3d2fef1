"""The publisher registry, reply targets built from the sources' mentions, publish_once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from bot.publishers import (
    PUBLISHERS,
    PostedReply,
    PublishError,
    ReplyTarget,
    can_publish,
    get_publisher,
    publish_once,
)
from bot.publishers.base import PublisherCredentials, check_idempotency_key
from bot.publishers.bluesky import BlueskyCredentials
from bot.publishers.mastodon import MastodonPublisher
from bot.publishers.x import XCredentials
from bot.sources.bluesky import post_to_mention
from bot.sources.mastodon import status_to_mention
from bot.sources.registry import SOURCES
from bot.sources.x import tweet_to_mention


def test_publishers_cover_exactly_the_sources_that_can_reply() -> None:
    assert set(PUBLISHERS) == {kind for kind, cls in SOURCES.items() if cls.can_reply}
    for kind, publisher in PUBLISHERS.items():
        assert publisher.kind == kind
        assert issubclass(publisher.credentials_model, PublisherCredentials)


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        ("mastodon", True),
        ("Bluesky", True),
        (" x ", True),
        ("rss", False),
        ("reddit", False),
        ("hackernews", False),
        ("", False),
        (None, False),
    ],
)
def test_can_publish(network: str | None, expected: bool) -> None:
    assert can_publish(network) is expected


def test_get_publisher() -> None:
    assert isinstance(get_publisher("MASTODON"), MastodonPublisher)
    with pytest.raises(
        PublishError, match=r"cannot post replies to 'reddit'.*bluesky, mastodon, x"
    ):
        get_publisher("reddit")


def test_targets_from_the_sources_mentions(load_json: Callable[[str], Any]) -> None:
    status = load_json("mastodon/docs_status_example.json")
    mastodon = status_to_mention(status, "https://mastodon.social")
    assert mastodon is not None
    assert ReplyTarget.from_mention(mastodon) == ReplyTarget(
        network="mastodon",
        external_id=status["uri"],
        url=status["url"],
        language="en",
        status_id=status["id"],
        instance="https://mastodon.social",
    )

    post = load_json("bluesky/marshalx_getPostThread_recordWithMedia.json")["thread"]["post"]
    bluesky = post_to_mention(post)
    assert bluesky is not None
    target = ReplyTarget.from_mention(bluesky)
    assert (target.network, target.external_id, target.cid) == ("bluesky", post["uri"], post["cid"])

    tweet = tweet_to_mention({"id": "20", "text": "hi", "created_at": "2025-05-01T09:00:00Z"}, {})
    assert tweet is not None
    assert ReplyTarget.from_mention(tweet).external_id == "20"


def test_idempotency_keys() -> None:
    assert check_idempotency_key("vigie:draft:41:v2") == "vigie:draft:41:v2"
    for bad in ("", "with space", "é", "x" * 129):
        with pytest.raises(ValueError):
            check_idempotency_key(bad)


def test_credentials_never_show_secrets() -> None:
    bluesky = BlueskyCredentials(
        handle="@brand.bsky.social", app_password=SecretStr("pw-123-secret")
    )
    x = XCredentials(access_token=SecretStr("tok-456-secret"))
    assert bluesky.handle == "brand.bsky.social"
    assert "pw-123-secret" not in repr(bluesky) and "tok-456-secret" not in repr(x)
    with pytest.raises(ValueError):
        XCredentials.model_validate({"access_token": "t", "base_url": "ftp://api.x.com"})
    with pytest.raises(ValueError):
        XCredentials.model_validate({"access_token": "t", "unknown": "field"})


class _Recorder(MastodonPublisher):
    """Records which of find_existing / publish publish_once called."""

    def __init__(self, existing: PostedReply | None) -> None:
        super().__init__()
        self.existing = existing
        self.calls: list[str] = []

    def publish(self, *args: Any, **kwargs: Any) -> PostedReply:
        self.calls.append("publish")
        return PostedReply("new", "https://example.social/new", datetime.now(UTC))

    def find_existing(self, *args: Any, **kwargs: Any) -> PostedReply | None:
        self.calls.append("find_existing")
        return self.existing


def test_publish_once_reconciles_only_after_an_earlier_attempt() -> None:
    target = ReplyTarget(network="mastodon", external_id="https://m.example/s/1")
    old = PostedReply("old", "https://example.social/old", datetime.now(UTC))
    args: tuple[Any, ...] = (None, None, target, "hi", "k1")

    fresh = _Recorder(old)
    assert publish_once(fresh, *args, attempted_before=False).external_id == "new"
    assert fresh.calls == ["publish"]

    found = _Recorder(old)
    assert publish_once(found, *args, attempted_before=True) is old
    assert found.calls == ["find_existing"]

    missing = _Recorder(None)
    assert publish_once(missing, *args, attempted_before=True).external_id == "new"
    assert missing.calls == ["find_existing", "publish"]
