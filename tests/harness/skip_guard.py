"""Skips that hide a missing file: listed at the end of a run, and fatal in CI.

A test skipped because a fixture file is absent reports green while checking nothing; the
fixtures live in tests/data so that a fresh clone runs everything it reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MISSING_FILE = re.compile(
    r"not found|missing|no such file|does not exist|VIGIE_SHARED_DATA|shared data", re.IGNORECASE
)
"""How a skip reason says a file or folder is absent."""


def skip_reason(report: Any) -> str | None:
    """The reason of a skipped test or collection report, else None (an expected failure
    is reported as skipped by pytest, but is not one)."""
    if not getattr(report, "skipped", False) or hasattr(report, "wasxfail"):
        return None
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr) if longrepr is not None else ""


def missing_file_skips(reports: Iterable[Any]) -> list[str]:
    """``nodeid: reason`` for every report skipped because a file is missing."""
    found = []
    for report in reports:
        reason = skip_reason(report)
        if reason is not None and MISSING_FILE.search(reason):
            found.append(f"{report.nodeid}: {reason}")
    return found
