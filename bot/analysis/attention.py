"""Signals that do not depend on the language, and whether the brand owes an answer.

A customer who writes to the brand with something to say is waiting for the brand,
whatever the words: a reply that gives the order number the agent asked for needs an
answer as much as a question does. These signals are read from characters, not words,
so they hold for a mention in a language no model knows: question and exclamation
marks, negative emoji and emoticons, an @handle (addressed to someone), numbers shaped
like an order or case id, and a few known thanks formulas (``THANKS_FORMULAS``, a
small multilingual list). ``waiting_for_answer`` turns them, with the intent, into the
"waiting for an answer" part of the priority.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.analysis.frozen import fast_init
from bot.analysis.intent import (
    IntentFlag,
    IntentResult,
    detect_intent,
    intent_without_complaint,
)
from bot.analysis.language import MIN_LETTERS, normalize_language_code
from bot.analysis.sentiment import SENTIMENT_LANGUAGES, SUPPORTED_LANGUAGES
from bot.analysis.text import (
    EXCLAMATION_MARKS,
    ORDER_ID_RE,
    QUESTION_MARKS,
    VERSION_RE,
    count_marks,
    digit_shape,
    fold_accents,
    strip_links,
)
from bot.analysis.topics import detect_topics

LANGUAGE_NOT_ANALYSED = "language_not_analysed"
"""Flag stored with a mention whose words no intent rule or classifier read (a sentiment
model may have: Spanish, German, Portuguese); its term is the detected language."""
NEGATIVE_EMOJI = frozenset("😡😠🤬😤😞😢😭😩😫😒🙄👎💔😣😖😔😕☹🙁😑🤦😰😱")
# Warm emoji: a thank-you's, in any language ("grazie mille ❤️", "ありがとう😊"). Not 🙏 (a
# plea as often as thanks) nor 😂 (mockery as often as fun).
POSITIVE_EMOJI = frozenset("❤♥😊😍🥰👍👏😀😃😄😁🙂😉🤗💕💖💗💙💚💛💜🧡🤍😘🥳🎉✨🌟⭐💯🙌👌😇☺🤩😻")
# A thumbs-up or applause is as often sarcastic ("il mio ordine non è mai arrivato, grazie
# mille 👍") as warm: it counts as thanks only on a text of a few words.
AMBIGUOUS_EMOJI = frozenset("👍👏👌")
THANKS_WORDS_MAX = 7
"""A warm emoji makes a thank-you of at most this many words (handles and links aside):
"dank jullie wel voor de snelle levering 😍👍" has 7, "mijn pakket is al twee weken niet
aangekomen. Geweldige service 👍" 10."""
AMBIGUOUS_THANKS_WORDS_MAX = 3
"""A thumbs-up or applause alone makes a thank-you of at most this many words:
"teşekkürler, harika hizmet 👏👏" has 3, "siparişim hâlâ gelmedi, teşekkürler 👍" 4."""
THANKS_FORMULAS = (
    # en, fr, es, pt, de (their models or rules read them; listed for a text too short
    # for the language detector: "@acme danke!")
    "thanks", "thank you", "thank you so much", "thanks a lot", "many thanks", "thx", "cheers",
    "merci", "merci beaucoup", "merci bien", "mille mercis",
    "gracias", "muchas gracias", "mil gracias", "muchisimas gracias",
    "obrigado", "obrigada", "muito obrigado", "muito obrigada", "valeu",
    "danke", "danke schon", "dankeschon", "danke sehr", "vielen dank", "herzlichen dank",
    # it, nl, sv, da, no, fi, pl, cs, sk, ro, hu, tr, id, ca: no model reads them
    "grazie", "grazie mille", "mille grazie", "grazie tante", "grazie infinite",
    "dank je", "dank je wel", "dank u", "dank u wel", "dank jullie", "dank jullie wel",
    "bedankt", "hartelijk dank", "heel erg bedankt",
    "tack", "tack sa mycket", "tusen tack", "stort tack", "tusind tak", "mange tak",
    "takk", "tusen takk", "mange takk", "kiitos", "kiitos paljon", "paljon kiitoksia",
    "dziekuje", "dzieki", "dziekujemy", "bardzo dziekuje", "dekuji", "diky", "moc dekuji",
    "dakujem", "multumesc", "mersi", "koszonom", "koszi", "tesekkurler", "tesekkur ederim",
    "cok tesekkurler", "sagol", "sagolun", "terima kasih", "makasih", "gracies",
    "moltes gracies",
    # other scripts
    "спасибо", "спасибо большое", "большое спасибо", "дякую", "ευχαριστώ", "ευχαριστω",
    "ευχαριστούμε", "ありがとう", "ありがとうございます", "ありがとうございました", "谢谢",
    "多谢", "감사합니다", "고맙습니다", "شكرا", "شكرا جزيلا", "תודה", "תודה רבה", "धन्यवाद",
)
"""Thank-you formulas, lowercase and accent-free as ``fold_accents`` gives them ("tack så
mycket" is "tack sa mycket"). A mention that is only one of them ("@acme grazie mille!")
owes no answer in any language; in a language no sentiment model reads, one whose other
words are all in ``THANKS_PRAISE`` is a thank-you ("@acme dank je wel, top service").
Not "tak" alone: Danish thanks, but Polish "yes"."""
THANKS_PRAISE = frozenset((
    "top", "super", "service", "support", "team",  # several languages
    "voor", "de", "het", "hulp", "snelle", "snel", "goede", "goed", "geweldig",  # nl
    "geweldige", "fijn", "prima", "uitstekend", "uitstekende", "heel", "jullie",
    "per", "il", "aiuto", "supporto", "assistenza", "servizio", "ottimo", "ottima",  # it
    "bravi", "bravissimi", "gentili", "gentilissimi", "perfetto", "veloce", "voi",
    "za", "pomoc", "swietna", "swietny", "obsluga", "szybka", "dobra", "bardzo",  # pl
    "hyvaa", "hyva", "palvelua", "palvelu", "avusta", "nopeasta", "mahtavaa",  # fi
    "loistavaa",
    "for", "hjalpen", "bra", "toppen", "snabb", "snabbt", "fantastisk",  # sv
    "hjaelpen", "hjelpen", "god", "godt", "topp", "hurtig", "hurtigt", "flot", "flott",  # da, no
    "skvela", "sluzba", "pomoci", "rychlou",  # cs, sk
    "pentru", "ajutor", "servicii", "excelente",  # ro
    "segitseget", "szuper", "nagyon", "remek",  # hu
    "yardiminiz", "icin", "harika", "hizmet", "cok",  # tr
    "atas", "bantuannya", "banyak", "mantap", "cepat",  # id
    "ajuda", "servei", "genial", "molt",  # ca
))
"""Words that may follow a thanks formula in a thank-you read with no model: praise and
what is thanked ("top service", "servizio ottimo", "świetna obsługa", "voor de hulp", "za
pomoc", "hyvää palvelua", "for hjälpen"), lowercase and accent-free, per language. Any
other word keeps the mention waiting: no model reads whether "app bloccata", "pessimo
servizio", "che schifo" or "paczka zniszczona" complain, so a thanks before them proves
nothing. Only warm or neutral words, no negation or word of fault ("erg", Dutch "very",
is also "bad"), so that no mix of them complains."""
_THANKS_FIRST = frozenset(f.split()[0] for f in THANKS_FORMULAS)
_THANKS_SEQUENCES = frozenset(tuple(f.split()) for f in THANKS_FORMULAS)
_THANKS_LONGEST = max(len(f) for f in _THANKS_SEQUENCES)
# A text of more whitespace-separated chunks (words, emoji, punctuation) is no short
# thank-you: not read, which spares most texts the folding and word split.
_THANKS_CHUNKS_MAX = 12
_ASCII_LETTERS = bytes(c if chr(c).isascii() and chr(c).isalpha() else ord(" ")
                       for c in range(256))  # every other byte becomes a space
