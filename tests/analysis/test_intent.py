import pytest

from bot.analysis.intent import FLAG_ORDER, RAISES, RULES, detect_intent


@pytest.mark.parametrize(
    ("text", "intent", "flag", "term"),
    [
        ("My order never arrived and I want a refund", "complaint", "complaint", "never arrived"),
        ("L'appli plante encore, c'est nul", "complaint", "complaint", "appli plante"),
        ("Mon colis n'est jamais arrivé", "complaint", "complaint", "jamais arrive"),
        ("Je suis DÉÇU", "complaint", "complaint", "decu"),
        ("Where can I buy the new model?", "purchase_intent", "purchase_intent",
         "where can i buy"),
        ("Combien coûte l'abonnement ?", "purchase_intent", "purchase_intent", "combien coute"),
        ("How do I reset my password", "question", "question", "how do"),
        ("Est-ce que vous livrez le dimanche", "question", "question", "est ce"),
        ("anyone here?", "question", "question", "?"),
        ("Love the new app, great job team!", "praise", "praise", "great job"),
        ("Bravo pour le service, c'est top !", "praise", "praise", "est top"),
        ("Fab customer service today. Shoes exchanged with no fuss", "praise", "praise", "fab"),
        ("Hard to use kiosks, grateful you let me go human", "praise", "praise", "grateful"),
        ("I would be grateful if you could check my order", "question", "question",
         "would be grateful"),
        ("I'm calling my lawyer", "risk", "risk:legal", "lawyer"),
        ("Je vais porter plainte", "risk", "risk:legal", "porter plainte"),
        ("My phone caught fire while charging", "risk", "risk:safety", "caught fire"),
        ("Ma batterie a surchauffé", "risk", "risk:safety", "surchauffe"),
        ("Your site got hacked and my password leaked", "risk", "risk:data_breach", "hacked"),
        ("Fuite de données chez vous ?", "risk", "risk:data_breach", "fuite de donnees"),
        ("#boycott this racist brand", "risk", "risk:crisis", "boycott"),
        ("Free followers! click here, crypto giveaway", "spam", "spam", "free followers"),
        ("Just posted a photo", "other", None, None),
        ("great, my parcel is lost again", "complaint", "complaint", "parcel is lost"),
        ("my order arrived cold", "complaint", "complaint", "arrived cold"),
        ("I did not receive the code", "complaint", "complaint", "did not receive"),
        ("It's impossible to reach anyone", "complaint", "complaint", "impossible to"),
        ("Impossible de me connecter depuis hier", "complaint", "complaint", "impossible de me"),
        ("hope you can look at my account", "question", "question", "hope you can look"),
        ("J'espère que vous pourrez m'aider", "question", "question",
         "espere que vous pourrez aider"),
    ],
)  # fmt: skip
def test_rules(text: str, intent: str, flag: str | None, term: str | None) -> None:
    result = detect_intent(text)
    assert result.intent == intent
    if flag is not None:
        assert term in result.terms(flag)


def test_negated_praise_is_a_complaint() -> None:
    result = detect_intent("Not great, honestly")
    assert result.intent == "complaint"
    assert result.terms("complaint") == ("not great",)
    assert detect_intent("pas top du tout").intent == "complaint"
    assert detect_intent("no thanks").intent == "praise"


def test_all_flags_and_terms_are_kept_for_explanation() -> None:
    result = detect_intent("Scam! I'll sue you and I want a refund. How do I cancel?")
    assert result.intent == "risk"
    assert result.flag_names == ("risk:legal", "complaint", "question")
    assert result.risk_kinds == ("legal",)
    assert result.terms("complaint") == ("scam", "refund", "cancel")
    assert result.terms("praise") == ()


def test_structural_spam() -> None:
    text = "wow #a #b #c #d #e #f http://a.io http://b.io http://c.io"
    result = detect_intent(text)
    assert result.intent == "spam"
    assert result.terms("spam") == ("3 links", "6 hashtags")


def test_a_single_weak_spam_term_does_not_hide_a_complaint() -> None:
    assert detect_intent("my crypto wallet app is broken").intent == "complaint"
    assert detect_intent("new crypto thing").intent == "spam"


def test_hashtags_match_whole_words_not_stems() -> None:
    assert detect_intent("#ResilienceDuVivant").intent == "other"
    assert detect_intent("#fail #refund").intent == "complaint"


def test_urls_do_not_raise_flags() -> None:
    assert detect_intent("https://example.com/refund?scam=1").intent == "other"


def test_every_rule_flag_has_a_rank() -> None:
    assert {RAISES.get(name, name) for name in RULES} <= set(FLAG_ORDER)
    assert set(RAISES) <= set(RULES)


def test_quotes_that_strip_to_nothing_next_to_a_hashtag() -> None:
    # "''" becomes an empty word once its quotes are stripped.
    result = detect_intent("'' this is broken #refund ''")
    assert result.intent == "complaint"


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("love the new app but I can't log in", True),
        ("Thank you! The replacement still hasn't arrived though", True),
        ("J'adore la marque mais ma commande n'est jamais arrivée", True),
        ("Desktop app still not working, but I got to see the Easter egg so I'm ecstatic", False),
        ("it can be hit or miss, but not awful", False),  # a negated complaint term
        ("app still not working", False),  # no contrast: the tone may still weigh
        ("I'd love a refund please", False),
        ("love the app but it's a bit pricey", False),  # no complaint term
    ],
)
def test_a_complaint_after_a_contrast_is_the_point(text: str, after: bool) -> None:
    assert detect_intent(text).complaint_after_contrast is after
