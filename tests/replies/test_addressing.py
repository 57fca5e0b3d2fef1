"""Whom a Mastodon reply mentions when the handle Vigie stored for the customer is not
written as the brand's instance knows them (``bot.replies.addressing``)."""

from __future__ import annotations

import pytest

from bot.replies.addressing import address_reply

BRAND_HOST = "brand.social"


@pytest.mark.parametrize(("drafted", "acct", "posted"), [
    # Read as a local account of another instance: the draft says "@alice"; the brand's
    # instance knows her as alice@mastodon.social. A bare "@alice" posted from
    # brand.social would name brand.social's own alice, and a second mention doubled it.
    ("@alice Thanks, we are on it.", "alice@mastodon.social",
     "@alice@mastodon.social Thanks, we are on it."),
    # The web host of an account whose handle domain is the bare one (WebFinger split).
    ("@alice@mastodon.example.com Thanks.", "alice@example.com", "@alice@example.com Thanks."),
    ("@Alice@Mastodon.Social thanks", "alice@mastodon.social", "@Alice@Mastodon.Social thanks"),
    # Her mention after another opening mention is found too.
    ("@bob @alice hello", "alice@mastodon.social", "@bob @alice@mastodon.social hello"),
    # Another alice, on an unrelated instance, is someone else: the customer is added.
    ("@alice@other.org hello", "alice@mastodon.social",
     "@alice@mastodon.social @alice@other.org hello"),
    # A customer of the brand's own instance is written bare, as Mastodon writes her.
    ("@alice hi", "alice", "@alice hi"),
    ("hi there", "alice@mastodon.social", "@alice@mastodon.social hi there"),
])
def test_the_customer_is_mentioned_once_as_the_brands_instance_knows_them(
        drafted: str, acct: str, posted: str) -> None:
    assert address_reply(drafted, "mastodon", acct, local_domain=BRAND_HOST) == posted


def test_a_mention_inside_the_text_is_not_taken_for_the_opening_one() -> None:
    text = "Thanks! @alice said it works now"
    assert address_reply(text, "mastodon", "alice@mastodon.social", local_domain=BRAND_HOST) \
        == "@alice@mastodon.social " + text