_NEGATIVE_EMOTICON_RE = re.compile(r"(?:^|\s)(?:>?:-?\(+|:'\(|D:)(?=\s|$)")
# "@" first, then the look-behind over it and the character before (the same matches as
# (?<![\w@])@\w{1,30}): ``re`` then skips to the next "@" instead of trying every position.
_HANDLE_RE = re.compile(r"@(?<![\w@]@)\w{1,30}")
# \d{5} written out: a pattern opening on a character class lets ``re`` skip to the next
# digit instead of trying every position.
_FIVE_DIGITS_RE = re.compile(r"\d\d\d\d\d")
_DOT_DIGIT_RE = re.compile(r"\d\.\d")  # a cheap first look: most texts have none
# Support agents sign their replies "*JoanO" or "^PS": the brand wrote it, nobody waits.
_AGENT_SIGNATURE_RE = re.compile(r"(?:^|\s)[*^][A-Z][A-Za-z]{0,11}\s*$")
_WORD_RE = re.compile(r"[^\W\d_]{2,}")
# Laughter says nothing to answer: "@brand lol" is as content-free as a lone emoji.
_LAUGHTER_RE = re.compile(
    r"(?i)l+o+l+|lmf?ao+|rofl|(?:ha)+h?|(?:he){2,}h?|(?:hi){2,}|p?tdr+|mdr+|x+d+"
    r"|(?:j[aeis]){2,}j?|k{3,}|(?:rs){2,}r?|(?:wk){2,}w?|(?:hue){2,}")  # es, pt, id
