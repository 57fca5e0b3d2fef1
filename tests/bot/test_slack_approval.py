"""The draft shown to an approver: all of it, within Block Kit limits, bound to its version."""

from __future__ import annotations

import hashlib

import pytest

from bot.messages.show import DraftToApprove
from bot.slack.approval import build_draft_to_approve
from tests.harness.blockkit_limits import validate_blocks


def unquote(blocks: list[dict]) -> str:  # type: ignore[type-arg]
    parts = [b["text"]["text"] for b in blocks[2:-1]]
    lines = [line.removeprefix("> ").removeprefix(">") for part in parts
             for line in part.split("\n")]
    return "\n".join(lines).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.mark.parametrize("text", [
    "Sorry Ana <!channel>, we are on it.",
    "&" * 5000,
    "a" * 2000 + "\n\n" + "<b>" * 1000,
    "\n".join(["line & <x>"] * 400),
])
def test_the_whole_draft_is_shown_escaped_and_bound(text: str) -> None:
    digest = hashlib.sha256(text.encode()).hexdigest()
    draft = DraftToApprove(42, 3, text, "high", digest)
    fallback, blocks = build_draft_to_approve("Nothing approved yet.", draft, "en")
    assert validate_blocks(blocks, "message") == []
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    # Nothing cut or added (a line longer than a section goes on in the next one).
    assert unquote(blocks).replace("\n", "") == text.replace("\n", "")
    if max(map(len, text.splitlines())) < 2000:
        assert unquote(blocks) == text
    assert "<!channel>" not in str(blocks) and "<!channel>" not in fallback
    [button] = blocks[-1]["elements"]
    assert (button["action_id"], button["value"]) == ("vigie.approve", f"42:v3:{digest[:16]}")
    assert button["text"]["text"] == "Approve v3" and "risk high" in blocks[1]["text"]["text"]
