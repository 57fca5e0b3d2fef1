"""The missing-file skip guard: which skip reasons it counts."""

from __future__ import annotations

from dataclasses import dataclass

from tests.harness.skip_guard import missing_file_skips, skip_reason


@dataclass
class Report:
    nodeid: str
    skipped: bool
    longrepr: object


def test_skips_for_a_missing_file_are_found_and_others_are_not() -> None:
    reports = [
        Report("a", True, ("x.py", 3, "Skipped: /x/feeds not found; set VIGIE_SHARED_DATA")),
        Report("b", True, ("x.py", 4, "Skipped: not well-formed or has a DTD")),
        Report("c", False, None),
        Report("d", True, ("x.py", 5, "Skipped: shared data is missing")),
        Report("e", True, "Skipped: [Errno 2] No such file or directory: 'x'"),
    ]
    assert missing_file_skips(reports) == [
        "a: Skipped: /x/feeds not found; set VIGIE_SHARED_DATA",
        "d: Skipped: shared data is missing",
        "e: Skipped: [Errno 2] No such file or directory: 'x'",
    ]


def test_reason_of_a_passed_test_or_an_expected_failure_is_none() -> None:
    assert skip_reason(Report("p", False, None)) is None
    xfail = Report("x", True, ("x.py", 1, "file not found"))
    xfail.wasxfail = "known bug"  # type: ignore[attr-defined]
    assert skip_reason(xfail) is None
