"""Files the `vigie` commands write keep the permissions a plain write would give them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.outfile import write_atomically


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_a_new_file_gets_the_umask_s_mode_and_a_rewritten_one_keeps_its_own(
        tmp_path: Path) -> None:
    """The temporary file written first is private (0600); once in place it reads as
    open() would have left it: 0644 under umask 022, or the mode the file already had."""
    new = tmp_path / "predictions.tsv"
    write_atomically(new, lambda handle: handle.write("0.5\tpositive\n"))
    assert new.read_text() == "0.5\tpositive\n" and _mode(new) == 0o644
    shared = tmp_path / "shared.csv"
    shared.write_text("old\n")
    shared.chmod(0o664)
    write_atomically(shared, lambda handle: handle.write("new\n"))
    assert shared.read_text() == "new\n" and _mode(shared) == 0o664
