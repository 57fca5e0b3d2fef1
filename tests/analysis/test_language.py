import pytest

from bot.analysis.language import (
    LANGUAGES,
    MIN_LETTERS,
    detect_language,
    load_language_model,
    normalize_language_code,
)

SAMPLES = {
    "en": "Thanks for the quick reply, the new update works much better now",
    "fr": "Merci pour votre réponse rapide, la nouvelle version marche beaucoup mieux",
    "es": "Gracias por la respuesta rápida, la nueva versión funciona mucho mejor",
    "de": "Danke für die schnelle Antwort, die neue Version funktioniert viel besser",
    "it": "Grazie per la risposta veloce, la nuova versione funziona molto meglio",
    "pt": "Obrigado pela resposta rápida, a nova versão funciona muito melhor agora",
    "nl": "Bedankt voor het snelle antwoord, de nieuwe versie werkt veel beter",
    "ru": "Спасибо за быстрый ответ, новая версия работает намного лучше",
    "ja": "迅速なご返信ありがとうございます。新しいバージョンはずっと良いです",
    "zh": "谢谢你的快速回复，新版本好多了",
    "ko": "빠른 답변 감사합니다. 새 버전이 훨씬 좋아요",
    "ar": "شكرا على الرد السريع، النسخة الجديدة تعمل بشكل أفضل بكثير",
}


@pytest.mark.parametrize(("lang", "text"), sorted(SAMPLES.items()))
def test_detects_common_languages(lang: str, text: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(("text", "lang"), [
    # Spanish from Spain: "a", "os" and "habéis" are Spanish function words too, not only
    # Portuguese ones ("a", "os") or Portuguese-looking letters ("éi").
    ("os voy a demandar, me habéis cobrado dos veces y la app da error", "es"),
    ("a ver si me devolvéis el dinero, os he escrito dos veces", "es"),
    ("vou processar vocês, cobraram duas vezes e o app dá erro", "pt"),
    ("a entrega atrasou de novo e os pedidos não chegaram", "pt"),
])
def test_spanish_and_portuguese_sharing_short_words_are_told_apart(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_tweet_noise_is_ignored() -> None:
    text = "@acme_support #fail https://t.co/xyz my order never arrived and nobody answers"
    assert detect_language(text) == "en"


def test_short_text_follows_the_hint() -> None:
    assert len("ok merci") < MIN_LETTERS
    assert detect_language("ok merci", hint="fr-FR") == "fr"
    assert detect_language("ok", hint="de") == "de"


def test_hint_tips_a_close_call_but_not_a_clear_text() -> None:
    english = "Thanks a lot for the help with my order yesterday, you were great"
    assert detect_language(english, hint="fr") == "en"


def test_unknown_hint_wins_only_when_the_text_is_unclear() -> None:
    assert detect_language("Eskerrik asko laguntzagatik", hint="eu") == "eu"
    assert detect_language(SAMPLES["en"], hint="eu") == "en"


def test_nothing_to_judge_returns_the_hint_or_none() -> None:
    assert detect_language("") is None
    assert detect_language("😀 👍 123 https://t.co/x") is None
    assert detect_language("@user #tag", hint="es") == "es"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en-US", "en"), ("FR_fr", "fr"), ("iw", "he"), ("nb", "no"), ("und", None), ("", None),
     (None, None), ("zh-Hant", "zh")],
)  # fmt: skip
def test_normalize_language_code(code: str | None, expected: str | None) -> None:
    assert normalize_language_code(code) == expected


def test_model_is_loaded_once_and_covers_its_languages() -> None:
    model = load_language_model()
    assert model is load_language_model()
    assert set(model.languages) == set(LANGUAGES)
    assert len(model.table) > 10_000
