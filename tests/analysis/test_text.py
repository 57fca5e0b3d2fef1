from bot.analysis.text import (
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
