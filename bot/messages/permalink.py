"""The one builder of a posted Slack message's permalink (cards link to each other from DMs,
App Home and the digest)."""

from __future__ import annotations


def card_permalink(channel: str | None, ts: str | None) -> str | None:
    """The permalink of the message ``ts`` in ``channel``, built without calling
    ``chat.getPermalink``; None when it is not posted, or was printed in console mode
    (ts ``console-…``: no Slack message to link)."""
    if not channel or not ts or not ts[:1].isdigit():
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"
