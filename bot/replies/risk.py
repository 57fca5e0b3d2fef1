"""Risk checks on a reply draft before a human approves it.

``check_draft`` looks for what makes a brand reply become the story: replies over the
network's limit, links outside the allowlist, commitments and legal words, personal data,
shouting and insults, and signs that the draft was steered by text in the mention (prompt
injection, Slack pings, long verbatim copies). It never blocks by itself: it returns flags
that the draft editor shows; 'high' flags require an explicit override.

Each flag has a stable ``message_key`` (``risk.<code>``) for the Slack layer to translate,
and an English ``detail``. Word lists are matched accent- and case-insensitively on word
boundaries, so "Remboursement", "rembourser" and "REMBOURSÉ" all match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import regex

from bot.networks import resolve_network
from bot.replies.injection import find_injection
from bot.replies.limits import measure
from bot.replies.personal import DIGIT_RUN as _DIGIT_RUN
from bot.replies.personal import EMAIL as _EMAIL
from bot.replies.personal import HANDLE as _HANDLE
from bot.replies.personal import ORDER as _ORDER
from bot.replies.personal import PHONE as _PHONE
from bot.replies.text import FoldedText, ascii_host, find_urls, fold, url_host

__all__ = [
    "ECHO_MIN_WORDS",
    "RiskFlag",
    "RiskReport",
    "Severity",
    "check_draft",
]

Severity = Literal["info", "warn", "high"]
Level = Literal["none", "info", "warn", "high"]

_RANK: dict[str, int] = {"none": 0, "info": 1, "warn": 2, "high": 3}

ECHO_MIN_WORDS = 8
"""Consecutive words copied from the mention that count as an echo (possible injection)."""

_SHOUT_MIN_LETTERS = 12
_SHOUT_RATIO = 0.6
_SHOUT_RUN_WORDS = 4
_MAX_MENTION_WORDS = 5000


@dataclass(frozen=True, slots=True)
class RiskFlag:
    """One finding: ``code`` (e.g. ``too_long``), ``severity``, a translation key
    (``risk.too_long``), an English ``detail``, and the offending text (``evidence``)."""

    code: str
    severity: Severity
    message_key: str
    detail: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, e.g. to store with the draft."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message_key": self.message_key,
            "detail": self.detail,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True, slots=True)
class RiskReport:
    """All flags of one draft, most severe first."""

    flags: tuple[RiskFlag, ...] = field(default_factory=tuple)

    @property
    def level(self) -> Level:
        """The highest severity among the flags, or ``"none"`` when there is none."""
        best: Level = "none"
        for flag in self.flags:
            if _RANK[flag.severity] > _RANK[best]:
                best = flag.severity
        return best

    @property
    def requires_override(self) -> bool:
        """True when any flag is 'high': approving needs an explicit override."""
        return any(flag.severity == "high" for flag in self.flags)

    @property
    def codes(self) -> list[str]:
        """The flag codes, in report order."""
        return [flag.code for flag in self.flags]

    def has(self, code: str) -> bool:
        """True when a flag with ``code`` was raised."""
        return any(flag.code == code for flag in self.flags)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: level, requires_override and the flags."""
        return {
            "level": self.level,
            "requires_override": self.requires_override,
            "flags": [flag.to_dict() for flag in self.flags],
        }


# -- word lists ------------------------------------------------------------------------
# Written folded (lower-case, no accents). A trailing "*" allows any word ending
# ("refund*" matches refunds, refunded); spaces match any run of spaces/apostrophes/dashes.

_Term = tuple[str, Severity]

