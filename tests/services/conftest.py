"""Fixtures for service tests: sessions on a migrated database, a workspace, a watch."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI
from bot.services.watches import do_add_watch
from tests.harness.constants import CHANNEL_ID


@pytest.fixture
def watch_name(sessions: sessionmaker[Session], workspace_id: int) -> str:
    """A watch with an empty query (keeps everything) alerting at priority 0."""
    do_add_watch(sessions, workspace_id, CLI, name="acme", query="", channel_id=CHANNEL_ID,
                 alert_threshold=0)
    return "acme"
