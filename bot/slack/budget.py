"""How much text a message's blocks hold, counted as Slack counts it, and the budget
Vigie keeps every message it posts within."""

from __future__ import annotations

from typing import Any

MESSAGE_TEXT_BUDGET = 10_000
"""The text (characters of every ``text`` string, :func:`blocks_text_length`) Vigie puts
in one message's blocks. Slack refuses a ``chat.postMessage``/``chat.update`` whose blocks
hold too much text together with ``msg_blocks_too_long``, though each block is within its
own documented limit: reported at about 13,200 characters (slackapi/bolt-js issue 2509,
labelled server-side-issue) and at 11,341 counted this way (slackapi/bolt-js issue 2867,
where a Slack maintainer is quoted: "12,000 text characters with a buffer for block
containers"). Slack publishes neither the limit nor how it counts, so Vigie stays well
below the lowest refusal reported, and a message that would not fit drops its least
important parts, saying so, rather than being refused whole."""


def blocks_text_length(blocks: Any) -> int:
    """The characters of every ``text`` string anywhere in ``blocks`` (section and context
    text, headers, button labels...), the measure of slackapi/bolt-js issue 2867."""
    if isinstance(blocks, dict):
        return sum(len(value) if key == "text" and isinstance(value, str)
                   else blocks_text_length(value) for key, value in blocks.items())
    if isinstance(blocks, list):
        return sum(blocks_text_length(value) for value in blocks)
    return 0

