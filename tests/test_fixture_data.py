"""The repository is self-contained: fixtures carry their origin, the README points only to
files a clone has."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _indexes() -> list[Path]:
    return sorted(DATA.rglob("INDEX.tsv"))


def _nearest_index(path: Path) -> Path | None:
    for folder in path.parents:
        if (folder / "INDEX.tsv").is_file():
            return folder / "INDEX.tsv"
        if folder == DATA:
            return None
    return None


def _rows(index: Path) -> list[dict[str, str]]:
    with index.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_every_fixture_file_has_an_index_line_with_origin_commit_and_licence() -> None:
    unlisted = []
    for path in sorted(DATA.rglob("*")):
        if not path.is_file() or path.name in {"INDEX.tsv", "README.md"}:
            continue
        index = _nearest_index(path)
        listed = {row["file"]: row for row in _rows(index)} if index else {}
        name = path.relative_to(index.parent).as_posix() if index else path.name
        row = listed.get(name)
        if row is None or not row.get("origin_repo") or not row.get("license"):
            unlisted.append(str(path.relative_to(REPO)))
        elif not COMMIT.match(row.get("origin_commit", "")):
            unlisted.append(f"{path.relative_to(REPO)} (origin_commit)")
    assert unlisted == []


@pytest.mark.parametrize("index", _indexes(), ids=lambda p: str(p.relative_to(DATA)))
def test_every_index_line_names_a_file_that_exists(index: Path) -> None:
    missing = [row["file"] for row in _rows(index) if not (index.parent / row["file"]).is_file()]
    assert missing == []


def test_the_fixtures_stay_small() -> None:
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 5_000_000, f"tests/data is {total:,} bytes: keep large sets outside"


def test_readme_points_only_to_files_in_the_repository() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    named = re.findall(r"`([\w./-]+\.(?:md|yml|toml|txt|py|example))`", readme)
    missing = sorted(
        {ref for ref in links + named if "://" not in ref and not (REPO / ref).exists()}
    )
    assert missing == []
    assert "shared folder" not in readme and "../shared" not in readme
