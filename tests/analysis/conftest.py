"""Fixtures of the analysis tests: the held-out labelled sentiment files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sentiment_eval_dir(shared_data: Path) -> Path:
    """The held-out sentiment sets copied into the repository (tests/data/sentiment/eval)."""
    return shared_data / "sentiment" / "eval"
