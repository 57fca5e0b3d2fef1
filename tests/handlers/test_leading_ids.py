"""The mention ids a workflow command starts with, and where its text begins: several ids
only where the text cannot be meant (``#41 #42``, ``41,42``, bare numbers with nothing else
after them), so a reason may start with a number."""

from __future__ import annotations

import pytest

from handlers.commands.parsing import leading_ids


@pytest.mark.parametrize(("args", "expected"), [
    (["41"], ([41], 1)),
    (["41", "42", "43"], ([41, 42, 43], 3)),
    (["#41", "42"], ([41, 42], 2)),
    (["#41", "#42", "spam"], ([41, 42], 2)),
    (["41", "#42", "spam"], ([41, 42], 2)),
    (["41,42", "duplicates"], ([41, 42], 1)),
    (["41,", "42", "3rd", "time"], ([41, 42], 2)),
    (["41", ",42", "spam"], ([41, 42], 2)),
    (["41", ",", "42", "spam"], ([41, 42], 3)),
    (["#41,#42,", ",", "x"], ([41, 42], 2)),
    (["41", "<@U07ANA0001|ana>"], ([41], 1)),
    (["spam", "41"], ([], 0)),
    ([",", "41"], ([], 0)),
    (["4x1"], ([], 0)),
    ([], ([], 0)),
])
def test_leading_ids(args: list[str], expected: tuple[list[int], int]) -> None:
    assert leading_ids(args) == expected


@pytest.mark.parametrize(("args", "expected"), [
    (["42", "2024", "campaign"], ([42], 1)),
    (["42", "3", "duplicates"], ([42], 1)),
    (["41", "42", "3", "duplicates"], ([41], 1)),
    (["42", "3,4", "duplicates"], ([42], 1)),
    (["41,42", "3", "duplicates"], ([41, 42], 1)),
    (["#41", "#42", "3", "duplicates"], ([41, 42], 2)),
])
def test_a_reason_starting_with_a_number_is_no_id(args: list[str],
                                                  expected: tuple[list[int], int]) -> None:
    """Bare numbers followed by words are one id and a reason: `/cm ignore 42 3 duplicates`
    never ignores #3 too."""
    assert leading_ids(args) == expected


@pytest.mark.parametrize(("args", "expected"), [
    (["41", "42", "43", "<@U07ANA0001|ana>"], ([41, 42, 43], 3)),
    (["41", "42", "https://mastodon.social/@acme/9"], ([41, 42], 2)),
    (["41", "42"], ([41, 42], 2)),
    (["41", "<@U07ANA0001|ana>"], ([41], 1)),
    (["41", "42", "<@U07ANA0001|ana>", "extra"], ([41], 1)),
    (["<@U07ANA0001|ana>"], ([], 0)),
])
def test_bare_ids_before_a_last_word(args: list[str], expected: tuple[list[int], int]) -> None:
    """A command whose text is one word that is never a number (assign's @user, replied's
    link) takes the bare numbers before it as ids."""
    assert leading_ids(args, last_word=True) == expected
