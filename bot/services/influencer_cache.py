"""App Home's influencer ranking, kept per workspace and process for
``HOME_CACHE_SECONDS`` (``bot.services.influencers.home_influencers``), and its forgetting
when what it ranks changes. Apart from the ranking, so that the services that change it
(watches, tracking, the kind of a watch, a person forgotten) drop it without importing
the reporting queries the ranking reads."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

HOME_CACHE_SECONDS = 900
_home_cache: dict[tuple[str, int], tuple[datetime, list[Any]]] = {}
_home_lock = threading.Lock()


def _cache_key(sessions: sessionmaker[Session], workspace_id: int) -> tuple[str, int]:
    # The database as well as the workspace: one process may serve several databases.
    bind = sessions.kw.get("bind")
    return (repr(bind.url) if bind is not None else str(id(sessions)), workspace_id)


def cached_home_ranking(sessions: sessionmaker[Session], workspace_id: int, now: datetime
                        ) -> list[Any] | None:
    """The workspace's ranking kept less than ``HOME_CACHE_SECONDS`` before ``now``."""
    with _home_lock:
        cached = _home_cache.get(_cache_key(sessions, workspace_id))
    if cached is not None and timedelta(0) <= now - cached[0] < timedelta(
            seconds=HOME_CACHE_SECONDS):
        return cached[1]
    return None


def keep_home_ranking(sessions: sessionmaker[Session], workspace_id: int, now: datetime,
                      ranked: list[Any]) -> None:
    """Keep ``ranked``, computed at ``now``, as the workspace's Home ranking."""
    with _home_lock:
        _home_cache[_cache_key(sessions, workspace_id)] = (now, ranked)


def is_home_ranking_kept(sessions: sessionmaker[Session], workspace_id: int) -> bool:
    """Whether a Home ranking is kept for the workspace (however old)."""
    with _home_lock:
        return _cache_key(sessions, workspace_id) in _home_cache


def forget_home_cache(sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Drop the cached Home ranking (after tracking someone, so the mark shows)."""
    with _home_lock:
        _home_cache.pop(_cache_key(sessions, workspace_id), None)
