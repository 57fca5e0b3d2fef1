"""A workspace with one watch that matches every post and never alerts by itself (threshold
100), on a migrated database: what ingest tests start from."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.watches import do_add_watch
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Workspace


def workspace_watching_all(db_url: str, team_id: str, *, watch: str, channel_id: str
                           ) -> tuple[sessionmaker[Session], int]:
    """Sessions on ``db_url`` and the id of a new workspace ``team_id`` with a watch named
    ``watch`` (empty query, posting to ``channel_id``, alert threshold 100)."""
    sessions = make_session_factory(make_engine(db_url))
    with transaction(sessions) as session:
        workspace = Workspace(team_id=team_id)
        session.add(workspace)
        session.flush()
        workspace_id = workspace.id
    do_add_watch(sessions, workspace_id, CLI, name=watch, query="", channel_id=channel_id,
                 alert_threshold=100)
    return sessions, workspace_id