_HASHTAG_RE = re.compile(r"#\w+")
# A hashtag that complains is something to answer: "#fail", "#worstservice", or a
# negator glued to a word a rule reads ("#nointernet", "#sininternet": "no internet").
_GRIEVANCE_HASHTAG_RE = re.compile(r"(?i)#\w*fail|#(?:worst|pesim|peor|scam|boycott)")
_NEGATED_HASHTAG_RE = re.compile(r"(?i)#(no|sin|sem|kein|keine|sans|ohne)(\w{3,})")
_LETTERS_RE = re.compile(r"[A-Za-z]+")
SHORT_LETTERS = 24
"""Under this many letters a plain ASCII text's detected language is not trusted."""
CROWD_HANDLES = 5
"""A mention tagging this many accounts talks to a crowd, not to the brand alone."""


@fast_init
@dataclass(frozen=True, slots=True)
class Signals:
    """What the characters of a mention say, whatever its language."""

    addressed: bool
    handles: int
    substance: bool
    question_marks: int
    exclamations: int
    negative_emoji: int
    order_number: bool
    language_analysed: bool
    agent_signed: bool = False
    version_number: bool = False
    """The words (not handles or links) hold a software version ("iOS 11.1")."""
    sentiment_analysed: bool = True
    """A sentiment model reads the language: always when ``language_analysed``, and for
    Spanish, German and Portuguese, whose sentiment models are their only reading."""
    positive_emoji: int = 0
    """Warm emoji (``POSITIVE_EMOJI``) on a text short enough to be a thank-you (see
    ``_thanks_emoji``): the only tone read where no model reads the words."""
    thanks: bool = False
    """The words are a thanks formula (``THANKS_FORMULAS``), and any others are praise or
    what is thanked (``THANKS_PRAISE``): a thank-you where no model reads the words ("dank
    je wel, top service"), not "grazie, app bloccata"."""
    thanks_only: bool = False
    """The words are nothing but a thanks formula ("@acme grazie mille!"), in any
    language: a thank-you even where the language detector could not tell."""


def language_analysed(language: str | None) -> bool:
    """Whether a shipped model reads ``language``. Unknown (``None``: too little text to
    tell) counts as analysed: there is nothing a model could have read."""
    return language is None or language in SUPPORTED_LANGUAGES


