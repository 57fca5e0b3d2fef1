"""`/cm show`'s conversation section: each post's date as Slack shows dates, the link to the
post beside it, and the post's words quoted whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.messages.show import ConversationPost
from bot.slack.conversation_blocks import build_conversation
from tests.harness.blockkit_limits import validate_blocks

WHEN = datetime(2026, 11, 21, 8, tzinfo=UTC)
DATE = "<!date^1795248000^{date_short_pretty} {time}|2026-11-21 08:00 UTC>"


@pytest.mark.parametrize("language, open_post", [("en", "Open post"),
                                                 ("fr", "Ouvrir la publication")])
def test_dates_show_as_dates_and_every_line_of_a_post_is_quoted(
        language: str, open_post: str) -> None:
    """The date was the label of the link to the post, where Slack shows a date code as
    its text ("&lt;!date^…"), and only a post's first line was quoted: its next lines read
    as Vigie's own, their *bold* rendered outside the quote."""
    posts = [
        ConversationPost(1, False, "@ana", "My card was charged twice\n*Still waiting* for a "
                         "refund\n\n<!channel> anyone?", "https://mastodon.social/@ana/1", WHEN),
        ConversationPost(None, True, "@acmecare", "Sorry!\nDM us",
                         "https://mastodon.social/@acmecare/2", WHEN),
        ConversationPost(3, False, "@ana", "Done", "javascript:alert(1)", WHEN),
    ]
    blocks = build_conversation(posts, language)
    assert validate_blocks(blocks, "message") == []
    text = blocks[0]["text"]["text"]
    assert "&lt;!date" not in text and text.count(DATE) == 3
    lines = text.split("\n")
    assert [line for line in lines if not line.startswith(">")] == [
        lines[0],
        f"#1 · *@ana* · {DATE} · <https://mastodon.social/@ana/1|{open_post}>",
        f"*@acmecare ({'brand' if language == 'en' else 'marque'})* · {DATE} · "
        f"<https://mastodon.social/@acmecare/2|{open_post}>",
        f"#3 · *@ana* · {DATE}",
    ]
    assert "> *Still waiting* for a refund\n>\n> &lt;!channel&gt; anyone?\n" in text
    assert "> Sorry!\n> DM us\n" in text
