"""App Home's influencer ranking, kept per workspace and process for
``HOME_CACHE_SECONDS`` (``bot.services.influencers.home_influencers``), and its forgetting
when what it ranks changes. Apart from the ranking, so that the services that change it
(watches, tracking, the kind of a watch, a person forgotten) drop it without importing
the reporting queries the ranking reads.

Whether a kept ranking still holds is shared through the database: a change raises the
workspace's ``home_ranking_versions`` row in its own transaction
(``home_ranking_changed``), and a ranking kept at an older version is computed again. One
query per read, not one per author. Before, only the process that made the change dropped
its copy: a `vigie forget` from the CLI, or `/cm forget` in `vigie web`, left `vigie
worker` republishing the Homes the forget marked stale with the forgotten person listed.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.models_influencers import HomeRankingVersion
from storage.upserts import bump_home_ranking_version

HOME_CACHE_SECONDS = 900
_home_cache: dict[tuple[str, int], tuple[datetime, int, list[Any]]] = {}
_home_lock = threading.Lock()


def _cache_key(sessions: sessionmaker[Session], workspace_id: int) -> tuple[str, int]:
    # The database as well as the workspace: one process may serve several databases.
    bind = sessions.kw.get("bind")
    return (repr(bind.url) if bind is not None else str(id(sessions)), workspace_id)


def home_ranking_version(session: Session, workspace_id: int) -> int:
    """The workspace's ranking version (0 before its first change)."""
    return session.scalar(select(HomeRankingVersion.version).where(
        HomeRankingVersion.workspace_id == workspace_id)) or 0


def home_ranking_changed(session: Session, workspace_id: int) -> None:
    """Make every process rank the workspace's Home influencers again, when the caller's
    transaction commits. Call it last in the transaction: it holds the workspace's version
    row until the commit, so nothing may wait for another lock after it (no deadlock)."""
    session.flush()  # the caller's pending rows wait for their locks before, not after
    bump_home_ranking_version(session, workspace_id)


def cached_home_ranking(sessions: sessionmaker[Session], workspace_id: int, now: datetime
                        ) -> list[Any] | None:
    """The workspace's ranking kept less than ``HOME_CACHE_SECONDS`` before ``now``, if
    nothing it ranks changed since (in any process)."""
    with _home_lock:
        cached = _home_cache.get(_cache_key(sessions, workspace_id))
    if cached is None or not timedelta(0) <= now - cached[0] < timedelta(
            seconds=HOME_CACHE_SECONDS):
        return None
    with sessions() as session:
        if home_ranking_version(session, workspace_id) != cached[1]:
            return None
    return cached[2]


def keep_home_ranking(sessions: sessionmaker[Session], workspace_id: int, now: datetime,
                      version: int, ranked: list[Any]) -> None:
    """Keep ``ranked``, computed at ``now`` from the data of ranking ``version`` (read
    before the ranking: a change meanwhile makes the next read compute it again)."""
    with _home_lock:
        _home_cache[_cache_key(sessions, workspace_id)] = (now, version, ranked)


def is_home_ranking_kept(sessions: sessionmaker[Session], workspace_id: int) -> bool:
    """Whether a Home ranking is kept for the workspace (however old)."""
    with _home_lock:
        return _cache_key(sessions, workspace_id) in _home_cache


def forget_home_cache(sessions: sessionmaker[Session], workspace_id: int) -> None:
    """Drop this process's copy of the Home ranking at once (the other processes see the
    change through ``home_ranking_changed``, which the changes call too)."""
    with _home_lock:
        _home_cache.pop(_cache_key(sessions, workspace_id), None)
