"""Phrase rules over words, shared by intent flags and request topics.

Rule syntax: a rule body lists phrases separated by ``|``; a phrase is a sequence of
word slots; a slot lists alternatives separated by ``/``; a trailing ``*`` makes an
alternative a stem ("rembours*"); a trailing ``?`` makes the slot optional ("x? y" is
both "x y" and "y"). Phrases are folded to accent-free text and hyphens split words.

A ``PhraseTable`` indexes every phrase by its first word, or by the first
``STEM_KEY`` letters of a first-word stem, so a matcher looks up each word of a text
once and tries only the phrases that can start there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.analysis.text import fold_accents

STEM_KEY = 3
"""Letters of a stem the table indexes it by (shorter stems are refused)."""
_CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class Slot:
    """One word position of a phrase: words, stems, and whether it may be skipped."""

    words: frozenset[str]
    stems: tuple[str, ...]
    optional: bool

    def matches(self, word: str) -> bool:
        """Whether ``word`` is one of the slot's words or starts with one of its stems."""
        return word in self.words or (bool(self.stems) and word.startswith(self.stems))


@dataclass(frozen=True, slots=True)
class Phrase:
    """A phrase of rule ``key`` (a flag or a topic) once its first word matched."""

    key: str
    rest: tuple[Slot, ...]


def parse_slot(spec: str) -> Slot:
    """``"charge/charg*?"`` -> a Slot with the word, the stem, optional."""
    optional = spec.endswith("?")
    alternatives = spec.rstrip("?").split("/")
    words = frozenset(a for a in alternatives if not a.endswith("*"))
    stems = tuple(a[:-1] for a in alternatives if a.endswith("*"))
    return Slot(words, stems, optional)


class PhraseTable:
    """Phrases indexed by their first word (or the first letters of a first-word stem).

    ``rules`` maps a key to a rule body. ``elisions``, when given, is removed from each
    phrase before it is split into slots (French "l'appli" written in a rule as the text
    matcher will see it, "appli"), for matchers that drop elisions from texts too.
    """

    def __init__(self, rules: dict[str, str], *, elisions: re.Pattern[str] | None = None
                 ) -> None:
        self.by_word: dict[str, list[Phrase]] = {}
        self.by_stem: dict[str, list[tuple[str, Phrase]]] = {}
        for key, body in rules.items():
            for phrase in fold_accents(" ".join(body.split())).split(" | "):
                phrase = phrase.replace("-", " ")
                if elisions is not None:
                    phrase = elisions.sub("", phrase)
                self._add(key, [parse_slot(s) for s in phrase.split()])

    def _add(self, key: str, slots: list[Slot]) -> None:
        if slots[0].optional:  # "x? y" is both "x y" and "y"
            self._add(key, slots[1:])
            slots = [Slot(slots[0].words, slots[0].stems, False), *slots[1:]]
        entry = Phrase(key, tuple(slots[1:]))
        for word in slots[0].words:
            self.by_word.setdefault(word, []).append(entry)
        for stem in slots[0].stems:
            if len(stem) < STEM_KEY:
                raise ValueError(f"stem {stem!r} is too short to index")
            self.by_stem.setdefault(stem[:STEM_KEY], []).append((stem, entry))

    def starting(self, word: str, slack: int | None = None) -> tuple[Phrase, ...]:
        """The phrases that can start at ``word``: those whose first word it is, then
        those whose first-word stem it extends by at most ``slack`` letters (None: any
        number), in table order."""
        phrases = self.by_word.get(word)
        stemmed = self.by_stem.get(word[:STEM_KEY])
        if not stemmed:
            return tuple(phrases) if phrases else ()
        return (*(phrases or ()), *(
            p for stem, p in stemmed
            if word.startswith(stem) and (slack is None or len(word) - len(stem) <= slack)
        ))


def starts_of(words: list[str], cache: dict[str, tuple[Phrase, ...]],
              compute: Callable[[str], tuple[Phrase, ...]]) -> list[tuple[Phrase, ...]]:
    """``compute(word)`` for each of ``words``, kept in ``cache``: most words recur, so
    they are all looked up at C speed and only the new ones computed."""
    found = list(map(cache.get, words))
    if None in found:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        for i, word in enumerate(words):
            if found[i] is None:
                found[i] = cache[word] = compute(word)
    return found  # type: ignore[return-value]


def match_rest(slots: tuple[Slot, ...], words: list[str], start: int) -> int:
    """End index of the phrase tail matched from ``start``, or -1."""
    i = start
    size = len(words)
    for slot in slots:
        # Slot.matches, inlined: this runs for every phrase a text's words may start.
        if i < size and (words[i] in slot.words
                         or (bool(slot.stems) and words[i].startswith(slot.stems))):
            i += 1
        elif not slot.optional:
            return -1
    return i
