"""Run-time inference of the shipped binary classifiers (complaint, question).

A model file is gzip-compressed JSON written by ``training/train_classifiers.py``: a
logistic regression over the same three feature blocks as the sentiment models (word
n-grams, character n-grams inside tokens, dense lexicon features; see ``features.py``)
plus a few cues of customer-care text (``CARE_DENSE``). Weights are int16 with one
scale per block. Inference is pure Python, like ``linear_model``: each feature's weight
and squared idf are lanes of one integer, so a block is one C-level ``sum``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.analysis.features import FeatureConfig, TextFeatures, extract
from bot.analysis.lexicon import LexiconScorer
from bot.analysis.linear_model import (
    LANE_BITS,
    LANE_FIXED,
    LANE_MASK,
    LANE_OFFSET,
    CharGramModel,
    decode_int16,
    feature_key,
)
from bot.analysis.text import clean_text, digit_shape

BINARY_FORMAT = 1

CARE_DENSE = ("long_number", "addressed", "url", "first_person", "question_marks")
"""Names of the extra dense features, in the order ``care_features`` returns them."""

# Only searched for: four digits in a row match where \d{4,} does. A pattern opening on a
# character class lets ``re`` skip to the next digit instead of trying every position.
_LONG_NUMBER_RE = re.compile(r"\d\d\d\d")
_FIRST_PERSON = frozenset({
    "i", "i'm", "im", "i've", "ive", "my", "me", "mine", "we", "our", "us",
    "je", "j'", "moi", "mon", "ma", "mes", "nous", "notre", "nos",
})

# Two fixed-point lanes (weight, squared idf) and a count lane in one integer, laid out
# as the sentiment models lay out theirs (see linear_model).
_COUNT_SHIFT = 2 * LANE_BITS


def _pack(weight: float, idf_squared: float) -> int:
    return (
        (1 << _COUNT_SHIFT)
        | (round(weight * LANE_FIXED) + LANE_OFFSET)
        | ((round(idf_squared * LANE_FIXED) + LANE_OFFSET) << LANE_BITS)
    )


def _unpack(total: int) -> tuple[float, float]:
    base = (total >> _COUNT_SHIFT) * LANE_OFFSET
    return (
        ((total & LANE_MASK) - base) / LANE_FIXED,
        (((total >> LANE_BITS) & LANE_MASK) - base) / LANE_FIXED,
    )


def care_features(text: str, feats: TextFeatures) -> list[float]:
    """Cues of a customer writing to a brand, the same in every language.

    An order or account number, the text opening on a handle (addressed to someone),
    a link, the author speaking of themselves, and how many question marks (capped).
    """
    cleaned = clean_text(text)
    tokens = feats.tokens
    if cleaned.isascii():
        long_number = b"1111" in digit_shape(cleaned)
    else:
        long_number = _LONG_NUMBER_RE.search(cleaned) is not None
    return [
        1.0 if long_number else 0.0,
        1.0 if cleaned.lstrip().startswith("@") else 0.0,
        1.0 if "http" in tokens else 0.0,
        1.0 if not _FIRST_PERSON.isdisjoint(tokens) else 0.0,
        min(cleaned.count("?"), 3) / 3.0,
    ]


def classifier_features(
    text: str, lang: str, scorer: LexiconScorer, config: FeatureConfig
) -> TextFeatures:
    """The sentiment features of ``text`` with ``care_features`` appended to the dense block
    (what training and run time both feed the binary models)."""
    return with_care(text, extract(text, lang, scorer, config))


def with_care(text: str, feats: TextFeatures) -> TextFeatures:
    """``feats`` (sentiment features of ``text``) with ``care_features`` appended, as a new
    value: the sentiment model that extracted them can still read them."""
    return TextFeatures(feats.words, feats.tokens, feats.dense + care_features(text, feats))


_scorers: dict[tuple[str, FeatureConfig, str], LexiconScorer] = {}


def _shared_scorer(lexicons: Any, key: tuple[str, FeatureConfig, str]) -> LexiconScorer:
    """One scorer per distinct set of lexicons: the models of a language embed the same."""
    scorer = _scorers.get(key)
    if scorer is None:
        scorer = _scorers.setdefault(key, LexiconScorer(lexicons, key[0]))
    return scorer


@dataclass(slots=True)
class _Block:
    """One sparse block: feature -> packed idf-folded weight and squared idf."""

    packed: dict[str, int]

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> _Block:
        """Decode a block of a model file and pack each feature's weight."""
        vocab = payload["vocab"].split("\n") if payload["vocab"] else []
        scale = float(payload["scale"])
        idf_scale = float(payload["idf_scale"])
        raw = decode_int16(payload["weights"])
        idf_raw = decode_int16(payload["idf"])
        if len(raw) != len(vocab) or len(idf_raw) != len(vocab):
            raise ValueError("model block sizes do not match its vocabulary")
        # _pack inlined (the same arithmetic, in the same order): this loop is most of a
        # model's start-up.
        count, offset, fixed, lane = 1 << _COUNT_SHIFT, LANE_OFFSET, LANE_FIXED, LANE_BITS
        packed = {}
        for feature, w, i in zip(vocab, raw, idf_raw, strict=True):
            idf = i * idf_scale
            packed[feature] = (
                count
                | (round(w * scale * idf * fixed) + offset)
                | ((round(idf * idf * fixed) + offset) << lane)
            )
        return cls(packed)


