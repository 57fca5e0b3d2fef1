"""Normalization helpers shared by sources: HTML to plain text, links, times, ids."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import nh3

MAX_TEXT_CHARS = 20_000
"""Longest mention text kept; full-content feeds can carry whole articles."""
MAX_HTML_DEPTH = 256
"""Deepest element nesting handed to the HTML parser. Its work grows with tags x depth
(a 80 KB run of nested ``<div>`` took 0.7 s of CPU, per item); real content nests a few
dozen levels. Deeper markup takes the plain strip path."""

_BLOCK_TAG = re.compile(
    r"<\s*(?:br|/?p|/?div|/?li|/?ul|/?ol|/?h[1-6]|/?tr|/?td|/?th|/?blockquote|/?pre|hr)\b[^<>]*>",
    re.IGNORECASE,
)
# The name is possessive (*+): giving letters back to [^<>]*? cannot end the tag anywhere
# else, and "<" with 40,000 letters and no ">" took 18 s trying every split.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*+)[^<>]*?(/?)>")
_ANY_TAG = re.compile(r"<[^>]*>?")
_HIDDEN_CONTENT = re.compile(
    r"<(script|style|template|noscript|iframe|noembed|noframes|xmp)\b.*?(?:</\1\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
# Elements that never hold children, or whose end tag is implied by the next sibling:
# they do not deepen the tree the parser builds.
_FLAT_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb",
    "rt", "rp", "tbody", "thead", "tfoot", "colgroup", "caption",
})
# [^<>]: a tag never spans another "<", so an unclosed "<a" stops at the next one instead
# of scanning to the end (thousands of them made the search quadratic).
_HREF = re.compile(r"""<a\b([^<>]*)>""", re.IGNORECASE)
# A name starts where no name character precedes it: a match starting inside a name
# would end where one from its start does, and trying every start of a 40,000-letter
# name, each backtracking to it, took 27 s.
_ATTR = re.compile(
    r"""(?<![a-zA-Z_:-])([a-zA-Z_:-]++)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_C1 = re.compile("[\x80-\x9f]")
