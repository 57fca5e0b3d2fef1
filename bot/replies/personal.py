"""Personal data in reply text: the patterns of emails, phone numbers, order or
reference numbers, long digit runs and account handles, shared by the risk checks
(``bot.replies.risk``) and the scrubbing of approved replies used as style examples.
Pure string work.
"""

from __future__ import annotations

import regex

__all__ = ["DIGIT_RUN", "EMAIL", "HANDLE", "ORDER", "PHONE"]

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
# Matched on folded text (lower case, no accents: ``bot.replies.text.fold``).
ORDER = regex.compile(
    r"\b(?:order|commande|cde|ticket|case|dossier|facture|invoice|reference|ref|tracking|"
    r"colis|parcel|booking|reservation|contrat|contract|client|customer|account|compte)"
    r"(?:\s+(?:number|numero|no|num|id))?"
    r"\s*(?:#|n\s?°|n\s?o\b|nº|no\.|num\.?|:)?\s*[:.]?\s*#?\s*"
    r"(?=[a-z0-9\-]*\d)[a-z0-9][a-z0-9\-]{3,}\b"
    r"|(?<![\w&])#\d{4,}\b"
)
DIGIT_RUN = regex.compile(r"(?<![\d\w])\d(?:[ \-]?\d){12,18}(?![\d\w])")
HANDLE = regex.compile(r"(?<![\w@/.<])@(\w{1,50}(?:@[\w\-]+(?:\.[\w\-]+)+)?)")
