"""Files the `vigie` commands write (`export --output`, `report --out`, `eval --out`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")


def write_atomically(path: Path, write: Callable[[IO[Any]], T], *, binary: bool = False) -> T:
    """Write with ``write`` into a temporary file beside ``path`` and put it in place only
    when that succeeded: a failed write leaves an existing file as it was. Text is UTF-8,
    its line ends as written."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed below, renamed on success)
        "wb" if binary else "w", encoding=None if binary else "utf-8",
        newline=None if binary else "", dir=path.parent, prefix=f".{path.name}.",
        suffix=".part", delete=False)
    try:
        with handle:
            result = write(handle)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return result