def sentiment_analysed(language: str | None) -> bool:
    """Whether a shipped sentiment model of its own reads ``language`` (English, French,
    Spanish, German, Portuguese; unknown counts, as in ``language_analysed``)."""
    return language is None or language in SENTIMENT_LANGUAGES


def read_signals(
    text: str, language: str | None, addressed: bool | None = None, lang_hint: str | None = None,
    without_links: str | None = None,
) -> Signals:
    """Signals of ``text``. ``addressed`` says whether it was written to the brand; when
    unknown (``None``) a mention naming an @handle counts as addressed. ``lang_hint``: the
    network's language tag, which the detector followed on a short text. ``without_links``:
    ``strip_links(text)``, when the caller has it already."""
    bare = strip_links(text) if without_links is None else without_links
    handles = len(_HANDLE_RE.findall(bare)) if "@" in bare else 0
    words = _HANDLE_RE.sub(" ", bare) if handles else bare
    # Most mentions are plain ASCII: no emoji to look for, no full-width marks.
    plain = bare.isascii()
    negative = 0 if plain else sum(map(NEGATIVE_EMOJI.__contains__, bare))
    positive = 0 if plain else _thanks_emoji(bare, words)
    if "(" in bare:
        negative += len(_NEGATIVE_EMOTICON_RE.findall(bare))
    if plain:  # words are ASCII too
        shape = digit_shape(words)
        five_digits = b"11111" in shape
        dot_digit = b"1.1" in shape
    else:
        five_digits = _FIVE_DIGITS_RE.search(words) is not None
        dot_digit = "." in words and _DOT_DIGIT_RE.search(words) is not None
    analysed = language_analysed(language) or _too_short_to_tell(bare, words, lang_hint)
    rest = _thanks_rest(words) if len(words.split(None, _THANKS_CHUNKS_MAX)) <= (
        _THANKS_CHUNKS_MAX) else None
    return Signals(
        addressed=handles > 0 if addressed is None else addressed,
        handles=handles,
        substance=_substance(_HASHTAG_RE.sub(" ", words)) or _grievance_hashtag(words)
        if "#" in words else _substance(words),
        question_marks=bare.count("?") if plain else count_marks(bare, QUESTION_MARKS),
        exclamations=bare.count("!") if plain else count_marks(bare, EXCLAMATION_MARKS),
        negative_emoji=negative,
        order_number=five_digits and ORDER_ID_RE.search(words) is not None,
        language_analysed=analysed,
        agent_signed=("*" in bare or "^" in bare) and _AGENT_SIGNATURE_RE.search(bare) is not None,
        version_number=dot_digit and VERSION_RE.search(words) is not None,
        sentiment_analysed=analysed or sentiment_analysed(language),
        positive_emoji=positive,
        thanks=rest is not None and THANKS_PRAISE.issuperset(rest),
        thanks_only=rest == (),
    )


def _thanks_emoji(bare: str, words: str) -> int:
    """Warm emoji of ``bare`` that make it a thank-you: none on a text of more than
    ``THANKS_WORDS_MAX`` words, and a thumbs-up or applause (``AMBIGUOUS_EMOJI``) only on
    one of at most ``AMBIGUOUS_THANKS_WORDS_MAX``."""
    warm = sum(map(POSITIVE_EMOJI.__contains__, bare))
    if not warm:
        return 0
    count = len(_WORD_RE.findall(words))
    if count > THANKS_WORDS_MAX:
        return 0
    if count > AMBIGUOUS_THANKS_WORDS_MAX:
        warm -= sum(map(AMBIGUOUS_EMOJI.__contains__, bare))
    return warm


