"""Helper of the eval tests: a labelled TSV file written under the test's tmp_path."""

from __future__ import annotations

from pathlib import Path


def write_tsv(tmp_path: Path, content: str) -> Path:
    """``content`` written as UTF-8 to ``tmp_path/set.tsv``; its path."""
    path = tmp_path / "set.tsv"
    path.write_text(content, encoding="utf-8")
    return path
