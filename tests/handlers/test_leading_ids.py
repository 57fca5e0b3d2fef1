"""The mention ids a workflow command starts with, and where its text begins."""

from __future__ import annotations

import pytest

from handlers.commands.parsing import leading_ids


@pytest.mark.parametrize(("args", "expected"), [
    (["41"], ([41], 1)),
    (["41", "42", "43"], ([41, 42, 43], 3)),
    (["#41", "#42", "spam"], ([41, 42], 2)),
    (["41,42", "duplicates"], ([41, 42], 1)),
    (["41,", "42", "3rd", "time"], ([41, 42], 2)),
    (["#41,#42,", ",", "x"], ([41, 42], 2)),
    (["41", "<@U07ANA0001|ana>"], ([41], 1)),
    (["spam", "41"], ([], 0)),
    ([",", "41"], ([], 0)),
    (["4x1"], ([], 0)),
    ([], ([], 0)),
])
def test_leading_ids(args: list[str], expected: tuple[list[int], int]) -> None:
    assert leading_ids(args) == expected
