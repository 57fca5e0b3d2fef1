"""A handle as a person types it -> the form the sources store on their authors.

Each network's function mirrors that source's ``_author``: Mastodon ``@user@instance``,
Bluesky ``@handle.domain`` (or ``@did:plc:...``), X ``@name``, Reddit ``u/name``,
Hacker News the bare name. Pure: the services look the result up in storage.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.sources import bluesky, hackernews, mastodon, reddit, x
from bot.text_hygiene import clean_name


class HandleError(ValueError):
    """The text is not a handle of that network; ``example`` shows the expected form."""

    def __init__(self, network: str, value: str, example: str, *, reason: str = "shape"
                 ) -> None:
        super().__init__(f"{value[:80]!r} is not a {network} handle (e.g. {example})")
        self.network, self.value, self.example, self.reason = network, value, example, reason


_MASTODON = re.compile(r"@?([A-Za-z0-9_]{1,30})(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+))?")
_BLUESKY = re.compile(r"@?((?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}|did:plc:[a-z2-7]{24})")
_X = re.compile(r"@?([A-Za-z0-9_]{1,15})")
_REDDIT = re.compile(r"(?:/?u/|@)?([A-Za-z0-9_-]{3,20})")
_HACKERNEWS = re.compile(r"@?([A-Za-z0-9_-]{2,15})")

EXAMPLES = {
    mastodon.NETWORK: "@gargron@mastodon.social",
    bluesky.NETWORK: "@alice.bsky.social",
    x.NETWORK: "@acmecare",
    reddit.NETWORK: "u/acme_support",
    hackernews.NETWORK: "pg",
}
"""One typed example per network, for error messages."""


def mastodon_handle(text: str) -> str:
    """``@user@instance`` (the instance in lower case); HandleError with reason
    ``no_instance`` for a bare ``@user``."""
    match = _MASTODON.fullmatch(text.strip())
    if match is None:
        raise HandleError(mastodon.NETWORK, text, EXAMPLES[mastodon.NETWORK])
    user, instance = match.groups()
    if instance is None:
        raise HandleError(mastodon.NETWORK, text, EXAMPLES[mastodon.NETWORK],
                          reason="no_instance")
    return f"@{user}@{instance.lower()}"


def bluesky_handle(text: str) -> str:
    """``@handle.domain`` in lower case (Bluesky normalizes handles so), or ``@did:plc:...``."""
    match = _BLUESKY.fullmatch(text.strip())
    if match is None:
        raise HandleError(bluesky.NETWORK, text, EXAMPLES[bluesky.NETWORK])
    return "@" + match.group(1).lower()


def x_handle(text: str) -> str:
    """``@name`` (case kept as typed; X compares names without case)."""
    match = _X.fullmatch(text.strip())
    if match is None:
        raise HandleError(x.NETWORK, text, EXAMPLES[x.NETWORK])
    return "@" + match.group(1)


def reddit_handle(text: str) -> str:
    """``u/name`` from ``u/name``, ``/u/name``, ``@name`` or ``name``."""
    match = _REDDIT.fullmatch(text.strip())
    if match is None:
        raise HandleError(reddit.NETWORK, text, EXAMPLES[reddit.NETWORK])
    return "u/" + match.group(1)


def hackernews_handle(text: str) -> str:
    """The bare user name (HN names are case-sensitive: kept as typed)."""
    match = _HACKERNEWS.fullmatch(text.strip())
    if match is None:
        raise HandleError(hackernews.NETWORK, text, EXAMPLES[hackernews.NETWORK])
    return match.group(1)


STORED_FORMS: dict[str, Callable[[str], str]] = {
    mastodon.NETWORK: mastodon_handle,
    bluesky.NETWORK: bluesky_handle,
    x.NETWORK: x_handle,
    reddit.NETWORK: reddit_handle,
    hackernews.NETWORK: hackernews_handle,
}
"""Typed text -> stored handle, by the network name the sources give their mentions."""

CASE_INSENSITIVE = frozenset({mastodon.NETWORK, bluesky.NETWORK, x.NETWORK, reddit.NETWORK})
"""Networks whose handles name the same account whatever their case."""

CASE_SENSITIVE = frozenset({hackernews.NETWORK})
"""Networks where two names differing only by case are two people: Hacker News ("Users are
identified by case-sensitive ids", its API's documentation). Elsewhere, free-text author
names (feeds, webhooks) included, case says nothing about who wrote."""


def stored_handle(network: str, text: str) -> str:
    """The stored form of ``text`` on ``network``; networks without a rule (RSS feeds,
    webhooks: their authors are free text) keep it as typed. Invisible characters go first,
    as they went from the authors' handles (``clean_name``): a handle copied from a Slack
    card or the terminal may carry the zero-width spaces that keep ``_`` from formatting."""
    text = clean_name(text)
    form = STORED_FORMS.get(network)
    return form(text) if form else text
