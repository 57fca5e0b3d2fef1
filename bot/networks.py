"""One home per network: what Vigie knows about each network, in one descriptor.

A network's descriptor says how it is named (the name stored on sources and mentions, and
the aliases people type), how Slack shows it (display name, card icon, the phrase a watch
query's description uses), how a reply to it is counted, and whether Vigie can post that
reply back (and from which source settings the brand account's credentials come).

The sources (``bot.sources``), the query language (``source:``), reply limits and risk
checks (``bot.replies``), publishers, cards and reply routing read this module instead of
keeping their own lists. Adding a network means a descriptor here, its source module and a
line in ``bot.sources.registry`` (plus a publisher when Vigie can post to it).

Pure: this module imports nothing of Vigie, so every package may read it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "DEFAULT_ICON",
    "NETWORKS",
    "Network",
    "ReplyCounting",
    "ReplyCredentials",
    "display_name",
    "get_network",
    "icon_for",
    "network_names",
    "networks",
    "normalize_network",
    "register",
    "resolve_network",
    "unregister",
]

DEFAULT_ICON = ":speech_balloon:"
"""The card icon of a network Vigie has no descriptor for (a webhook's or feed's own label)."""

ReplyCounting = Literal["graphemes", "x", "mastodon"]
"""How a reply's length is counted: user-perceived characters, or the network's own rule
(X's weighted count, Mastodon's 23-character links); see ``bot.replies.limits``."""

_NAME = re.compile(r"[a-z0-9_-]{1,32}")


@dataclass(frozen=True, slots=True)
class ReplyCredentials:
    """Which settings of a network's source hold the brand account that replies are posted
    with, named as the network's publisher expects them."""

    secret: tuple[str, str]
    """``(publisher field, source setting)`` of the secret: a source without it cannot post."""
    always: Mapping[str, str] = field(default_factory=dict)
    """Publisher field -> source setting, always passed (the publisher checks the value)."""
    when_set: Mapping[str, str] = field(default_factory=dict)
    """Publisher field -> source setting, passed only when the setting has a value."""

    def from_settings(self, settings: Mapping[str, Any]) -> dict[str, Any] | None:
        """The publisher's credential values from a source's (decrypted) settings; None when
        the source holds no secret to post with."""
        credential, setting = self.secret
        if not settings.get(setting):
            return None
        values = {name: settings.get(key) for name, key in self.always.items()}
        values[credential] = settings[setting]
        values.update({name: settings[key] for name, key in self.when_set.items()
                       if settings.get(key)})
        return values


@dataclass(frozen=True, slots=True)
class Network:
    """Everything Vigie knows about one network, outside its source and publisher code."""

    name: str
    """Stored name: a source's ``kind`` and its mentions' ``network`` (lower case)."""
    display_name: str
    """How people call it, e.g. ``"Hacker News"``."""
    query_phrase: str
    """How a watch query's description says ``source:<name>``, e.g. ``"on Hacker News"``."""
    icon: str
    """Slack emoji shown on the alert card and in mention lists."""
    aliases: tuple[str, ...] = ()
    """Other names people type for it (``twitter`` for ``x``); resolved by
    ``normalize_network``."""
    reply_limit: int | None = None
    """Default length limit of a reply (None: no limit)."""
    reply_counting: ReplyCounting = "graphemes"
    """How the network counts a reply's length."""
    drafts_replies: bool = True
    """False where items are articles or pages, not people waiting for an answer (no Draft)."""
    posts_replies: bool = False
    """True when Vigie can post replies to it (it has a publisher); elsewhere the card
    offers "open and reply" and "mark replied"."""
    credentials: ReplyCredentials | None = None
    """Where the brand account's credentials come from, when Vigie can post replies."""
    web_hosts: tuple[str, ...] = ()
    """The hosts of the network's own site, where its posts and profiles are (``x.com``;
    their subdomains too): a link there needs no network name beside the host it shows."""
    domain_handle_pages: tuple[str, str] | None = None
    """For a network whose handles are domain names ("acme.com", "alice.bsky.social"):
    the host and path prefix of a profile's page, the handle following it (``("bsky.app",
    "/profile/")``); the profile's posts are below it. Such a handle linked to its own page
    names no other site (``bot.link_labels``)."""


