"""Which reply actions a card offers, per network: honest about where Vigie can post.

Where Vigie cannot post (RSS, Hacker News, Reddit, webhooks, or a network whose source has
no account to post with), the card says so and offers "Open and reply there" next to
"Mark replied". A draft is offered only where someone can be answered: a feed item is an
article or a page, not a person waiting for a reply.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.networks import get_network


def card_actions(actions: Sequence[str], network: str) -> list[str]:
    """``actions`` (allowed by the status) without Draft where a reply makes no sense.
    Where Vigie cannot post, nothing else is hidden: a draft can still be approved and
    posted by hand, and the card adds "Open and reply there"."""
    descriptor = get_network(network)
    if descriptor is not None and not descriptor.drafts_replies:
        return [action for action in actions if action != "draft"]
    return list(actions)
