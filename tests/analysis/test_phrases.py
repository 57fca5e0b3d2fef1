"""The phrase table's per-word look-up of the phrases a word can start."""

from __future__ import annotations

import pytest

from bot.analysis import phrases
from bot.analysis.phrases import Phrase, PhraseTable, starts_of

TABLE = PhraseTable({"complaint": "refund* | not working | still waiting", "praise": "love*"})


def keys(found: tuple[Phrase, ...]) -> list[str]:
    return [p.key for p in found]


def test_a_word_starts_the_phrases_of_its_word_then_of_its_stems() -> None:
    assert keys(TABLE.starting("not")) == ["complaint"]
    assert keys(TABLE.starting("refunded")) == ["complaint"]
    assert keys(TABLE.starting("lovely")) == ["praise"]
    assert TABLE.starting("ref") == ()  # shorter than the stem "refund"
    assert TABLE.starting("hello") == ()


def test_stem_slack_bounds_the_letters_a_word_adds_to_a_stem() -> None:
    assert keys(TABLE.starting("refunds", 1)) == ["complaint"]
    assert TABLE.starting("refunded", 1) == ()
    assert keys(TABLE.starting("refunded", None)) == ["complaint"]


def test_starts_are_cached_per_word_and_the_cache_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(phrases, "_CACHE_LIMIT", 3)
    cache: dict[str, tuple[Phrase, ...]] = {}
    words = ["i", "love", "it", "not", "working"]
    found = starts_of(words, cache, TABLE.starting)
    assert [keys(f) for f in found] == [[], ["praise"], [], ["complaint"], []]
    assert set(cache) == set(words)
    # Past its limit, the next new word empties it first; the answers do not change.
    again = starts_of(["lovely", "not"], cache, TABLE.starting)
    assert [keys(f) for f in again] == [["praise"], ["complaint"]]
    assert set(cache) == {"lovely"}