_GOOGLE_HOST = re.compile(r"^(?:www\.)?google\.[a-z.]{2,6}$")
# Absolute links that urljoin returns unchanged, whatever a well-formed base: lower-case
# http(s), an ASCII host, no path parameters (";"), no empty "?" or "#" (urlunparse would
# drop them) and no tab or newline (urlsplit would remove them). urljoin would raise on a
# malformed base even then; join_url does not look at the base for these links. urlsplit
# and .port read them without raising: a port of 5 digits or more, which can be out of
# range, takes the parsing path.
_PLAIN_ABSOLUTE_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,4})?(?:/[^\s?#;]*)?(?:\?[^\s#]+)?(?:#\S+)?"
)


def fix_mojibake(text: str) -> str:
    """Repair the two classic encoding slips that leave C1 control characters behind:
    UTF-8 read as Latin-1 ("â\x80¦" -> "…") and Windows-1252 code points ("\x92" -> "’")."""
    if not _C1.search(text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return _C1.sub(lambda m: bytes([ord(m.group())]).decode("cp1252", "ignore"), text)


def collapse_whitespace(text: str) -> str:
    """Single spaces, no control characters, trimmed, at most MAX_TEXT_CHARS."""
    # Printable text holds no control or C1 character and no whitespace but " ", so
    # without a double space only the ends can change (most titles and short posts).
    if "  " not in text and text.isprintable():
        return text.strip()[:MAX_TEXT_CHARS]
    text = _CONTROL.sub("", fix_mojibake(text))
    # Words joined by single spaces: what replacing each whitespace run (\s+, the
    # characters str.split splits on) by a space and stripping gives, in C.
    return " ".join(text.split())[:MAX_TEXT_CHARS]


def html_to_text(markup: str | None) -> str:
    """Safe plain text from untrusted HTML: tags (and script/style content) removed,
    entities decoded, whitespace collapsed."""
    if not markup:
        return ""
    markup = markup[: MAX_TEXT_CHARS * 4]  # the text is capped anyway; bound the work
    if "<" not in markup:
        if "&" not in markup:
            return collapse_whitespace(markup)
        # Without a tag the HTML parser only decodes character references, as unescape
        # does (checked on every named one and every code point), but it keeps the
        # noncharacters (&#xFDD0;...) that unescape drops: numeric ones go the long way.
        if "&#" not in markup:
            return collapse_whitespace(html.unescape(markup))
    # A space after block tags, so "<p>a</p><p>b</p>" reads "a b", not "ab". Tags stay:
    # removing table cells would make the HTML parser move their text out of order.
    spaced = _BLOCK_TAG.sub(lambda m: m.group(0) + " ", markup)
    if nesting_depth(spaced) > MAX_HTML_DEPTH:
        return collapse_whitespace(html.unescape(_strip_tags(spaced)))
    stripped = nh3.clean(spaced, tags=set(), attributes={}, strip_comments=True)
    return collapse_whitespace(html.unescape(stripped))


def nesting_depth(markup: str) -> int:
    """How deep elements nest in ``markup`` (an upper bound; stops past MAX_HTML_DEPTH)."""
    depth = deepest = 0
    for match in _TAG.finditer(markup):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in _FLAT_TAGS:
            continue
        if closing:
            depth = max(0, depth - 1)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_HTML_DEPTH:
                break
    return deepest


def _strip_tags(markup: str) -> str:
    """Tags, comments and hidden content (script, style...) removed with linear regexes;
    for markup too deep for the HTML parser. The result is text, escaped like any other."""
    text = _COMMENT.sub(" ", markup)
    text = _HIDDEN_CONTENT.sub(" ", text)
    return _ANY_TAG.sub("", text)


def usable_url(url: str) -> str | None:
    """``url`` when urlsplit reads it, port included; None for a malformed one
    (``http://[bad/``, ``http://a:99999/``) on which urlsplit or ``.port`` would raise.

    External links pass here before anything parses them: one such link in a feed item
    raised out of the whole fetch, and the source went silent on every poll."""
    if _PLAIN_ABSOLUTE_URL.fullmatch(url):
        return url
    try:
        urlsplit(url).port  # noqa: B018 -- reading the port is the check (ValueError)
    except ValueError:
        return None
    return url


def whole_link(href: str, shown: str) -> str | None:
    """The address (without query or fragment) a link shortened as ``shown`` stands for,
    or None when ``shown`` is no shortened form of ``href``: a shortened form is the
    address, or its part after the scheme (and ``www.``), cut and ending in "..." or "…"
    (what Mastodon and the Bluesky app show of a long link)."""
    cut = shown.removesuffix("...").removesuffix("\u2026")
    try:
        parts = urlsplit(href)
    except ValueError:  # a malformed address ("http://[x"): the link stays as shown
        return None
    if cut == shown or not cut or parts.scheme not in {"http", "https"}:
        return None
    bare = href.split("://", 1)[-1]
    if not (href.startswith(cut) or bare.startswith(cut)
            or bare.removeprefix("www.").startswith(cut)):
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def join_url(base: str, link: str) -> str | None:
    """``urljoin(base, link)``, or None when either cannot be parsed or the result
    is not a ``usable_url`` (a malformed link is dropped, never raised).

    A plain absolute URL (most feed links), which urljoin would return as it is, is
    not parsed, and the base is not looked at: a malformed base does not drop it."""
    if _PLAIN_ABSOLUTE_URL.fullmatch(link):
        return link
    try:
        joined = urljoin(base, link)
    except ValueError:
        return None
    return usable_url(joined)


def extract_links(
    markup: str | None, *, base: str = "", skip_classes: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Absolute http(s) targets of ``<a href>`` tags, in order, deduplicated.

    Relative targets are resolved against ``base``. Anchors whose class contains one
    of ``skip_classes`` (e.g. Mastodon's ``mention``/``hashtag``) are skipped, and so
    are targets that cannot be parsed or joined (see ``usable_url``).
    """
    if not markup or "<a" not in markup.lower():
        return ()
    markup = markup[: MAX_TEXT_CHARS * 4]  # as html_to_text: the text is capped anyway
    links: list[str] = []
    for match in _HREF.finditer(markup):
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR.finditer(match.group(1))
        }
        href = attrs.get("href", "").strip()
        classes = attrs.get("class", "").split()
        if not href or any(c in classes for c in skip_classes) or attrs.get("rel") == "tag":
            continue
        resolved = join_url(base, href) if base else usable_url(href)
        if (resolved and resolved.lower().startswith(("http://", "https://"))
                and resolved not in links):
            links.append(resolved)
    return tuple(links)


def unwrap_redirect(url: str) -> str:
    """The real target of a Google redirect link (``google.com/url?...&url=REAL``)."""
    if "google." not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.path != "/url" or not _GOOGLE_HOST.match((parts.hostname or "").lower()):
        return url
    query = parse_qs(parts.query)
    for key in ("url", "q"):
        for candidate in query.get(key, []):
            if candidate.lower().startswith(("http://", "https://")):
                return candidate
    return url


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive values are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso(value: object) -> datetime | None:
    """Parse an ISO 8601 timestamp (``Z`` suffix, fractions of any length) to aware UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return to_utc(datetime.fromisoformat(text))
    except OverflowError:  # a time near year 1 or 9999 whose offset leaves the calendar
        return None
    except ValueError:
        return _parse_iso_loose(text)


_ISO_LOOSE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.(\d+))?\s*([+-]\d{2}:?\d{2})?$"
)


def _parse_iso_loose(text: str) -> datetime | None:
    match = _ISO_LOOSE.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    iso = f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}.{micro:06d}"
    if offset:
        iso += offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
    try:
        return to_utc(datetime.fromisoformat(iso))
    except (ValueError, OverflowError):
        return None


_RFC822 = re.compile(
    r"(?:[A-Za-z]{3}, )?([0-9]{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" ([1-9][0-9]{3}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) (?:([+-])([0-9]{2})([0-9]{2})|GMT|UTC|UT|Z)"
)
_MONTHS = {name: n for n, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_MONTH_DIGITS = {name: f"{n:02d}" for name, n in _MONTHS.items()}
_DAY_SECONDS = 86_400


def parse_rfc822(value: str) -> datetime | None:
    """Parse an RSS/HTTP date (``Thu, 01 Jan 2004 19:48:21 GMT``) to aware UTC."""
    try:
        # Feeds nearly always write the canonical form: read it without the general
        # parser, which tokenizes in Python to handle every historical variant.
        match = _RFC822.fullmatch(value.strip())
        if match is not None:
            return _rfc822_canonical(match)
        # An offset written "-05:00", or as JavaScript writes a date ("GMT+0300 (Moscow
        # Standard Time)"), is none email.utils reads: it gave the time as UTC, hours off.
        moment = parsedate_to_datetime(_ODD_OFFSET.sub(r"\1 \2\3\4", value.strip()))
        if moment.tzinfo is None:
            # A zone email.utils does not know (it knows RFC 822's: GMT and the North
            # American ones) leaves the time naive: CET read as UTC was an hour off.
            named = _ZONE_NAME.search(value)
            offset = _zone_offset(named.group(1).upper(), moment) if named else None
            if offset is not None:
                return (moment - offset).replace(tzinfo=UTC)
        return to_utc(moment)
    except (TypeError, ValueError, IndexError, OverflowError):
        # OverflowError: a time zone that moves a time past year 9999 (one such entry
        # made the whole feed fail).
        return None


_ODD_OFFSET = re.compile(
    r"([0-9]:[0-9]{2})\s*(?:GMT|UTC)?\s*([+-])([0-9]{2}):?([0-9]{2})(?:\s*\([^()]*\))?$")
"""An offset after a date's time, with a colon or after GMT/UTC, a zone name in
parentheses after it: its group written as RFC 822 writes it (``-0500``)."""
_SLASHED_DATE = re.compile(
    r"\s*([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"
    r"(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\s*([+-][0-9]{2}:?[0-9]{2}|Z|UTC|GMT)?)?\s*")


def is_slashed_date(value: str) -> bool:
    """Whether ``value`` is written as ``parse_slashed_date`` reads, valid or not: such a
    date is read by it or not at all (feedparser reads any ``YYYY/...`` as 1 December of
    that year, ``2026/13/05`` and ``2026/03/05`` alike)."""
    return _SLASHED_DATE.fullmatch(value) is not None


def parse_slashed_date(value: str) -> datetime | None:
    """A date written ``YYYY/MM/DD`` with an optional ``hh:mm[:ss]`` and offset (common
    in Chinese and Japanese feeds), to aware UTC (no offset: UTC); None for any other,
    and for one so written that is no date (``2026/13/05``)."""
    match = _SLASHED_DATE.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, offset = match.groups()
    zone = "+00:00" if offset in {None, "Z", "UTC", "GMT"} else offset
    if ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        return to_utc(datetime.fromisoformat(
            f"{year}-{int(month):02d}-{int(day):02d}T{int(hour or 0):02d}:{minute or '00'}:"
            f"{second or '00'}{zone}"))
    except (ValueError, OverflowError):
        return None


_ZONE_NAME = re.compile(r"[0-9]:[0-9]{2}\s+([A-Za-z]{3,5})\s*$")
"""The zone abbreviation ending a date, after its time."""


AMBIGUOUS_ZONE_NAMES = frozenset({"SST", "BST"})
"""Abbreviations the tz database gives one offset, which are in common use with another
(timeanddate.com's and Wikipedia's lists of time zone abbreviations): SST is Samoa's there
(-11) and Singapore's for Singapore's feeds (+8), BST British Summer Time (+1) and
Bangladesh's (+6). Read as UTC, as they were: a guess could put posts 19 hours off. (AST
and ADT, the Atlantic's and Arabia's, never come here: email.utils reads them as the
Atlantic's.)"""


def _zone_offset(name: str, moment: datetime) -> timedelta | None:
    """The offset of zone abbreviation ``name`` at ``moment`` (naive, local): the one its
    zones of the tz database had then when they agree (Moscow's MSK was +4 from 2011 to
    2014), else the one they have this year; None for a name they do not give one."""
    # Offsets change on the hour: a feed's dates share few hours, each looked up once.
    return _zone_offset_in_hour(name, moment.replace(minute=0, second=0, microsecond=0))


@functools.lru_cache(maxsize=1024)
def _zone_offset_in_hour(name: str, moment: datetime) -> timedelta | None:
    known = _zone_offsets().get(name)
    if known is None:
        return None
    offset, zones = known
    then: set[timedelta] = set()
    for zone in zones:
        local = moment.replace(tzinfo=zone)
        local_offset = local.utcoffset()
        if (local.tzname() or "").upper() == name and local_offset is not None:
            then.add(local_offset)
    return then.pop() if len(then) == 1 else offset


@functools.cache
def _zone_offsets() -> dict[str, tuple[timedelta, tuple[ZoneInfo, ...]]]:
    """The offset of each time zone abbreviation the tz database (``zoneinfo``) gives one
    offset this year, over all its zones, winter and summer (and the zones that use it):
    CET, CEST, EET, WET, WEST, JST, MSK, AEST... An abbreviation of several (IST: India,
    Ireland and Israel; CST: Chicago, China and Cuba) is left out, as are the numeric ones
    (+03) and AMBIGUOUS_ZONE_NAMES. Empty when the system has no tz database. Read once,
    at the first date naming a zone email.utils does not know."""
    year = datetime.now(UTC).year
    seen: dict[str, set[timedelta]] = {}
    zones: dict[str, dict[str, ZoneInfo]] = {}
    for key in available_timezones():
        try:
            zone = ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
        for month in (1, 7):
            moment = datetime(year, month, 1, tzinfo=zone)
            name, offset = moment.tzname(), moment.utcoffset()
            if name and name.isalpha() and offset is not None:
                seen.setdefault(name.upper(), set()).add(offset)
                zones.setdefault(name.upper(), {})[key] = zone
    # The zones are kept: ZoneInfo's cache keeps few, one read again costs a file read.
    return {name: (next(iter(offsets)), tuple(zones[name][key] for key in sorted(zones[name])))
            for name, offsets in seen.items()
            if len(offsets) == 1 and name not in AMBIGUOUS_ZONE_NAMES}


def _rfc822_canonical(match: re.Match[str]) -> datetime:
    """What ``parsedate_to_datetime`` + ``to_utc`` give for a canonical RFC 822 date;
    ValueError where they raise it (no such day, time or time zone)."""
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    if hour == "24":  # newer Pythons read ISO 24:00 as the next midnight; datetime() did not
        raise ValueError("hour must be in 0..23")
    # The UTC time written in ISO form and read in C (one call instead of six int() and a
    # datetime()): the same time, and a ValueError for the same days, hours... past range.
    moment = datetime.fromisoformat(
        f"{year}-{_MONTH_DIGITS[month]}-{day.zfill(2)}T{hour}:{minute}:{second}+00:00")
    if not sign:
        return moment
    offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
    if offset >= _DAY_SECONDS:
        raise ValueError("time zone offset out of range")
    if not offset:
        return moment
    return moment - timedelta(0, offset) if sign == "+" else moment + timedelta(0, offset)


def from_epoch(value: object) -> datetime | None:
    """Aware UTC datetime from epoch seconds (int, float or numeric string)."""
    if isinstance(value, bool):  # JSON true is not a time (float(True) is 1970)
        return None
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def short_hash(*parts: str) -> str:
    """A stable 32-hex-char id made from ``parts`` (used when a network gives none)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def language_tag(value: str | None) -> str | None:
    """Primary language subtag, lower case (``en-US`` -> ``en``); None when unknown."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    if not primary.isalpha() or not 2 <= len(primary) <= 3 or primary in {"und", "zxx"}:
        return None
    return primary
