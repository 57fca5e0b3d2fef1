"""Run-time inference of the shipped sentiment models (multinomial logistic regression).

A model file is gzip-compressed JSON written by ``training/train_sentiment.py``. Weights
are stored as int16 with one scale per block; idf-weighting is folded into the weights
at load time. Inference is pure Python: per text it sums a few hundred array entries,
and the character block is cached per token because most tokens recur.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import threading
from array import array
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol, Self, TypeVar

from bot.analysis.features import FeatureConfig, TextFeatures, char_ngrams, extract
from bot.analysis.lexicon import LexiconScorer

CLASSES = ("negative", "neutral", "positive")
MODEL_FORMAT = 1
_CACHE_LIMIT = 50_000


def encode_int16(values: Sequence[int]) -> str:
    """Base64 of little-endian int16 values (the storage format of weights)."""
    data = array("h", values)
    if data.itemsize != 2:  # pragma: no cover - every CPython platform has 2-byte shorts
        raise RuntimeError("int16 arrays are not 2 bytes here")
    return base64.b64encode(data.tobytes()).decode("ascii")


def decode_int16(text: str) -> array[int]:
    """Inverse of ``encode_int16``."""
    data = array("h")
    data.frombytes(base64.b64decode(text))
    return data


# Per feature, its three class weights and its squared idf are stored as fixed-point
# lanes of one Python integer (plus a count lane), so summing a text's features is a
# single C-level ``sum`` over integers; each lane carries an offset to stay positive.
# The binary classifiers lay out their lanes the same way.
LANE_BITS = 56
"""Bits per lane."""
LANE_MASK = (1 << LANE_BITS) - 1
LANE_FIXED = float(1 << 20)
"""Fixed-point units per 1.0 in a lane."""
LANE_OFFSET = 1 << 40
"""What each packed feature adds to every lane, so that sums stay positive."""
_COUNT_SHIFT = 4 * LANE_BITS


def _pack(values: Sequence[float]) -> int:
    packed = 1 << _COUNT_SHIFT
    for j, value in enumerate(values):
        packed |= (round(value * LANE_FIXED) + LANE_OFFSET) << (LANE_BITS * j)
    return packed


def unpack_sums(total: int) -> tuple[float, float, float, float]:
    """Decode a sum of packed features: (w_neg, w_neu, w_pos, squared idf) sums."""
    base = (total >> _COUNT_SHIFT) * LANE_OFFSET
    return (
        ((total & LANE_MASK) - base) / LANE_FIXED,
        (((total >> LANE_BITS) & LANE_MASK) - base) / LANE_FIXED,
        (((total >> (2 * LANE_BITS)) & LANE_MASK) - base) / LANE_FIXED,
        (((total >> (3 * LANE_BITS)) & LANE_MASK) - base) / LANE_FIXED,
    )


def feature_key(lang: str, config: FeatureConfig, lexicons: Any) -> tuple[str, FeatureConfig, str]:
    """What decides the features a model extracts: language, feature config, lexicons."""
    canonical = json.dumps(lexicons, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return (lang, config, hashlib.sha256(canonical).hexdigest())


@dataclass(slots=True)
class _Block:
    """One sparse block: feature -> packed idf-folded class weights and squared idf."""

    packed: dict[str, int]

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> _Block:
        """Decode a block of a model file and pack each feature's weights."""
        vocab = payload["vocab"].split("\n") if payload["vocab"] else []
        scale = float(payload["scale"])
        idf_scale = float(payload["idf_scale"])
        raw = decode_int16(payload["weights"])
        idf_raw = decode_int16(payload["idf"])
        n = len(vocab)
        if len(raw) != 3 * n or len(idf_raw) != n:
            raise ValueError("model block sizes do not match its vocabulary")
        # _pack inlined (the same arithmetic, in the same order): this loop is most of a
        # model's start-up.
        fixed, offset, lane, count = LANE_FIXED, LANE_OFFSET, LANE_BITS, 1 << _COUNT_SHIFT
        packed = {}
        for i, feature in enumerate(vocab):
            idf = idf_raw[i] * idf_scale
            weight = scale * idf
            j = 3 * i
            packed[feature] = (
                count
                | (round(raw[j] * weight * fixed) + offset)
                | ((round(raw[j + 1] * weight * fixed) + offset) << lane)
                | ((round(raw[j + 2] * weight * fixed) + offset) << (2 * lane))
                | ((round(idf * idf * fixed) + offset) << (3 * lane))
            )
        return cls(packed)


class PackedBlock(Protocol):
    """A sparse block of a model: feature -> its lanes packed in one integer."""

    @property
    def packed(self) -> dict[str, int]:
        """The packed integer of each feature of the block."""
        ...


class CharGramModel:
    """What the shipped linear models share: loading from a model file's bytes, and the
    per-token sum of a token's character n-grams, cached because most tokens recur."""

    config: FeatureConfig
    words: PackedBlock
    chars: PackedBlock

    def __init__(self, payload: Mapping[str, Any]) -> None:
        """Start with an empty character cache; subclasses read ``payload``."""
        self._char_cache: dict[str, int] = {}

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """Load from the gzip-compressed JSON bytes of a model file."""
        return cls(json.loads(gzip.decompress(data)))

    def _token_chars(self, token: str) -> int:
        cached = self._char_cache.get(token)
        if cached is None:
            grams = char_ngrams(token, self.config.char_min, self.config.char_max)
            cached = self._cache_chars(token, grams)
        return cached

    def _cache_chars(self, token: str, grams: list[str]) -> int:
        """Sum ``token``'s n-grams ``grams`` in this model's character block and cache it."""
        value = sum(filter(None, map(self.chars.packed.get, grams)))
        if len(self._char_cache) >= _CACHE_LIMIT:
            self._char_cache.clear()
        self._char_cache[token] = value
        return value


