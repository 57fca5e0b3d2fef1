"""A SQLite file deleted or replaced under a running process is noticed by its ping."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import DatabaseFileGone, make_engine, ping


def test_a_deleted_database_file_fails_the_ping_and_is_logged_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Writes still committed to the unlinked file and the ping still answered: everything
    written after the delete was lost at restart, unnoticed."""
    path = tmp_path / "vigie.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        ping(engine)
        os.remove(path)
        with engine.begin() as conn:  # still "works": into the unlinked file
            conn.execute(text("INSERT INTO t VALUES (1)"))
        with caplog.at_level(logging.ERROR, logger="storage.db"):
            for _ in range(2):
                with pytest.raises(DatabaseFileGone, match="was deleted") as raised:
                    ping(engine)
        assert str(path) in str(raised.value)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1 and str(path) in errors[0] and "deleted" in errors[0]
    finally:
        engine.dispose()


def test_a_replaced_database_file_fails_the_ping(tmp_path: Path) -> None:
    path = tmp_path / "vigie.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        ping(engine)
        shutil.copyfile(path, tmp_path / "other.db")
        os.replace(tmp_path / "other.db", path)
        # New connections open the new file; the engine's first one works in the old one.
        with pytest.raises(DatabaseFileGone, match="was replaced by another file"):
            ping(engine)
    finally:
        engine.dispose()


def test_an_untouched_file_and_a_memory_database_ping(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'vigie.db'}")
    memory = make_engine("sqlite://")
    try:
        for _ in range(2):
            ping(engine)
            ping(memory)
    finally:
        engine.dispose()
        memory.dispose()
