from bot.analysis.text import (
    _ACCENTS,
    MAX_ANALYZED_CHARS,
    TOKEN_RE,
    clean_text,
    extract_urls,
    fold_accents,
    normalize_social,
    tokenize,
)


def test_clean_text_decodes_entities_and_literal_escapes() -> None:
    assert clean_text("Tom &amp; Jerry") == "Tom & Jerry"
    assert clean_text("I\\u2019m here") == "I'm here"
    assert clean_text("it’s") == "it's"


def test_clean_text_truncates_long_text() -> None:
    assert len(clean_text("x" * (MAX_ANALYZED_CHARS + 50))) == MAX_ANALYZED_CHARS


def test_normalize_social_uses_corpus_placeholders() -> None:
    text = normalize_social("@acme see https://t.co/abc it is soooo bad")
    assert text == "@user see  http  it is soo bad"


def test_tokenize_keeps_emoticons_hashtags_and_emoji() -> None:
    assert tokenize("Love it :-) #happy 😍!") == ["Love", "it", ":-)", "#happy", "😍", "!"]
    assert "don't" in tokenize("I don't like it")


def test_tokenize_gives_the_tokens_of_the_whole_text() -> None:
    # tokenize reads the text chunk by chunk between whitespace: the tokens must be those
    # the pattern finds in the whole text, emoticons and signs at a chunk's edges too.
    texts = [
        "8D 8) x8) 88) :) :-) <3 </3 ;P :/ 8p (8 )8",
        "ok:) hi:-( a.b.c #tag! @user, don't... it's #1 ##x @@y",
        "tab\there\nnew\u00a0nbsp\u2003em\u3000ideo\x1cfs\x85nel end",
        "naïve café ＡＢＣ 東京 😍😍 !!! ?? a_b _x_ 3:00 $4.99 e-mail",
        "",
        "   ",
    ]
    for text in texts:
        assert tokenize(text) == TOKEN_RE.findall(text), text


def test_tokenize_splits_french_elisions() -> None:
    assert tokenize("J'adore l'appli", "fr") == ["J'", "adore", "l'", "appli"]
    assert tokenize("J'adore l'appli", "en") == ["J'adore", "l'appli"]


def test_fold_accents() -> None:
    assert fold_accents("Élève DÉÇU œuvre") == "eleve decu oeuvre"
    assert fold_accents("Привет 😀") == "привет 😀"


def test_extract_urls_strips_trailing_punctuation() -> None:
    assert extract_urls("see https://ex.com/a?b=1). and www.site.fr/x,") == [
        "https://ex.com/a?b=1",
        "www.site.fr/x",
    ]


def _translated_fold(text: str) -> str:
    """fold_accents as the plain definition: lower case, then the table on every character."""
    return text.lower().translate(_ACCENTS)


def test_fold_accents_is_lower_then_the_table_on_every_code_point() -> None:
    # Every code point alone, between ASCII letters, and in runs of non-ASCII neighbours
    # (chunks of 64 consecutive code points, with and without ASCII inside).
    for start in range(0, 0x110000, 64):
        chars = [chr(c) for c in range(start, min(start + 64, 0x110000))]
        for text in ("".join(chars), "a" + "Z".join(chars) + "b", " ".join(chars)):
            assert fold_accents(text) == _translated_fold(text), hex(start)
        for ch in chars:
            assert fold_accents(f"É{ch}x") == _translated_fold(f"É{ch}x"), hex(ord(ch))
    for text in ("", "abc", "ÉLÈVE", "İstanbul", "Kelvin", "straße Œuvre", "😡 déçu 😡!"):
        assert fold_accents(text) == _translated_fold(text), text


def test_clean_text_folds_every_kind_of_apostrophe() -> None:
    table = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
    for text in ("it’s", "‘quoted’", "don`t", "´ok´", "`", "ascii only's", "mixed ’‘`´ é",
                 "no apostrophe é", "😡’", ""):
        assert clean_text(text) == text.translate(table), text