def warm_char_caches(models: Sequence[CharGramModel], tokens: Sequence[str]) -> None:
    """Cache in each of ``models`` its character sum of every token of ``tokens`` it has not
    cached yet, cutting each such token into n-grams once for all of them (what the
    models would each do on their own, with the same sums). The models must cut tokens
    alike (equal ``char_min`` and ``char_max``); those with an empty character block are
    left alone. When the first model holds every token already, nothing is done: a model
    still computes, as it scores, any token it misses.
    """
    # Once warm, most texts bring no token new to the first model: one C-level pass says
    # so, and the others (warmed together with it) compute any token they miss themselves.
    if not models or all(map(models[0]._char_cache.__contains__, tokens)):
        return
    models = [
        m for m in models if m.chars.packed and not all(map(m._char_cache.__contains__, tokens))
    ]
    if not models:
        return
    lo, hi = models[0].config.char_min, models[0].config.char_max
    if any((m.config.char_min, m.config.char_max) != (lo, hi) for m in models):
        raise ValueError("models cut tokens into different character n-grams")
    for token in set(tokens):
        missing = [m for m in models if token not in m._char_cache]
        if missing:
            grams = char_ngrams(token, lo, hi)
            for model in missing:
                model._cache_chars(token, grams)


class LinearSentimentModel(CharGramModel):
    """A trained model for one language; ``probabilities(text)`` is the whole API."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        """Build from the decoded JSON payload of a model file."""
        super().__init__(payload)
        if payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"unsupported sentiment model format {payload.get('format')!r}")
        if tuple(payload["classes"]) != CLASSES:
            raise ValueError("sentiment model classes must be negative, neutral, positive")
        self.lang: str = payload["lang"]
        self.config = FeatureConfig(**payload["config"])
        self.scorer = LexiconScorer(payload["lexicons"], self.lang)
        self.feature_key = feature_key(self.lang, self.config, payload["lexicons"])
        """Models with equal keys extract the same features from a text (see ``features``)."""
        self.intercept: list[float] = [float(v) for v in payload["intercept"]]
        self.dense_weights: list[list[float]] = [
            [float(v) for v in row] for row in payload["dense_weights"]
        ]
        self.words = _Block.from_json(payload["word"])
        self.chars = _Block.from_json(payload["char"])

    def features(self, text: str) -> TextFeatures:
        """What the model reads of ``text``; ``logits_of`` scores it."""
        return extract(text, self.lang, self.scorer, self.config)

    def logits(self, text: str) -> list[float]:
        """Unnormalized class scores (negative, neutral, positive)."""
        return self.logits_of(self.features(text))

    def logits_of(self, feats: TextFeatures) -> list[float]:
        """``logits`` of features already extracted by a model with the same ``feature_key``."""
        # Word features are binary: each distinct known word counts once (the C-level
        # intersection keeps only those, with no set of every word built first).
        packed = self.words.packed
        words = sum(map(packed.__getitem__, packed.keys() & feats.words))
        # Most tokens are cached: look them all up at C speed, compute only the misses.
        per_token = list(map(self._char_cache.get, feats.tokens))
        if None in per_token:
            per_token = [self._token_chars(t) if v is None else v
                         for t, v in zip(feats.tokens, per_token, strict=True)]
        chars = sum(per_token)  # type: ignore[arg-type]
        return self.logits_from(
            unpack_sums(words) if words else None, unpack_sums(chars) if chars else None,
            feats.dense,
        )

    def logits_from(
        self, words: Sequence[float] | None, chars: Sequence[float] | None, dense: Sequence[float]
    ) -> list[float]:
        """``logits_of`` from the decoded lane sums of the word and character blocks
        (``(w_neg, w_neu, w_pos, squared idf)``, None for no feature) and the dense block."""
        # Three local sums rather than a list's items: the same additions, in the same order.
        out0, out1, out2 = self.intercept
        for sums in (words, chars):
            if sums:
                s0, s1, s2, q = sums
                if q > 0.0:
                    norm = 1.0 / math.sqrt(q)
                    out0 += s0 * norm
                    out1 += s1 * norm
                    out2 += s2 * norm
        for value, weights in zip(dense, self.dense_weights, strict=True):
            if value:
                out0 += value * weights[0]
                out1 += value * weights[1]
                out2 += value * weights[2]
        return [out0, out1, out2]

    def probabilities(self, text: str) -> tuple[float, float, float]:
        """Class probabilities (negative, neutral, positive), summing to 1."""
        return self.probabilities_of(self.features(text))

    def probabilities_of(self, feats: TextFeatures) -> tuple[float, float, float]:
        """``probabilities`` of features already extracted (see ``logits_of``)."""
        return softmax(self.logits_of(feats))


def softmax(logits: Sequence[float]) -> tuple[float, float, float]:
    """Class probabilities (negative, neutral, positive) of a model's three logits."""
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return exps[0] / total, exps[1] / total, exps[2] / total


_K = TypeVar("_K", bound=Hashable)
_M = TypeVar("_M", bound=CharGramModel)


def load_shipped(
    models: dict[_K, _M], lock: threading.Lock, key: _K, name: str, kind: type[_M]
) -> _M:
    """The shipped model file ``name`` (in ``bot.analysis.models``) as a ``kind``, loaded
    once per process and kept in ``models`` under ``key``; ``lock`` guards the first load."""
    model = models.get(key)
    if model is None:
        with lock:
            model = models.get(key)
            if model is None:
                data = resources.files("bot.analysis.models").joinpath(name)
                model = kind.from_bytes(data.read_bytes())
                models[key] = model
    return model
