import pytest

from bot.analysis.lexicon import LexiconScorer, compound
from bot.analysis.text import tokenize

LEX = {"good": 2.0, "bad": -2.0, "déçu": -2.4}


def features(text: str, lang: str = "en") -> list[float]:
    scorer = LexiconScorer([LEX], lang)
    tokens = tokenize(text, lang)
    return scorer.features(tokens, [t.lower() for t in tokens])


def test_positive_and_negative_sums() -> None:
    pos, neg, comp = features("good and bad")
    assert pos == pytest.approx(0.5)
    assert neg == pytest.approx(-0.5)
    assert comp == pytest.approx(0.0)


def test_negation_flips_and_shrinks() -> None:
    pos, neg, _ = features("this is not good")
    assert pos == 0.0
    assert neg == pytest.approx(2.0 * -0.74 / 4)
    assert features("pas bon du tout, pas good", "fr")[1] < 0


def test_boosters_dampeners_and_capitals_add_emphasis() -> None:
    plain = features("it is good")[0]
    assert features("it is very good")[0] > plain
    assert features("it is slightly good")[0] < plain
    assert features("it is GOOD")[0] > plain


def test_contrast_weights_the_second_clause() -> None:
    assert features("good but bad")[2] < 0


def test_accent_free_spelling_finds_accented_entry() -> None:
    assert features("je suis decu", "fr")[1] < 0
    assert features("je suis DÉÇU", "fr")[1] < 0


def test_compound_is_bounded() -> None:
    assert -1 < compound(-100) < compound(0) == 0 < compound(100) < 1


def test_one_triple_per_lexicon() -> None:
    assert LexiconScorer([LEX, LEX], "en").n_features == 6
