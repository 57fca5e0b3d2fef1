"""Every network Vigie can post replies to, by kind (the networks whose descriptor in
``bot.networks`` says ``posts_replies``; a test holds the two together)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bot.messages.notes import Text
from bot.networks import get_network
from bot.publishers.base import Publisher, PublishError
from bot.publishers.bluesky import BlueskyPublisher
from bot.publishers.mastodon import MastodonPublisher
from bot.publishers.x import XPublisher

__all__ = ["PUBLISHERS", "can_publish", "get_publisher"]

PUBLISHERS: Mapping[str, Publisher[Any]] = MappingProxyType(
    {p.kind: p for p in (MastodonPublisher(), BlueskyPublisher(), XPublisher())}
)
"""One publisher per network kind (the same kinds as the sources')."""


def _kind(network: str | None) -> str:
    return (network or "").strip().lower()


def can_publish(network: str | None) -> bool:
    """True when Vigie can post replies to ``network`` (a stored network name); elsewhere
    the card offers "open and reply" and "mark replied" instead."""
    descriptor = get_network(network)
    return descriptor is not None and descriptor.posts_replies and descriptor.name in PUBLISHERS


def get_publisher(kind: str) -> Publisher[Any]:
    """The publisher for ``kind``; PublishError in plain words when there is none."""
    try:
        return PUBLISHERS[_kind(kind)]
    except KeyError:
        valid = ", ".join(sorted(PUBLISHERS))
        raise PublishError("publish.unsupported_network", kind=Text(kind[:40]),
                           networks=valid) from None
