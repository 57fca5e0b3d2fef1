"""How long a reply may be on each network, counted the way the network counts.

Each network's limit and counting rule come from its descriptor (``bot.networks``):

- X: 280 "weighted" characters (twitter-text v3): every link counts as 23 (bare names on
  any TLD included: "readme.md", "merci.je", and the first labels of a name that end on
  one: "foo.bar" of "foo.bar.baz"; a non-ASCII host counts as one too, more than
  X counts it, never less), Latin and most
  punctuation count 1, CJK and other scripts count 2, each emoji counts 2, text is
  NFC-normalized first.
- Bluesky: 300 graphemes (user-perceived characters).
- Mastodon: 500 graphemes by default (instances can raise it: pass ``limit``); every
  ``http(s)`` link counts as 23 and ``@user@domain`` counts as ``@user``.
- Other networks: no limit (``None``); ``used`` is the grapheme count.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

import regex

from bot.networks import NETWORKS, ReplyCounting, resolve_network
from bot.replies.text import find_urls, grapheme_count, graphemes

__all__ = [
    "NETWORK_LIMITS",
    "URL_LENGTH",
    "fits",
    "limit_for",
    "measure",
    "reply_counting",
    "trim_to_limit",
]

URL_LENGTH = 23
"""Characters one link counts for on X and Mastodon, whatever its real length."""

NETWORK_LIMITS: Mapping[str, int | None] = MappingProxyType(
    {n.name: n.reply_limit for n in NETWORKS.values() if n.reply_limit is not None}
)
"""Default reply length limit of the built-in networks; networks not listed have no limit
(``limit_for`` reads the descriptors, networks registered later included)."""

# twitter-text v3: code points in these ranges weigh 100, everything else 200 (scale 100).
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_X_SCALE = 100
_X_EMOJI = regex.compile(
    r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3|\ufe0f", regex.V1
)
_SCHEME_URL = regex.compile(r"^(?:https?|ftp)://", regex.IGNORECASE)
_MASTODON_REMOTE_MENTION = regex.compile(
    r"(?<![\w/])(@\w+(?:[.\-]+\w+)*)@[\w\-]+(?:\.[\w\-]+)+", regex.UNICODE
)


def limit_for(network: str | None, *, limit: int | None = None) -> int | None:
    """The reply length limit for ``network``; ``limit`` overrides the default
    (e.g. a Mastodon instance configured for 1000 characters)."""
    if limit is not None:
        return limit
    descriptor = resolve_network(network)
    return descriptor.reply_limit if descriptor is not None else None


def reply_counting(network: str | None) -> ReplyCounting:
    """How ``network`` counts a reply's length (graphemes where it says nothing)."""
    descriptor = resolve_network(network)
    return descriptor.reply_counting if descriptor is not None else "graphemes"


def measure(text: str, network: str | None, *, limit: int | None = None) -> tuple[int, int | None]:
    """Return ``(used, limit)`` for ``text`` on ``network``, counted as the network does.

    ``limit`` is None when the network has no length limit.
    """
    counting = reply_counting(network)
    if counting == "x":
        used = _x_length(text)
    elif counting == "mastodon":
        used = _mastodon_length(text)
    else:
        used = grapheme_count(text)
    return used, limit_for(network, limit=limit)


def fits(text: str, network: str | None, *, limit: int | None = None) -> bool:
    """True when ``text`` is within the network's limit (always True without a limit)."""
    used, max_len = measure(text, network, limit=limit)
    return max_len is None or used <= max_len


def _x_weight(cluster: str) -> int:
    if _X_EMOJI.search(cluster) and any(ord(c) > 0x2000 for c in cluster):
        return 2 * _X_SCALE
    total = 0
    for ch in cluster:
        cp = ord(ch)
        light = any(lo <= cp <= hi for lo, hi in _X_LIGHT_RANGES)
        total += _X_SCALE if light else 2 * _X_SCALE
    return total


def _x_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    weighted = 0
    pos = 0
    # twitter-text v3 links every bare name on a TLD, "readme.md" and "merci.je" included
    # (v2's short country-code exception is gone from its extractor).
    for url in find_urls(text, short_domains=True):
        weighted += sum(_x_weight(c) for c in graphemes(text[pos : url.start]))
        weighted += URL_LENGTH * _X_SCALE
        pos = url.end
    weighted += sum(_x_weight(c) for c in graphemes(text[pos:]))
    return -(-weighted // _X_SCALE)


def _mastodon_length(text: str) -> int:
    text = _MASTODON_REMOTE_MENTION.sub(r"\1", text)
    used = 0
    pos = 0
    for url in find_urls(text):
        if not _SCHEME_URL.match(url.url):
            continue  # Mastodon only shortens links written with a scheme
        used += grapheme_count(text[pos : url.start]) + URL_LENGTH
        pos = url.end
    return used + grapheme_count(text[pos:])


_SENTENCE_END = regex.compile(
    # A Latin full stop ends a sentence only before a space ("3.5", "vigie.app" do not),
    # like the Devanagari danda, Arabic question mark and Armenian full stop.
    r"[.!?…।॥؟։][\"'»”)\]]*(?=\s|$)"
    # Chinese and Japanese write the next sentence straight after "。", "！", "？".
    r"|[。！？｡][\"'»”’)\]」』）］】〕〉》｣]*"
)
_TOKEN = regex.compile(r"\S+\s*")
_DANGLING = " \t\n,;:-–—(/"


def last_full_sentence(text: str) -> str:
    """``text`` up to the end of its last complete sentence ("" when it has none): what is
    left of an answer cut mid-sentence."""
    end = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
    return text[:end].rstrip()


def trim_to_limit(text: str, limit: int | None, network: str | None = None) -> str:
    """Shorten ``text`` to fit ``limit`` as counted on ``network``, cutting cleanly.

    Prefers the end of a sentence when that keeps at least half the limit; otherwise cuts
    at a word boundary and adds "…"; a single over-long word is cut between graphemes.
    Text that already fits is returned unchanged.
    """
    if limit is None or fits(text, network, limit=limit):
        return text
    if limit <= 0:
        return ""

    def ok(candidate: str) -> bool:
        return fits(candidate, network, limit=limit)

    best_sentence = ""
    for m in _SENTENCE_END.finditer(text):
        candidate = text[: m.end()].rstrip()
        if not ok(candidate):
            break
        best_sentence = candidate
    if best_sentence and measure(best_sentence, network)[0] * 2 >= limit:
        return best_sentence

    tokens = _TOKEN.findall(text.lstrip())
    lo, hi = 0, len(tokens)  # largest n such that the first n tokens + "…" fit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok("".join(tokens[:mid]).rstrip(_DANGLING) + "…"):
            lo = mid
        else:
            hi = mid - 1
    if lo > 0:
        return "".join(tokens[:lo]).rstrip(_DANGLING) + "…"
    clusters = graphemes(text.strip())
    lo, hi = 0, len(clusters)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok("".join(clusters[:mid]) + "…"):
            lo = mid
        else:
            hi = mid - 1
    return "".join(clusters[:lo]) + "…" if lo else ""
