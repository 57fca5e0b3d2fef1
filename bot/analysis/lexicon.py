"""Lexicon scoring in the manner of VADER (Hutto & Gilbert, ICWSM-14), for EN and FR.

Each lexicon maps a lowercased token to a valence on VADER's -4..+4 scale. A token's
valence is raised by a preceding booster ("very", "très") or by capitals used for
emphasis, lowered by a dampener, flipped and shrunk by a negation within the three
previous tokens, and weighted around "but"/"mais" as VADER does. The sums feed the
sentiment model as dense features; the same code runs in training and at run time.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from typing import cast

from bot.analysis.text import fold_accents

B_INCR = 0.293
C_INCR = 0.733
N_SCALAR = -0.74
ALPHA = 15.0
NEGATION_WINDOW = 3


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """The function words that modify valences in one language."""

    negators: frozenset[str]
    boosters: frozenset[str]
    dampeners: frozenset[str]
    contrast: frozenset[str]


def _words(spec: str) -> frozenset[str]:
    """A word set holding each word as written and without its accents."""
    words = spec.split()
    return frozenset(words) | frozenset(fold_accents(w) for w in words)


EN_RULES = LanguageRules(
    negators=_words(
        "not no never none nobody nothing nowhere neither nor cannot cant dont doesnt didnt "
        "isnt arent wasnt werent wont wouldnt shouldnt couldnt havent hasnt hadnt aint "
        "without rarely seldom despite nope"
    ),
    boosters=_words(
        "absolutely amazingly awfully completely considerably deeply effing enormously "
        "entirely especially exceptionally extremely fabulously fucking fuckin greatly hella "
        "highly hugely incredibly intensely majorly most particularly purely quite really "
        "remarkably so soo substantially thoroughly totally tremendously unbelievably utterly "
        "very super too"
    ),
    dampeners=_words(
        "almost barely hardly kinda kindof less little marginally occasionally partly "
        "scarcely slightly somewhat sorta"
    ),
    contrast=frozenset({"but", "however"}),
)

FR_RULES = LanguageRules(
    negators=_words("ne n' pas jamais rien aucun aucune sans ni non nul nulle guère"),
    boosters=_words(
        "très trop vraiment tellement super hyper extrêmement absolument complètement "
        "totalement vachement carrément si particulièrement archi ultra"
    ),
    dampeners=_words("peu assez presque légèrement plutôt moyennement"),
    contrast=frozenset({"mais", "cependant", "pourtant", "toutefois"}),
)

RULES_BY_LANG: Mapping[str, LanguageRules] = {"en": EN_RULES, "fr": FR_RULES}


def compound(total: float) -> float:
    """VADER's squashing of a valence sum into [-1, 1]."""
    return total / math.sqrt(total * total + ALPHA)


class LexiconScorer:
    """Scores token lists against one or more lexicons; three features per lexicon."""

    def __init__(self, lexicons: Sequence[Mapping[str, float]], lang: str) -> None:
        """Build one lookup table for all lexicons: token -> valence per lexicon (or None).

        Accent-free spellings are added so "decu" finds "déçu"; zero valences are dropped.
        """
        self.lang = lang
        self.rules = RULES_BY_LANG.get(lang, EN_RULES)
        self.n_lexicons = len(lexicons)
        tables = []
        for lexicon in lexicons:
            table = {k.lower(): float(v) for k, v in lexicon.items() if float(v)}
            for key, value in list(table.items()):
                table.setdefault(fold_accents(key), value)
            tables.append(table)
        self._valences: dict[str, tuple[float | None, ...]] = {
            word: tuple(t.get(word) for t in tables) for word in set().union(*tables)
        }

    @property
    def n_features(self) -> int:
        """How many floats ``features`` returns."""
        return 3 * self.n_lexicons

    def features(self, tokens: Sequence[str], lowered: Sequence[str]) -> list[float]:
        """Per lexicon: positive sum /4, negative sum /4, and the compound score.

        ``tokens`` keep their case (capitals add emphasis); ``lowered`` are the same
        tokens lowercased, for the lookups.
        """
        get = self._valences.get
        found = list(map(get, lowered))
        if not all(map(str.isascii, lowered)):  # accent-free spellings of unknown words
            for i, word in enumerate(lowered):
                if found[i] is None and not word.isascii():
                    found[i] = get(fold_accents(word))
        if found.count(None) == len(found):
            # No lexicon word: every sum is 0.0, and so is its compound score.
            return [0.0] * (3 * self.n_lexicons)
        # A word's valences are a non-empty tuple (true), a word without any None.
        hits = cast("Iterator[tuple[int, tuple[float | None, ...]]]",
                    compress(enumerate(found), found))
        pos = [0.0] * self.n_lexicons
        neg = [0.0] * self.n_lexicons
        rules = self.rules
        # any(map(...)) first: a C-level pass that rules out most texts.
        # Only the upper-case tokens are read in Python ("I" makes most English
        # texts pass the first test).
        shouting = (
            any(len(t) > 1 for t in filter(str.isupper, tokens))
            and not all(t.isupper() for t in tokens if t.isalpha())
        )
        contrast_at = -1
        if not rules.contrast.isdisjoint(lowered):
            for i, word in enumerate(lowered):
                if word in rules.contrast:
                    contrast_at = i
        # Where the negators are, found once (in order): most texts have none.
        negators: list[int] = []
        if not rules.negators.isdisjoint(lowered) or "n't" in " ".join(lowered):
            words = rules.negators
            negators = [i for i, word in enumerate(lowered)
                        if word in words or word.endswith("n't")]
        boosters = rules.boosters
        dampeners = rules.dampeners
        for i, valences in hits:
            boost = 0.0
            negated = False
            if i:
                before = lowered[i - 1]
                if before in boosters:
                    boost = B_INCR
                elif before in dampeners:
                    boost = -B_INCR
                if negators:
                    # A negator in the window before i: the last one before i is in it.
                    k = bisect_left(negators, i)
                    negated = k > 0 and negators[k - 1] >= i - NEGATION_WINDOW
            scale = N_SCALAR if negated else 1.0
            if contrast_at >= 0 and i != contrast_at:
                scale *= 0.5 if i < contrast_at else 1.5
            # sign * extra of each valence, the sign being +-1.0: exactly +-extra.
            extra = boost + (C_INCR if shouting and tokens[i].isupper() else 0.0)
            for j, valence in enumerate(valences):
                if valence is None:
                    continue
                value = (valence + (extra if valence > 0 else -extra)) * scale
                if value > 0:
                    pos[j] += value
                else:
                    neg[j] += value
        out: list[float] = []
        for p, n in zip(pos, neg, strict=True):
            total = p + n
            out += (p / 4.0, n / 4.0, total / math.sqrt(total * total + ALPHA))  # compound
        return out
