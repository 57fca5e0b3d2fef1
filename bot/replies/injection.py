"""Finding text aimed at an AI drafter (prompt injection) in a mention or a draft.

The text is first normalised exactly as the prompt builder normalises what it sends to
the LLM (``bot.text_hygiene.normalize_untrusted``: invisible characters removed, NFKC),
then casefolded without accents. The patterns run on that and on a few more views that
undo the usual disguises: homoglyphs (Cyrillic or Greek letters that look Latin), letters
spaced or dotted apart (``i g n o r e``, ``ig-nore``), leetspeak digits (``1gn0re``),
text written backwards inside a right-to-left override, and ASCII smuggled in Unicode tag
characters. The views only serve detection; the prompt gets the normalised text.

Measured on tests/replies/data/injection_eval.json (see tests/replies/test_injection_eval.py):
every variant it was tuned on is caught with no false positive, but on phrasings written
afterwards it catches about 4 in 10. It raises a warning for the approver; it is not what
keeps mention text from steering the model (the prompt treats it as data, and a human
approves every reply).
"""

from __future__ import annotations

import regex

from bot.replies.text import fold
from bot.text_hygiene import normalize_untrusted

__all__ = ["MAX_ANALYSED_CHARS", "find_injection"]

MAX_ANALYSED_CHARS = 10_000
"""Text past this is not analysed: the prompt sends at most 3,000 characters of a mention
(``prompt.MAX_MENTION_CHARS``) and a draft is far shorter, so nothing past it reaches the
model; the bound keeps a 40,000-character article under ~0.2 s."""

# Letters of other scripts that render like Latin ones (after casefolding).
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
    "ј": "j", "ԁ": "d", "ɡ": "g", "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ı": "i", "ɩ": "i",
})  # fmt: skip
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s", "|": "l"})
_MIXED_TOKEN = regex.compile(r"\b(?=[\w@$|]*[a-z])(?=[\w@$|]*[\d@$|])[\w@$|]+")
_SPACED_LETTERS = regex.compile(r"\b(?:\w[ .\-_*·•/\\]){2,}\w\b")
_INNER_SEPARATOR = regex.compile(r"(?<=[a-z])[.\-_*·•](?=[a-z])")
_RTL_OVERRIDE = regex.compile("\u202e([^\u202a-\u202e\u2066-\u2069\n]*)")
_TAG_RUN = regex.compile("[\U000e0020-\U000e007e]+")

_Q_EN = (r"(?:previous|prior|above|earlier|preceding|all|any|your|these|those|original|"
         r"initial|system|old|other|every|current|given)")
_TARGET_EN = (r"(?:instructions?|prompts?|rules|guidelines|directives|guidance|directions|"
              r"orders|programming|constraints|restrictions|system messages?)")
_Q_FR = (r"(?:precedente?s?|ci dessus|ci-dessus|dessus|anterieure?s?|toutes|tous|tes|vos|ton|"
         r"votre|initiale?s?|systeme|d avant|donnee?s?)")
_TARGET_FR = r"(?:instructions?|consignes?|regles|directives|prompts?|indications)"
# "j'ai ignoré les instructions": a customer telling what they did, not an order.
_NOT_PAST_FR = r"(?<!\b(?:ai|as|a|avons|avez|ont|avais|avait|avions|aviez|avaient|etait|j)\W+)"
_DROP_FR = (r"ignore[rsz]?|oublie[rsz]?|neglige[rsz]?|ne tiens pas compte|ne tenez pas compte|"
            r"fais abstraction|faites abstraction|laisse[sz]? tomber|abandonne[sz]?|"
            r"mets de cote|mettez de cote")
_AI = r"(?:ai|a\.i\.|ia|assistant|bot|chatbot|llm|gpt|chatgpt|gemini|claude|copilot|model|robot)"
_GAP = r"(?:\W+\w+){0,5}?\W+"
_DROP_EN = (r"ignore|disregard|forget|override|bypass|skip|discard|abandon|set aside|"
            r"put aside|throw out|scrap|drop|cancel|erase|delete|reset")