_COMMITMENT_TERMS: tuple[_Term, ...] = (
    # English
    ("refund*", "warn"),
    ("reimburs*", "warn"),
    ("compensat*", "warn"),
    ("guarantee*", "warn"),
    ("guaranty", "warn"),
    ("warranty", "warn"),
    ("warranties", "warn"),
    ("we promise", "warn"),
    ("i promise", "warn"),
    ("we will make sure", "warn"),
    ("promised", "warn"),
    ("free of charge", "warn"),
    ("for free", "warn"),
    ("at no cost", "warn"),
    ("at no charge", "warn"),
    ("money back", "warn"),
    ("voucher*", "warn"),
    ("coupon*", "warn"),
    ("gift card*", "warn"),
    ("store credit", "warn"),
    # French
    ("rembours*", "warn"),
    ("dedommag*", "warn"),
    ("indemnis*", "warn"),
    ("indemnit*", "warn"),
    ("garanti*", "warn"),
    ("nous nous engageons", "warn"),
    ("nous nous engageon*", "warn"),
    ("je m engage", "warn"),
    ("on s engage", "warn"),
    ("nous vous promettons", "warn"),
    ("je vous promets", "warn"),
    ("promis", "warn"),
    ("gratuit*", "warn"),
    ("sans frais", "warn"),
    ("a nos frais", "warn"),
    ("geste commercial", "warn"),
    ("bon d achat", "warn"),
    ("code promo", "warn"),
)

_LEGAL_TERMS: tuple[_Term, ...] = (
    # English
    ("lawsuit*", "high"),
    ("legal action*", "high"),
    ("legal proceeding*", "high"),
    ("liabilit*", "high"),
    ("liable", "high"),
    ("litigat*", "high"),
    ("class action", "high"),
    ("sue you", "high"),
    ("sue us", "high"),
    ("sue them", "high"),
    ("will sue", "high"),
    ("sued", "high"),
    ("suing", "high"),
    ("attorney*", "high"),
    ("lawyer*", "high"),
    ("in court", "high"),
    ("to court", "high"),
    ("court case*", "high"),
    ("court order*", "high"),
    ("negligen*", "high"),
    ("our fault", "warn"),
    ("we admit", "warn"),
    # French
    ("proces", "high"),
    ("avocat*", "high"),
    ("tribunal", "high"),
    ("tribunaux", "high"),
    ("action en justice", "high"),
    ("actions en justice", "high"),
    ("poursuite* judiciaire*", "high"),
    ("poursuivre en justice", "high"),
    ("porter plainte", "high"),
    ("porte plainte", "high"),
    ("deposer plainte", "high"),
    ("deposer une plainte", "high"),
    ("mise en demeure", "high"),
    ("litige*", "high"),
    ("notre responsabilite", "high"),
    ("responsabilite juridique", "high"),
    ("responsabilite legale", "high"),
    ("responsabilite civile", "high"),
    ("plainte*", "warn"),
    ("notre faute", "warn"),
)

_INSULT_TERMS: tuple[_Term, ...] = (
    # English
    ("idiot*", "high"),
    ("stupid*", "high"),
    ("moron*", "high"),
    ("imbecile*", "high"),
    ("dumb", "high"),
    ("dumbass*", "high"),
    ("shut up", "high"),
    ("loser*", "high"),
    ("pathetic", "high"),
    ("screw you", "high"),
    ("fuck you", "high"),
    ("retarded", "high"),  # not "retard": French for "delay"
    ("scum*", "high"),
    ("go to hell", "high"),
    ("jerk", "high"),
    ("jerks", "high"),
    ("asshole*", "high"),
    ("bastard*", "high"),
    ("dickhead*", "high"),
    ("piss off", "high"),
    ("bitch*", "high"),
    ("clown*", "warn"),
    ("fuck*", "warn"),
    ("shit*", "warn"),
    ("bullshit*", "warn"),
    ("crap", "warn"),
    ("crappy", "warn"),
    ("damn*", "warn"),
    ("wtf", "warn"),
    # French
    ("cretin*", "high"),
    ("debile*", "high"),
    ("abruti*", "high"),
    ("connard*", "high"),
    ("connasse*", "high"),
    ("pauvre con", "high"),
    ("espece de con", "high"),
    ("bande de cons", "high"),
    ("ta gueule", "high"),
    ("ferme la", "high"),
    ("encule*", "high"),
    ("salaud*", "high"),
    ("salope*", "high"),
    ("tocard*", "high"),
    ("bouffon*", "high"),
    ("minable*", "high"),
    ("va te faire", "high"),
    ("allez vous faire", "high"),
    ("merde*", "warn"),
    ("putain*", "warn"),
    ("bordel", "warn"),
    ("chier", "warn"),
)

