"""Language identification restricted to the languages a brand team is likely to meet.

A naive Bayes over character 1-3-grams (built from langdetect's Wikipedia profiles by
``training/build_language_model.py``) for the ``LANGUAGES`` below. Each known n-gram
holds its per-language costs (quantized negative log-probabilities) packed into one
Python integer, 24 bits per language, so summing a word's n-grams adds every
language's score at once; word costs are cached because words recur. Kana, Hangul
and Han are decided by script, since the profiles fold ideographs into classes.

The network's language hint wins when the text is too short to judge, and tips close
calls otherwise.
"""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
import struct
import threading
from importlib import resources
from itertools import chain
from operator import add, sub
from typing import cast

from bot.analysis.text import clean_text

LANGUAGES = (
    "en", "fr", "es", "de", "pt", "it", "nl", "sv", "da", "no", "fi", "pl", "cs", "ro",
    "tr", "ru", "uk", "el", "ar", "he", "hi", "th", "id", "vi", "ja", "zh", "ko",
)  # fmt: skip
"""ISO 639-1 codes the detector can return."""

MODEL_FORMAT = 1
QUANT = 8
"""Cost units per nat in the packed table."""

MIN_LETTERS = 12
"""Below this many letters a text is judged by the hint alone when there is one."""

HINT_NATS = 6.0
MAX_WORDS = 200
_LANE = 32
_CACHE_LIMIT = 50_000

# Social text leans heavily towards a few languages: a prior in nats settles short
# ambiguous texts ("no", "ok", "top") the way a person would.
PRIOR_NATS = {"en": 6.0, "fr": 4.0, "es": 3.5, "de": 3.0, "pt": 3.0, "it": 2.5, "nl": 1.5}

