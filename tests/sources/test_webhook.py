"""Inbound webhook: HMAC signatures with replay window, strict body validation."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from bot.net.errors import SourceAuthError
from bot.sources.webhook import (
    MAX_ITEMS,
    WebhookConfig,
    WebhookPayloadError,
    WebhookSource,
    parse_webhook_body,
    pushed_network,
    verify_signature,
)

SECRET = "0123456789abcdef-shared"
NOW = 1_700_000_000.0


def sign(body: bytes, timestamp: str | None = None, secret: str = SECRET) -> str:
    """What a well-behaved sender puts in X-Vigie-Signature."""
    message = f"{timestamp}.".encode() + body if timestamp else body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


ITEM: dict[str, Any] = {
    "id": "ticket-42",
    "url": "https://forum.example.com/t/42",
    "text": "Acme support never answers\u0000!",
    "author": {"handle": "jane", "name": "Jane", "followers": 120},
    "published_at": "2024-05-01T12:30:00+02:00",
    "network": "forum",
    "language": "en-GB",
}


def test_good_signature_passes() -> None:
    body = json.dumps(ITEM).encode()
    stamp = str(int(NOW))
    verify_signature(SECRET, body, sign(body, stamp), stamp, now=NOW)
    verify_signature(SECRET.encode(), body,
                     sign(body, stamp).upper().replace("SHA256=", "sha256="), stamp, now=NOW)


def test_a_signature_without_timestamp_is_refused() -> None:
    """It would never expire: a captured request could be replayed forever."""
    body = json.dumps(ITEM).encode()
    for stamp in (None, "", " "):
        with pytest.raises(SourceAuthError, match="missing X-Vigie-Timestamp"):
            verify_signature(SECRET, body, sign(body), stamp, now=NOW)


def test_good_signature_with_fresh_timestamp_passes() -> None:
    body = b"{}"
    stamp = str(int(NOW) - 120)
    verify_signature(SECRET, body, sign(body, stamp), stamp, now=NOW)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing signature header"),
        ("", "missing signature header"),
        ("md5=abc", "must look like sha256=<hex>"),
        ("sha256=", "must look like sha256=<hex>"),
        ("sha256=" + "0" * 64, "bad signature"),
        # not hex, or not ASCII (a header is read as latin-1): refused as any bad one, never
        # a TypeError from the comparison (a 500 with a traceback, unauthenticated)
        ("sha256=\xe9", "bad signature"),
        ("sha256=" + "\xe9" * 64, "bad signature"),
        ("sha256=" + "g" * 64, "bad signature"),
        ("sha256=" + "0" * 63 + "\u0661", "bad signature"),
    ],
)
def test_bad_signatures_are_refused(header: str | None, message: str) -> None:
    with pytest.raises(SourceAuthError, match=message):
        verify_signature(SECRET, b"{}", header, str(int(NOW)), now=NOW)


def test_tampered_body_or_wrong_secret_is_refused() -> None:
    body = json.dumps(ITEM).encode()
    stamp = str(int(NOW))
    with pytest.raises(SourceAuthError, match="bad signature"):
        verify_signature(SECRET, body + b" ", sign(body, stamp), stamp, now=NOW)
    with pytest.raises(SourceAuthError, match="bad signature"):
        verify_signature(SECRET, body, sign(body, stamp, secret="another-secret-value"), stamp,
                         now=NOW)


def test_replayed_request_is_refused() -> None:
    body = b"{}"
    old = str(int(NOW) - 301)
    with pytest.raises(SourceAuthError, match="replay refused"):
        verify_signature(SECRET, body, sign(body, old), old, now=NOW)
    future = str(int(NOW) + 400)
    with pytest.raises(SourceAuthError, match="replay refused"):
        verify_signature(SECRET, body, sign(body, future), future, now=NOW)
    with pytest.raises(SourceAuthError, match="not a number"):
        verify_signature(SECRET, body, sign(body, "yesterday"), "yesterday", now=NOW)


def test_timestamp_is_part_of_the_signed_message() -> None:
    body = b"{}"
    stamp = str(int(NOW))
    with pytest.raises(SourceAuthError, match="bad signature"):
        verify_signature(SECRET, body, sign(body), stamp, now=NOW)


@given(st.binary(max_size=512), st.text(min_size=1, max_size=40))
def test_signature_round_trip(body: bytes, secret: str) -> None:
    stamp = str(int(NOW))
    verify_signature(secret, body, sign(body, stamp, secret=secret), stamp, now=NOW)


def test_single_object_maps() -> None:
    (mention,) = parse_webhook_body(json.dumps(ITEM).encode())
    assert mention.network == "forum"
    assert mention.external_id == "ticket-42"
    assert mention.url == "https://forum.example.com/t/42"
    assert mention.text == "Acme support never answers!"
    assert mention.author.handle == "jane" and mention.author.followers == 120
    assert mention.published_at == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert mention.published_at.tzinfo is UTC
    assert mention.language_hint == "en"


def test_list_and_envelope_forms() -> None:
    second = dict(ITEM, id=7, network=None)
    assert len(parse_webhook_body(json.dumps([ITEM, second]).encode())) == 2
    mentions = parse_webhook_body(json.dumps({"mentions": [second]}).encode(), default_network="zd")
    assert mentions[0].external_id == "7" and mentions[0].network == "zd"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"42", "must be a mention object, a list"),
        (b"[]", "contains no mention"),
        (json.dumps([ITEM, "x"]).encode(), "item 1: must be an object"),
        (json.dumps(dict(ITEM, url="javascript:alert(1)")).encode(), "item 0: url: URL scheme"),
        (
            json.dumps(dict(ITEM, published_at="2024-05-01T12:30:00")).encode(),
            "item 0: published_at: Input should have timezone info",
        ),
        # Valid as written, past the calendar in UTC: OverflowError, a 500 (see e2e).
        (
            json.dumps(dict(ITEM, published_at="9999-12-31T23:00:00-05:00")).encode(),
            "item 0: published_at: out of range",
        ),
        (
            json.dumps(dict(ITEM, published_at="0001-01-01T00:30:00+01:00")).encode(),
            "item 0: published_at: out of range",
        ),
        (
            json.dumps(dict(ITEM, author={"name": "x"})).encode(),
            "item 0: author.handle: Field required",
        ),
        (json.dumps(dict(ITEM, extra_field=1)).encode(), "item 0: extra_field: Extra inputs"),
        (
            json.dumps(dict(ITEM, network="Not Valid!")).encode(),
            "item 0: network: String should match",
        ),
        (
            json.dumps(dict(ITEM, author=dict(ITEM["author"], followers=-1))).encode(),
            "author.followers: Input should be greater than or equal to 0",
        ),
        # A blank text was stored as an empty mention (a card and an SLA for nothing).
        (json.dumps([ITEM, dict(ITEM, id="2", text=" \n\t ")]).encode(),
         "item 1: text and title must not both be blank"),
        (json.dumps(dict(ITEM, text="\u200b\u0000", title=" ")).encode(),
         "item 0: text and title must not both be blank"),
    ],
)
def test_malformed_bodies_get_clear_errors(body: bytes, message: str) -> None:
    with pytest.raises(WebhookPayloadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_webhook_body(body)


def test_an_item_with_a_title_and_no_text_is_a_mention() -> None:
    """A review's headline alone is words enough (as a feed entry's title): refusing it as
    blank refused the whole request with it."""
    items = parse_webhook_body(json.dumps([ITEM, dict(
        ITEM, id="2", text="", title="Acme app crashes at login")]).encode())
    assert [item.title for item in items][1] == "Acme app crashes at login"


def test_every_bad_item_is_named_but_the_list_is_capped() -> None:
    bad = [dict(ITEM, id="")] * 8
    with pytest.raises(WebhookPayloadError) as caught:
        parse_webhook_body(json.dumps(bad).encode())
    message = str(caught.value)
    assert message.startswith("item 0: id:") and "item 4: id:" in message
    assert "item 5" not in message and message.endswith("(and 3 more)")
    assert "Acme support" not in message  # inputs are never echoed


def test_too_many_items_or_bytes() -> None:
    with pytest.raises(WebhookPayloadError, match=f"at most {MAX_ITEMS}"):
        parse_webhook_body(json.dumps([ITEM] * (MAX_ITEMS + 1)).encode())
    with pytest.raises(WebhookPayloadError, match="larger than 1024 KB"):
        parse_webhook_body(b" " * (1024 * 1024 + 1))


def test_webhook_source_has_nothing_to_poll() -> None:
    result = WebhookSource().fetch(None, None, {"x": 1})  # type: ignore[arg-type]
    assert result.mentions == [] and result.cursor == {"x": 1}


WRONG_SHAPES = [5, 1.5, True, "x", [], [1], {"a": 1}, None]


@pytest.mark.parametrize("path", [(k,) for k in ITEM] + [("author", k) for k in ITEM["author"]]
                         + [("title",), ("parent_id",), ("author", "url")],
                         ids="/".join)
def test_a_field_of_the_wrong_shape_is_a_named_payload_error(path: tuple[str, ...]) -> None:
    # The other sources read such a field as missing; a pushed body is validated whole
    # instead, and the sender is told which field is wrong (never another exception).
    for value in WRONG_SHAPES:
        item = json.loads(json.dumps(ITEM))
        (item if len(path) == 1 else item["author"])[path[-1]] = value
        try:
            (mention,) = parse_webhook_body(json.dumps(item).encode())
        except WebhookPayloadError as err:
            assert str(err).startswith(f"item 0: {'.'.join(path)}")
        else:
            assert isinstance(mention.text, str) and isinstance(mention.external_id, str)


@pytest.mark.parametrize("network", ["x", "twitter", "mastodon", "fediverse", "bluesky",
                                     "bsky", "reddit", "hackernews", "hn", "rss", "feed"])
def test_an_item_cannot_be_labelled_as_a_network_vigie_reads(network: str) -> None:
    """The brand's accounts, authors, cases and post ids are keyed by network: a pushed item
    under X's name would be taken for X's data (a brand reply closing a real case)."""
    item = dict(ITEM, network=network, author={"handle": "acmecare"})
    with pytest.raises(WebhookPayloadError, match=r"item 0: network: .* a network Vigie reads"):
        parse_webhook_body(json.dumps(item).encode())
    with pytest.raises(ValueError, match="a network Vigie reads itself"):
        WebhookConfig(secret=SecretStr("s" * 16), network=network)


def test_a_handle_is_kept_as_sent_under_the_sources_label() -> None:
    for network, handle in (("forum", "jane"), ("webhook", "@AcmeCare"), ("zd", "john doe")):
        item = dict(ITEM, network=network, author={"handle": handle})
        (mention,) = parse_webhook_body(json.dumps(item).encode())
        assert (mention.network, mention.author.handle) == (network, handle)
    # A source labelled x before the rule: its items without a network are the webhook's.
    bare = dict(ITEM, network=None)
    (mention,) = parse_webhook_body(json.dumps(bare).encode(), default_network="x")
    assert mention.network == "webhook"
    assert pushed_network("x") == pushed_network(None) == "webhook"
    assert pushed_network("zendesk") == "zendesk"

