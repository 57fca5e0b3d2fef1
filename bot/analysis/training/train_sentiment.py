"""Train the shipped sentiment models (one per language) on the ``*_train.tsv`` splits only.

    python -m bot.analysis.training.train_sentiment [--data DIR] [--lang en fr] [--search]

Reads the ``TRAIN_FILES`` of each language under ``DIR/sentiment/eval`` (French adds the
Allociné reviews to its tweets, two classes only; DIR defaults to $VIGIE_SHARED_DATA,
else ``../shared/data`` beside the repository) and the vendored lexicons in
``lexicons/``, chooses hyper-parameters by stratified 5-fold cross-validation on the
training split (``--search``; otherwise the defaults below, which that search chose),
fits a multinomial logistic regression, writes ``bot/analysis/models/sentiment_{lang}.json.gz``
and then reports macro-F1 of the written model, through the run-time code, on the
held-out files of that language. Validation and test files are never trained on.

Training needs numpy, scipy and scikit-learn; the run time needs none of them.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from bot.analysis.evaluate import read_labelled
from bot.analysis.features import EXTRA_DENSE, FeatureConfig, TextFeatures, char_ngrams, extract
from bot.analysis.lexicon import LexiconScorer
from bot.analysis.linear_model import CLASSES, MODEL_FORMAT, LinearSentimentModel, encode_int16

REPO = Path(__file__).resolve().parents[3]
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
LEXICON_DIR = Path(__file__).parent / "lexicons"
LEXICONS: dict[str, tuple[str, ...]] = {
    "en": ("en_vader.tsv", "en_pattern.tsv"),
    "fr": ("fr_vader.tsv", "fr_pattern.tsv"),
    # No word lexicon is vendored for these: the emoji valences are their only lexicon.
    "es": (),
    "de": (),
    "pt": (),
}
TRAIN_FILES = {
    "en": ("en_tweets_train.tsv",),
    "fr": ("fr_tweets_train.tsv", "fr_reviews_train.tsv"),
    "es": ("es_tweets_train.tsv",),
    "de": ("de_tweets_train.tsv",),
    "pt": ("pt_tweets_train.tsv",),
}
HELD_OUT = {
    "en": ("en_tweets_val.tsv", "en_tweets_test.tsv", "en_sentiment140_test.tsv"),
    "fr": ("fr_tweets_val.tsv", "fr_reviews_dev.tsv"),
    "es": ("es_tweets_val.tsv", "es_tweets_test.tsv"),
    "de": ("de_tweets_val.tsv", "de_tweets_test.tsv"),
    "pt": ("pt_tweets_val.tsv", "pt_tweets_test.tsv"),
}


@dataclass(frozen=True, slots=True)
class HyperParams:
    """What cross-validation chooses between."""

    c: float = 1.0
    dense_scale: float = 2.0
    min_df_word: int = 1
    min_df_char: int = 2
    features: FeatureConfig = field(default_factory=FeatureConfig)


DEFAULTS = {
    "en": HyperParams(c=0.25, dense_scale=1.0, min_df_word=1, min_df_char=2),
    "fr": HyperParams(c=2.0, dense_scale=1.0, min_df_word=1, min_df_char=2),
    "es": HyperParams(c=1.0, dense_scale=1.0, min_df_word=1, min_df_char=2),
    "de": HyperParams(c=1.0, dense_scale=1.0, min_df_word=1, min_df_char=2),
    "pt": HyperParams(c=1.0, dense_scale=1.0, min_df_word=1, min_df_char=2),
}
GRID_C = (0.25, 0.5, 1.0, 2.0)
GRID_DENSE_SCALE = (1.0, 2.0, 4.0)
GRID_MIN_DF_WORD = (1, 2)
GRID_MARK_NEGATION = (False,)


def default_data_dir() -> Path:
    """$VIGIE_SHARED_DATA, else the ``shared/data`` folder beside the repository."""
    env = os.environ.get("VIGIE_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def read_lexicon(path: Path) -> dict[str, float]:
    """A vendored ``token<TAB>valence`` file (``#`` lines are provenance notes)."""
    out: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        token, value = line.split("\t", 1)
        out[token] = float(value)
    return out


def load_lexicons(lang: str) -> list[dict[str, float]]:
    """The lexicons of ``lang``: each over the shared emoji valences, under our own
    customer-care terms (``cm_{lang}.tsv``), which upstream lexicons miss or misjudge.
    A language without a vendored word lexicon gets the emoji valences alone."""
    emoji = read_lexicon(LEXICON_DIR / "emoji.tsv")
    if not LEXICONS[lang]:
        return [emoji]
    care = read_lexicon(LEXICON_DIR / f"cm_{lang}.tsv")
    out = []
    for name in LEXICONS[lang]:
        table = dict(emoji)
        table.update(read_lexicon(LEXICON_DIR / name))
        table.update(care)
        out.append(table)
    return out


@dataclass(slots=True)
class Vocabulary:
    """Selected features of one block with their idf."""

    index: dict[str, int]
    idf: np.ndarray


def fit_vocabulary(docs: Sequence[Sequence[str]], min_df: int) -> Vocabulary:
    """Keep features seen in at least ``min_df`` documents; smooth idf as scikit-learn does."""
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(set(doc))
    kept = sorted(g for g, n in df.items() if n >= min_df)
    n_docs = len(docs)
    idf = np.array([math.log((1 + n_docs) / (1 + df[g])) + 1.0 for g in kept])
    return Vocabulary({g: i for i, g in enumerate(kept)}, idf)


def word_matrix(feats: Sequence[TextFeatures], vocab: Vocabulary) -> sp.csr_matrix:
    """Binary idf-weighted word block, L2-normalized per document (as run time does)."""
    rows, cols, vals = [], [], []
    for r, f in enumerate(feats):
        ids = sorted({vocab.index[w] for w in f.words if w in vocab.index})
        if not ids:
            continue
        weights = vocab.idf[ids]
        weights = weights / math.sqrt(float((weights**2).sum()))
        rows += [r] * len(ids)
        cols += ids
        vals += weights.tolist()
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(feats), len(vocab.index)))