def _thanks_rest(words: str) -> tuple[str, ...] | None:
    """The words of ``words`` (no handles or links), folded, that are not part of a thanks
    formula (``THANKS_FORMULAS``); None when there is no formula."""
    folded = fold_accents(words)
    if folded.isascii():  # most texts: the letter runs of _WORD_RE, found 10 times faster
        tokens = folded.encode("ascii").translate(_ASCII_LETTERS).decode("ascii").split()
        if _THANKS_FIRST.isdisjoint(tokens):
            return None
        tokens = [t for t in tokens if len(t) > 1]
    else:
        tokens = _WORD_RE.findall(folded)
        if _THANKS_FIRST.isdisjoint(tokens):
            return None
    rest: list[str] = []
    said = i = 0
    while i < len(tokens):
        size = next((n for n in range(min(_THANKS_LONGEST, len(tokens) - i), 0, -1)
                     if tuple(tokens[i : i + n]) in _THANKS_SEQUENCES), 0)
        if size:
            said += size
            i += size
        else:
            rest.append(tokens[i])
            i += 1
    return tuple(rest) if said else None


def _grievance_hashtag(words: str) -> bool:
    """Whether a hashtag of ``words`` complains: "#fail", "#epicfail", "#worstservice",
    or a negator glued to a word an intent or topic rule reads ("#nointernet",
    "#sininternet"). "#blackfriday #deals", "#nofilter" say nothing to answer."""
    if _GRIEVANCE_HASHTAG_RE.search(words):
        return True
    for negator, word in _NEGATED_HASHTAG_RE.findall(words):
        phrase = f"{negator} {word}".lower()
        if detect_topics(phrase) or detect_intent(phrase).flags:
            return True
    return False


def _substance(words: str) -> bool:
    """Whether ``words`` (no handles, links or hashtags) hold a word that is not laughter."""
    found = _WORD_RE.search(words)
    if found is None or not _LAUGHTER_RE.fullmatch(found.group()):
        return found is not None
    return any(not _LAUGHTER_RE.fullmatch(w) for w in _WORD_RE.findall(words))


def _too_short_to_tell(bare: str, words: str, lang_hint: str | None = None) -> bool:
    """A short Latin-script text ("iOS 11.1", "HELP ME") is too short for the language
    detector's verdict to mean no model could read it: when the detector had nothing to
    judge from (under ``MIN_LETTERS`` letters, no language hint), or when an English or
    French rule read words in it. "@acme servizio pessimo" or "waar is mijn pakket?" is
    Italian or Dutch, as detected, and no model reads it."""
    if not bare.isascii():
        return False
    letters = sum(len(w) for w in _LETTERS_RE.findall(words))
    if letters >= SHORT_LETTERS:
        return False
    if letters < MIN_LETTERS and normalize_language_code(lang_hint) is None:
        return True
    return any(term != "?" and not term.endswith((" links", " hashtags"))
               for flag in detect_intent(words).flags for term in flag.terms)


