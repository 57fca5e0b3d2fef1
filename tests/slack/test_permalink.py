"""One permalink builder: DMs, App Home and the digest link a card the same way, and a
message printed in console mode (no Slack message) links to the post instead."""

from __future__ import annotations

from bot.messages.permalink import card_permalink
from bot.slack.home import card_link

POST = "https://social.example/@ana/1"


def test_a_posted_card_links_to_its_slack_permalink() -> None:
    assert card_permalink("C0ALERTS1", "1700000000.000100") == (
        "https://slack.com/archives/C0ALERTS1/p1700000000000100")
    assert card_link("C0ALERTS1", "1700000000.000100", POST, "#7") == (
        "<https://slack.com/archives/C0ALERTS1/p1700000000000100|#7>")


def test_an_unposted_card_links_to_the_post() -> None:
    assert card_permalink(None, None) is None and card_permalink("C1", "") is None
    assert card_link(None, None, POST, "#7") == f"<{POST}|#7>"


def test_a_card_printed_in_console_mode_links_to_the_post() -> None:
    # It used to link to https://slack.com/archives/C1/pconsole-1700000000000001.
    assert card_permalink("C1", "console-1700000000.000001") is None
    assert card_link("C1", "console-1700000000.000001", POST, "#7") == f"<{POST}|#7>"