_YOU_ARE = r"(?:you are|you're|you re|youre)"

_PATTERNS: tuple[str, ...] = (
    # -- English: drop the rules -------------------------------------------------------
    rf"\b(?:{_DROP_EN})\b(?:{_GAP})?{_Q_EN}\b(?:\W+\w+){{0,3}}?\W+{_TARGET_EN}\b",
    rf"\b(?:{_DROP_EN})\b\W+(?:the\W+|your\W+)?system (?:message|prompt|instructions?)\b",
    r"\b(?:everything|all|whatever|anything) (?:you were|you ve been|you'?ve been|you have been|"
    r"you are|you're|you re) (?:told|instructed|given|taught|programmed)\b",
    r"\byou (?:were|have been|ve been|'ve been) (?:configured|programmed|prompted|instructed|"
    r"initiali[sz]ed) (?:with|to)\b",
    r"\b(?:ignore|disregard|forget)\b\W+(?:all\W+|everything\W+)(?:of\W+)?(?:the\W+)?"
    r"(?:above|before|prior|previous|earlier)\b",
    rf"\b(?:ignore|disregard|forget)\b(?:{_GAP})?{_TARGET_EN}\W+(?:above|before|previous|"
    r"earlier|given|you were given)\b",
    r"\b(?:ignore|disregard|forget)\b\W+what you (?:were|have been|ve been) (?:told|given)\b",
    r"\b(?:never ?mind|stop following|don'?t follow|do not follow|no longer follow)\b"
    rf"(?:\W+\w+){{0,3}}?\W+{_TARGET_EN}\b",
    rf"\b(?:above|previous|prior|earlier|old) {_TARGET_EN} (?:are|is|were|was) "
    r"(?:now )?(?:cancel+ed|void|obsolete|revoked|replaced|no longer valid)\b",
    r"\byour (?:new|real|actual|true|only) (?:instructions?|task|goal|mission)\b",
    r"\b(?:new|updated|real|secret|hidden) (?:instructions?|rules|orders)\s*(?:[:\-–]|from\b)",
    r"\bnew (?:directive|instruction|order|task|command)s?\b(?:\W+\w+){0,4}?\W+"
    r"(?:generator|bot|ai|assistant|model|drafter|writer|llm|system)\b",
    r"\byour (?:new |real |true |only )?(?:job|task|role|goal|mission|purpose) "
    r"(?:is now|now is|from now on is)\b",
    r"\byour (?:reply|answer|response|output) (?:must|should|has to|will) (?:be|say|read|"
    r"contain|include)\W+(?:exactly|only|verbatim|word for word)\b",
    r"\b(?:here are|these are) your (?:new )?instructions\b",
    r"\bnew system (?:message|prompt|instructions?)\b",
    # -- English: leak the prompt ----------------------------------------------------
    r"\bsystem prompt\b",
    r"\b(?:initial|original|hidden|secret|full) (?:prompt|instructions)\b",
    r"\b(?:reveal|print|repeat|output|dump|leak|display|recite)\b(?:\W+\w+){0,2}?\W+"
    r"(?:your|the) (?:\w+ )?(?:instructions|prompt|configuration|system message)\b",
    r"\bwhat (?:are|were|is) your (?:instructions|rules|prompt|guidelines)\b",
    # -- English: change the role ----------------------------------------------------
    rf"\b{_YOU_ARE} (?:now|no longer)\W+(?:an?|in|the new|called|named|free|unfiltered|"
    r"unrestricted|jailbroken|dan)\b",
    rf"\b{_YOU_ARE} an? (?:unfiltered|unrestricted|uncensored|jailbroken|evil) ",
    r"\bas an ai\b",
    r"\b(?:pretend|imagine)\b(?:\W+\w+){0,2}?\W+(?:you are|you re|you're|to be)\b",
    r"(?:^|[.!?:;,\n]\s*|\bplease\s+|\bnow\s+)(?:act|behave|respond|answer|reply) as "
    r"(?:if you (?:were|are) )?(?:an?|my|the|acme)\b",
    r"\b(?:role ?play|roleplay|play the role of|let'?s play a game)\b",
    r"\b(?:enable|activate|enter|switch to|turn on|you are in|you're in|you re in)\W+"
    r"(?:\w+\W+)?(?:dan|developer|god|debug|admin|sudo|unrestricted|jailbreak) mode\b",
    r"\bdo anything now\b|\bjailbreak (?:prompt|mode)\b|\bdan mode\b",
    r"\bfrom now on,? you (?:will|must|are|shall|should|only|answer|reply|respond)\b",
    # -- English: talking to the model, dictating the output --------------------------
    rf"\b{_AI}\s*[:,\-–]\s*(?:please\s+)?(?:reply|answer|say|write|respond|include|add|post|"
    r"tell|repeat|output|print|ignore|forget|insert|mention|promise|offer)\b",
    rf"\b(?:note|message|instructions?) (?:to|for) (?:the |any )?{_AI}\b",
    rf"\b{_AI}s? (?:reading|processing|summari[sz]ing) this\b",
    r"\b(?:dear|attention|hello|hi|hey) (?:ai|llm|language model|large language model|"
    r"ai assistant|ai model|chatgpt|gpt)\b",
    rf"\bif you are an? {_AI}\b",
    r"\bwhen you (?:draft|write|generate|compose) (?:the|your|a) (?:reply|answer|response)\b",
    r"\b(?:reply|answer|respond) (?:only )?with (?:exactly|only|just|the following)\b",
    r"\b(?:begin|start|end) your (?:reply|answer|response) with\b",
    r"\brepeat after me\b",
    r"\b(?:say|write|output|print|post|type) (?:exactly|verbatim|word for word)\b",
    # -- fake structure ----------------------------------------------------------------
    r"</?\s*(?:system|assistant|instructions?|im_start|im_end|sys)\s*>",
    r"\[/?(?:inst|sys|system)\]",
    r"<\|[a-z_]{2,20}\|>",
    r"(?m)^\W{0,3}(?:system|assistant|developer)\s*:",
    # From the start of a run of "#", taken whole: tried from each "#" of 10,000, each
    # giving them back one by one, it took 3.6 s (the Draft button's modal then expired).
    r"(?<!#)#{2,}+\s*+(?:instructions?|system|new instructions?)\b",
    # -- French ------------------------------------------------------------------------
    rf"{_NOT_PAST_FR}\b(?:{_DROP_FR})\b(?:{_GAP})?{_Q_FR}(?:\W+\w+){{0,3}}?\W+{_TARGET_FR}\b",
    rf"{_NOT_PAST_FR}\b(?:{_DROP_FR})\b(?:{_GAP})?{_TARGET_FR}\W+{_Q_FR}\b",
    r"\b(?:oublie[sz]?|ignore[sz]?|laisse[sz]? tomber)\W+tout ce qu\W?(?:on|l on) "
    r"(?:t|vous)\W?(?:a|as) (?:dit|demande|appris|ecrit)\b",
    r"\b(?:tu n\W?es plus|vous n\W?etes plus) (?:un|une|l)\b",
    r"\b(?:message|note|consigne|instructions?) (?:pour|a|destinee? a) (?:l\W?)?"
    r"(?:ia|assistant|bot|robot|intelligence artificielle)\b",
    r"\b(?:ia|assistant|bot|robot|chatbot) qui (?:lit|lis|traite|analyse)\b",
    r"\bprompt (?:systeme|initial)\b",
    r"\b(?:revele|affiche|montre|repete|recopie|donne)[sz]?(?:\W+moi)?\W+(?:ton|tes|votre|vos)"
    r" (?:prompt|instructions|consignes)\b",
    r"\b(?:tes|vos|ton|votre) (?:instructions|consignes) (?:initiales|d origine|cachees|"
    r"secretes|systeme)\b",
    r"\bmot pour mot\b",
    r"\bnouvelles? (?:instructions?|consignes?|regles?)\s*[:\-–]",
    r"\b(?:tes|vos) (?:nouvelles|vraies|veritables) (?:instructions|consignes)\b",
    r"\b(?:ta|votre) (?:nouvelle|vraie) (?:mission|tache|consigne)\b",
    r"\b(?:tu es|vous etes) (?:maintenant|desormais|a present)\W+(?:un|une|en mode|libre|sans)\b",
    r"\b(?:a partir de maintenant|desormais|dorenavant)\W+(?:tu|vous)\W+(?:es|etes|reponds|"
    r"repondez|dois|devez|vas|allez|ecris|ecrivez|parles|agis|agissez)\b",
    r"\b(?:fais|faites) comme si (?:tu etais|vous etiez)\b",
    r"\b(?:joue[sz]?|jouer) (?:le|un) role\b",
    r"\ben tant qu\W?(?:ia|intelligence artificielle)\b",
    rf"\b{_AI}\s*[:,\-–]\s*(?:s\W?il te plait\W+|stp\W+)?(?:reponds|repond|ecris|dis|ajoute|"
    r"inclus|publie|repete|ignore|oublie)\b",
    r"\b(?:reponds|repondez|ecris|ecrivez|dis|dites)\W+(?:\w+\W+){0,2}?exactement\b",
    # -- Spanish, German, Italian, Portuguese, Dutch -----------------------------------
    r"\b(?:ignora|olvida|olvide)\b(?:\W+\w+){0,4}?\W+(?:instrucciones|reglas|indicaciones)\b",
    r"\b(?:ignoriere|ignorier|vergiss|missachte)\b(?:\W+\w+){0,4}?\W+"
    r"(?:anweisungen|regeln|instruktionen|vorgaben)\b",
    r"\b(?:ignora|dimentica)\b(?:\W+\w+){0,4}?\W+(?:istruzioni|regole)\b",
    r"\b(?:ignore|ignora|esqueca)\b(?:\W+\w+){0,4}?\W+(?:instrucoes|regras)\b",
    r"\b(?:negeer|vergeet)\b(?:\W+\w+){0,4}?\W+(?:instructies|regels)\b",
)
# Compiled one by one: each keeps its own literal-prefix search, where one alternation of
# them all tries every branch at every position (about 15 times slower on long texts).
_INJECTION = tuple(regex.compile(pattern) for pattern in _PATTERNS)