def waiting_for_answer(
    intent: IntentResult,
    signals: Signals,
    sentiment_label: str,
    requested: bool = False,
) -> bool:
    """Whether the author, having written to the brand, now waits for its answer.

    Not for praise, spam, a support agent's signed reply ("... *JoanO"), a lone handle,
    link, emoji or laugh ("lol"), a customer closing the case or acknowledging ("solved",
    "will do"), friendly banter (positive, or a remark ``weigh_complaint`` flagged
    ``FRIENDLY_REMARK``, asking nothing), or a question or remark among a crowd of tagged
    accounts; always for a customer's complaint. Banter is told by the sentiment model
    wherever one reads the language: a Spanish, German or Portuguese thank-you to the
    brand owes no answer, as an English one does not. Where only a sentiment model reads
    the language, a positive reading is no banter when the post asks for something:
    ``requested`` (a request topic raised by a term saying what is wrong or awaited, see
    ``request_terms``) or an order number ("necesito ayuda con mi cuenta, no puedo
    entrar... Muchas gracias" still waits): the thanks closing a request is politeness,
    which only the English and French rules flag (``courtesy``). Where no model reads the
    language, a warm emoji (``POSITIVE_EMOJI``) with no question mark, negative emoji or
    order number is a thank-you ("grazie mille per l'aiuto ❤️"), and so is a thanks
    formula with only praise (``Signals.thanks``: "dank je wel, top service", not
    "grazie, app bloccata"); a thanks formula alone (``Signals.thanks_only``: "@acme
    grazie mille!") is one in any language.
    """
    if not signals.addressed or signals.agent_signed or intent.intent in ("spam", "praise"):
        return False
    if intent.intent in ("complaint", "risk"):
        return True
    names = intent.flag_names
    if "waiting" in names:
        return True
    if signals.handles >= CROWD_HANDLES:
        return False
    if intent.intent != "other":
        return True
    if not signals.substance or "closing" in names or FRIENDLY_REMARK in names:
        return False
    if (signals.thanks_only or (signals.thanks and not signals.sentiment_analysed)) and not (
            signals.negative_emoji or signals.question_marks or signals.order_number
            or requested):
        return False  # a thanks formula asking nothing: "grazie mille!", "tusind tak"
    friendly = sentiment_label == "positive" and "courtesy" not in names
    if not signals.language_analysed and signals.negative_emoji:
        friendly = False  # only a sentiment model read it, and an angry emoji says otherwise
    if not signals.language_analysed and (requested or signals.order_number):
        friendly = False  # the thanks closing a request: no rule reads its courtesy
    if not signals.sentiment_analysed and signals.positive_emoji and not (
            signals.negative_emoji or signals.question_marks or signals.order_number):
        return False  # no model reads it; a warm emoji asking nothing is a thank-you
    return not (signals.sentiment_analysed and friendly)


_REQUEST_TERM_RE = re.compile(
    r"\b(?:no|nicht|kein|keine|keinen|nie|nunca|nao|sem|sin|todavia|aun|noch|espero"
    r"|esperando|warte|aguardando)\b")


def request_terms(terms: Iterable[str]) -> bool:
    """Whether request-topic ``terms`` (``TopicMatch.terms``: lowercase, accent-free) say
    something is wrong or awaited: a negation ("no puedo entrar", "nicht angekommen",
    "nao consigo") or a wait ("esperando el reembolso"). "lieferung, angekommen" (a thanks
    for a delivery) asks nothing."""
    return any(_REQUEST_TERM_RE.search(term) for term in terms)


COMPLAINT_CONFIRMED = 0.8
"""From this complaint probability the learned model's word alone makes a complaint."""
COMPLAINT_REJECTED = 0.3
"""Under this probability the model overrules a rule complaint read in a friendly text."""
COMPLAINT_MODEL_LANGUAGES = frozenset({"en"})
"""Languages whose complaint model was checked against alert labels (the French one
learned language-independent features only, and no French alert labels exist)."""
FRIENDLY_REMARK = "friendly_remark"
"""Flag of a remark ("other") that reads friendlier than aggrieved: its complaint
probability is under its sentiment score. It owes no answer (see ``friendly_remark``)."""
FRIENDLY_MARGIN = 0.0
"""A remark is friendly when its complaint probability is under its sentiment score plus
this margin; 0 was chosen by ``training/cv_attention.py`` on the tuning part."""


def friendly_remark(
    intent: str,
    signals: Signals,
    complaint_probability: float | None,
    sentiment_score: float | None,
    language: str | None,
    margin: float | None = FRIENDLY_MARGIN,
) -> bool:
    """Whether a remark ("other") reads friendlier than aggrieved: the complaint model of
    a language in ``COMPLAINT_MODEL_LANGUAGES`` gives it a probability under its
    sentiment score (in [-1, 1]) plus ``margin``. "@brand I need limes!" (complaint 0.07,
    sentiment +0.11) is friendly; "@brand Correct" (0.04, -0.05) answers the brand and is
    not, nor is a remark giving an order or version number ("my order is 88412093,
    thanks!", "iPhone 8 on iOS 11.1, thank you": the details the brand asked for).
    ``margin`` None: never (the rule off, as ``cv_attention`` compares)."""
    return (
        margin is not None and intent == "other"
        and not (signals.order_number or signals.version_number)
        and complaint_probability is not None
        and sentiment_score is not None and language in COMPLAINT_MODEL_LANGUAGES
        and complaint_probability < sentiment_score + margin
    )


