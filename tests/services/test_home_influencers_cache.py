"""App Home's influencer ranking is cached per workspace (``home_influencers``): adding or
removing a watch changes the brand's watches it ranks over, so the cache is dropped, as a
watch changing kind drops it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.services import influencers
from bot.services.actors import CLI
from bot.services.influencer_cache import is_home_ranking_kept
from bot.services.watches import do_add_watch, do_remove_watch
from tests.harness.constants import CHANNEL_ID


def _cached(sessions: sessionmaker[Session], workspace_id: int) -> bool:
    return is_home_ranking_kept(sessions, workspace_id)


def test_adding_or_removing_a_watch_drops_home_s_cached_influencers(
        sessions: sessionmaker[Session], workspace_id: int, watch_name: str) -> None:
    """The ranking stayed as it was for up to 15 minutes: a removed watch's authors still
    ranked, a new watch's not yet."""
    now = datetime.now(UTC)
    influencers.home_influencers(sessions, workspace_id, now=now)
    assert _cached(sessions, workspace_id)
    do_add_watch(sessions, workspace_id, CLI, name="press", query="kettle",
                 channel_id=CHANNEL_ID)
    assert not _cached(sessions, workspace_id)
    influencers.home_influencers(sessions, workspace_id, now=now)
    assert _cached(sessions, workspace_id)
    do_remove_watch(sessions, workspace_id, CLI, watch_name)
    assert not _cached(sessions, workspace_id)
