"""Fixtures of the crash-and-load suite: a console workspace and a watch on a database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.workspaces import CONSOLE_TEAM_ID
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Workspace


def open_sessions(url: str) -> sessionmaker[Session]:
    """Sessions on ``url`` (the engine is disposed by the fixture that owns it)."""
    return make_session_factory(make_engine(url))


def add_workspace(sessions: sessionmaker[Session], team_id: str = CONSOLE_TEAM_ID) -> int:
    """Create the workspace the children act on; its id."""
    with transaction(sessions) as session:
        workspace = Workspace(team_id=team_id)
        session.add(workspace)
        session.flush()
        return workspace.id


@pytest.fixture
def sqlite_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the migrated SQLite file of ``sqlite_url``."""
    sessions = open_sessions(sqlite_url)
    yield sessions
    bind = sessions.kw["bind"]
    bind.dispose()
