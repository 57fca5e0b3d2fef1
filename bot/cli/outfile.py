"""Files the `vigie` commands write (`export --output`, `report --out`, `eval --out`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

import click

T = TypeVar("T")


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


def check_output_file(path: Path, option: str, *, input_file: Path | None = None) -> None:
    """Exit 2 with one line unless a file can be put at ``path`` (given with ``option``):
    it has a name, its folder exists and takes new files, and it is not ``input_file``
    (the command's input, which it would overwrite). Checked before the work, so a
    command fails before it prints or computes anything."""
    if not path.name:  # "" reads as ".", the current folder
        _fail(f"{option} needs a file name.")
    if input_file is not None and path.exists() and os.path.samefile(path, input_file):
        _fail(f"{option} {path} is the input file: it would be overwritten; give another file.")
    if not path.parent.is_dir():
        _fail(f"the folder {path.parent} does not exist.")
    try:  # what write_atomically does first, so its failure is known now
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".part"):
            pass
    except OSError as err:
        _fail(f"cannot write {path}: {err.strerror or type(err).__name__}.")


def write_atomically(path: Path, write: Callable[[IO[Any]], T], *, binary: bool = False,
                     encoding: str = "utf-8") -> T:
    """Write with ``write`` into a temporary file beside ``path`` and put it in place only
    when that succeeded: a failed write leaves an existing file as it was. Text is in
    ``encoding`` (UTF-8; ``utf-8-sig`` starts it with a byte-order mark), its line ends
    as written. A file that cannot be written is one line and exit 2."""
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below, renamed on success)
            "wb" if binary else "w", encoding=None if binary else encoding,
            newline=None if binary else "", dir=path.parent, prefix=f".{path.name}.",
            suffix=".part", delete=False)
    except OSError as err:
        _fail(f"cannot write {path}: {err.strerror or type(err).__name__}.")
    try:
        with handle:
            result = write(handle)
        # mkstemp's file is private (0600): give it the mode the file had, or the one a
        # new file gets under this umask, as open() would have.
        os.chmod(handle.name, _mode_for(path))
        os.replace(handle.name, path)
    except BaseException as err:
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(err, OSError):
            _fail(f"cannot write {path}: {err.strerror or type(err).__name__}.")
        raise
    return result


def _mode_for(path: Path) -> int:
    """The permission bits a rewritten ``path`` keeps: its own, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
