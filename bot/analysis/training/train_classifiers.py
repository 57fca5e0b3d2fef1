"""Train the shipped complaint and question classifiers on labelled tweets to brands.

    python -m bot.analysis.training.train_classifiers [--data DIR] [--task complaint_en ...]
                                                      [--search] [--out DIR] [--without-extra]
                                                      [--no-teacher-pool] [--calibrate]

Each task reads one labelled file under DIR/intent (DIR defaults to $VIGIE_SHARED_DATA,
else ``../shared/data``), splits off a held-out fifth first (fixed seed, stratified,
near-duplicates grouped so none straddles the split), chooses hyper-parameters by
5-fold cross-validation on the other four fifths (``--search``; otherwise the defaults
below, which that search chose), reports the held-out figures of that model through
the run-time code, then fits the shipped model on the whole file (for question_en: the
whole tuning part) and writes
``bot/analysis/models/{task}.json.gz``. Files named in ``EXTERNAL`` are never trained on
by that task; they are scored with the shipped model (out of domain, or rows held out
for another report).

Tasks:
  complaint_en  complaints_en_train.tsv (Preotiuc-Pietro et al. 2019), complaint / not,
                plus an unlabelled pool of 14,772 tweets to brands with a teacher's soft
                labels, training-data/intent/complaint_teacher_pool.tsv (the shipped model
                since 2026-12-06: the distilled student). Every pool tweet counts twice,
                as complaint at weight p and as not at weight 1 - p, p being the
                probability of the teacher (the mean of a logistic regression on
                all-MiniLM-L6-v2 sentence embeddings and the former model below, both
                fitted on the training part only; ``cv_distill pool`` wrote the file, the
                encoder is not needed here). The pool is the airline tweets below (less
                the near-duplicates of the complaints file) and the tuning part of
                twcs_attention_dev.tsv (``split_attention``; its held-out part is never
                read). Grouped 5-fold CV macro-F1 on the training part, the teacher
                refitted per fold (``cv_distill cv``): 0.824 ± 0.012 against 0.803 ±
                0.017 for the former model; held-out fifth 0.840 against 0.817.
                ``--no-teacher-pool`` trains the former model: training-data/intent/
                airline_tweets_en.tsv (sentiment of 14,640 tweets to US airlines) as weak
                labels at weight 0.3 (negative = complaint), which cross-validation on the
                training part preferred to weight 1.0 or none.
                The airline tweets are CC BY-NC-SA: ``--without-extra`` trains on the
                complaints file alone (grouped 5-fold CV macro-F1 on the training part
                0.794 at C=4 against 0.803 with them as weak labels).
                A static embedding distilled from all-MiniLM-L6-v2 did not help in that CV
                (0.805): ``cv_static_embedding`` has the figures; nor did a one-hidden-layer
                student (``cv_distill``, 2026-12-06: within noise of the linear one), nor
                (``cv_student``, 2026-12-07) another C, class weighting, block or NB-SVM
                feature scaling, min_df, general SemEval tweets in the pool or a static
                embedding block for the student: none gained +0.01 (0.824 to 0.834
                against 0.827; the static block the most, +0.007).
                What shipping the student cost the alert decision, measured on the tuning
                part of twcs_attention_dev.tsv only (``cv_attention``): precision 0.925
                recall 0.947 F1 0.936 on the whole tuning part, against 0.930, 0.957 and
                0.943 with the former model (two alerts fewer of 209); the attention
                rules' complaint thresholds (0.8 and 0.3) were searched again with the
                student and no other pair did better (0.6 to 0.8 by 0.05, 0.2 to 0.3).
                Its probabilities are less extreme (18% of the tuning part at 0.8 or more
                against 28%). It gives 0.38 to a sarcastic complaint the former model
                scored 0.86 ("I used to use that feature as an example of great UX.
                😂🙈🙉🙊", tuning part; its teacher gave 0.44), which the rules do not read
                as sarcasm: that tweet no longer alerts.
                ``--calibrate`` (2026-12-05) is not used: the temperature of least
                out-of-fold log loss is 0.61 (same decisions at 0.5), and ``cv_attention``
                (10 seeds, out of fold) read precision 0.917 recall 0.929 calibrated
                against 0.921 and 0.947 uncalibrated.
  question_en   the tuning part of twcs_attention_dev.tsv (``split_attention``, its default
                seed): intent question or purchase_intent (a request the brand must answer) /
                anything else. The held-out part reports the attention figures, so it is never
                trained on; the shipped model is scored on it instead.
  complaint_fr, question_fr
                No public French data labelled for these was found. These models learn
                only the language-independent dense features (lexicon valence sums, "!",
                "?", order numbers, addressed, first person) from the English data above;
                at run time the French lexicons fill the same features. Their figures are
                English held-out figures of that reduced model; French quality is unmeasured.

``--calibrate`` (any task) divides the written models' logit by one temperature, chosen
on the training part's out-of-fold logits (``fit_temperature``): the probabilities become
as extreme as the gold labels warrant, every decision at 0.5 stays. The run time reads the
same weights, only scaled; the file records the ``temperature``. With a teacher pool the
folds' students learn from a teacher that saw their validation rows, so the temperature
is too low (0.61 here; ``cv_distill cv``, the teacher refitted per fold, gives 0.74).

Training needs numpy, scipy and scikit-learn; the run time needs none of them. ``--search``
on a task with a teacher pool is optimistic: the committed soft labels come from a teacher
fitted on the whole training part, validation folds included (``cv_distill`` refits it
per fold).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import itertools
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits

from bot.analysis.binary_model import (
    BINARY_FORMAT,
    CARE_DENSE,
    BinaryLinearModel,
    classifier_features,
)
from bot.analysis.features import EXTRA_DENSE, FeatureConfig, TextFeatures
from bot.analysis.lexicon import LexiconScorer
from bot.analysis.training import split_attention
from bot.analysis.training.train_sentiment import (
    MODELS_DIR,
    Vocabulary,
    _quantize_block,
    char_docs,
    char_matrix,
    default_data_dir,
    fit_vocabulary,
    load_lexicons,
    word_matrix,
)

SEED = 20261205
HOLDOUT_SHARE = 0.2
EXTRA_DIR = Path(__file__).resolve().parents[3] / "training-data"
AIRLINE_WEIGHT = 0.3
"""Weight of the airline tweets as weak labels in the former complaint model (the
teacher's fast half; ``cv_static_embedding`` and ``cv_distill`` compare with it)."""
TEACHER_POOL = "complaint_teacher_pool.tsv"
POOL_WEIGHT = 1.0
"""Weight of the teacher's soft labels, chosen by ``cv_distill`` (0.3 and 3 were worse)."""


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text; ``group`` keys near-duplicates together."""

    text: str
    positive: bool
    group: str


@dataclass(frozen=True, slots=True)
class Task:
    """What one shipped model is trained on."""

    name: str
    lang: str
    positive: str
    negative: str
    source: str
    reader: Callable[[Path], list[Example]]
    dense_only: bool = False
    extra: tuple[tuple[str, Callable[[Path], list[Example]], float], ...] = ()
    """More labelled files (under the repository's ``training-data/intent``), each with
    its sample weight: always in training, never held out, never scored."""
    part: str = ""
    """Which rows of ``source`` the reader keeps, when not all (said in ``trained_on``)."""
    soft: tuple[str, float] | None = None
    """A teacher's soft labels of the unlabelled complaint pool (file under the repository's
    ``training-data/intent``, weight): always in training, never held out, never scored."""


@dataclass(frozen=True, slots=True)
class HyperParams:
    """What cross-validation chooses between."""

    c: float = 1.0
    dense_scale: float = 1.0
    balanced: bool = True
    min_df_word: int = 1
    min_df_char: int = 2


_HANDLE_RE = re.compile(r"@\w+|https?://\S+|\d+")
_NON_WORD_RE = re.compile(r"[\W_]+")


def group_key(text: str) -> str:
    """Near-duplicate key: lowercase, no handles, links, digits or punctuation."""
    return _NON_WORD_RE.sub(" ", _HANDLE_RE.sub(" ", text.lower())).strip()


def _read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_complaints(path: Path) -> list[Example]:
    """``complaints_en_train.tsv``: label complaint / not_complaint."""
    out = []
    for row in _read_tsv(path):
        label = row["label"]
        if label not in ("complaint", "not_complaint"):
            raise ValueError(f"{path.name}: unknown label {label!r}")
        out.append(Example(row["text"], label == "complaint", group_key(row["text"])))
    return out


QUESTION_INTENTS = frozenset({"question", "purchase_intent"})


def read_questions(path: Path) -> list[Example]:
    """``twcs_attention_dev.tsv``: positive when the intent is a question or purchase intent."""
    return [
        Example(row["text"], row["intent"] in QUESTION_INTENTS, group_key(row["text"]))
        for row in _read_tsv(path)
    ]


def attention_parts(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """Tweet ids of the (tuning, held-out) parts of ``twcs_attention_dev.tsv``, split as
    ``split_attention`` splits it with its default seed (the held-out part reports the
    attention figures)."""
    header, rows = split_attention.read_rows(path)
    groups = split_attention.conversation_groups(header, rows)
    tune, held = split_attention.split(groups, split_attention.DEFAULT_SEED)
    id_col = header.index("tweet_id")
    return frozenset(r[id_col] for r in tune), frozenset(r[id_col] for r in held)


def _questions_of_part(path: Path, held_out: bool) -> list[Example]:
    ids = attention_parts(path)[held_out]
    return [
        Example(row["text"], row["intent"] in QUESTION_INTENTS, group_key(row["text"]))
        for row in _read_tsv(path) if row["tweet_id"] in ids
    ]


def read_questions_tuning(path: Path) -> list[Example]:
    """``read_questions`` of the tuning part of ``twcs_attention_dev.tsv`` only, in file order."""
    return _questions_of_part(path, held_out=False)


def read_questions_held_out(path: Path) -> list[Example]:
    """``read_questions`` of the held-out part of ``twcs_attention_dev.tsv`` only, in file
    order: never trained on, scored with the shipped question model."""
    return _questions_of_part(path, held_out=True)


def read_airline_complaints(path: Path) -> list[Example]:
    """``airline_tweets_en.tsv`` (sentiment of tweets to US airlines) as weak complaint labels:
    a negative tweet to an airline is a complaint, a neutral or positive one is not."""
    out = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            if label not in ("negative", "neutral", "positive") or not text:
                raise ValueError(f"{path.name}: bad line {line[:40]!r}")
            out.append(Example(text, label == "negative", group_key(text)))
    return out


def read_attention_complaints(path: Path) -> list[Example]:
    """``twcs_attention_dev.tsv`` as a complaint set: complaint and risk intents are complaints
    (the guide labels risks first, and every risk there is a grievance)."""
    return [
        Example(row["text"], row["intent"] in ("complaint", "risk"), group_key(row["text"]))
        for row in _read_tsv(path)
    ]


def read_attention_complaints_held_out(path: Path) -> list[Example]:
    """``read_attention_complaints`` of the held-out part of ``twcs_attention_dev.tsv`` only
    (its tuning part is in the complaint model's unlabelled pool), in file order."""
    ids = attention_parts(path)[True]
    return [
        Example(row["text"], row["intent"] in ("complaint", "risk"), group_key(row["text"]))
        for row in _read_tsv(path) if row["tweet_id"] in ids
    ]


@dataclass(frozen=True, slots=True)
class PoolTweet:
    """One unlabelled tweet of the complaint pool: where it comes from and its text."""

    source: str
    """``airline`` (``key``: line number in airline_tweets_en.tsv) or ``twcs`` (``key``:
    tweet id in twcs_attention_dev.tsv)."""
    key: str
    text: str


def complaint_pool(data_dir: Path, extra_dir: Path = EXTRA_DIR) -> list[PoolTweet]:
    """The unlabelled pool the complaint teacher labels: the airline tweets that are no
    near-duplicate of the complaints file, in file order, then the tuning part of
    ``twcs_attention_dev.tsv`` in ``split_attention``'s order."""
    task = TASKS["complaint_en"]
    seen = {ex.group for ex in task.reader(data_dir / "intent" / task.source)}
    airline = read_airline_complaints(extra_dir / "intent" / "airline_tweets_en.tsv")
    pool = [PoolTweet("airline", str(line), ex.text)
            for line, ex in enumerate(airline, start=1) if ex.group not in seen]
    header, rows = split_attention.read_rows(data_dir / split_attention.SOURCE)
    tune, _ = split_attention.split(split_attention.conversation_groups(header, rows),
                                    split_attention.DEFAULT_SEED)
    id_col, text_col = header.index("tweet_id"), header.index("text")
    return pool + [PoolTweet("twcs", row[id_col], row[text_col]) for row in tune]


def pool_digest(pool: Sequence[PoolTweet]) -> str:
    """First 16 hex digits of the SHA-256 of the pool's texts, one a line, in order."""
    return hashlib.sha256("\n".join(t.text for t in pool).encode("utf-8")).hexdigest()[:16]


POOL_HEADER = "source\tkey\tp_complaint"


def write_teacher_pool(path: Path, pool: Sequence[PoolTweet], probabilities: Sequence[float],
                       comment: str) -> None:
    """Write the teacher's probabilities of ``pool`` (4 decimals) with the texts' digest."""
    if len(pool) != len(probabilities):
        raise ValueError("one probability per pool tweet")
    lines = [f"# {comment}", f"# texts sha256_16 {pool_digest(pool)}", POOL_HEADER]
    lines += [f"{t.source}\t{t.key}\t{p:.4f}" for t, p in zip(pool, probabilities, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_teacher_pool(path: Path, pool: Sequence[PoolTweet]) -> np.ndarray:
    """The teacher's probabilities written for ``pool``; refused unless the file lists the
    same tweets in the same order and their texts have the digest it records."""
    lines = path.read_text(encoding="utf-8").splitlines()
    digests = [ln.split()[-1] for ln in lines if ln.startswith("# texts sha256_16 ")]
    rows = [ln.split("\t") for ln in lines if ln and not ln.startswith("#")]
    if not rows or "\t".join(rows[0]) != POOL_HEADER:
        raise ValueError(f"{path.name}: expected the header {POOL_HEADER!r}")
    keys = [(r[0], r[1]) for r in rows[1:]]
    if keys != [(t.source, t.key) for t in pool]:
        raise ValueError(f"{path.name}: lists other tweets than the pool ({len(keys)} rows for "
                         f"{len(pool)} tweets); write it again with cv_distill pool")
    if digests != [pool_digest(pool)]:
        raise ValueError(f"{path.name}: the pool's texts changed since it was written")
    return np.array([float(r[2]) for r in rows[1:]])


TASKS = {
    "complaint_en": Task("complaint_en", "en", "complaint", "not_complaint",
                         "complaints_en_train.tsv", read_complaints,
                         extra=(("airline_tweets_en.tsv", read_airline_complaints,
                                 AIRLINE_WEIGHT),)),
    "question_en": Task("question_en", "en", "question", "not_question",
                        "twcs_attention_dev.tsv", read_questions_tuning,
                        part=f"tuning part (split_attention seed {split_attention.DEFAULT_SEED})"),
    "complaint_fr": Task("complaint_fr", "fr", "complaint", "not_complaint",
                         "complaints_en_train.tsv", read_complaints, dense_only=True),
    "question_fr": Task("question_fr", "fr", "question", "not_question",
                        "twcs_attention_dev.tsv", read_questions_tuning, dense_only=True,
                        part=f"tuning part (split_attention seed {split_attention.DEFAULT_SEED})"),
}  # fmt: skip
STUDENTS = {"complaint_en": (TEACHER_POOL, POOL_WEIGHT)}
"""``--teacher-pool``: the teacher's soft labels (file, weight) that replace a task's extra
files (as in ``cv_distill``)."""
EXTERNAL: dict[str, tuple[tuple[str, Callable[[Path], list[Example]], str], ...]] = {
    "complaint_en": (("twcs_attention_dev.tsv", read_attention_complaints_held_out,
                      "out-of-domain attention held-out part of"),),
    "question_en": (("twcs_attention_dev.tsv", read_questions_held_out,
                     "attention held-out part of"),),
}
"""Files scored with the shipped model of a task, never trained on by it, and what they are."""
DEFAULTS = {
    "complaint_en": HyperParams(c=4.0, dense_scale=2.0, balanced=True, min_df_word=2),
    "question_en": HyperParams(c=0.5, dense_scale=2.0, balanced=True),
    "complaint_fr": HyperParams(c=0.5, dense_scale=1.0, balanced=True),
    "question_fr": HyperParams(c=0.5, dense_scale=1.0, balanced=True),
}
GRID_C = (0.5, 1.0, 2.0, 4.0, 8.0)
GRID_DENSE_SCALE = (1.0, 2.0)
GRID_BALANCED = (True, False)
FEATURES = FeatureConfig()


def holdout_split(
    examples: Sequence[Example], share: float, seed: int
) -> tuple[list[int], list[int]]:
    """Indices (train, held-out): about ``share`` of each class held out, whole groups at a
    time, drawn with a fixed seed before anything is trained or looked at."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(examples):
        groups[ex.group].append(i)
    rng = random.Random(seed)
    held: list[int] = []
    for positive in (True, False):
        keys = sorted(k for k, idx in groups.items() if examples[idx[0]].positive is positive)
        rng.shuffle(keys)
        want = round(share * sum(len(groups[k]) for k in keys))
        taken = 0
        for key in keys:
            if taken >= want:
                break
            held += groups[key]
            taken += len(groups[key])
    held_set = set(held)
    return [i for i in range(len(examples)) if i not in held_set], sorted(held)


@dataclass(slots=True)
class Fitted:
    """A trained model with what is needed to write it."""

    params: HyperParams
    words: Vocabulary
    chars: Vocabulary
    model: LogisticRegression
    temperature: float = 1.0
    """The written model's logit is the fitted one divided by this (``fit_temperature``)."""


def _empty_vocabulary() -> Vocabulary:
    return Vocabulary({}, np.zeros(0))


def design(feats: Sequence[TextFeatures], cdocs: Sequence[Sequence[str]], fitted_words: Vocabulary,
           fitted_chars: Vocabulary, dense_scale: float) -> sp.csr_matrix:
    """Word block, char block, scaled dense block (empty blocks for a dense-only model)."""
    dense = sp.csr_matrix(np.array([f.dense for f in feats]) * dense_scale)
    blocks = [word_matrix(feats, fitted_words), char_matrix(cdocs, fitted_chars), dense]
    return sp.hstack(blocks).tocsr()


@dataclass(slots=True)
class SoftLabels:
    """Unlabelled texts with a teacher's probability of the positive class."""

    feats: list[TextFeatures]
    cdocs: list[list[str]]
    probability: np.ndarray
    weight: float


def fit(feats: Sequence[TextFeatures], cdocs: Sequence[Sequence[str]], labels: Sequence[bool],
        params: HyperParams, dense_only: bool, weights: Sequence[float] | None = None,
        soft: SoftLabels | None = None) -> Fitted:
    """Fit vocabularies and the logistic regression on one training set.

    With ``soft``, the vocabularies also learn from its texts (once each), and every soft
    text is trained on twice (log loss under soft labels): positive at weight
    ``weight * p``, negative at ``weight * (1 - p)``, after the labelled rows."""
    soft_feats = soft.feats if soft else []
    soft_cdocs = soft.cdocs if soft else []
    if dense_only:
        words, chars = _empty_vocabulary(), _empty_vocabulary()
    else:
        words = fit_vocabulary([f.words for f in [*feats, *soft_feats]], params.min_df_word)
        chars = fit_vocabulary([*cdocs, *soft_cdocs], params.min_df_char)
    x = design(feats, cdocs, words, chars, params.dense_scale)
    y = np.array(labels, dtype=int)
    w = None if weights is None else np.array(weights, dtype=float)
    if soft is not None:
        x_soft = design(soft_feats, soft_cdocs, words, chars, params.dense_scale)
        x = sp.vstack([x, x_soft, x_soft]).tocsr()
        n = len(soft_feats)
        y = np.concatenate([y, np.ones(n, dtype=int), np.zeros(n, dtype=int)])
        w = np.concatenate([np.ones(len(labels)) if w is None else w,
                            soft.weight * soft.probability,
                            soft.weight * (1.0 - soft.probability)])
    model = LogisticRegression(
        C=params.c, max_iter=5000, class_weight="balanced" if params.balanced else None
    )
    model.fit(x, y, sample_weight=w)
    return Fitted(params, words, chars, model)


def predict(
    fitted: Fitted, feats: Sequence[TextFeatures], cdocs: Sequence[Sequence[str]]
) -> list[bool]:
    """Labels predicted by a fitted model (scikit-learn side)."""
    x = design(feats, cdocs, fitted.words, fitted.chars, fitted.params.dense_scale)
    return [bool(v) for v in fitted.model.predict(x)]


def params_text(p: HyperParams) -> str:
    """One-line description of hyper-parameters."""
    return (f"C={p.c} dense_scale={p.dense_scale} balanced={p.balanced} "
            f"min_df_word={p.min_df_word} min_df_char={p.min_df_char}")


@dataclass(slots=True)
class Featurized:
    """Features of a set of examples, ready for ``fit``."""

    feats: list[TextFeatures]
    cdocs: list[list[str]]
    labels: list[bool]
    weights: list[float]

    def pick(self, idx: Sequence[int]) -> Featurized:
        """The examples at ``idx``."""
        return Featurized([self.feats[i] for i in idx], [self.cdocs[i] for i in idx],
                          [self.labels[i] for i in idx], [self.weights[i] for i in idx])

    def __add__(self, other: Featurized) -> Featurized:
        return Featurized(self.feats + other.feats, self.cdocs + other.cdocs,
                          self.labels + other.labels, self.weights + other.weights)


def fit_set(data: Featurized, params: HyperParams, dense_only: bool,
            soft: SoftLabels | None = None) -> Fitted:
    """``fit`` on a featurized set, with its sample weights (and ``soft`` labels)."""
    return fit(data.feats, data.cdocs, data.labels, params, dense_only, data.weights, soft)


def cv_folds(labels: Sequence[bool], groups: Sequence[str]) -> list[tuple[Any, Any]]:
    """Stratified 5-fold (train, validation) indices, near-duplicates (same ``groups`` key)
    in one fold, as the held-out split keeps them (fixed seed)."""
    y = np.array(labels, dtype=bool)
    splitter = StratifiedGroupKFold(5, shuffle=True, random_state=0)
    return list(splitter.split(np.zeros(len(y)), y, list(groups)))


def cross_validate(main: Featurized, groups: Sequence[str], extra: Featurized,
                   dense_only: bool, name: str, soft: SoftLabels | None = None) -> HyperParams:
    """Grid search by stratified 5-fold CV macro-F1 over ``main`` (the training part only),
    near-duplicates (same ``groups`` key) in one fold, as the held-out split keeps them;
    ``extra`` (and ``soft``) join every training fold and are never scored."""
    y = np.array(main.labels, dtype=bool)
    folds = cv_folds(main.labels, groups)
    best: tuple[float, HyperParams] | None = None
    for c, scale, balanced in itertools.product(GRID_C, GRID_DENSE_SCALE, GRID_BALANCED):
        params = HyperParams(c=c, dense_scale=scale, balanced=balanced)
        predicted = np.zeros(len(y), dtype=bool)
        for train_idx, test_idx in folds:
            fitted = fit_set(main.pick(train_idx) + extra, params, dense_only, soft)
            test = main.pick(test_idx)
            predicted[test_idx] = predict(fitted, test.feats, test.cdocs)
        score = float(f1_score(y, predicted, average="macro"))
        print(f"  cv {name} {params_text(params)} macro-F1={score:.4f}", flush=True)
        if best is None or score > best[0]:
            best = (score, params)
    assert best is not None
    print(f"  best {name}: {params_text(best[1])} cv macro-F1={best[0]:.4f}")
    return best[1]


TEMPERATURES = tuple(t / 100 for t in range(20, 501))
"""Temperatures ``fit_temperature`` chooses between: 0.20 to 5.00 by 0.01."""


def fit_temperature(logits: Sequence[float] | np.ndarray,
                    labels: Sequence[bool] | np.ndarray) -> float:
    """The temperature T of ``TEMPERATURES`` whose probabilities ``sigmoid(logit / T)`` have
    the least mean log loss against ``labels`` (the smallest T on a tie).

    Dividing a logit by T > 0 keeps its sign, so every decision at probability 0.5 (and
    macro-F1) stays; only how extreme the probabilities are changes."""
    z = np.asarray(logits, dtype=float)
    sign = np.where(np.asarray(labels, dtype=bool), -1.0, 1.0)
    losses = [float(np.mean(np.logaddexp(0.0, sign * z / t))) for t in TEMPERATURES]
    return TEMPERATURES[int(np.argmin(losses))]


def out_of_fold_logits(main: Featurized, groups: Sequence[str], extra: Featurized,
                       params: HyperParams, dense_only: bool,
                       soft: SoftLabels | None = None) -> np.ndarray:
    """Logits of every row of ``main`` (the training part) by the model fitted, with
    ``params``, on the other four folds of ``cv_folds`` plus ``extra`` (and ``soft``)."""
    logits = np.zeros(len(main.labels))
    for train_idx, test_idx in cv_folds(main.labels, groups):
        fitted = fit_set(main.pick(train_idx) + extra, params, dense_only, soft)
        test = main.pick(test_idx)
        x = design(test.feats, test.cdocs, fitted.words, fitted.chars, params.dense_scale)
        logits[test_idx] = fitted.model.decision_function(x)
    return logits


def to_payload(fitted: Fitted, task: Task, lexicons: list[dict[str, float]],
               feature_lang: str, trained_on: str) -> dict[str, Any]:
    """The JSON payload of a binary model file."""
    coef = fitted.model.coef_[0] / fitted.temperature
    n_words, n_chars = len(fitted.words.index), len(fitted.chars.index)
    dense = coef[n_words + n_chars:] * fitted.params.dense_scale
    calibration = {} if fitted.temperature == 1.0 else {"temperature": fitted.temperature}
    return {
        "format": BINARY_FORMAT,
        "kind": "binary",
        "task": task.positive,
        "lang": task.lang,
        "feature_lang": feature_lang,
        "classes": [task.negative, task.positive],
        "config": FEATURES.to_json(),
        "trained_on": trained_on,
        "hyper_params": params_text(fitted.params),
        **calibration,
        "intercept": float(fitted.model.intercept_[0]) / fitted.temperature,
        "dense_names": [
            f"lexicon{i // 3}_{('pos', 'neg', 'compound')[i % 3]}" for i in range(3 * len(lexicons))
        ] + list(EXTRA_DENSE) + list(CARE_DENSE),
        "dense_weights": dense.tolist(),
        "lexicons": lexicons,
        "word": _block(fitted.words, coef[:n_words]),
        "char": _block(fitted.chars, coef[n_words:n_words + n_chars]),
    }


def _block(vocab: Vocabulary, coef: np.ndarray) -> dict[str, Any]:
    """A quantized block; an empty one for a dense-only model."""
    if not vocab.index:
        return {"vocab": "", "scale": 1.0, "idf_scale": 1.0, "weights": "", "idf": ""}
    return _quantize_block(vocab, coef.reshape(-1, 1))


def write_model(payload: dict[str, Any], path: Path) -> BinaryLinearModel:
    """Write a payload gz'd (reproducible bytes) and load it back through the run time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    return BinaryLinearModel.from_bytes(path.read_bytes())


def figures(gold: Sequence[bool], probabilities: Sequence[float]) -> dict[str, float]:
    """Macro-F1 and the positive class's precision, recall and F1 at probability 0.5."""
    predicted = [p >= 0.5 for p in probabilities]
    p, r, f, _ = precision_recall_fscore_support(gold, predicted, average="binary",
                                                 zero_division=0)
    return {
        "n": len(gold),
        "positives": int(sum(gold)),
        "macro_f1": round(float(f1_score(gold, predicted, average="macro")), 4),
        "precision": round(float(p), 4),
        "recall": round(float(r), 4),
        "f1": round(float(f), 4),
    }


def featurize(examples: Sequence[Example], weight: float, lang: str, scorer: LexiconScorer,
              dense_only: bool) -> Featurized:
    """Run-time features of ``examples``, each with sample weight ``weight``."""
    feats = [classifier_features(ex.text, lang, scorer, FEATURES) for ex in examples]
    cdocs = [[] for _ in feats] if dense_only else char_docs(feats, FEATURES)
    return Featurized(feats, cdocs, [ex.positive for ex in examples], [weight] * len(feats))


def train_task(task: Task, data_dir: Path, search: bool, out_dir: Path,
               extra_dir: Path = EXTRA_DIR, use_extra: bool = True,
               calibrate: bool = False) -> dict[str, Any]:
    """Split, choose, report held-out figures, fit on everything, write; returns the figures.

    ``use_extra=False`` leaves out the task's extra files and teacher pool
    (``--without-extra``: the airline tweets are CC BY-NC-SA, so a model trained without
    them does not carry that licence; the pool holds them and its teacher learned from them).
    ``calibrate`` (``--calibrate``): both written models divide their logit by the
    temperature ``fit_temperature`` chooses on the training part's out-of-fold logits
    (``out_of_fold_logits``, the chosen hyper-parameters), reported as ``temperature``.
    """
    intent_dir = data_dir / "intent"
    examples = task.reader(intent_dir / task.source)
    # A dense-only model reads English training text with English lexicons; at run time the
    # same feature slots are filled from the lexicons of the model's own language.
    train_lang = "en" if task.dense_only else task.lang
    lexicons = load_lexicons(train_lang)
    scorer = LexiconScorer(lexicons, train_lang)
    main_set = featurize(examples, 1.0, train_lang, scorer, task.dense_only)
    # Extra files lose every near-duplicate of the main file, so nothing held out from
    # it is trained on under another name.
    seen = {ex.group for ex in examples}
    extra_examples: list[Example] = []
    extra_set = Featurized([], [], [], [])
    extras = task.extra if use_extra else ()
    for name, reader, weight in extras:
        rows = [ex for ex in reader(extra_dir / "intent" / name) if ex.group not in seen]
        extra_examples += rows
        extra_set = extra_set + featurize(rows, weight, train_lang, scorer, task.dense_only)
        print(f"  + {len(rows)} examples of {name} at weight {weight}")
    soft = None
    if task.soft and use_extra:
        name, weight = task.soft
        pool = complaint_pool(data_dir, extra_dir)
        probability = read_teacher_pool(extra_dir / "intent" / name, pool)
        pool_set = featurize([Example(t.text, False, t.key) for t in pool], 1.0, train_lang,
                             scorer, task.dense_only)
        soft = SoftLabels(pool_set.feats, pool_set.cdocs, probability, weight)
        print(f"  + {len(pool)} unlabelled tweets with the teacher's soft labels of {name} "
              f"at weight {weight}")
    train_idx, held_idx = holdout_split(examples, HOLDOUT_SHARE, SEED)
    train_part = main_set.pick(train_idx)
    if len(set(train_part.labels)) < 2 or not held_idx:
        raise ValueError(f"{task.source}: too few distinct examples of each class to split")
    if search:
        groups = [examples[i].group for i in train_idx]
        params = cross_validate(train_part, groups, extra_set, task.dense_only, task.name,
                                soft)
    else:
        params = DEFAULTS[task.name]
    report: dict[str, Any] = {"task": task.name, "hyper_params": params_text(params)}
    temperature = 1.0
    if calibrate:
        groups = [examples[i].group for i in train_idx]
        oof = out_of_fold_logits(train_part, groups, extra_set, params, task.dense_only, soft)
        temperature = fit_temperature(oof, train_part.labels)
        report["temperature"] = temperature
        print(f"  temperature {temperature} (least out-of-fold log loss on the training part)")
    # Held-out figures: a model fitted without the held-out fifth, run through the run time.
    partial = fit_set(train_part + extra_set, params, task.dense_only, soft)
    partial.temperature = temperature
    tmp = out_dir / f".{task.name}.holdout.json.gz"
    runtime = write_model(to_payload(partial, task, lexicons, train_lang, "train part"), tmp)
    tmp.unlink()
    held = [examples[i] for i in held_idx]
    report["held_out"] = figures([ex.positive for ex in held],
                                 [runtime.probability(ex.text) for ex in held])
    source = f"{task.source} {task.part}".strip()
    print(f"  held-out fifth of {source}: {report['held_out']}")
    # The shipped model: the same choices, fitted on the whole file (and the extra files).
    full = fit_set(main_set + extra_set, params, task.dense_only, soft)
    full.temperature = temperature
    ship_lexicons = load_lexicons(task.lang)
    pools = [f"{task.soft[0]} (soft labels)"] if soft and task.soft else []
    trained_on = " + ".join([source] + [name for name, _, _ in extras] + pools)
    payload = to_payload(full, task, ship_lexicons, task.lang, trained_on)
    path = out_dir / f"{task.name}.json.gz"
    shipped = write_model(payload, path)
    print(f"wrote {path.name}: {path.stat().st_size / 1e6:.2f} MB, "
          f"{len(full.words.index)} word + {len(full.chars.index)} char features")
    for name, reader, what in EXTERNAL.get(task.name, ()):
        file = intent_dir / name
        if file.exists():
            rows = reader(file)
            report[name] = figures([ex.positive for ex in rows],
                                   [shipped.probability(ex.text) for ex in rows])
            print(f"  {what} {name} (never trained on): {report[name]}")
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="shared data folder")
    parser.add_argument("--task", nargs="+", default=sorted(TASKS), choices=sorted(TASKS))
    parser.add_argument("--search", action="store_true", help="grid-search by 5-fold CV")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="where models are written")
    parser.add_argument("--extra-data", type=Path, default=EXTRA_DIR,
                        help="folder of the extra public training files (training-data/)")
    parser.add_argument("--teacher-pool", action=argparse.BooleanOptionalAction, default=True,
                        help="complaint_en: the teacher's soft labels of the unlabelled pool "
                             "(the distilled student, shipped; default) or, with "
                             "--no-teacher-pool, the airline weak labels (the former model)")
    parser.add_argument("--calibrate", action="store_true",
                        help="divide the logit by the temperature of least out-of-fold log "
                             "loss on the training part (same decisions at 0.5)")
    parser.add_argument("--without-extra", action="store_true",
                        help="train on the main file only (no airline tweets, CC BY-NC-SA, nor "
                             "the teacher pool holding them)")
    args = parser.parse_args(argv)
    data_dir = args.data or default_data_dir()
    if not (data_dir / "intent").is_dir():
        print(f"no intent data under {data_dir}", file=sys.stderr)
        return 2
    with threadpool_limits(limits=1):
        for name in args.task:
            print(f"== {name}")
            task = TASKS[name]
            if args.teacher_pool and name in STUDENTS:
                task = replace(task, extra=(), soft=STUDENTS[name])
            train_task(task, data_dir, args.search, args.out, args.extra_data,
                       use_extra=not args.without_extra, calibrate=args.calibrate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
