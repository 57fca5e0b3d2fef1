"""How much text a message's blocks hold, counted as Slack counts it, and the budget
Vigie keeps every message it posts within."""

from __future__ import annotations

import copy
from typing import Any

from bot.slack.escape import clip_mrkdwn

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


FIT_FLOOR = 200
"""The fewest characters :func:`fit_blocks` leaves a block it clips (with its "…")."""


def _longest_text(block: dict[str, Any]) -> dict[str, Any] | None:
    """The text object of ``block`` that holds the most text (a section's text, or a
    context's longest element), or None."""
    candidates = [block["text"]] if isinstance(block.get("text"), dict) else []
    candidates += [e for e in block.get("elements") or [] if isinstance(e, dict)
                   and e.get("type") == "mrkdwn"]
    candidates = [c for c in candidates if isinstance(c.get("text"), str)]
    return max(candidates, key=lambda c: len(c["text"]), default=None)


def fit_blocks(blocks: list[dict[str, Any]], order: list[dict[str, Any]],
               budget: int = MESSAGE_TEXT_BUDGET) -> None:
    """Clip, in place, the text of the blocks of ``order`` (blocks of ``blocks``, the
    least important first) until ``blocks`` hold at most ``budget`` characters of text,
    each clipped one keeping at least :data:`FIT_FLOOR` and ending with "…". Blocks not in
    ``order`` are never cut."""
    excess = blocks_text_length(blocks) - budget
    for block in order:
        if excess <= 0:
            return
        text = _longest_text(block)
        if text is None:
            continue
        size = len(text["text"])
        target = max(FIT_FLOOR, size - excess)
        if target < size:
            text["text"] = clip_mrkdwn(text["text"], target)
            excess -= size - len(text["text"])


def fitted(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """``blocks`` as they are when within :data:`MESSAGE_TEXT_BUDGET`; otherwise a copy
    whose section and context texts are clipped, the last first (:func:`fit_blocks`):
    the safety net under every message Vigie sends, for a renderer that has no better
    way to fit (a clipped message beats one Slack refuses whole)."""
    if blocks is None or blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET:
        return blocks
    copied = copy.deepcopy(blocks)
    fit_blocks(copied, [b for b in reversed(copied) if b.get("type") in {"section", "context"}])
    return copied
