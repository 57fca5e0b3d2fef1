"""Slack mrkdwn turned into plain text for a terminal (console mode, `vigie digest --preview`).

Dates are shown in the configured time zone, links as ``label (url)``, user and channel
references as ``@U123`` / ``#C123``, emoji codes as a few readable marks or nothing, and
bold/italic/code markers are dropped. Entities (``&lt;``) are decoded last, so text a
mention carried escaped comes out as it was written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

_DATE = re.compile(r"<!date\^(-?\d+)\^[^|>]*(?:\^[^|>]*)?(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_EMOJI = re.compile(r":([a-z][a-z0-9_+\-]*):")
# A marker followed by a zero-width space is a character of a name (``unformat``), not a
# marker: it is kept, and the space removed last.
_BOLD = re.compile(r"(?<![\w*])\*(?!\u200b)([^*\n]+)\*(?![\w*\u200b])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\u200b)([^_\n]+)_(?![\w_\u200b])")
_CODE = re.compile(r"```\n?|`(?!\u200b)")
_UNFORMATTED = re.compile(r"([*_~`])\u200b")

EMOJI_TEXT = {
    "red_circle": "(-)", "white_circle": "(=)", "large_green_circle": "(+)",
    "warning": "(!)", "rotating_light": "(!)", "fire": "(!)",
    "white_check_mark": "(ok)", "heavy_check_mark": "(ok)", "x": "(x)",
    "double_vertical_bar": "(paused)", "hourglass": "(wait)", "hourglass_flowing_sand": "(wait)",
}
"""Emoji codes that carry meaning in Vigie's messages; any other code is dropped."""


def _local(seconds: str, zone: tzinfo) -> str:
    moment = datetime.fromtimestamp(int(seconds), tz=UTC).astimezone(zone)
    return moment.strftime("%Y-%m-%d %H:%M ") + (moment.tzname() or "")


def mrkdwn_to_plain(text: str, zone: tzinfo = UTC) -> str:
    """``text`` (Slack mrkdwn) as plain text, dates in ``zone``."""
    text = _DATE.sub(lambda m: _local(m.group(1), zone), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) and
                     m.group(2) != m.group(1) else m.group(1), text)
    text = _USER.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _SUBTEAM.sub(lambda m: m.group(1) or "@team", text)
    text = _EMOJI.sub(lambda m: EMOJI_TEXT.get(m.group(1), ""), text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    text = _CODE.sub("", text)
    # Copied from the terminal, ``ana_<U+200B>lopez`` would name nobody.
    text = _UNFORMATTED.sub(r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _block_lines(block: dict[str, Any], zone: tzinfo) -> list[str]:
    kind = block.get("type")
    lines: list[str] = []
    if kind == "header":
        title = mrkdwn_to_plain((block.get("text") or {}).get("text", ""), zone)
        lines += [title, "=" * len(title)]
    elif kind == "section":
        text = (block.get("text") or {}).get("text")
        if text:
            lines.append(mrkdwn_to_plain(text, zone))
        lines.extend(mrkdwn_to_plain(field.get("text", ""), zone)
                     for field in block.get("fields") or [])
    elif kind == "context":
        lines.append(mrkdwn_to_plain(" · ".join(
            el.get("text", "") for el in block.get("elements") or [] if isinstance(el, dict)
        ), zone))
    elif kind == "actions":
        labels = [(el.get("text") or {}).get("text", "") for el in block.get("elements") or []]
        labels = [label for label in labels if label]
        if labels:
            lines.append("In Slack: " + ", ".join(labels))
    elif kind == "divider":
        lines.append("-" * 40)
    elif kind == "image":
        lines.append(f"[chart: {block.get('alt_text', 'image')}]")
    return [line for line in lines if line.strip()]


def blocks_to_plain(blocks: list[dict[str, Any]], zone: tzinfo = UTC) -> str:
    """Block Kit blocks as plain text lines (buttons listed as what Slack would offer)."""
    return "\n".join(line for block in blocks for line in _block_lines(block, zone))