def char_docs(feats: Sequence[TextFeatures], config: FeatureConfig) -> list[list[str]]:
    """Every character n-gram occurrence of every token, per document."""
    return [
        [g for t in f.tokens for g in char_ngrams(t, config.char_min, config.char_max)]
        for f in feats
    ]


def char_matrix(docs: Sequence[Sequence[str]], vocab: Vocabulary) -> sp.csr_matrix:
    """Count x idf char block, divided by the root of the summed squared idf (as run time)."""
    rows, cols, vals = [], [], []
    for r, doc in enumerate(docs):
        counts = Counter(vocab.index[g] for g in doc if g in vocab.index)
        if not counts:
            continue
        ids = sorted(counts)
        idf = vocab.idf[ids]
        norm = math.sqrt(sum(counts[i] * vocab.idf[i] ** 2 for i in ids))
        rows += [r] * len(ids)
        cols += ids
        vals += (np.array([counts[i] for i in ids]) * idf / norm).tolist()
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(docs), len(vocab.index)))


@dataclass(slots=True)
class Fitted:
    """A trained model with what is needed to write it."""

    params: HyperParams
    words: Vocabulary
    chars: Vocabulary
    model: LogisticRegression


def design(
    feats: Sequence[TextFeatures],
    cdocs: Sequence[Sequence[str]],
    words: Vocabulary,
    chars: Vocabulary,
    dense_scale: float,
) -> sp.csr_matrix:
    """The full feature matrix: word block, char block, scaled dense block."""
    dense = np.array([f.dense for f in feats]) * dense_scale
    return sp.hstack(
        [word_matrix(feats, words), char_matrix(cdocs, chars), sp.csr_matrix(dense)]
    ).tocsr()


