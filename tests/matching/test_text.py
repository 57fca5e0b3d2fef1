"""Unit tests for bot.matching.text: folding and tokenization."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from bot.matching.text import fold, tokenize, tokenize_folded


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Vigie", "vigie"),
        ("Élève ÉCOLE où çà", "eleve ecole ou ca"),
        ("naïve café crème brûlée", "naive cafe creme brulee"),
        ("Straße STRASSE", "strasse strasse"),
        ("ẞ", "ss"),
        ("Œuvre cœur", "oeuvre coeur"),
        ("Ærø", "aero"),
        ("Łódź", "lodz"),
        ("ＶＩＧＩＥ ＃ｂｕｇ ＠ｖｉｇｉｅ １２３", "vigie #bug @vigie 123"),
        ("ﬁnance ﬂeur", "finance fleur"),
        ("x²", "x2"),
        ("İstanbul", "istanbul"),
        ("ΣΊΣΥΦΟΣ", "σισυφοσ"),
        ("ﾃｽﾄ", "テスト"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_fold_drops_invisible_characters() -> None:
    assert fold("vi\u00adgie") == "vigie"  # soft hyphen
    assert fold("vi\u200bgie") == "vigie"  # zero-width space
    assert fold("vigie\ufe0f") == "vigie"  # variation selector


def test_fold_ascii_fast_path_is_lower() -> None:
    assert fold("Hello, World! 123") == "hello, world! 123"


def test_fold_combining_accents_equal_precomposed() -> None:
    assert fold("e\u0301") == fold("\u00e9") == "e"


def test_fold_is_idempotent_on_every_code_point() -> None:
    # Exhaustive: fold is per character, so checking each code point covers all text.
    # Unassigned, private-use and surrogate code points have no decomposition or case.
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) in ("Cn", "Co", "Cs"):
            continue
        once = fold(chr(code))
        assert fold(once) == once, hex(code)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("L'appli Vigie", ["l", "appli", "vigie"]),
        ("l’appli aujourd’hui", ["l", "appli", "aujourd", "hui"]),
        ("e-mail porte-monnaie", ["e", "mail", "porte", "monnaie"]),
        ("#Vigie #bug_report", ["#vigie", "#bug_report"]),
        ("@Vigie_App salut", ["@vigie_app", "salut"]),
        ("@vigie@mastodon.social hi", ["@vigie@mastodon.social", "hi"]),
        ("cc @vigie.bsky.social.", ["cc", "@vigie.bsky.social"]),
        ("bob@example.com", ["bob", "example", "com"]),
        ("issue#12", ["issue", "12"]),
        ("C++ and C# and F#, notepad++", ["c++", "and", "c#", "and", "f#", "notepad++"]),
        ("a+b 1+1=2", ["a", "b", "1", "1", "2"]),
        ("i18n l10n", ["i18n", "l10n"]),
        ("_vigie_ is *great*", ["vigie", "is", "great"]),
        ("snake_case ___", ["snake_case"]),
        ("v1.2.3 3,14", ["v1", "2", "3", "3", "14"]),
        ("Vigie 🚀🔥 !!!", ["vigie"]),
        ("东京タワー", ["东", "京", "タ", "ワ", "ー"]),
        ("#東京 tokyo", ["東", "京", "tokyo"]),
        ("हिन्दी भाषा", ["हिनदी", "भाषा"]),
        ("Привет, Вигие", ["привет", "вигие"]),
        ("AT&T H&M", ["at", "&t", "h", "&m"]),
        ("AT & T, Procter &  Gamble", ["at", "&t", "procter", "&gamble"]),
        ("at t-minus", ["at", "t", "minus"]),
        ("& co, x &, &bar", ["co", "x", "bar"]),
        ("R&D_ #AT&T", ["r", "&d", "#at", "&t"]),
        ("", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_word_boundaries() -> None:
    assert "cat" not in tokenize("concatenate the catalogue")
    assert "cat" in tokenize("my cat, concatenated")


def test_tokenize_folded_expects_folded_text() -> None:
    assert tokenize_folded(fold("Élan VITAL")) == tokenize("Élan VITAL") == ["elan", "vital"]