# The lookahead holds the first character of every branch: positions that cannot start
# a match are skipped without trying the branches one by one.
_STRIP_RE = re.compile(r"(?=[hw@#&])(?:(?:https?://|www\.)\S+|[@#]\w+|&\w+;)", re.IGNORECASE)
# _STRIP_RE for a text where its link branch cannot match (no "://", no "w." in any
# case): the same matches, but the leading set lets ``re`` skip to the next "@", "#" or
# "&" instead of trying the pattern at every position.
_STRIP_NO_LINK_RE = re.compile(r"[@#&](?:(?<=[@#])\w+|(?<=&)\w+;)")
_LETTERS_RE = re.compile(r"[^\W\d_]+")
# In ASCII text the letters _LETTERS_RE finds are [A-Za-z]: every other byte becomes a
# space, and splitting gives the same words without trying the pattern at each position.
_NOT_LETTERS = bytes(c if chr(c).isascii() and chr(c).isalpha() else 32 for c in range(256))
_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL_RE = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Any character of those three classes: one scan rules out the texts that hold none (most
# non-ASCII texts: accents, emoji, curly quotes) instead of three.
_CJK_SCRIPTS_RE = re.compile(
    r"[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "nb": "no", "nn": "no", "jw": "jv"}


def normalize_language_code(code: str | None) -> str | None:
    """``"en-US"``, ``"EN_gb"``, ``"fra"``? -> ISO 639-1 ``"en"``; unknown or ``"und"`` -> None."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-", 1)[0].lower()
    base = _ALIASES.get(base, base)
    if len(base) != 2 or not base.isalpha():
        return None
    return base


class LanguageModel:
    """The packed n-gram table with a per-word cost cache."""

    def __init__(self, payload: dict[str, object]) -> None:
        """Build from the decoded JSON payload of ``language.json.gz``."""
        if payload.get("format") != MODEL_FORMAT:
            raise ValueError(f"unsupported language model format {payload.get('format')!r}")
        languages = payload["languages"]
        grams = payload["grams"]
        if not isinstance(languages, list) or not isinstance(grams, str):
            raise ValueError("malformed language model")
        self.languages: tuple[str, ...] = tuple(str(x) for x in languages)
        self.quant = float(str(payload.get("quant", QUANT)))
        costs = base64.b64decode(str(payload["costs"]))
        width = len(self.languages)
        names = grams.split("\n")
        if len(costs) != width * len(names):
            raise ValueError("language model table does not match its n-grams")
        # Widen each 8-bit cost to a 32-bit little-endian lane in one slice assignment: the
        # lanes of a sum are then read by struct in one call. A text's sums stay far
        # below 2**24 in every lane (analysis reads at most MAX_ANALYZED_CHARS).
        spread = bytearray(4 * len(costs))
        spread[0::4] = costs
        row = 4 * width
        self.table: dict[str, int] = {
            gram: int.from_bytes(spread[i * row : (i + 1) * row], "little")
            for i, gram in enumerate(names)
        }
        penalty = round(float(str(payload.get("function_word_nats", 0.0))) * self.quant)
        function_words = payload.get("function_words", {})
        if not isinstance(function_words, dict):
            raise ValueError("malformed language model")
        self.word_penalty: dict[str, int] = {
            word: sum(
                penalty << (_LANE * j) for j, lang in enumerate(self.languages) if lang not in langs
            )
            for word, langs in function_words.items()
        }
        self._prior = [round(PRIOR_NATS.get(lang, 0.0) * self.quant) for lang in self.languages]
        self._cache: dict[str, int] = {}
        self._all_lanes = (1 << (_LANE * len(self.languages))) - 1
        self._lanes = struct.Struct(f"<{len(self.languages)}I")
        mantissa, _ = math.frexp(self.quant)
        hint_units = HINT_NATS * self.quant
        self.hint_units: int | None = (
            int(hint_units) if mantissa == 0.5 and hint_units.is_integer() else None)
        """``HINT_NATS`` in the units of ``lane_costs`` when comparing those integers decides
        as comparing ``costs`` does (``quant`` a power of two: every cost, and every cost
        less ``HINT_NATS``, is then an exact float); None otherwise."""

    def _word_cost(self, word: str) -> int:
        cost = self._cache.get(word)
        if cost is None:
            padded = f" {word} "
            # Each trigram is a bigram joined to the character after it: C-level maps
            # instead of a slice per n-gram (the same strings, in the same order).
            bigrams = list(map(add, padded, padded[1:]))
            grams = chain(word, bigrams, map(add, bigrams, padded[2:]))  # 1-, 2-, 3-grams
            cost = sum(filter(None, map(self.table.get, grams)))
            cost += self.word_penalty.get(word, 0)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = cost
        return cost

    def lane_costs(self, words: list[str]) -> list[int] | None:
        """Per-language cost in units of 1/``quant`` nats, priors included (the integers
        ``costs`` divides by ``quant``); None if no evidence."""
        # Most words are cached: look them all up at C speed, compute only the misses.
        per_word = list(map(self._cache.get, words))
        if None in per_word:
            per_word = [self._word_cost(w) if c is None else c
                        for w, c in zip(words, per_word, strict=True)]
        total: int = sum(per_word)  # type: ignore[arg-type]
        if not total:
            return None
        lanes = self._lanes.unpack((total & self._all_lanes).to_bytes(4 * len(self.languages),
                                                                        "little"))
        return list(map(sub, lanes, self._prior))

    def costs(self, words: list[str]) -> list[float]:
        """Per-language cost in nats (lower is likelier), priors included; [] if no evidence."""
        lane_costs = self.lane_costs(words)
        if lane_costs is None:
            return []
        quant = self.quant
        return [cost / quant for cost in lane_costs]


_model: LanguageModel | None = None
_lock = threading.Lock()


def load_language_model() -> LanguageModel:
    """The shipped model, loaded once (thread-safe)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                data = resources.files("bot.analysis.models").joinpath("language.json.gz")
                _model = LanguageModel(json.loads(gzip.decompress(data.read_bytes())))
    return _model


def _by_script(text: str, letters: int) -> str | None:
    """ja/ko/zh when those scripts make up a good part of the letters."""
    if _CJK_SCRIPTS_RE.search(text) is None:
        return None  # 3 * 0 < letters: what the counts below would say
    kana = len(_KANA_RE.findall(text))
    hangul = len(_HANGUL_RE.findall(text))
    han = len(_HAN_RE.findall(text))
    if 3 * (kana + hangul + han) < letters:
        return None
    if kana:
        return "ja"
    if hangul >= han:
        return "ko"
    return "zh"


def detect_language(text: str, hint: str | None = None) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when there is nothing to judge.

    ``hint`` is what the network says (``"en"``, ``"fr-FR"``...). It is returned as is
    for texts under ``MIN_LETTERS`` letters, and otherwise weighs ``HINT_NATS`` in
    favour of its language; a hinted language the model does not know wins when the
    model's own best guess is weak.
    """
    hint = normalize_language_code(hint)
    stripped = clean_text(text)
    # Every _STRIP_RE match holds one of these (only "w" and "W" match "w" under IGNORECASE).
    if "://" in stripped or "w." in stripped or "W." in stripped:
        stripped = _STRIP_RE.sub(" ", stripped)
    elif "@" in stripped or "#" in stripped or "&" in stripped:
        stripped = _STRIP_NO_LINK_RE.sub(" ", stripped)
    lowered = stripped.lower()
    if lowered.isascii():
        words = lowered.encode("ascii").translate(_NOT_LETTERS).decode("ascii").split()
    else:
        words = _LETTERS_RE.findall(lowered)
    letters = sum(map(len, words))
    if letters == 0:
        return hint
    if not stripped.isascii():
        by_script = _by_script(stripped, letters)
        if by_script:
            return by_script
    if hint and letters < MIN_LETTERS:
        return hint
    model = load_language_model()
    # Integer costs when they decide exactly as the costs in nats would (they do for the
    # shipped model), which spares a division per language.
    costs: list[float] | None  # integers (int is a float to the type checker) or floats
    hint_cost: float
    if model.hint_units is None:
        costs, hint_cost = model.costs(words[:MAX_WORDS]), HINT_NATS
    else:
        costs = cast("list[float] | None", model.lane_costs(words[:MAX_WORDS]))
        hint_cost = model.hint_units
    if not costs:
        return hint
    if hint in model.languages:
        costs[model.languages.index(hint)] -= hint_cost
    first = costs.index(min(costs))  # the first of equal minima, as min(key=...) gives
    if hint and hint not in model.languages:
        ranked = sorted(range(len(costs)), key=costs.__getitem__)
        if costs[ranked[1]] - costs[ranked[0]] < hint_cost:
            return hint
    return model.languages[first]
