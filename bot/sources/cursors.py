"""Small, JSON-friendly cursor helpers shared by sources."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from bot.net.http import ETAG_KEY, LAST_MODIFIED_KEY
from bot.sources.base import Cursor, FetchedMention
from bot.sources.text import parse_iso

log = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=15)
"""How far before the newest post a source read its next poll searches again, for the
posts a search shows late: Mastodon dates (and numbers) a status that federates late by
its creation, Bluesky's search filters on sortAt (the earlier of createdAt and
indexedAt), HN Search on creation time while its index lags. Those read again are dropped
by the cursor's seen set (``drop_seen``), and a post stored already is never stored or
alerted twice (ingest knows it by its id)."""
FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of this machine's clock a post may be dated and still move a cursor (a
little clock skew between servers). A post dated later (a remote server's wrong clock, or a
hostile value) is read, but the cursor stays where the others put it: moved to that date,
it and its look-back would skip every post made until then."""
MAX_ID_DIGITS = 20
"""Digits of the largest unsigned 64-bit number: no Mastodon or X id is longer."""


def id_digest(external_id: str) -> str:
    """16 hex chars standing for an id in a cursor: enough to tell ids apart, and it
    keeps a cursor of hundreds of ids a few kilobytes."""
    return hashlib.blake2b(external_id.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class SeenIds:
    """A bounded, ordered set of recently seen ids (as digests), newest first."""

    def __init__(self, digests: Iterable[object] = ()) -> None:
        """Load digests from a cursor (invalid values are ignored)."""
        self._digests = [d for d in digests if isinstance(d, str)]
        self._set = set(self._digests)
        self._memo: dict[str, str] = {}  # ids asked about, then stored: digest them once

    def _digest(self, external_id: str) -> str:
        digest = self._memo.get(external_id)
        if digest is None:
            digest = self._memo[external_id] = id_digest(external_id)
        return digest

    def __contains__(self, external_id: str) -> bool:
        """Whether ``external_id`` was seen."""
        return self._digest(external_id) in self._set

    def updated(self, current_ids: Iterable[str], keep: int) -> list[str]:
        """Digests to store: ``current_ids`` first, then older ones, ``keep`` at most
        (never fewer than the current ids, so an id still served is never forgotten)."""
        fresh = list(dict.fromkeys(map(self._digest, current_ids)))
        limit = max(keep, len(fresh))
        current = set(fresh)
        merged = fresh + [d for d in self._digests if d not in current]
        return merged[:limit]


def drop_seen(mentions: list[FetchedMention], cursor: Cursor,
              keep: int) -> tuple[list[FetchedMention], list[str]]:
    """The ``mentions`` whose external id is not in the cursor's ``seen`` set, and the set
    to store next: the external ids of all ``mentions`` (however many), then older ones
    up to ``keep`` (``SeenIds.updated``)."""
    seen = SeenIds(cursor.get("seen") or [])
    fresh = [m for m in mentions if m.external_id not in seen]
    return fresh, seen.updated((m.external_id for m in mentions), keep)


def validators(cursor: Cursor) -> Cursor:
    """A fresh dict with only the conditional-GET validators of ``cursor``."""
    return {k: cursor[k] for k in (ETAG_KEY, LAST_MODIFIED_KEY) if cursor.get(k)}


def latest_credible(now: datetime | None = None) -> datetime:
    """The latest time a post may be dated and still move a cursor (``FUTURE_TOLERANCE``
    after ``now``, this machine's clock by default)."""
    return (now or datetime.now(UTC)) + FUTURE_TOLERANCE


def cursor_time(cursor: Cursor, key: str) -> datetime | None:
    """A timestamp stored in the cursor as ISO 8601, or None."""
    return parse_iso(cursor.get(key))


def numeric_id(value: object) -> str | None:
    """``value`` as a decimal id (ASCII digits, or a non-negative integer), or None: the
    only ids a numeric cursor (Mastodon ``min_id``, X ``since_id``) may hold."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_DIGITS and value.isascii() \
            and value.isdigit():
        return value
    return None


_OPAQUE_ID = re.compile(r"(?=[0-9]*[A-Za-z])[0-9A-Za-z]{8,40}")
"""A status id that is no number: Misskey forks' aid (10 characters) and aidx (16),
Pleroma's and Akkoma's flake ids (base62, about 18), GoToSocial's ULIDs (26); each sorts
by time as (length, text), as numbers do."""


def status_id(value: object) -> str | None:
    """``value`` as a fediverse status id, or None: a decimal id (Mastodon) or an opaque
    alphanumeric one of 8 to 40 characters (see ``_OPAQUE_ID``). What an earlier bug
    stored (a repr, a short word, 30 digits) is neither."""
    found = numeric_id(value)
    if found is None and isinstance(value, str) and value.isascii() \
            and _OPAQUE_ID.fullmatch(value):
        return value
    return found


def stored_id(cursor: Cursor, key: str, source: str, *,
                      valid: Callable[[object], str | None] = numeric_id) -> str | None:
    """The id stored under ``key``, or None; a value that is no id by ``valid`` (the repr
    or text an earlier bug wrote) is dropped with one warning: sent as it was, every poll
    of the source asked from it, forever. The caller then starts as on a first poll (the
    ingest dedupe keeps stored posts from being stored twice) and stores a valid id
    instead."""
    value = cursor.get(key)
    if value is None:
        return None
    found = valid(value)
    if found is None:
        log.warning("%s: the stored cursor %s=%.80r is not an id; dropped, this poll starts "
                    "as a first one", source, key, value)
    return found
