"""Fixtures for reporting tests: sessions on SQLite and PostgreSQL, the fixed data set."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.reporting.dataset import Dataset, build_dataset


@pytest.fixture
def dataset(sessions: sessionmaker[Session]) -> Dataset:
    """The hand-counted data set of ``tests.reporting.dataset``."""
    return build_dataset(sessions)