def _views(text: str) -> list[str]:
    """The folded text and the disguise-free variants of it worth matching."""
    text = text[:MAX_ANALYSED_CHARS]
    base = fold(normalize_untrusted(text)).text
    views = [base]
    plain = base.translate(_HOMOGLYPHS)
    squeezed = _INNER_SEPARATOR.sub("", _SPACED_LETTERS.sub(
        lambda m: regex.sub(r"[ .\-_*·•/\\]", "", m.group()), plain))
    unleet = _MIXED_TOKEN.sub(lambda m: m.group().translate(_LEET), squeezed)
    views += [v for v in (plain, squeezed, unleet) if v not in views]
    # Hidden from the prompt too (it strips them), but whoever wrote them meant harm.
    reversed_runs = [m.group(1)[::-1] for m in _RTL_OVERRIDE.finditer(text)]
    smuggled = ["".join(chr(ord(c) - 0xE0000) for c in m.group())
                for m in _TAG_RUN.finditer(text)]
    views += [fold(normalize_untrusted(v)).text for v in reversed_runs + smuggled]
    return views


def find_injection(text: str) -> list[str]:
    """The phrases of ``text`` that address an AI drafter rather than the brand
    (instructions to ignore rules, change role, reveal the prompt, dictate the reply),
    as matched in their normalised, folded form; empty when there is none."""
    if not text:
        return []
    found: list[str] = []
    for view in _views(text):
        matches = [m for pattern in _INJECTION for m in pattern.finditer(view)]
        for match in sorted(matches, key=lambda m: m.start()):
            phrase = match.group().strip()
            if phrase and phrase not in found:
                found.append(phrase)
    return found
