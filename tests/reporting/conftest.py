"""Fixtures for reporting tests: sessions on SQLite and PostgreSQL, the fixed data set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, make_session_factory
from tests.reporting.dataset import Dataset, build_dataset


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on a migrated, empty database (SQLite, then PostgreSQL)."""
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def dataset(sessions: sessionmaker[Session]) -> Dataset:
    """The hand-counted data set of ``tests.reporting.dataset``."""
    return build_dataset(sessions)
