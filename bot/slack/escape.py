"""mrkdwn helpers: escaping (outside text can never ping or link), cutting, links, dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from bot.link_labels import is_own_domain_handle, label_use, link_host
from bot.link_labels import shown_host as _shown_host

ELLIPSIS = "…"


def escape(text: str | None) -> str:
    """Escape &, < and > so ``<!channel>``, ``<@U…>`` and ``<http://x|label>`` stay text."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


FORMATTING = "*_~`"
"""The characters mrkdwn reads as bold, italic, strike and code markers."""
ZERO_WIDTH_SPACE = "\u200b"


def unformat(text: str) -> str:
    """``text`` with each mrkdwn formatting character followed by a zero-width space, so a
    name such as ``*Boss*`` shows its asterisks instead of turning bold or closing the
    bold label around it. Slack documents escapes for &, < and > only (a backslash does not
    escape formatting: slackhq/slack-api-docs#34); the invisible space breaks the marker as
    in anneschuth/claude-threads#92, and the character itself still shows."""
    for char in FORMATTING:
        text = text.replace(char, char + ZERO_WIDTH_SPACE)
    return text


def escape_name(text: str | None) -> str:
    """A name or handle from outside for mrkdwn: escaped (:func:`escape`) and unformatted
    (:func:`unformat`)."""
    return unformat(escape(text))


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
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[bad/": stored before sources dropped such links
        return None
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


def _target_host(url: str | None) -> str | None:
    """The host a link to ``url`` leads to (:func:`bot.link_labels.link_host`), or None
    when ``url`` is not linked."""
    target = safe_url(url)
    return link_host(target) if target else None


def shown_host(url: str | None) -> str | None:
    """The host a link to ``url`` leads to, as a reader should see it (at most
    :data:`~bot.link_labels.HOST_CHARS`, keeping its end), or None when ``url`` is not
    linked."""
    host = _target_host(url)
    return _shown_host(host) if host else None


def labelled_link(url: str | None, label: str) -> str:
    """A link whose label is outside text (a title, a handle, a post's words), shown so the
    label cannot pass for another destination: the host it leads to beside the label
    ("<url|Title (evil.example)>"), or, when the label names a host other than that one
    (or than a domain above it), the label as plain escaped text and only the host linked
    ("https://acme.com/verify (<url|evil.example>)"). A label naming exactly the (ASCII)
    host it leads to is linked alone; the label is only escaped when ``url`` is not
    linked. The decision is :func:`bot.link_labels.label_use`."""
    return _labelled_link(url, label, own_handle=False)


def author_link(url: str | None, handle: str) -> str:
    """:func:`labelled_link` to an author's page with their ``handle`` as label
    (unformatted); a domain-name handle on its own profile of the network whose handles are
    domains (``@acme.com`` on ``https://bsky.app/profile/acme.com``) stays the link, the
    network's host beside it (:func:`bot.link_labels.is_own_domain_handle`)."""
    own = bool(url) and is_own_domain_handle(str(url), handle)
    return _labelled_link(url, unformat(handle), own_handle=own)


def _labelled_link(url: str | None, label: str, *, own_handle: bool) -> str:
    full = _target_host(url)
    if full is None:
        return link(None, label)
    host = _shown_host(full)
    use = label_use(full, label, own_handle=own_handle)
    if use == "apart":
        return f"{escape(label)} ({link(url, unformat(host))})"
    if use == "alone":
        return link(url, label)
    return link(url, f"{label} ({unformat(host)})")


def slack_date(moment: datetime) -> str:
    """A date Slack shows in each reader's time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def slack_len(text: str) -> int:
    """Length as Slack may count it: UTF-16 code units (an emoji counts 2).

    Slack does not document its unit; counting UTF-16 units is never less than counting
    code points, so limits checked this way hold under either reading.
    """
    return len(text.encode("utf-16-le")) // 2


def _safe_cuts(text: str) -> tuple[list[int], list[int], list[int]]:
    """Positions where ``text`` may be cut without splitting ``<...>`` or ``&...;``:
    (before a line break, before a space, anywhere safe)."""
    lines: list[int] = []
    spaces: list[int] = []
    anywhere: list[int] = [0]
    depth_until = -1
    for i, char in enumerate(text):
        if i <= depth_until:
            continue
        if char == "<":
            end = text.find(">", i)
            depth_until = end if end != -1 else len(text)
            anywhere.append(i)
            continue
        if char == "&":
            end = text.find(";", i, i + 10)
            if end != -1:
                depth_until = end
                anywhere.append(i)
                continue
        anywhere.append(i)
        if char == "\n":
            lines.append(i)
        elif char == " ":
            spaces.append(i)
    return lines, spaces, anywhere


def clip_mrkdwn(text: str, limit: int) -> str:
    """Cut finished mrkdwn to at most ``limit`` (see :func:`slack_len`), ending with "…".

    The cut never falls inside a link, mention or date (``<...>``) or an HTML entity
    (``&amp;``), so Slack never shows half an entity; it prefers a line break, then a
    space, when one is not too far back.
    """
    if slack_len(text) <= limit:
        return text
    budget = max(0, limit - len(ELLIPSIS))
    # Largest prefix length that fits the budget (UTF-16 units).
    units, fit = 0, 0
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > budget:
            break
        fit = i + 1
    lines, spaces, anywhere = _safe_cuts(text)
    for candidates, floor in ((lines, 0.6), (spaces, 0.6), (anywhere, 0.0)):
        good = [p for p in candidates if p <= fit and p >= fit * floor]
        if good:
            return text[: max(good)].rstrip() + ELLIPSIS
    return ELLIPSIS


def fit_source(text: str, limit: int, render: Callable[[str], str]) -> tuple[str, bool]:
    """``render(truncate(text, n))`` for the largest ``n`` whose result fits ``limit``.

    Cut the source (outside) text *before* it is escaped and formatted, so the finished
    mrkdwn is never cut. Returns the rendered text and whether ``text`` was shortened.
    """
    whole = render(text)
    if slack_len(whole) <= limit:
        return whole, False
    low, high, best = 1, len(text), render("")
    while low <= high:
        middle = (low + high) // 2
        candidate = render(truncate(text, middle))
        if slack_len(candidate) <= limit:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best, True
