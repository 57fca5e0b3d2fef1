"""Sentiment features, shared by training and run time so both see exactly the same input.

Three blocks: word unigrams and bigrams (binary, idf-weighted, L2-normalized), character
n-grams inside each token (counts, idf-weighted, normalized by the root of the summed
squared idf of the occurrences, which keeps the block additive per token so the run
time can cache it per token), and dense features (lexicon sums, punctuation).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from operator import add

from bot.analysis.frozen import fast_init
from bot.analysis.lexicon import LexiconScorer
from bot.analysis.text import normalize_social, tokenize


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Choices fixed at training time and stored with the model."""

    char_min: int = 2
    char_max: int = 5
    bigrams: bool = True
    mark_negation: bool = False

    def to_json(self) -> dict[str, int | bool]:
        """The config as stored in a model file."""
        return {
            "char_min": self.char_min,
            "char_max": self.char_max,
            "bigrams": self.bigrams,
            "mark_negation": self.mark_negation,
        }


@fast_init
@dataclass(frozen=True, slots=True)
class TextFeatures:
    """What one text contributes to each block, before weighting."""

    words: list[str]
    tokens: list[str]
    dense: list[float]


EXTRA_DENSE = ("exclamations", "question")
_NEGATION_END = frozenset(".,;:!?")


def char_ngrams(token: str, lo: int, hi: int) -> list[str]:
    """The character n-grams (lo..hi) of ``token`` padded with spaces: ``" ok "``."""
    padded = f" {token} "
    if lo < 1:
        size = len(padded)
        out: list[str] = []
        for n in range(lo, hi + 1):
            if n > size:
                break
            out.extend([padded[i : i + n] for i in range(size - n + 1)])
        return out
    # The n-grams are the (n-1)-grams each joined to the character after them: one
    # C-level map per n instead of a slice per n-gram (the same strings, in the same order).
    out = list(padded) if lo <= 1 <= hi else []
    grams: Iterable[str] = padded
    for n in range(2, hi + 1):
        grams = list(map(add, grams, padded[n - 1 :]))
        if not grams:
            break
        if n >= lo:
            out += grams
    return out


def extract(text: str, lang: str, scorer: LexiconScorer, config: FeatureConfig) -> TextFeatures:
    """Turn ``text`` into the raw material of the three feature blocks."""
    normalized = normalize_social(text)
    tokens = tokenize(normalized, lang)
    lowered = list(map(str.lower, tokens))
    dense = scorer.features(tokens, lowered)
    dense.append(min(normalized.count("!"), 4) / 4.0)
    dense.append(1.0 if "?" in normalized else 0.0)
    words = _mark_negation(lowered, scorer) if config.mark_negation else lowered.copy()
    if config.bigrams and len(lowered) > 1:
        words += map(" ".join, pairwise(lowered))
    return TextFeatures(words=words, tokens=lowered, dense=dense)


def _mark_negation(lowered: list[str], scorer: LexiconScorer) -> list[str]:
    """Prefix the words following a negator, up to punctuation, with ``not_``."""
    negators = scorer.rules.negators
    out: list[str] = []
    negated = False
    for word in lowered:
        if word in _NEGATION_END:
            negated = False
            out.append(word)
        elif word in negators or word.endswith("n't"):
            negated = True
            out.append(word)
        else:
            out.append(f"not_{word}" if negated else word)
    return out
