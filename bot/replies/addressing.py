"""Whom a reply addresses: on Mastodon, the person it answers is always mentioned.

A Mastodon reply reaches its customer only through a mention: a reply to a followers-only
or direct post is visible to the people it mentions, and only a mention notifies (a reply
without one is silent). Mastodon's own apps prefill a reply with the replied-to author's
``@acct``; Vigie does the same, first in the draft (the approver sees and approves the
text that is posted, counted as posted) and again when posting, for a draft saved without
it. X adds the replied-to author itself; Bluesky replies notify without a mention.

A mention is ``@user@domain``, or ``@user`` for an account of the replying account's own
instance; the domain part never counts towards the length (``bot.replies.limits``).
"""

from __future__ import annotations

import regex

from bot.networks import resolve_network

__all__ = ["address_reply", "mentions_account"]

# Mastodon's own mention syntax (app/lib/account.rb MENTION_RE): a username of letters,
# digits and "_" ("." and "-" inside), after anything but a word character or "/".
_MENTION = regex.compile(
    r"(?<![\w/])@([a-z0-9_](?:[a-z0-9_.\-]*[a-z0-9_])?)(?:@([\w\-]+(?:\.[\w\-]+)+))?",
    regex.IGNORECASE,
)


def _split(handle: str) -> tuple[str, str | None]:
    """``(user, domain)`` of ``@user@domain`` as written (domain None when absent)."""
    user, _, domain = handle.strip().lstrip("@").partition("@")
    return user, domain.rstrip(".") or None


def mentions_account(text: str, handle: str, *, local_domain: str | None = None) -> bool:
    """Whether ``text`` mentions the account ``handle`` (``@user@domain``, or ``user``).

    A mention without a domain names an account of the instance the reply is posted from:
    it is the same account only when ``local_domain`` (that instance's host) is the
    account's domain, or when ``handle`` has no domain either.
    """
    user, domain = (part.casefold() if part else None for part in _split(handle))
    local = local_domain.casefold() if local_domain else None
    domain = domain or local
    if not user:
        return False
    for match in _MENTION.finditer(text):
        if match.group(1).casefold() != user:
            continue
        written = (match.group(2) or "").casefold() or None
        if written == domain or (written is None and domain in (None, local)):
            return True
    return False


def address_reply(
    text: str, network: str | None, handle: str | None, *, local_domain: str | None = None
) -> str:
    """``text`` as posted on ``network`` in reply to ``handle``'s post: on Mastodon it
    starts with ``@user@domain`` unless it mentions them already; unchanged elsewhere, or
    without a handle."""
    descriptor = resolve_network(network)
    if descriptor is None or descriptor.name != "mastodon" or not handle:
        return text
    user, domain = _split(handle)
    if (
        not _MENTION.fullmatch("@" + user)
        or user.casefold() == "unknown"
        or mentions_account(text, handle, local_domain=local_domain)
    ):
        return text
    local = domain is None or (local_domain or "").casefold() == domain.casefold()
    mention = f"@{user}" if local else f"@{user}@{domain}"
    same = _leading_mention_of(text, user, domain)
    if same is not None:
        # The draft already opens with this person as Vigie stored them (a bare "@alice"
        # read on another instance, or the web host "mastodon.example.com" of an account
        # on "example.com"): written in the canonical form instead of a second mention,
        # since a bare one would name a local account of the brand's instance.
        return text[:same.start()] + mention + text[same.end():]
    return f"{mention} {text.lstrip()}"


def _leading_mention_of(text: str, user: str, domain: str | None) -> regex.Match[str] | None:
    """The mention, among those ``text`` opens with, of the same username as ``user``
    whose domain is absent or shares its host with ``domain`` (one a subdomain of the
    other); None when there is none."""
    folded_user, folded_domain = user.casefold(), domain.casefold() if domain else None
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        match = _MENTION.match(text, position)
        if match is None:
            return None
        written = (match.group(2) or "").casefold() or None
        if match.group(1).casefold() == folded_user and (
                written is None or folded_domain is None or written == folded_domain
                or written.endswith("." + folded_domain)
                or folded_domain.endswith("." + written)):
            return match
        position = match.end()