class BinaryLinearModel(CharGramModel):
    """A trained yes/no classifier for one language; ``probability(text)`` is the API."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        """Build from the decoded JSON payload of a model file."""
        super().__init__(payload)
        if payload.get("format") != BINARY_FORMAT or payload.get("kind") != "binary":
            raise ValueError(
                f"unsupported classifier model (format {payload.get('format')!r}, "
                f"kind {payload.get('kind')!r})"
            )
        self.task: str = payload["task"]
        self.lang: str = payload["lang"]
        self.feature_lang: str = payload.get("feature_lang", self.lang)
        self.config = FeatureConfig(**payload["config"])
        self.feature_key = feature_key(self.feature_lang, self.config, payload["lexicons"])
        """Equal to a sentiment model's key: that model's features serve this one too."""
        self.scorer = _shared_scorer(payload["lexicons"], self.feature_key)
        self.intercept = float(payload["intercept"])
        self.dense_weights: list[float] = [float(v) for v in payload["dense_weights"]]
        if len(self.dense_weights) != self.scorer.n_features + 2 + len(CARE_DENSE):
            raise ValueError("classifier dense weights do not match its lexicons")
        self.words = _Block.from_json(payload["word"])
        self.chars = _Block.from_json(payload["char"])

    def features(self, text: str) -> TextFeatures:
        """What this model reads of ``text`` (shareable between equal ``feature_key``s;
        from a sentiment model's features, ``with_care`` gives the same)."""
        return classifier_features(text, self.feature_lang, self.scorer, self.config)

    def logit(self, text: str) -> float:
        """The unsquashed score: positive means the class is likelier than not."""
        return self.logit_of(self.features(text))

    def logit_of(self, feats: TextFeatures) -> float:
        """``logit`` from features already extracted (by a model of the same key)."""
        packed = self.words.packed
        words = sum(map(packed.__getitem__, packed.keys() & feats.words))
        if packed:
            per_token = list(map(self._char_cache.get, feats.tokens))
            if None in per_token:
                per_token = [self._token_chars(t) if v is None else v
                             for t, v in zip(feats.tokens, per_token, strict=True)]
            chars = sum(per_token)  # type: ignore[arg-type]
        else:
            chars = 0
        return self.logit_from(
            _unpack(words) if words else None, _unpack(chars) if chars else None, feats.dense
        )

    def logit_from(
        self, words: Sequence[float] | None, chars: Sequence[float] | None, dense: Sequence[float]
    ) -> float:
        """``logit_of`` from the decoded lane sums of the word and character blocks
        (``(weight, squared idf)``, None for no feature) and the dense block."""
        out = self.intercept
        for sums in (words, chars):
            if sums:
                weight, q = sums
                if q > 0.0:
                    out += weight / math.sqrt(q)
        for value, weight in zip(dense, self.dense_weights, strict=True):
            if value:
                out += value * weight
        return out

    def probability(self, text: str) -> float:
        """Probability that ``text`` belongs to the model's class, in [0, 1]."""
        return sigmoid(self.logit(text))


def sigmoid(z: float) -> float:
    """The logistic function, without overflow for large ``|z|``."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
