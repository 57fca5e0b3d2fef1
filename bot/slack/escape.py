"""mrkdwn helpers: escaping (outside text can never ping or link), cutting, links, dates."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

ELLIPSIS = "…"


def escape(text: str | None) -> str:
    """Escape &, < and > so ``<!channel>``, ``<@U…>`` and ``<http://x|label>`` stay text."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, ending with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def safe_url(url: str | None) -> str | None:
    """The URL if it is a plain http(s) URL that can sit inside ``<url|label>``, else None."""
    if not url or len(url) > 2900:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    if any(char in url for char in "<>|\n\r\t "):
        return None
    return url


def link(url: str | None, label: str) -> str:
    """A mrkdwn link with an escaped label; just the escaped label when the URL is unsafe."""
    target = safe_url(url)
    label_text = escape(label).replace("|", "¦")
    return f"<{target}|{label_text}>" if target else label_text


def slack_date(moment: datetime) -> str:
    """A date Slack shows in each reader's time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