def fit(
    feats: Sequence[TextFeatures],
    cdocs: Sequence[Sequence[str]],
    labels: Sequence[str],
    params: HyperParams,
) -> Fitted:
    """Fit vocabularies and the logistic regression on one training set."""
    words = fit_vocabulary([f.words for f in feats], params.min_df_word)
    chars = fit_vocabulary(cdocs, params.min_df_char)
    x = design(feats, cdocs, words, chars, params.dense_scale)
    model = LogisticRegression(C=params.c, max_iter=5000)
    model.fit(x, list(labels))
    return Fitted(params, words, chars, model)


def predict(
    fitted: Fitted, feats: Sequence[TextFeatures], cdocs: Sequence[Sequence[str]]
) -> list[str]:
    """Labels predicted by a fitted model (scikit-learn side)."""
    x = design(feats, cdocs, fitted.words, fitted.chars, fitted.params.dense_scale)
    return [str(v) for v in fitted.model.predict(x)]


def featurize(
    texts: Sequence[str], lang: str, scorer: LexiconScorer, config: FeatureConfig
) -> tuple[list[TextFeatures], list[list[str]]]:
    """Extract features of all texts with the run-time extractor."""
    feats = [extract(t, lang, scorer, config) for t in texts]
    return feats, char_docs(feats, config)


def cross_validate(
    texts: Sequence[str], labels: Sequence[str], lang: str, scorer: LexiconScorer
) -> HyperParams:
    """Grid search by stratified 5-fold CV macro-F1 on the training split only."""
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels))
    y = np.array(labels)
    best: tuple[float, HyperParams] | None = None
    for mark in GRID_MARK_NEGATION:
        config = FeatureConfig(mark_negation=mark)
        feats, cdocs = featurize(texts, lang, scorer, config)
        for c, scale, min_df in itertools.product(GRID_C, GRID_DENSE_SCALE, GRID_MIN_DF_WORD):
            params = HyperParams(c=c, dense_scale=scale, min_df_word=min_df, features=config)
            predicted = np.empty(len(texts), dtype=object)
            for train_idx, test_idx in folds:
                fitted = fit(
                    [feats[i] for i in train_idx],
                    [cdocs[i] for i in train_idx],
                    y[train_idx],
                    params,
                )
                predicted[test_idx] = predict(
                    fitted, [feats[i] for i in test_idx], [cdocs[i] for i in test_idx]
                )
            score = float(f1_score(y, predicted.tolist(), average="macro"))
            print(f"  cv {lang} {params_text(params)} macro-F1={score:.4f}", flush=True)
            if best is None or score > best[0]:
                best = (score, params)
    assert best is not None
    print(f"  best {lang}: {params_text(best[1])} cv macro-F1={best[0]:.4f}")
    return best[1]


def params_text(p: HyperParams) -> str:
    """One-line description of hyper-parameters."""
    return (
        f"C={p.c} dense_scale={p.dense_scale} min_df_word={p.min_df_word} "
        f"min_df_char={p.min_df_char} chars={p.features.char_min}-{p.features.char_max} "
        f"mark_negation={p.features.mark_negation}"
    )


def _quantize_block(vocab: Vocabulary, coef: np.ndarray) -> dict[str, Any]:
    """int16 weights (rows x classes) and idf with one scale each."""
    scale = float(np.abs(coef).max()) / 32767 or 1.0
    idf_scale = float(vocab.idf.max()) / 32767 if len(vocab.idf) else 1.0
    names = sorted(vocab.index, key=vocab.index.__getitem__)
    if any("\n" in n for n in names):
        raise ValueError("a feature contains a newline")
    return {
        "vocab": "\n".join(names),
        "scale": scale,
        "idf_scale": idf_scale,
        "weights": encode_int16(np.rint(coef / scale).astype(int).ravel().tolist()),
        "idf": encode_int16(np.rint(vocab.idf / idf_scale).astype(int).tolist()),
    }