# Slack control sequences: broadcasts, user/channel/group pings and fake link labels.
_SLACK_MARKUP = regex.compile(
    r"<\s*!\s*(?:channel|here|everyone|subteam\^[^>]*|date\^[^>]*|[a-z]+)[^>]*>"
    r"|<\s*[@#][UWCGSB][A-Z0-9]{2,}(?:\|[^>]*)?>"
    r"|<\s*(?:https?|mailto|tel|slack):[^>|]*\|[^>]*>"
    r"|(?<![\w@])@(?:channel|here|everyone)\b",
    regex.IGNORECASE,
)

_IBAN = regex.compile(r"\b[a-z]{2}\d{2}(?:[ ]?[a-z0-9]){11,30}\b", regex.I)
_IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21,
    "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MA": 28, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26,
}  # fmt: skip
_WORD = regex.compile(r"\w+")
_EXCLAIM = regex.compile(r"[!?]{3,}")


def _term_regex(terms: Iterable[_Term]) -> tuple[regex.Pattern[str], dict[str, Severity]]:
    parts: list[str] = []
    severities: dict[str, Severity] = {}
    for i, (term, severity) in enumerate(terms):
        words = term.split()
        body = r"[\s'\-]+".join(
            regex.escape(w[:-1]) + r"\w*" if w.endswith("*") else regex.escape(w) for w in words
        )
        name = f"t{i}"
        parts.append(rf"(?P<{name}>(?<!\w){body}(?!\w))")
        severities[name] = severity
    return regex.compile("|".join(parts)), severities


_COMMITMENT_RE = _term_regex(_COMMITMENT_TERMS)
_LEGAL_RE = _term_regex(_LEGAL_TERMS)
_INSULT_RE = _term_regex(_INSULT_TERMS)


def _flag(code: str, severity: Severity, detail: str, evidence: Iterable[str] = ()) -> RiskFlag:
    return RiskFlag(code, severity, f"risk.{code}", detail, tuple(_unique(evidence)))


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item and item.casefold() not in {k.casefold() for k in seen}:
            seen[item] = None
    return list(seen)


