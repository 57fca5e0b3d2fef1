"""Pure text matching: the watch query language, text folding, and dedupe keys.

- ``text``: ``fold`` (case/accent-insensitive form) and the word tokenizer;
- ``query``: ``parse_query`` -> ``Query`` (``matches``, ``describe``, ``str``);
- ``fingerprint``: ``content_fingerprint`` for near-duplicate texts, ``canonical_url``,
  ``story_key`` and ``story_key_for`` for the same link seen on several networks.

This package imports nothing from storage, Slack, services or handlers.
"""

from bot.matching.fingerprint import (
    canonical_url,
    content_fingerprint,
    is_social_post_url,
    story_key,
    story_key_for,
)
from bot.matching.query import (
    MatchInput,
    PreparedText,
    Query,
    QueryError,
    parse_query,
    prepare,
)
from bot.matching.text import fold, tokenize

__all__ = [
    "MatchInput",
    "PreparedText",
    "Query",
    "QueryError",
    "canonical_url",
    "content_fingerprint",
    "fold",
    "is_social_post_url",
    "parse_query",
    "prepare",
    "story_key",
    "story_key_for",
    "tokenize",
]
