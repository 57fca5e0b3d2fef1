"""One pass over a text's features for all the linear models of a language that read them.

The sentiment model of a language and its complaint and question classifiers read the
same features (equal ``feature_key``). Each keeps, per feature, fixed-point lanes (class
weights, squared idf) packed in one integer (see ``linear_model``). A ``JointScorer``
lays the lanes of all of them side by side in one wider integer per feature, so a
text's word block and character block are each summed once for every model (one set
intersection, one cached sum per token) and then cut back into each model's sums.
Those sums are integers, so every model gets exactly the sums it would have added on
its own, and scores them with its own arithmetic: the same bits as scoring alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import add

from bot.analysis.binary_model import BinaryLinearModel, care_features
from bot.analysis.features import TextFeatures, char_ngrams
from bot.analysis.linear_model import (
    LANE_BITS,
    LANE_FIXED,
    LANE_MASK,
    LANE_OFFSET,
    CharGramModel,
    LinearSentimentModel,
    softmax,
)

_CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class _Layout:
    """How to decode a sum of one block's integers: the shift of every lane, where the
    count lane starts, and each model's slice of the lanes (None: the model
    has no features in the block)."""

    shifts: tuple[int, ...]
    count_shift: int
    models: tuple[tuple[int, int] | None, ...]

    def split(self, total: int) -> list[list[float] | None]:
        """Each model's lane sums from a sum of the block's integers, as its own unpacking
        gives them (None for every model when nothing was summed)."""
        if not total:
            return [None] * len(self.models)
        base = (total >> self.count_shift) * LANE_OFFSET
        values = [(((total >> shift) & LANE_MASK) - base) / LANE_FIXED for shift in self.shifts]
        return [None if place is None else values[place[0]:place[1]] for place in self.models]

    def splitter(self) -> Callable[[int], list[list[float] | None]]:
        """``split`` written out for this layout: one function that decodes every lane
        with its own expression and builds each model's list directly (the same
        arithmetic on the same integers, so the same floats), without the comprehensions
        and slices ``split`` runs on every call. Two blocks are split per text."""
        lanes = [f"(((total >> {shift}) & {LANE_MASK}) - base) / {LANE_FIXED!r}"
                 for shift in self.shifts]
        parts = ["None" if place is None else "[" + ", ".join(lanes[place[0]:place[1]]) + "]"
                 for place in self.models]
        source = (
            "def split(total):\n"
            "    if not total:\n"
            f"        return [{', '.join(['None'] * len(self.models))}]\n"
            f"    base = (total >> {self.count_shift}) * {LANE_OFFSET}\n"
            f"    return [{', '.join(parts)}]\n"
        )
        scope: dict[str, Callable[[int], list[list[float] | None]]] = {}
        exec(source, scope)  # noqa: S102 - built from this layout's integers only
        return scope["split"]


def _fuse(blocks: Sequence[dict[str, int]], widths: Sequence[int]
          ) -> tuple[dict[str, int], _Layout]:
    """One integer per feature of any of ``blocks`` (each model's packed features of one
    block; ``widths``: its lanes per feature), every model's lanes side by side and one
    count lane on top. A model without the feature gets zero-valued lanes there, which
    leaves its sums as they were. A block only one model has is used as it is."""
    places: list[tuple[int, int] | None] = [None] * len(blocks)
    parts = []
    start = 0
    for n, block in enumerate(blocks):
        if block:
            places[n] = (start, start + widths[n])
            parts.append((block, widths[n], start))
            start += widths[n]
    shifts = tuple(LANE_BITS * j for j in range(start))
    layout = _Layout(shifts, LANE_BITS * start, tuple(places))
    if len(parts) == 1:
        return parts[0][0], layout
    # A model's packed feature is its lanes under a count of 1: keep the lanes, shift
    # them to the model's place. The fused sums stay within the lanes' room as the
    # models' own do (both count at most every feature occurrence of the text).
    moved = []
    for block, width, first in parts:
        absent = sum(LANE_OFFSET << (LANE_BITS * (first + j)) for j in range(width))
        moved.append((block, (1 << (LANE_BITS * width)) - 1, LANE_BITS * first, absent))
    fused: dict[str, int] = {}
    count = 1 << layout.count_shift
    for feature in set().union(*blocks):
        value = count
        for block, lanes, shift, absent in moved:
            packed = block.get(feature)
            value |= absent if packed is None else (packed & lanes) << shift
        fused[feature] = value
    return fused, layout


class JointScorer:
    """A sentiment model and binary classifiers reading its features, scored together."""

    def __init__(self, sentiment: LinearSentimentModel,
                 binaries: Sequence[BinaryLinearModel]) -> None:
        """Fuse the word and character blocks of ``sentiment`` and ``binaries``, which must
        all read the features of ``sentiment.feature_key``."""
        models: list[CharGramModel] = [sentiment, *binaries]
        if any(b.feature_key != sentiment.feature_key for b in binaries):
            raise ValueError("the models do not read the same features")
        self.sentiment = sentiment
        self.binaries = tuple(binaries)
        widths = [4, *(2 for _ in binaries)]  # (3 class weights | 1 weight) + squared idf
        self._words, self._word_layout = _fuse([m.words.packed for m in models], widths)
        self._chars, self._char_layout = _fuse([m.chars.packed for m in models], widths)
        self._split_words = self._word_layout.splitter()
        self._split_chars = self._char_layout.splitter()
        self._lo, self._hi = sentiment.config.char_min, sentiment.config.char_max
        self._char_cache: dict[str, int] = {}

    def _token_chars(self, token: str) -> int:
        """The fused sum of ``token``'s character n-grams, cached."""
        if self._lo == 2 and self._hi == 5:  # the shipped models: char_ngrams written out
            padded = f" {token} "
            two = list(map(add, padded, padded[1:]))
            three = list(map(add, two, padded[2:]))
            four = list(map(add, three, padded[3:]))
            grams: Iterable[str] = chain(two, three, four, map(add, four, padded[4:]))
        else:
            grams = char_ngrams(token, self._lo, self._hi)
        value = sum(filter(None, map(self._chars.get, grams)))
        if len(self._char_cache) >= _CACHE_LIMIT:
            self._char_cache.clear()
        self._char_cache[token] = value
        return value

    def score(self, text: str, feats: TextFeatures
              ) -> tuple[tuple[float, float, float], list[float]]:
        """The sentiment probabilities and each binary classifier's logit for ``text``,
        whose features ``feats`` the sentiment model extracted; what
        ``probabilities_of`` and ``logit_of`` (with ``care_features``) would give."""
        packed = self._words
        words = sum(map(packed.__getitem__, packed.keys() & feats.words))
        per_token = list(map(self._char_cache.get, feats.tokens))
        if None in per_token:
            per_token = [self._token_chars(t) if v is None else v
                         for t, v in zip(feats.tokens, per_token, strict=True)]
        chars: int = sum(per_token)  # type: ignore[arg-type]
        word_sums = self._split_words(words)
        char_sums = self._split_chars(chars)
        probabilities = softmax(self.sentiment.logits_from(word_sums[0], char_sums[0], feats.dense))
        if not self.binaries:
            return probabilities, []
        dense = feats.dense + care_features(text, feats)
        logits = [
            model.logit_from(word_sums[n], char_sums[n], dense)
            for n, model in enumerate(self.binaries, start=1)
        ]
        return probabilities, logits