_BUILT_IN = (
    Network("rss", "RSS/Atom feeds", "in RSS/Atom feeds", ":newspaper:",
            aliases=("atom", "feed", "feeds"), drafts_replies=False),
    Network("mastodon", "Mastodon", "on Mastodon", ":elephant:", aliases=("fediverse",),
            reply_limit=500, reply_counting="mastodon", posts_replies=True,
            credentials=ReplyCredentials(("access_token", "access_token"),
                                         always={"instance_url": "base_url"})),
    Network("bluesky", "Bluesky", "on Bluesky", ":butterfly:", aliases=("bsky", "bsky.app"),
            reply_limit=300, posts_replies=True,
            credentials=ReplyCredentials(("app_password", "app_password"),
                                         always={"handle": "handle"},
                                         when_set={"service_url": "service_url"}),
            web_hosts=("bsky.app",), domain_handle_pages=("bsky.app", "/profile/")),
    Network("hackernews", "Hacker News", "on Hacker News", ":large_orange_square:",
            aliases=("hn", "hacker_news", "hacker-news", "ycombinator"),
            web_hosts=("news.ycombinator.com",)),
    Network("reddit", "Reddit", "on Reddit", ":speech_balloon:", web_hosts=("reddit.com",)),
    Network("x", "X", "on X", ":bird:", aliases=("twitter", "x.com"), reply_limit=280,
            reply_counting="x", posts_replies=True,
            credentials=ReplyCredentials(("access_token", "reply_token"),
                                         when_set={"base_url": "base_url"}),
            web_hosts=("x.com", "twitter.com")),
    Network("webhook", "Webhook", "from the webhook", ":inbox_tray:"),
)

_NETWORKS: dict[str, Network] = {}
_ALIASES: dict[str, str] = {}
_NAMES: frozenset[str] = frozenset()  # kept with _NETWORKS: queries use it as a cache key


def register(network: Network) -> None:
    """Make ``network`` known to every part of Vigie (the built-in ones are registered
    when this module loads). ValueError when its name or an alias is taken or malformed."""
    names = (network.name, *network.aliases)
    bad = [name for name in names if not _NAME.fullmatch(name.replace(".", ""))]
    if bad or network.name != _fold(network.name):
        raise ValueError(f"network names must be lower-case words: {network.name!r}")
    taken = [name for name in names if name in _NETWORKS or name in _ALIASES]
    if taken:
        raise ValueError(f"network name already used: {', '.join(taken)}")
    _NETWORKS[network.name] = network
    _ALIASES.update((alias, network.name) for alias in network.aliases)
    _changed()


def unregister(name: str) -> None:
    """Forget the network called ``name`` and its aliases (tests that register a network)."""
    network = _NETWORKS.pop(name)
    for alias in network.aliases:
        _ALIASES.pop(alias, None)
    _changed()


def _changed() -> None:
    global _NAMES
    _NAMES = frozenset(_NETWORKS)
    normalize_network.cache_clear()


def networks() -> tuple[Network, ...]:
    """Every known network, in registration order."""
    return tuple(_NETWORKS.values())


def network_names() -> frozenset[str]:
    """The stored names of every known network."""
    return _NAMES


def _fold(text: str) -> str:
    # The case- and accent-insensitive form bot.matching.text.fold gives network names
    # (not imported: bot.matching reads this module).
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Cf"))
    return kept.casefold()


@lru_cache(maxsize=256)
def normalize_network(network: str) -> str:
    """The stored network name for what a person or a payload calls it: folded (case and
    accents) and aliases resolved (``Twitter`` -> ``x``, ``hn`` -> ``hackernews``).
    Names Vigie has no descriptor for come back folded, unchanged otherwise."""
    value = _fold(network.strip())
    return _ALIASES.get(value, value)


def get_network(name: str | None) -> Network | None:
    """The descriptor of a stored network name (any case), without resolving aliases: a
    feed or webhook may label its mentions ``feed`` or ``twitter``, which stay their own.
    None for networks Vigie has no descriptor for."""
    return _NETWORKS.get((name or "").strip().lower())


def display_name(name: str) -> str:
    """How people call the network stored as ``name`` ("X" for ``x``); a network without a
    descriptor by its stored name."""
    network = get_network(name)
    return network.display_name if network is not None else name


def resolve_network(text: str | None) -> Network | None:
    """The descriptor of the network ``text`` names, aliases included; None when unknown."""
    return _NETWORKS.get(normalize_network(text or ""))


def icon_for(name: str | None) -> str:
    """The card icon of a stored network name; ``DEFAULT_ICON`` for unknown networks."""
    network = get_network(name)
    return network.icon if network is not None else DEFAULT_ICON


def _register_built_in(items: Iterable[Network]) -> Mapping[str, Network]:
    for item in items:
        register(item)
    return MappingProxyType(_NETWORKS)


NETWORKS: Mapping[str, Network] = _register_built_in(_BUILT_IN)
"""Every known network by stored name (a live read-only view)."""