def weigh_complaint(
    intent: IntentResult,
    complaint_probability: float | None,
    language: str | None,
    signals: Signals,
    sentiment_label: str,
    sentiment_score: float | None = None,
) -> IntentResult:
    """``intent`` once the learned complaint model has had its say; flags and terms kept.

    A rule complaint the model rejects in a friendly text ("still not working, but I'm
    ecstatic 😊"), or does not confirm among a crowd of tagged accounts (brands bantering
    about a contest), becomes "other", or the question or purchase intent the rules also
    saw ("I'd love a refund please" still asks); not when the complaint is what the text
    comes to after a contrast ("love the new app but I can't log in": the model reads
    the tone, the point is the failure), nor when it threatens to leave ("ok, switching
    to your competitor") or is sarcastic ("Amazing, my order arrived wrong again 😊").
    Praise or "other" the model is confident about becomes a complaint, unless the praise
    says the customer stays or came to the brand ("switched to you from Verizon, never
    been better": ``IntentResult.loyalty``). Questions, purchase intent, risk and spam
    keep the rules' word.
    A remark ("other") that reads friendlier than aggrieved (``friendly_remark`` with
    ``sentiment_score``) gains the ``FRIENDLY_REMARK`` flag, stored with the mention.
    Unchanged without a probability or for a language not in ``COMPLAINT_MODEL_LANGUAGES``.
    """
    weighed = _weigh(intent, complaint_probability, language, signals, sentiment_label)
    # A grievance the rules read in words ("didn't receive", "still waiting") still waits
    # when the model talks it away in a friendly text: "thanks, I didn't receive my
    # refund" scores low on the model and high on sentiment. A bare word ("refund" in
    # "the refund came through, thank you!") does not.
    if not _worded_grievance(intent) and friendly_remark(
            weighed.intent, signals, complaint_probability, sentiment_score, language):
        return replace(weighed, flags=(*weighed.flags, IntentFlag(FRIENDLY_REMARK, ())))
    return weighed


def _worded_grievance(intent: IntentResult) -> bool:
    """Whether the rules read a complaint in a phrase of several words."""
    return intent.intent == "complaint" and any(
        " " in term for flag in intent.flags if flag.name == "complaint" for term in flag.terms)


def _stands(intent: IntentResult) -> bool:
    """Whether a rule complaint stands whatever the tone the model reads: it follows a
    contrast ("love the app but I can't log in"), threatens to leave ("ok, switching to
    your competitor": "ok" does not close that case) or is sarcastic ("Amazing, my order
    arrived wrong again 😊", "thanks for nothing")."""
    return intent.complaint_after_contrast or intent.churn_threat or intent.sarcasm


def _weigh(
    intent: IntentResult,
    complaint_probability: float | None,
    language: str | None,
    signals: Signals,
    sentiment_label: str,
) -> IntentResult:
    p = complaint_probability
    if p is None or language not in COMPLAINT_MODEL_LANGUAGES:
        return intent
    crowd = signals.handles >= CROWD_HANDLES
    if intent.intent == "complaint":
        names = intent.flag_names
        friendly = sentiment_label == "positive" or "courtesy" in names or "closing" in names
        rejected = friendly and p < COMPLAINT_REJECTED and not _stands(intent)
        if rejected or (crowd and p < COMPLAINT_CONFIRMED):
            return replace(intent, intent=intent_without_complaint(intent))
    elif (intent.intent in ("other", "praise") and p >= COMPLAINT_CONFIRMED and not crowd
          and not intent.loyalty):
        return replace(intent, intent="complaint")
    return intent
