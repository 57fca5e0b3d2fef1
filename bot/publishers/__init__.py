"""Posting approved replies back to networks (Mastodon, Bluesky, X), idempotently.

Publishers know nothing of Slack, storage or services; the reply service drives them.
"""

from bot.publishers.base import (
    PostedReply,
    PublishAuthError,
    Publisher,
    PublisherCredentials,
    PublishError,
    PublishRateLimited,
    PublishRejected,
    PublishTargetGone,
    PublishUnavailable,
    PublishUnknownOutcome,
    ReplyTarget,
    publish_once,
)
from bot.publishers.registry import PUBLISHERS, can_publish, get_publisher

__all__ = [
    "PUBLISHERS",
    "PostedReply",
    "PublishAuthError",
    "PublishError",
    "PublishRateLimited",
    "PublishRejected",
    "PublishTargetGone",
    "PublishUnavailable",
    "PublishUnknownOutcome",
    "Publisher",
    "PublisherCredentials",
    "ReplyTarget",
    "can_publish",
    "get_publisher",
    "publish_once",
]
