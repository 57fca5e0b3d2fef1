"""Fixtures of the analysis tests: the labelled sentiment files of the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sentiment_eval_dir() -> Path:
    """``$VIGIE_SHARED_DATA/sentiment/eval``, else ``<repo>/../shared/data/sentiment/eval``."""
    root = os.environ.get("VIGIE_SHARED_DATA")
    base = Path(root) if root else REPO_ROOT.parent / "shared" / "data"
    path = base / "sentiment" / "eval"
    if not path.is_dir():
        pytest.skip(
            f"labelled sentiment files not found at {path}: set VIGIE_SHARED_DATA to the "
            "shared data folder to run the quality bars"
        )
    return path
