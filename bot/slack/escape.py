"""mrkdwn helpers: escaping (outside text can never ping or link), cutting, links, dates."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from urllib.parse import unquote, urlsplit

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


HOST_CHARS = 60
"""The most characters of a host shown beside a link; a longer one keeps its end, the part
that names who owns it ("…login.evil.example")."""
# Each token starts only where a run of its characters starts, so a long run is tried once
# (linear work) rather than from each of its characters.
_URL_TOKEN = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://\S+")
_DOMAIN_TOKEN = re.compile(r"(?<![\w-])[\w-]+(?:\.[\w-]+)+")
_NOT_IN_HOST = frozenset(" #%/:<>?@[\\]^|")
_TLD = re.compile(r"[^\W\d_]{2,}|xn--[a-z0-9-]+")


def _plain_label(label: str) -> str:
    """A host's label as shown: itself when it reads as what it is (ASCII, or ASCII letters
    with accents: "café"), else its punycode, so "аcme" in Cyrillic never passes for "acme"."""
    for char in label:
        if char.isascii():
            continue
        base = unicodedata.normalize("NFD", char)
        if not (base[0].isascii() and base[0].isalpha()
                and all(unicodedata.combining(mark) for mark in base[1:])):
            return "xn--" + label.encode("punycode").decode("ascii")
    return label


def _host_form(host: str) -> str:
    """A host as browsers go to it (percent escapes, full-width letters and dots, case and
    a leading "www." undone), each label readable or in punycode (:func:`_plain_label`)."""
    decoded = unquote(host)
    if decoded.isprintable() and not any(char in decoded for char in _NOT_IN_HOST):
        host = decoded  # else browsers refuse the URL: shown as written, not as a path
    host = unicodedata.normalize("NFKC", host).casefold().replace("\u3002", ".").strip(".")
    if host.startswith("www."):
        host = host[4:]
    return ".".join(_plain_label(label) for label in host.split("."))


def _target_host(url: str | None) -> str | None:
    """The host a link to ``url`` leads to (:func:`_host_form`), or None when ``url`` is
    not linked."""
    target = safe_url(url)
    if not target:
        return None
    try:
        host = urlsplit(target).hostname
    except ValueError:
        return None
    return _host_form(host) if host else None


def shown_host(url: str | None) -> str | None:
    """The host a link to ``url`` leads to, as a reader should see it (at most
    :data:`HOST_CHARS`, keeping its end), or None when ``url`` is not linked."""
    host = _target_host(url)
    if not host:
        return None
    return host if len(host) <= HOST_CHARS else ELLIPSIS + host[-(HOST_CHARS - 1):]


def _named_hosts(label: str) -> list[str]:
    """The hosts ``label`` names, as URLs ("https://acme.com/x", and whatever stands before
    an "@" in one) or domains ("acme.com", "support@acme.com"), read as a reader would:
    invisible characters and full-width letters hide none."""
    text = "".join(char for char in unicodedata.normalize("NFKC", label)
                   if unicodedata.category(char) != "Cf")
    text = text.casefold().replace("\u3002", ".")
    # Of a URL, only the part before its path names where it goes (and fools a reader).
    authorities = [token.split("://", 1)[1].split("/", 1)[0]
                   for token in _URL_TOKEN.findall(text)]
    hosts = []
    for part in [_URL_TOKEN.sub(" ", text), *authorities]:
        for token in _DOMAIN_TOKEN.findall(part):
            if _TLD.fullmatch(token.rsplit(".", 1)[1]):
                hosts.append(_host_form(token))
    return hosts


def labelled_link(url: str | None, label: str) -> str:
    """A link whose label is outside text (a title, a handle, a post's words), shown so the
    label cannot pass for another destination: the host it leads to beside the label
    ("<url|Title (evil.example)>"), or, when the label names a host other than that one
    (or than a domain above it), the label as plain escaped text and only the host linked
    ("https://acme.com/verify (<url|evil.example>)"). A label naming exactly the (ASCII)
    host it leads to is linked alone; the label is only escaped when ``url`` is not
    linked."""
    full, host = _target_host(url), shown_host(url)
    if full is None or host is None:
        return link(None, label)
    named = _named_hosts(label)
    if any(name != full and not full.endswith("." + name) for name in named):
        return f"{escape(label)} ({link(url, unformat(host))})"
    if full in named and "xn--" not in full:  # punycode: its Unicode label could mislead
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