def _quote(items: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"'{item}'" for item in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _match_terms(
    text_folded: FoldedText, compiled: tuple[regex.Pattern[str], dict[str, Severity]]
) -> tuple[list[str], Severity | None]:
    pattern, severities = compiled
    found: list[str] = []
    worst: Severity | None = None
    for m in pattern.finditer(text_folded.text):
        name = m.lastgroup
        if name is None:
            continue
        found.append(text_folded.original(m.start(), m.end()))
        severity = severities[name]
        if worst is None or _RANK[severity] > _RANK[worst]:
            worst = severity
    return found, worst


# -- individual checks -----------------------------------------------------------------


def _check_length(draft: str, network: str, limit: int | None) -> list[RiskFlag]:
    used, max_len = measure(draft, network, limit=limit)
    if max_len is None or used <= max_len:
        return []
    descriptor = resolve_network(network)
    name = descriptor.display_name if descriptor is not None else network
    return [
        _flag(
            "too_long",
            "high",
            f"The reply counts {used} characters; {name} allows {max_len}.",
        )
    ]


def _normalize_allowlist(entries: Iterable[str]) -> list[str]:
    # In ASCII (punycode) form, as the draft's hosts: "münchen.de" allows
    # "xn--mnchen-3ya.de" and the reverse.
    domains: list[str] = []
    for entry in entries:
        entry = (entry or "").strip().lower()
        if entry.startswith("*."):
            entry = entry[2:]
        host = url_host(entry) if entry else None
        if host and (ascii_form := ascii_host(host)):
            domains.append(ascii_form)
    return domains


def _host_allowed(host: str, allowed: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in allowed)


def _links(draft: str, network: str) -> list[str]:
    """The links of ``draft``, and on a network that links as X does (every bare name on a
    TLD, "foo.bar" of "foo.bar.baz") the links it would make there too."""
    urls = [url.url for url in find_urls(draft)]
    descriptor = resolve_network(network)
    if descriptor is not None and descriptor.reply_counting == "x":
        urls += [url.url for url in find_urls(draft, short_domains=True) if url.url not in urls]
    return urls


def _check_links(draft: str, network: str, allowlist: Iterable[str]) -> list[RiskFlag]:
    allowed = _normalize_allowlist(allowlist)
    outside: list[str] = []
    for url in _links(draft, network):
        host = url_host(url)
        # Compared by the name DNS resolves: a mixed-script "аpple.com" is its punycode.
        ascii_form = ascii_host(host) if host is not None else None
        if ascii_form is None or not _host_allowed(ascii_form, allowed):
            outside.append(url)
    if not outside:
        return []
    return [
        _flag(
            "link_not_allowed",
            "warn",
            f"The reply links outside the allowed domains: {_quote(_unique(outside))}.",
            outside,
        )
    ]


def _check_words(draft_folded: FoldedText) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    found, worst = _match_terms(draft_folded, _COMMITMENT_RE)
    if found and worst:
        flags.append(
            _flag(
                "commitment",
                worst,
                f"The reply makes or mentions a commitment ({_quote(_unique(found))}); "
                "make sure it is one the brand can keep.",
                found,
            )
        )
    found, worst = _match_terms(draft_folded, _LEGAL_RE)
    if found and worst:
        flags.append(
            _flag(
                "legal",
                worst,
                f"The reply uses legal words ({_quote(_unique(found))}); "
                "have it checked before posting.",
                found,
            )
        )
    found, worst = _match_terms(draft_folded, _INSULT_RE)
    if found and worst:
        flags.append(
            _flag(
                "insult",
                worst,
                f"The reply contains insulting or rude words ({_quote(_unique(found))}).",
                found,
            )
        )
    return flags


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(candidate: str) -> bool:
    rearranged = candidate[4:] + candidate[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _find_ibans(draft: str) -> list[str]:
    found: list[str] = []
    mentions_iban = "iban" in draft.lower()
    for m in _IBAN.finditer(draft):
        compact = m.group(0).replace(" ", "").upper()
        length = _IBAN_LENGTHS.get(compact[:2])
        if length is None or len(compact) < length:
            continue
        candidate = compact[:length]
        if _iban_ok(candidate) or mentions_iban:
            found.append(m.group(0)[: _span_for(m.group(0), length)])
    return found


def _span_for(text: str, compact_len: int) -> int:
    """Length of the prefix of ``text`` holding ``compact_len`` non-space characters."""
    seen = 0
    for i, ch in enumerate(text):
        if ch != " ":
            seen += 1
            if seen == compact_len:
                return i + 1
    return len(text)


def _check_personal_data(draft: str, draft_folded: FoldedText) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    ibans = _find_ibans(draft)
    if ibans:
        flags.append(
            _flag(
                "pii_iban",
                "high",
                "The reply contains what looks like a bank account (IBAN).",
                ibans,
            )
        )
    cards: list[str] = []
    long_numbers: list[str] = []
    for m in _DIGIT_RUN.finditer(draft):
        digits = regex.sub(r"\D", "", m.group(0))
        if any(digits in regex.sub(r"\W", "", iban) for iban in ibans):
            continue
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            cards.append(m.group(0))
        else:
            long_numbers.append(m.group(0))
    if cards:
        flags.append(
            _flag(
                "pii_card",
                "high",
                "The reply contains what looks like a payment card number.",
                cards,
            )
        )
    emails = [m.group(0) for m in _EMAIL.finditer(draft)]
    if emails:
        flags.append(
            _flag(
                "pii_email",
                "warn",
                f"The reply contains an email address ({_quote(emails)}); "
                "never post a customer's personal data publicly.",
                emails,
            )
        )
    without_emails = _EMAIL.sub(" ", draft)
    phones = [
        m.group(0)
        for m in _PHONE.finditer(without_emails)
        if 8 <= sum(ch.isdigit() for ch in m.group(0)) <= 15
        and not any(m.group(0) in c for c in cards)
    ]
    if phones:
        flags.append(
            _flag(
                "pii_phone",
                "warn",
                f"The reply contains a phone number ({_quote(phones)}); "
                "never post a customer's personal data publicly.",
                phones,
            )
        )
    orders = [draft_folded.original(m.start(), m.end()) for m in _ORDER.finditer(draft_folded.text)]
    orders += [n for n in long_numbers if not any(n in o for o in orders)]
    if orders:
        flags.append(
            _flag(
                "pii_order",
                "warn",
                f"The reply contains an order, account or reference number ({_quote(orders)}); "
                "keep it out of a public reply.",
                orders,
            )
        )
    return flags


def _check_tone(draft: str) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    # Links and handles are not prose: their case says nothing about the tone.
    visible = _HANDLE.sub(" ", draft)
    for url in reversed(find_urls(visible)):
        visible = visible[: url.start] + " " + visible[url.end :]
    cased = [ch for ch in visible if ch.isupper() or ch.islower()]
    upper = sum(ch.isupper() for ch in cased)
    shouting = len(cased) >= _SHOUT_MIN_LETTERS and upper / len(cased) >= _SHOUT_RATIO
    run: list[str] = []
    longest: list[str] = []
    for word in _WORD.findall(visible):
        letters = [ch for ch in word if ch.isupper() or ch.islower()]
        if len(letters) >= 2 and all(ch.isupper() for ch in letters):
            run.append(word)
            if len(run) > len(longest):
                longest = list(run)
        elif letters:
            run = []
    if not shouting and len(longest) >= _SHOUT_RUN_WORDS:
        shouting = sum(len(w) for w in longest) >= _SHOUT_MIN_LETTERS
    if shouting:
        flags.append(
            _flag(
                "shouting",
                "warn",
                "The reply is written in capitals, which reads as shouting.",
                [" ".join(longest)] if longest else [],
            )
        )
    marks = [m.group(0) for m in _EXCLAIM.finditer(draft)]
    if marks:
        flags.append(_flag("exclamations", "info", "The reply uses runs of '!' or '?'.", marks))
    return flags


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text).text)


