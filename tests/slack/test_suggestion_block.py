"""The LLM suggestion shown beside a draft editor, and read back when "Use" is pressed."""

from __future__ import annotations

from bot.slack.escape import slack_len
from bot.slack.modals import suggestion_block, suggestion_text


def _view(block: dict[str, object]) -> dict[str, object]:
    return {"blocks": [{"type": "input", "block_id": "x"}, block]}


def test_the_suggestion_comes_back_as_sent_even_with_slack_s_entities() -> None:
    """Slack is reported to hand text back with &, < and > as entities (bolt-python#513):
    "Q&A tonight <3" must not be drafted as "Q&amp;A tonight &lt;3"."""
    text = "Q&A tonight <3, see you > there"
    block = suggestion_block(text, "Use this suggestion", "vigie.draft_suggestion")
    assert suggestion_text(_view(block)) == text
    echoed = {**block, "text": {"type": "plain_text", "text":
                                "Q&amp;A tonight &lt;3, see you &gt; there"}}
    assert suggestion_text(_view(echoed)) == text


def test_a_long_emoji_suggestion_fits_slack_s_count() -> None:
    block = suggestion_block("😀 " * 2000, "Use", "vigie.draft_suggestion")
    assert slack_len(block["text"]["text"]) <= 3000  # type: ignore[index]
