"""The training scripts run end to end on tiny data (training-only dependencies)."""

import gzip
import json
from pathlib import Path

import pytest

from bot.analysis.language import LanguageModel
from bot.analysis.linear_model import LinearSentimentModel
from bot.analysis.training.build_language_model import build

POSITIVE = ["I love it", "great service, thank you", "awesome and helpful team", "so happy"]
NEGATIVE = ["I hate it", "awful service, never again", "broken and useless app", "so sad"]
NEUTRAL = ["the store opens at nine", "new version out today", "meeting at noon", "it is blue"]


def test_train_sentiment_writes_a_loadable_model(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import train_sentiment

    folder = tmp_path / "sentiment" / "eval"
    folder.mkdir(parents=True)
    lines = [f"{label}\t{text} {i}" for i in range(6)
             for label, texts in (("positive", POSITIVE), ("negative", NEGATIVE),
                                  ("neutral", NEUTRAL)) for text in texts]  # fmt: skip
    (folder / "en_tweets_train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "models"
    assert train_sentiment.main(["--data", str(tmp_path), "--lang", "en", "--out", str(out)]) == 0
    model = LinearSentimentModel.from_bytes((out / "sentiment_en.json.gz").read_bytes())
    neg, _, pos = model.probabilities("I love this helpful team")
    assert pos > neg


def test_hyper_parameter_search_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.lexicon import LexiconScorer
    from bot.analysis.training import train_sentiment

    monkeypatch.setattr(train_sentiment, "GRID_C", (0.5, 2.0))
    monkeypatch.setattr(train_sentiment, "GRID_DENSE_SCALE", (1.0,))
    monkeypatch.setattr(train_sentiment, "GRID_MIN_DF_WORD", (1,))
    texts = [f"{t} {i}" for i in range(5) for t in POSITIVE + NEGATIVE + NEUTRAL]
    labels = [
        lab for _ in range(5) for lab in ["positive"] * 4 + ["negative"] * 4 + ["neutral"] * 4
    ]
    scorer = LexiconScorer(train_sentiment.load_lexicons("en"), "en")
    best = train_sentiment.cross_validate(texts, labels, "en", scorer)
    assert best.c in (0.5, 2.0)


def test_train_sentiment_needs_the_data(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import train_sentiment

    assert train_sentiment.main(["--data", str(tmp_path)]) == 2


def _profile(folder: Path, name: str, words: list[str]) -> None:
    freq: dict[str, int] = {}
    for word in words:
        padded = f" {word} "
        for n in (1, 2, 3):
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n]
                if n == 1 and gram == " ":
                    continue
                freq[gram] = freq.get(gram, 0) + 10
    totals = [sum(v for k, v in freq.items() if len(k) == n) for n in (1, 2, 3)]
    (folder / name).write_text(json.dumps({"freq": freq, "n_words": totals, "name": name}))


def test_build_language_model_from_profiles(tmp_path: Path) -> None:
    _profile(tmp_path, "en", ["the", "and", "with", "thanks", "what", "this"])
    _profile(tmp_path, "fr", ["les", "avec", "merci", "pour", "est", "une"])
    model = LanguageModel(build(tmp_path, languages=("en", "fr")))
    assert model.languages == ("en", "fr")
    en_cost, fr_cost = model.costs(["merci", "pour", "les"])
    assert fr_cost < en_cost
    en_cost, fr_cost = model.costs(["thanks", "with", "the"])
    assert en_cost < fr_cost


COMPLAINTS = ["my order never arrived", "the app crashes every time", "still no refund, awful",
              "charged twice and nobody answers", "flight cancelled again, useless"]
OTHERS = ["thanks for the quick help", "love the new store", "what time do you open",
          "great job team", "happy holidays everyone"]


def _tiny_intent_data(root: Path) -> tuple[Path, Path]:
    data = root / "data"
    (data / "intent").mkdir(parents=True)
    rows = ["tweet_id\tlabel\tdomain\ttext"]
    rows += [f"{i}{j}\tcomplaint\tother\t@brand {t} {i}" for i in range(6)
             for j, t in enumerate(COMPLAINTS)]
    rows += [f"9{i}{j}\tnot_complaint\tother\t@brand {t} {i}" for i in range(6)
             for j, t in enumerate(OTHERS)]
    (data / "intent" / "complaints_en_train.tsv").write_text("\n".join(rows) + "\n")
    attention = ["tweet_id\tintent\tsentiment\tattention\tfirst_message\ttext"]
    things = ["password", "plan", "bill", "order", "app", "card", "box", "seat"]
    # Ids 1,000 apart: each tweet is its own approximate conversation for split_attention,
    # so both its tuning and held-out parts hold some.
    attention += [f"{1000 * (i + 1)}\tquestion\tneutral\talert\tyes\t"
                  f"@brand how do I change my {thing}?" for i, thing in enumerate(things)]
    attention += [f"{1000 * (i + 20)}\tpraise\tpositive\tdigest\tyes\t@brand thank you, {a} {b}!"
                  for i, (a, b) in enumerate(zip(things * 2, things[::-1] + things, strict=True))]
    (data / "intent" / "twcs_attention_dev.tsv").write_text("\n".join(attention) + "\n")
    extra = root / "extra"
    (extra / "intent").mkdir(parents=True)
    (extra / "intent" / "airline_tweets_en.tsv").write_text(
        "negative\t@air lost my bag\npositive\t@air great crew\nneutral\t@air is wifi free?\n"
        "neutral\t@air the zqxfoo again\nneutral\t@air the zqxbar again\n"
    )
    _write_pool(data, extra)
    return data, extra


def _write_pool(data: Path, extra: Path) -> None:
    """A teacher pool file for the tiny data: the zqxfoo tweet a sure complaint, the zqxbar
    one surely not, the others even."""
    from bot.analysis.training import train_classifiers as tc

    pool = tc.complaint_pool(data, extra)
    p = [1.0 if "zqxfoo" in t.text else 0.0 if "zqxbar" in t.text else 0.5 for t in pool]
    tc.write_teacher_pool(extra / "intent" / tc.TEACHER_POOL, pool, p, "tiny test teacher")


def test_train_classifiers_is_deterministic_and_loadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.binary_model import BinaryLinearModel
    from bot.analysis.training import train_classifiers

    data, extra = _tiny_intent_data(tmp_path)
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        argv = ["--data", str(data), "--extra-data", str(extra), "--out", str(out),
                "--task", "complaint_en", "question_en", "complaint_fr", "--no-teacher-pool"]
        assert train_classifiers.main(argv) == 0
        outputs.append({p.name: p.read_bytes() for p in sorted(out.glob("*.json.gz"))})
    assert outputs[0] == outputs[1]
    assert sorted(outputs[0]) == ["complaint_en.json.gz", "complaint_fr.json.gz",
                                  "question_en.json.gz"]
    printed = capsys.readouterr().out
    assert "held-out fifth of complaints_en_train.tsv" in printed
    assert "+ 5 examples of airline_tweets_en.tsv" in printed
    assert "teacher" not in printed
    complaint = BinaryLinearModel.from_bytes(outputs[0]["complaint_en.json.gz"])
    assert complaint.probability("@brand my order never arrived") > complaint.probability(
        "@brand thanks for the quick help")
    french = BinaryLinearModel.from_bytes(outputs[0]["complaint_fr.json.gz"])
    assert french.lang == "fr" and not french.words.packed


def test_the_teacher_pool_trains_a_deterministic_student(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.binary_model import BinaryLinearModel
    from bot.analysis.training import train_classifiers

    data, extra = _tiny_intent_data(tmp_path)
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        argv = ["--data", str(data), "--extra-data", str(extra), "--out", str(out),
                "--task", "complaint_en"]  # the default
        assert train_classifiers.main(argv) == 0
        outputs.append((out / "complaint_en.json.gz").read_bytes())
    assert outputs[0] == outputs[1]
    printed = capsys.readouterr().out
    tune, _ = train_classifiers.attention_parts(data / "intent" / "twcs_attention_dev.tsv")
    assert (f"+ {5 + len(tune)} unlabelled tweets with the teacher's soft labels of "
            "complaint_teacher_pool.tsv at weight 1.0") in printed
    assert "examples of airline_tweets_en.tsv" not in printed
    complaint = BinaryLinearModel.from_bytes(outputs[0])
    assert complaint.probability("@brand my order never arrived") > complaint.probability(
        "@brand thanks for the quick help")
    # The teacher's soft labels are learned: only they tell the two pool words apart.
    assert complaint.probability("@air the zqxfoo again") > complaint.probability(
        "@air the zqxbar again")
    payload = json.loads(gzip.decompress(outputs[0]))
    assert payload["trained_on"] == ("complaints_en_train.tsv + complaint_teacher_pool.tsv "
                                     "(soft labels)")


def test_calibration_scales_the_logit_and_keeps_every_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.binary_model import BinaryLinearModel
    from bot.analysis.training import train_classifiers

    data, extra = _tiny_intent_data(tmp_path)
    base = ["--data", str(data), "--extra-data", str(extra), "--task", "complaint_en",
            "--teacher-pool"]
    outputs = {}
    for run, flags in (("plain", []), ("a", ["--calibrate"]), ("b", ["--calibrate"])):
        out = tmp_path / run
        assert train_classifiers.main([*base, "--out", str(out), *flags]) == 0
        outputs[run] = (out / "complaint_en.json.gz").read_bytes()
    assert outputs["a"] == outputs["b"]
    payload = json.loads(gzip.decompress(outputs["a"]))
    temperature = payload["temperature"]
    assert temperature in train_classifiers.TEMPERATURES
    assert f"temperature {temperature} (least out-of-fold log loss" in capsys.readouterr().out
    assert "temperature" not in json.loads(gzip.decompress(outputs["plain"]))
    plain = BinaryLinearModel.from_bytes(outputs["plain"])
    calibrated = BinaryLinearModel.from_bytes(outputs["a"])
    texts = [f"@brand {t}" for t in [*COMPLAINTS, *OTHERS, "the zqxfoo again", "hello"]]
    for text in texts:
        z = plain.logit(text)
        assert calibrated.logit(text) == pytest.approx(z / temperature, rel=1e-3, abs=1e-3)
        assert (calibrated.probability(text) >= 0.5) is (plain.probability(text) >= 0.5)


def test_the_temperature_of_least_log_loss_undoes_a_known_scaling() -> None:
    np = pytest.importorskip("numpy", reason="training needs numpy (train extra)")
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training.train_classifiers import fit_temperature

    rng = np.random.default_rng(7)
    true = rng.normal(0.0, 2.0, 20000)
    labels = (rng.random(true.size) < 1.0 / (1.0 + np.exp(-true))).tolist()
    # A model whose logit is half (too timid) or twice (too sure) the true one.
    assert fit_temperature(true / 2, labels) == pytest.approx(0.5, abs=0.05)
    assert fit_temperature(true * 2, labels) == pytest.approx(2.0, abs=0.2)
    assert fit_temperature(true, labels) == pytest.approx(1.0, abs=0.1)


def test_a_stale_teacher_pool_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import train_classifiers as tc

    data, extra = _tiny_intent_data(tmp_path)
    pool_file = extra / "intent" / tc.TEACHER_POOL
    pool = tc.complaint_pool(data, extra)
    assert len(tc.read_teacher_pool(pool_file, pool)) == len(pool)
    # A tweet's text changed under the same key: the probabilities are not its own.
    edited = [tc.PoolTweet(t.source, t.key, t.text + "!") if i == 0 else t
              for i, t in enumerate(pool)]
    with pytest.raises(ValueError, match="texts changed"):
        tc.read_teacher_pool(pool_file, edited)
    # One tweet more in the pool than in the file.
    with pytest.raises(ValueError, match="other tweets"):
        tc.read_teacher_pool(pool_file, [*pool, tc.PoolTweet("twcs", "1", "@brand hi")])
    argv = ["--data", str(data), "--extra-data", str(extra), "--out", str(tmp_path / "out"),
            "--task", "complaint_en", "--teacher-pool"]
    pool_file.write_text(pool_file.read_text().replace("airline\t1\t", "airline\t7\t"))
    with pytest.raises(ValueError, match="other tweets"):
        tc.main(argv)


def test_question_en_never_trains_on_the_attention_held_out_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import split_attention, train_classifiers

    data = tmp_path / "data"
    (data / "intent").mkdir(parents=True)
    rows = ["tweet_id\tintent\tsentiment\tattention\tfirst_message\ttext"]
    # Every tweet its own approximate conversation (ids 1,000 apart), each with a word of
    # its own (letters: near-duplicate keys drop digits), so the shipped vocabulary tells
    # which tweets were trained on.
    def word(tweet_id: str) -> str:
        return "zq" + "".join(chr(ord("a") + int(d)) for d in str(int(tweet_id) // 1000))

    for i in range(30):
        tweet_id = str(1000 * (i + 1))
        intent, text = (("question", f"@brand how do I reset my {word(tweet_id)}?") if i % 3 == 0
                        else ("praise", f"@brand thank you, the {word(tweet_id)} is lovely!"))
        rows.append(f"{tweet_id}\t{intent}\tneutral\tdigest\tyes\t{text}")
    source = data / "intent" / "twcs_attention_dev.tsv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    header, parsed = split_attention.read_rows(source)
    tune, held = split_attention.split(
        split_attention.conversation_groups(header, parsed), split_attention.DEFAULT_SEED)
    assert train_classifiers.attention_parts(source) == (
        frozenset(r[0] for r in tune), frozenset(r[0] for r in held))
    out = tmp_path / "out"
    argv = ["--data", str(data), "--out", str(out), "--task", "question_en"]
    assert train_classifiers.main(argv) == 0
    payload = json.loads(gzip.decompress((out / "question_en.json.gz").read_bytes()))
    words = set(payload["word"]["vocab"].split("\n"))
    assert {word(r[0]) for r in tune} <= words
    assert not {word(r[0]) for r in held} & words
    assert payload["trained_on"].startswith("twcs_attention_dev.tsv tuning part")
    printed = capsys.readouterr().out
    assert f"attention held-out part of twcs_attention_dev.tsv (never trained on): {{'n': " \
           f"{len(held)}," in printed


def test_holdout_split_keeps_near_duplicates_together() -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training.train_classifiers import Example, group_key, holdout_split

    items = ["parcel", "phone", "sofa", "ticket", "refund", "laptop", "card", "bike", "lamp",
             "desk"]
    # Four near-duplicates per item (other handle, other number): one group each.
    texts = [f"@shop{i} my {item} #{i} never arrived!!" for item in items for i in range(4)]
    texts += [f"thanks team, {item} day {i}" for item in items for i in range(4)]
    examples = [Example(t, i < 40, group_key(t)) for i, t in enumerate(texts)]
    train, held = holdout_split(examples, 0.2, seed=1)
    assert sorted(train + held) == list(range(80)) and not set(train) & set(held)
    assert sum(examples[i].positive for i in held) == 8
    held_groups = {examples[i].group for i in held}
    assert all(examples[i].group not in held_groups for i in train)
    assert holdout_split(examples, 0.2, seed=1) == (train, held)


def test_train_classifiers_needs_the_data(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import train_classifiers

    assert train_classifiers.main(["--data", str(tmp_path)]) == 2


def test_train_classifiers_without_extra_leaves_the_airline_tweets_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import train_classifiers

    data, extra = _tiny_intent_data(tmp_path)
    out = tmp_path / "out"
    argv = ["--data", str(data), "--extra-data", str(extra), "--out", str(out),
            "--task", "complaint_en", "--without-extra", "--teacher-pool"]
    assert train_classifiers.main(argv) == 0
    printed = capsys.readouterr().out
    assert "airline_tweets_en.tsv" not in printed and "teacher" not in printed
    payload = json.loads(gzip.decompress((out / "complaint_en.json.gz").read_bytes()))
    assert payload["trained_on"] == "complaints_en_train.tsv"


def test_classifier_search_keeps_near_duplicates_in_one_fold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.lexicon import LexiconScorer
    from bot.analysis.training import train_classifiers as tc

    things = ["parcel", "phone", "sofa", "ticket", "refund", "laptop", "card", "bike"]
    texts = [f"@shop{i} my {t} never arrived, awful" for t in things for i in range(3)]
    texts += [f"@shop{i} thanks, the {t} is lovely" for t in things for i in range(3)]
    examples = [tc.Example(t, n < 24, tc.group_key(t)) for n, t in enumerate(texts)]
    scorer = LexiconScorer(tc.load_lexicons("en"), "en")
    main = tc.featurize(examples, 1.0, "en", scorer, dense_only=False)
    group_of = {id(f): e.group for f, e in zip(main.feats, examples, strict=True)}
    seen_folds: list[list[str]] = []
    real_fit = tc.fit_set

    def spying_fit(data: tc.Featurized, params: tc.HyperParams, dense_only: bool,
                   soft: tc.SoftLabels | None = None) -> tc.Fitted:
        seen_folds.append([group_of[id(f)] for f in data.feats])
        return real_fit(data, params, dense_only, soft)

    monkeypatch.setattr(tc, "GRID_C", (1.0,))
    monkeypatch.setattr(tc, "GRID_DENSE_SCALE", (1.0,))
    monkeypatch.setattr(tc, "GRID_BALANCED", (True,))
    monkeypatch.setattr(tc, "fit_set", spying_fit)
    params = tc.cross_validate(main, [e.group for e in examples], tc.Featurized([], [], [], []),
                               dense_only=False, name="complaint_en")
    assert params == tc.HyperParams(c=1.0, dense_scale=1.0, balanced=True)
    assert len(seen_folds) == 5
    # Each training fold holds every near-duplicate of an item (three each) or none of them.
    for trained in seen_folds:
        assert 0 < len(trained) < len(examples)
        assert all(trained.count(group) == 3 for group in trained)


def test_cv_attention_reads_only_the_tuning_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training import cv_attention, split_attention

    things = ["parcel", "phone", "sofa", "ticket", "refund", "laptop", "card", "bike", "lamp",
              "desk", "chair", "boots", "coat", "plan", "modem", "router", "watch", "tv"]
    rows = ["tweet_id\tintent\tsentiment\tattention\tfirst_message\ttext"]
    # Ids 1,000 apart: every tweet is its own approximate conversation.
    for i, thing in enumerate(things):
        rows.append(f"{1000 * (2 * i + 1)}\tcomplaint\tnegative\talert\tyes\t"
                    f"@brand my {thing} never arrived, awful")
        rows.append(f"{1000 * (2 * i + 2)}\tother\tneutral\t{('alert', 'digest')[i % 2]}"
                    f"\tno\t@brand {thing} model {i} in the box")
    folder = tmp_path / "intent"
    folder.mkdir()
    (folder / "twcs_attention_dev.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    header, parsed = split_attention.read_rows(folder / "twcs_attention_dev.tsv")
    tune, held = split_attention.split(
        split_attention.conversation_groups(header, parsed), split_attention.DEFAULT_SEED)
    lines = cv_attention.tuning_lines(tmp_path)
    assert len(lines) == len(tune) and held
    assert sum(line.alert for line in lines) == sum(r[3] == "alert" for r in tune)
    assert cv_attention.main(["--data", str(tmp_path), "--seeds", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"tuning part: {len(tune)} lines" in printed
    assert "out of fold, mean of 2 seeds" in printed
    assert cv_attention.main(["--data", str(tmp_path / "missing")]) == 2


def test_static_embedding_wordpiece_cuts_run_time_tokens_as_bert_does() -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    from bot.analysis.training.cv_static_embedding import WordPiece

    vocab = ["[PAD]", "[UNK]", "un", "##aff", "##able", "won", "'", "t", "@", "user", "#",
             "123", "##45", "cafe", "!"]
    pieces = WordPiece(vocab)
    ids = {p: i for i, p in enumerate(vocab)}
    # Longest match first, "##" inside a word; punctuation split off; accents and case folded.
    assert pieces(["Unaffable"]) == [ids["un"], ids["##aff"], ids["##able"]]
    assert pieces(["won't", "@user", "#12345", "Café", "!"]) == [
        ids["won"], ids["'"], ids["t"], ids["@"], ids["user"], ids["#"], ids["123"],
        ids["##45"], ids["cafe"], ids["!"]]
    # A word with no full cut is one unknown piece, not a partial cut.
    assert pieces(["unaffablex", "zzz"]) == [ids["[UNK]"], ids["[UNK]"]]
    # The cache answers a token seen before with the same pieces.
    assert pieces(["Unaffable"]) == [ids["un"], ids["##aff"], ids["##able"]]


def test_distill_mlp_student_weighs_classes_as_the_linear_student_and_sharpens() -> None:
    pytest.importorskip("sklearn", reason="training needs scikit-learn (train extra)")
    import numpy as np
    import scipy.sparse as sp
    from sklearn.utils.class_weight import compute_class_weight

    from bot.analysis.training.cv_distill import MLPStudent, _class_weights, sharpen

    # Gold rows (weight 1) and soft rows (target p, weight w) weigh the classes as the
    # linear student's doubled rows (complaint at w*p, not at w*(1-p)) do in scikit-learn.
    target = np.array([1.0, 0.0, 0.0, 0.9, 0.2])
    weight = np.array([1.0, 1.0, 1.0, 0.5, 0.5])
    doubled_y = np.array([1, 0, 0, 1, 1, 0, 0])
    doubled_w = np.array([1.0, 1.0, 1.0, 0.45, 0.1, 0.05, 0.4])
    expected = compute_class_weight("balanced", classes=np.array([0, 1]), y=doubled_y,
                                    sample_weight=doubled_w)
    assert np.allclose(_class_weights(target, weight), expected)
    # Sharpening keeps each probability's side of 0.5 and moves it away from 0.5.
    p = np.array([0.1, 0.4, 0.5, 0.7])
    sharp = sharpen(p, 0.5)
    assert np.allclose(sharp, [1 / 82, 4 / 13, 0.5, 49 / 58])
    assert np.allclose(sharpen(p, 1.0), p)
    # The student reads its design matrix as relu(x W + b) . v + c.
    student = MLPStudent(np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([0.0, 0.5]),
                         np.array([1.0, 2.0]), -1.0)
    x = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    assert np.allclose(student.probability(x), 1 / (1 + np.exp(-np.array([0.0, 6.0]))))
