"""Personal data in reply text: the patterns of emails, phone numbers, order or
reference numbers, long digit runs and account handles, shared by the risk checks
(``bot.replies.risk``) and the scrubbing of approved replies used as style examples.
``scrub`` replaces them (and a customer's names, street addresses, links with a query
string) by placeholders; ``distinctive_spans`` lists those of a draft worth looking up in
other conversations. Pure string work.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex

from bot.replies.text import find_urls, fold

__all__ = ["DIGIT_RUN", "EMAIL", "HANDLE", "ORDER", "PHONE", "distinctive_spans", "scrub"]

# After an "@" it is a fediverse handle (@user@domain), not an email: a Mastodon reply starts
# with the customer's.
EMAIL = regex.compile(r"(?<![\w.+\-@])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[a-z]{2,}\b", regex.I)
PHONE = regex.compile(
    r"(?<![\w+])"
    r"(?:"
    r"(?:\+|00)\d{1,3}[\s.\-]?(?:\(0\)[\s.\-]?)?\(?\d{1,4}\)?(?:[\s.\-]?\d{2,4}){2,5}"
    r"|0[1-9](?:[\s.\-]?\d{2}){4}"
    r"|\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}"
    r")"
    r"(?![\w])"
)
# Matched on folded text (lower case, no accents: ``bot.replies.text.fold``). Each "\s*"
# takes its whole run (*+): what follows each starts with no space, and sharing a run of
# 6,000 spaces between them every possible way took 4 s.
ORDER = regex.compile(
    r"\b(?:order|commande|cde|ticket|case|dossier|facture|invoice|reference|ref|tracking|"
    r"colis|parcel|booking|reservation|contrat|contract|client|customer|account|compte)"
    r"(?:\s+(?:number|numero|no|num|id))?"
    r"\s*+(?:#|n\s?°|n\s?o\b|nº|no\.|num\.?|:)?\s*+[:.]?\s*+#?\s*+"
    r"(?=[a-z0-9\-]*\d)[a-z0-9][a-z0-9\-]{3,}\b"
    r"|(?<![\w&])#\d{4,}\b"
)
DIGIT_RUN = regex.compile(r"(?<![\d\w])\d(?:[ \-]?\d){12,18}(?![\d\w])")
HANDLE = regex.compile(r"(?<![\w@/.<])@(\w{1,50}(?:@[\w\-]+(?:\.[\w\-]+)+)?)")
STREET = regex.compile(
    r"\b\d{1,5}(?:\s?(?:bis|ter|[A-Za-z]))?,?\s+(?:[\p{Lu}][\p{L}'’\-]*\s+){0,4}"
    r"(?:St|Street|Rd|Road|Ave|Avenue|Blvd|Boulevard|Lane|Ln|Dr|Drive|Way|Pl|Place|Ct|Court"
    r"|Sq|Square|Terrace|Crescent)\b"
    r"|\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|chemin"
    r"|all[ée]e|impasse|quai|route|cours)\s+(?i:d[eu]\s+|de\s+la\s+|des\s+|l['’]|d['’])?"
    r"[\p{L}'’\-]+(?:\s+[\p{Lu}][\p{L}'’\-]*){0,3}"
)
"""A street address: "12 Rose St", "221B Baker Street", "5 bis rue de la Paix"."""
_LONG_NUMBER = regex.compile(r"(?<![\w#])\d{5,}(?!\w)")
_NUMBER_TAIL = regex.compile(r"#?[\w\-]*\d[\w\-]*$")


def _order_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) in ``text`` of the number of each order or reference number."""
    folded = fold(text)
    spans = []
    for match in ORDER.finditer(folded.text):
        if match.start() >= match.end() or not folded.index:
            continue
        start, end = folded.index[match.start()], folded.index[match.end() - 1] + 1
        tail = _NUMBER_TAIL.search(text[start:end])
        if tail is not None:
            spans.append((start + tail.start(), end))
    return spans


def _phones(text: str) -> list[str]:
    return [m.group(0) for m in PHONE.finditer(text)
            if 8 <= sum(ch.isdigit() for ch in m.group(0)) <= 15]


def scrub(text: str, names: Iterable[str] = ()) -> str:
    """``text`` with its personal data replaced by placeholders: links with a query string
    (``[link]``), emails (``[email]``), phone numbers (``[phone]``), order, reference and
    other long numbers (``[number]``), street addresses (``[address]``), account handles
    (``@[handle]``) and ``names`` (a customer's name and handle: ``[name]``)."""
    for url in reversed(find_urls(text)):
        if "?" in url.url:
            text = text[:url.start] + "[link]" + text[url.end:]
    text = EMAIL.sub("[email]", text)
    for phone in sorted(set(_phones(text)), key=len, reverse=True):
        text = text.replace(phone, "[phone]")
    text = DIGIT_RUN.sub("[number]", text)
    for start, end in reversed(_order_spans(text)):
        text = text[:start] + "[number]" + text[end:]
    text = STREET.sub("[address]", text)
    text = _LONG_NUMBER.sub("[number]", text)
    text = HANDLE.sub("@[handle]", text)
    words = {part for name in names for part in [name.strip().lstrip("@").split("@")[0],
                                                 *name.split()]
             if len(part.strip("@")) >= 3}
    for word in sorted(words, key=len, reverse=True):
        text = regex.sub(rf"(?<!\w){regex.escape(word.strip('@'))}(?!\w)", "[name]", text,
                         flags=regex.IGNORECASE)
    return text


def distinctive_spans(text: str) -> list[str]:
    """The personal data of ``text`` that would identify someone if found elsewhere: its
    emails, phone numbers, order or reference numbers and long digit runs, as written
    (each once, none inside another)."""
    found = [m.group(0) for m in EMAIL.finditer(text)]
    found += _phones(EMAIL.sub(" ", text))
    found += [m.group(0) for m in DIGIT_RUN.finditer(text)]
    found += [text[start:end].lstrip("#") for start, end in _order_spans(text)]
    found += [m.group(0) for m in _LONG_NUMBER.finditer(text)]
    spans = [span for span in dict.fromkeys(found) if len(span) >= 4]
    # "44551" of "CS-44551": the longer span says it all.
    return [span for span in spans if not any(span != other and span in other
                                               for other in spans)]