def _longest_echo(draft: str, mention: str) -> list[str]:
    """Longest run of consecutive words of the draft also found in the mention."""
    a = _words(draft)
    b = _words(mention)[:_MAX_MENTION_WORDS]
    if len(a) < ECHO_MIN_WORDS or len(b) < ECHO_MIN_WORDS:
        return []
    positions: dict[str, list[int]] = {}
    for j, word in enumerate(b):
        positions.setdefault(word, []).append(j)
    best_len, best_end = 0, 0
    prev: dict[int, int] = {}
    for i, word in enumerate(a):
        cur: dict[int, int] = {}
        for j in positions.get(word, ()):
            length = prev.get(j - 1, 0) + 1
            cur[j] = length
            if length > best_len:
                best_len, best_end = length, i + 1
        prev = cur
    return a[best_end - best_len : best_end] if best_len >= ECHO_MIN_WORDS else []


def _check_injection(draft: str, draft_folded: FoldedText, mention_text: str) -> list[RiskFlag]:
    flags: list[RiskFlag] = []
    markup = [m.group(0) for m in _SLACK_MARKUP.finditer(draft)]
    if markup:
        flags.append(
            _flag(
                "slack_markup",
                "high",
                f"The reply contains Slack control sequences ({_quote(markup)}) that could "
                "ping people or disguise links.",
                markup,
            )
        )
    phrases = find_injection(draft)
    if phrases:
        flags.append(
            _flag(
                "injection",
                "high",
                f"The reply contains instructions aimed at an AI ({_quote(phrases)}); "
                "it may have been steered by the mention.",
                phrases,
            )
        )
    echo = _longest_echo(draft, mention_text)
    if echo:
        flags.append(
            _flag(
                "echo",
                "high",
                f"The reply copies {len(echo)} words in a row from the mention; text in a "
                "mention can try to make the reply say something else.",
                [" ".join(echo)],
            )
        )
    return flags


