"""Fixtures for service tests: sessions on a migrated database, a workspace, a watch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.watches import do_add_watch
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Workspace
from tests.harness.constants import CHANNEL_ID, TEAM_ID


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated, empty database (SQLite, then PostgreSQL)."""
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def workspace_id(sessions: sessionmaker[Session]) -> int:
    """A workspace row."""
    with transaction(sessions) as session:
        workspace = Workspace(team_id=TEAM_ID)
        session.add(workspace)
        session.flush()
        return workspace.id


@pytest.fixture
def watch_name(sessions: sessionmaker[Session], workspace_id: int) -> str:
    """A watch with an empty query (keeps everything) alerting at priority 0."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    return "acme"
