"""Slack mrkdwn as plain text for the terminal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.console_notifier import ConsoleNotifier
from bot.messages.delivery import OutgoingMessage
from bot.messages.permalink import card_permalink
from bot.slack.escape import escape_name
from bot.slack.plaintext import blocks_to_plain, mrkdwn_to_plain

PARIS = ZoneInfo("Europe/Paris")


def test_markup_becomes_text() -> None:
    text = ("<!date^1796530758^{date_short_pretty} {time}|2026-12-06 04:19 UTC> *Acme* "
            "<https://x.test/a?b=1&amp;c=2|Open post> <https://x.test/b> :red_circle: "
            ":tada: <@U07ALICE01> <#C0SOCIAL1|social> <!here> &lt;script&gt; at 10:30:45 "
            "_with a button_ `/cm show 4` pii_phone")
    assert mrkdwn_to_plain(text, PARIS) == (
        "2026-12-06 05:19 CET Acme Open post (https://x.test/a?b=1&c=2) https://x.test/b (-) "
        "@U07ALICE01 #social @here <script> at 10:30:45 with a button /cm show 4 pii_phone")


def test_blocks_list_buttons_as_what_slack_offers() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Digest"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*3* mentions"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": ":warning: late"}]},
        {"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Assign"}},
            {"type": "button", "text": {"type": "plain_text", "text": "Ignore"}}]},
    ]
    assert blocks_to_plain(blocks).splitlines() == [
        "Digest", "======", "3 mentions", "(!) late", "In Slack: Assign, Ignore"]


def test_console_messages_have_no_slack_permalink() -> None:
    class Sink:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

        def flush(self) -> None:
            pass

    sink = Sink()
    notifier = ConsoleNotifier(sink, zone=PARIS)  # type: ignore[arg-type]
    ts = notifier.post(OutgoingMessage(channel="C0SOCIAL1", text="*hi* <@U07ALICE01>"))
    assert "hi @U07ALICE01" in sink.text and "*" not in sink.text
    assert card_permalink("C0SOCIAL1", ts) is None
    assert card_permalink("C0SOCIAL1", "1796530758.000100") == (
        "https://slack.com/archives/C0SOCIAL1/p1796530758000100")


def test_names_keep_their_formatting_characters_without_the_invisible_space() -> None:
    # As escape_name writes a name into a card: each marker followed by a zero-width space.
    text = "*Author:* " + escape_name("*Boss* ana_lopez `x` ~y~") + " said _hi_"
    assert mrkdwn_to_plain(text) == "Author: *Boss* ana_lopez `x` ~y~ said hi"