def to_payload(
    fitted: Fitted, lang: str, lexicons: list[dict[str, float]], trained_on: str
) -> dict[str, Any]:
    """The JSON payload of a model file, in the class order the run time expects."""
    order = [list(fitted.model.classes_).index(c) for c in CLASSES]
    coef = fitted.model.coef_[order].T  # features x classes
    n_words, n_chars = len(fitted.words.index), len(fitted.chars.index)
    dense = coef[n_words + n_chars :] * fitted.params.dense_scale
    return {
        "format": MODEL_FORMAT,
        "lang": lang,
        "classes": list(CLASSES),
        "config": fitted.params.features.to_json(),
        "trained_on": trained_on,
        "hyper_params": params_text(fitted.params),
        "intercept": fitted.model.intercept_[order].tolist(),
        "dense_names": [
            f"lexicon{i // 3}_{('pos', 'neg', 'compound')[i % 3]}" for i in range(3 * len(lexicons))
        ]
        + list(EXTRA_DENSE),
        "dense_weights": dense.tolist(),
        "lexicons": lexicons,
        "word": _quantize_block(fitted.words, coef[:n_words]),
        "char": _quantize_block(fitted.chars, coef[n_words : n_words + n_chars]),
    }


def train_language(lang: str, data_dir: Path, search: bool, out_dir: Path) -> Path:
    """Train, write and check the model of one language; returns the written path."""
    eval_dir = data_dir / "sentiment" / "eval"
    names = [n for n in TRAIN_FILES[lang] if n == TRAIN_FILES[lang][0] or (eval_dir / n).exists()]
    rows = [row for name in names for row in read_labelled(eval_dir / name)]
    texts = [t for _, t in rows]
    labels = [label for label, _ in rows]
    lexicons = load_lexicons(lang)
    scorer = LexiconScorer(lexicons, lang)
    params = cross_validate(texts, labels, lang, scorer) if search else DEFAULTS[lang]
    feats, cdocs = featurize(texts, lang, scorer, params.features)
    fitted = fit(feats, cdocs, labels, params)
    payload = to_payload(fitted, lang, lexicons, " + ".join(names))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"sentiment_{lang}.json.gz"
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(
        f"wrote {path.name}: {path.stat().st_size / 1e6:.2f} MB, "
        f"{len(fitted.words.index)} word + {len(fitted.chars.index)} char features"
    )
    runtime = LinearSentimentModel.from_bytes(path.read_bytes())
    sk = predict(fitted, feats, cdocs)
    rt = [CLASSES[int(np.argmax(runtime.probabilities(t)))] for t in texts]
    agree = sum(a == b for a, b in zip(sk, rt, strict=True)) / len(texts)
    print(f"  run-time vs scikit-learn agreement on train: {agree:.4f}")
    for name in HELD_OUT[lang]:
        file = eval_dir / name
        if file.exists():
            held = read_labelled(file)
            got = [CLASSES[int(np.argmax(runtime.probabilities(t)))] for _, t in held]
            gold = [label for label, _ in held]
            score = f1_score(gold, got, labels=sorted(set(gold)), average="macro")
            print(f"  held-out {name}: macro-F1={score:.4f} (over the classes it has)")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder")
    parser.add_argument("--lang", nargs="+", default=["en", "fr"], choices=sorted(LEXICONS))
    parser.add_argument("--search", action="store_true", help="grid-search by 5-fold CV")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="where models are written")
    args = parser.parse_args(argv)
    data_dir = args.data or default_data_dir()
    if not (data_dir / "sentiment" / "eval").is_dir():
        print(f"no sentiment data under {data_dir}", file=sys.stderr)
        return 2
    # Small sparse problems: BLAS threads only contend (a fit is ten times slower).
    with threadpool_limits(limits=1):
        for lang in args.lang:
            print(f"== {lang}")
            train_language(lang, data_dir, args.search, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