def _check_mention(mention_text: str) -> list[RiskFlag]:
    found = find_injection(mention_text)
    found += [m.group(0) for m in _SLACK_MARKUP.finditer(mention_text)]
    if not found:
        return []
    return [
        _flag(
            "mention_injection",
            "warn",
            f"The mention contains text aimed at an AI drafter or at Slack ({_quote(found)}); "
            "check the suggestion did not follow it.",
            found,
        )
    ]


def _check_handles(
    draft: str, mention_text: str, brand_handles: Iterable[str], author_handle: str | None
) -> list[RiskFlag]:
    def key(handle: str) -> str:
        return handle.lstrip("@").split("@")[0].casefold()

    known = {key(h) for h in brand_handles if h}
    if author_handle:
        known.add(key(author_handle))
    known |= {key(m.group(1)) for m in _HANDLE.finditer(mention_text)}
    known |= {"channel", "here", "everyone"}  # reported as slack_markup instead
    others = [f"@{m.group(1)}" for m in _HANDLE.finditer(draft) if key(m.group(1)) not in known]
    if not others:
        return []
    return [
        _flag(
            "other_accounts",
            "warn",
            f"The reply tags accounts that are not in the conversation ({_quote(others)}).",
            others,
        )
    ]


def _check_foreign(foreign_data: Iterable[str]) -> list[RiskFlag]:
    found = _unique(foreign_data)
    if not found:
        return []
    return [
        _flag(
            "foreign_data",
            "high",
            f"The reply contains {_quote(found)}, found in another person's posts or in a "
            "reply to them and not in this conversation: it may leak their personal data.",
            found,
        )
    ]


def check_draft(
    draft_text: str,
    *,
    network: str,
    mention_text: str,
    link_allowlist: Iterable[str],
    brand_handles: Iterable[str] = (),
    author_handle: str | None = None,
    limit: int | None = None,
    foreign_data: Iterable[str] = (),
) -> RiskReport:
    """Check a reply draft and return its flags (most severe first).

    ``link_allowlist`` holds domains whose links are fine (subdomains included);
    ``brand_handles`` and ``author_handle`` are accounts the reply may tag; ``limit``
    overrides the network's length limit (e.g. a Mastodon instance allowing more);
    ``foreign_data`` the personal data of the draft that other conversations hold and this
    one does not (``bot.services.draft_checks.foreign_data`` looks them up).
    """
    draft = draft_text or ""
    mention = mention_text or ""
    brand = list(brand_handles)
    if not draft.strip():
        return RiskReport((_flag("empty", "high", "The reply is empty."),))
    folded = fold(draft)
    flags: list[RiskFlag] = []
    flags += _check_length(draft, network, limit)
    flags += _check_injection(draft, folded, mention)
    flags += _check_links(draft, network, link_allowlist)
    flags += _check_words(folded)
    flags += _check_personal_data(draft, folded)
    flags += _check_tone(draft)
    flags += _check_handles(draft, mention, brand, author_handle)
    flags += _check_mention(mention)
    flags += _check_foreign(foreign_data)
    flags.sort(key=lambda f: -_RANK[f.severity])
    return RiskReport(tuple(flags))
