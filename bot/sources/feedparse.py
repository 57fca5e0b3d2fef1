"""RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 0.3/1.0 parsing into plain ``FeedEntry`` values.

Two parsers, chosen by measurement (``bench/bench_sources_parse.py``):

* a fast path over the standard library's C ElementTree for well-formed documents
  without a DOCTYPE (nearly every real feed);
* feedparser, much slower but tolerant, for everything else: broken XML, wrong or
  missing encodings, DOCTYPEs and entity declarations, HTML served as a feed.

The fast path never sees a DTD: expat itself reads the prolog first and any DOCTYPE
before the root element, wherever it stands and in whatever encoding, sends the document
to feedparser, which gets only safe entity declarations (``defuse_dtd``). So no declared
entity is expanded on either path beyond a short plain-text one, and no external entity
is read.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html.entities import html5
from typing import Any, Literal, NamedTuple
from xml.parsers import expat

import feedparser
import nh3
from feedparser import datetimes as fp_datetimes
from feedparser import encodings as fp_encodings

from bot.net.errors import SourceError
from bot.sources.text import (
    collapse_whitespace,
    extract_links,
    html_to_text,
    is_slashed_date,
    join_url,
    language_tag,
    parse_iso,
    parse_rfc822,
    parse_slashed_date,
    to_utc,
    usable_url,
)

ATOM10 = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS10 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
DC = "http://purl.org/dc/elements/1.1/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
XML = "http://www.w3.org/XML/1998/namespace"
FEEDBURNER = "http://rssnamespace.org/feedburner/ext/1.0"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_HTML_PAGE = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*(?:<!DOCTYPE\s+html\b|<html\b)",
    re.IGNORECASE | re.DOTALL,
)
TOLERANT_MAX_BYTES = 2 * 1024 * 1024
"""Largest document the tolerant parser reads: pure Python, about a second of CPU and
tens of MB per MB of tags. Well-formed feeds of any size take the fast path."""
_XML_DECL_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=", re.IGNORECASE)
# Digits bounded: int() refuses strings of over 4300 digits, and no surrogate needs more.
_NUMERIC_REFERENCE = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")
_REPLACEMENT_REFERENCE = b"&#65533;"
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})

ParserName = Literal["fast", "tolerant"]


class FeedEntry(NamedTuple):
    """One feed item, already reduced to plain text and absolute links."""

    # A named tuple: one is built per item of every feed read, in a fraction of a frozen
    # dataclass's time (whose fields are each set through object.__setattr__).

    entry_id: str | None
    link: str | None
    title: str | None
    text: str
    author_name: str | None
    author_uri: str | None
    published: datetime | None
    language: str | None
    links: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's metadata and entries, and which parser read it."""

    title: str | None
    link: str | None
    language: str | None
    entries: list[FeedEntry]
    parser: ParserName
    recovered: bool = False
    """True when the document was malformed and only part of it may have been read."""


class _NotFastPath(Exception):
    """The document needs the tolerant parser."""


class _RootReached(Exception):
    """The prolog probe met the root element: the document has no DTD."""


def parse_feed(content: bytes, *, url: str = "", content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document, fast path first, tolerant parser on any doubt.

    Raises SourceError when the document is not a feed at all (HTML page, empty body).
    """
    try:
        return parse_fast(content, url=url, content_type=content_type)
    except _NotFastPath:
        return parse_tolerant(content, url=url, content_type=content_type)


# --------------------------------------------------------------------------- fast path


def parse_fast(content: bytes, *, url: str = "", content_type: str | None = None) -> ParsedFeed:
    """Parse a well-formed, DTD-free feed with ElementTree; raise _NotFastPath otherwise."""
    head = content[:2048]
    if _DOCTYPE.search(head):
        raise _NotFastPath
    charset = _declared_charset(content_type)
    if charset and charset not in _UTF8_NAMES and not _XML_DECL_ENCODING.match(head):
        raise _NotFastPath  # HTTP says non-UTF-8 and the document does not say otherwise
    _refuse_dtd(content)
    parser = ET.XMLParser()  # noqa: S314 - DTD-free input only, see module docstring
    try:
        parser.feed(content)
        root = parser.close()
    except (ET.ParseError, ValueError, LookupError) as err:
        raise _NotFastPath from err
    base = _base(root, url)
    if root.tag in (f"{{{ATOM10}}}feed", f"{{{ATOM03}}}feed"):
        return _atom_feed(root, root.tag[1:].split("}")[0], base)
    if root.tag == "rss":
        return _rss_feed(root, base)
    if root.tag == f"{{{RDF}}}RDF":
        return _rdf_feed(root, base)
    raise _NotFastPath


_PROBE_CHUNK = 16 * 1024


def _refuse_dtd(content: bytes) -> None:
    """Raise _NotFastPath unless expat reaches the root element without a DOCTYPE.

    ElementTree expands internal entities (expat only caps their amplification at about
    100x): a DOCTYPE after 2 KB of comment made 6 MB of feed hold 650 MB. The head check
    above misses a DOCTYPE further on or in UTF-16, expat does not. Fed in small chunks,
    the probe stops at the root element or at the DOCTYPE, reading at most one chunk past.
    """
    probe = expat.ParserCreate()

    def doctype(*_: object) -> None:
        raise _NotFastPath

    def root(*_: object) -> None:
        raise _RootReached

    probe.StartDoctypeDeclHandler = doctype
    probe.StartElementHandler = root
    try:
        for start in range(0, len(content), _PROBE_CHUNK):
            probe.Parse(content[start:start + _PROBE_CHUNK], False)
    except _RootReached:
        return
    except (expat.ExpatError, ValueError, LookupError) as err:
        raise _NotFastPath from err
    raise _NotFastPath  # no root element at all


def _declared_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'").lower() or None
    return None


def _base(element: ET.Element, parent: str) -> str:
    # A malformed xml:base is ignored, as a missing one is: the parent's base applies.
    xml_base = element.get(f"{{{XML}}}base")
    return (join_url(parent, xml_base.strip()) or parent) if xml_base else parent


def _lang(element: ET.Element, parent: str | None) -> str | None:
    return language_tag(element.get(f"{{{XML}}}lang")) or parent


def _text(element: ET.Element | None) -> str | None:
    """Text content of a simple element (children's text included), stripped."""
    if element is None:
        return None
    value = element.text if len(element) == 0 else "".join(element.itertext())
    value = (value or "").strip()
    return value or None


def _first_text(parent: ET.Element, *tags: str) -> str | None:
    for tag in tags:
        value = _text(parent.find(tag))
        if value:
            return value
    return None


def _parse_date(value: str | None) -> datetime | None:
    """Any feed date: ISO 8601, RFC 822, then feedparser's many lenient formats."""
    if not value:
        return None
    # ISO 8601 starts with the year; RSS dates ("Thu, 01 Jan 2004...") skip a failed try.
    iso = value.lstrip()[:1].isdigit()
    if iso and is_slashed_date(value):
        return parse_slashed_date(value)  # an invalid one is no date, not feedparser's guess
    parsed = (parse_iso(value) if iso else None) or parse_rfc822(value)
    if parsed is not None:
        return parsed
    struct = fp_datetimes._parse_date(value)
    return _from_struct(struct) or _parse_foreign_date(value)


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                "dec")
_FOREIGN_MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate((
        # Portuguese, Spanish, French and German names and abbreviations (accents dropped)
        "janeiro enero janvier janv januar jan",
        "fevereiro fev febrero feb fevrier fevr fev februar",
        "marco mar marzo mars marz mrz",
        "abril abr avril avr april apr",
        "maio mai mayo may",
        "junho jun junio juin juni",
        "julho jul julio juil juillet juli",
        "agosto ago aout august aug",
        "setembro set septiembre sept sep septembre september",
        "outubro out octubre oct octobre oktober okt",
        "novembro nov noviembre novembre november",
        "dezembro dez diciembre dic decembre dec dezember",
    ), start=1)
    for name in names.split()
}
_FOREIGN_DATE = re.compile(
    r"\s*(?:[^\W\d_]+\.?,?\s+)?(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4}),?\s+(.+)")


def _parse_foreign_date(value: str) -> datetime | None:
    """An RFC 822 date written in Portuguese, Spanish, French or German (``Seg, 24 Set
    2018 19:18:49 -0300``, as a Brazilian news site writes it): read with its month in
    English and its day name dropped (unread, it dated years-old entries now, and they
    alerted as new). None for any other text."""
    match = _FOREIGN_DATE.fullmatch(value)
    if match is None:
        return None
    day, month, year, rest = match.groups()
    bare = "".join(c for c in unicodedata.normalize("NFKD", month.casefold())
                   if not unicodedata.combining(c))
    number = _FOREIGN_MONTHS.get(bare)
    if number is None:
        return None
    return parse_rfc822(f"{day} {_MONTH_NAMES[number - 1].title()} {year} {rest}")


def _from_struct(struct: time.struct_time | None) -> datetime | None:
    if not struct:
        return None
    try:
        return datetime(*struct[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _fp_text(detail: Any, value: str | None, atom: bool,
             otherwise: Callable[[str], str]) -> str:
    """Plain text of a title or content feedparser read (its ``*_detail``). An Atom 1.0
    text construct says its type: text/plain (type="text", every title's default) is
    plain text, its "<" a character, as ``_atom_text`` reads it. Otherwise ``value`` is
    read by ``otherwise``: HTML; RSS says nothing (feedparser's type is a guess); and
    feedparser gives an Atom 0.3 mode="escaped" construct with no type as text/plain, its
    markup still escaped."""
    if atom and (detail or {}).get("type") == "text/plain":
        return collapse_whitespace(value or "")
    return otherwise(value or "")


_END_TAG = re.compile(r"</[A-Za-z][A-Za-z0-9]*\s*>")
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")
_REFERENCE = re.compile(r"&(#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")


def _looks_like_html(value: str) -> bool:
    """Whether a title RSS gives untyped reads as HTML: it holds an end tag or a character
    reference, each of its tags is one an HTML sanitizer keeps (nh3's defaults), and each
    named reference is one HTML5 defines (``&apos;`` too, which HTML 4 lacked)."""
    if not (_END_TAG.search(value) or _REFERENCE.search(value)):
        return False
    if any(name.lower() not in nh3.ALLOWED_TAGS for name in _TAG_NAME.findall(value)):
        return False
    return all(ref.startswith("#") or f"{ref};" in html5
               for ref in _REFERENCE.findall(value))


def _html_or_text(value: str | None) -> str:
    """A title that may be HTML (RSS titles often are, entity-escaped) or plain text.

    Read as HTML only when it looks like HTML (``_looks_like_html``: an end tag or an
    entity, every tag a known HTML one): "Option<Acme> panics" is text, and read as HTML
    its "<Acme>" was dropped as a tag."""
    if not value:
        return ""
    if ("<" in value or "&" in value) and not _looks_like_html(value):
        return collapse_whitespace(value)
    return html_to_text(value)


def _join(base: str, link: str | None) -> str | None:
    """``link`` made absolute against ``base``; None when missing or malformed."""
    if not link:
        return None
    link = link.strip()
    return join_url(base, link) if base else usable_url(link)


_RSS_LINKS = ("link", f"{{{RSS10}}}link", f"{{{RSS090}}}link")
_ORIG_LINK = f"{{{FEEDBURNER}}}origLink"
"""FeedBurner's copy of the publisher's own address of an entry, whose <link> is a
feedproxy.google.com redirect: the post's real address (its site, the author's site, the
link other sources share) is this one."""
_RSS_TEXTS = (
    f"{{{CONTENT}}}encoded",
    "description",
    f"{{{RSS10}}}description",
    f"{{{DC}}}description",
    f"{{{MEDIA}}}description",
    f"{{{ITUNES}}}summary",  # a podcast episode's notes, where it has no description
    f"{{{ITUNES}}}subtitle",
)
_RSS_TITLES = ("title", f"{{{RSS10}}}title", f"{{{RSS090}}}title", f"{{{DC}}}title")
_RSS_DATES = ("pubDate", f"{{{DC}}}date", f"{{{ATOM10}}}published", f"{{{ATOM10}}}updated", "date")
_RSS_AUTHORS = (f"{{{DC}}}creator", "author", f"{{{ITUNES}}}author")
_ATOM_AUTHOR_NAME = f"{{{ATOM10}}}author/{{{ATOM10}}}name"


def _first_child_text(children: dict[Any, ET.Element], tags: tuple[str, ...]) -> str | None:
    """``_first_text`` over a map of each child tag's first element."""
    for tag in tags:
        element = children.get(tag)
        if element is not None:  # _text inline: called for most children of every item
            value = element.text if len(element) == 0 else "".join(element.itertext())
            if value and (value := value.strip()):
                return value
    return None


def _rss_author(item: ET.Element, children: dict[Any, ET.Element]) -> str | None:
    raw = _first_child_text(children, _RSS_AUTHORS) or _text(item.find(_ATOM_AUTHOR_NAME))
    if not raw:
        return None
    address, bracket, name = raw.partition("(")
    if bracket and "@" in address and raw.endswith(")"):
        raw = name[:-1]  # "joe@example.com (Joe Bloggs)"
    return collapse_whitespace(raw) if raw else None


_XML_BASE = f"{{{XML}}}base"
_XML_LANG = f"{{{XML}}}lang"
_RDF_ABOUT = f"{{{RDF}}}about"
_ATOM_LINK = f"{{{ATOM10}}}link"
_DC_LANGUAGE = (f"{{{DC}}}language",)
_new_entry = tuple.__new__
"""Builds a FeedEntry from a tuple of its fields, as FeedEntry(...) does without the
Python-level __new__ and keywords (one entry per item of every feed read)."""


def _rss_item(item: ET.Element, base: str, feed_lang: str | None, about: bool) -> FeedEntry:
    xml_base = item.get(_XML_BASE)
    if xml_base:
        base = join_url(base, xml_base.strip()) or base  # malformed: ignored, as in _base
    # One pass over the children instead of a find() per candidate tag (~20 per item):
    # each tag's first element, as find() would return it.
    children = {child.tag: child for child in reversed(item)}
    guid_el = children.get("guid")
    guid = None
    if guid_el is not None:  # _text inline, as in _first_child_text
        guid = guid_el.text if len(guid_el) == 0 else "".join(guid_el.itertext())
        guid = guid.strip() or None if guid else None
    # Each candidate in turn, the next one when it is missing or malformed (None from _join).
    link = _orig_link(children.get(_ORIG_LINK)) if _ORIG_LINK in children else None
    if link is None:
        link = _first_child_text(children, _RSS_LINKS)
    if link:  # _join inline: most items stop here
        link = join_url(base, link) if base else usable_url(link)
    if link is None:
        atom_link = children.get(_ATOM_LINK)
        link = _join(base, atom_link.get("href")) if atom_link is not None else None
    if (link is None and guid and guid_el is not None
            and guid_el.get("isPermaLink", "true") != "false"):
        link = _join(base, guid) if guid.startswith(("http://", "https://")) else None
    html = _first_child_text(children, _RSS_TEXTS)
    title = _first_child_text(children, _RSS_TITLES)
    language = _first_child_text(children, _DC_LANGUAGE)
    language = language_tag(language) if language else None
    if language is None:
        language = item.get(_XML_LANG)
        language = (language_tag(language) if language else None) or feed_lang
    return _new_entry(FeedEntry, (
        guid or (item.get(_RDF_ABOUT) if about else None),
        link,
        (_html_or_text(title) or None) if title else None,
        html_to_text(html) if html else "",
        _rss_author(item, children),
        None,
        _parse_date(_first_child_text(children, _RSS_DATES)),
        language,
        extract_links(html, base=base) if html and "<" in html else (),
    ))


def _rss_feed(root: ET.Element, base: str) -> ParsedFeed:
    channel = root.find("channel")
    container = channel if channel is not None else root
    language = language_tag(_first_text(container, "language", f"{{{DC}}}language"))
    items = container.findall("item") or root.findall("item")
    return ParsedFeed(
        title=_html_or_text(_first_text(container, "title")) or None,
        link=_join(base, _first_text(container, "link")),
        language=language,
        entries=[_rss_item(item, base, language, about=False) for item in items],
        parser="fast",
    )


def _rdf_feed(root: ET.Element, base: str) -> ParsedFeed:
    ns = (
        RSS10
        if root.find(f"{{{RSS10}}}channel") is not None or root.find(f"{{{RSS10}}}item") is not None
        else RSS090
    )
    channel = root.find(f"{{{ns}}}channel")
    language = None
    title = link = None
    if channel is not None:
        language = language_tag(_first_text(channel, f"{{{DC}}}language"))
        title = _first_text(channel, f"{{{ns}}}title")
        link = _first_text(channel, f"{{{ns}}}link")
    items = root.findall(f"{{{ns}}}item")
    return ParsedFeed(
        title=_html_or_text(title) or None,
        link=_join(base, link),
        language=language,
        entries=[_rss_item(item, base, language, about=True) for item in items],
        parser="fast",
    )


def _atom_text(element: ET.Element | None, atom03: bool) -> str:
    """Plain text of an Atom text construct (text, html, xhtml, base64 content)."""
    if element is None:
        return ""
    kind = (element.get("type") or "text").strip().lower()
    mode = (element.get("mode") or "").strip().lower() if atom03 else ""
    if kind in {"xhtml", "application/xhtml+xml"} or mode == "xml":
        return collapse_whitespace(" ".join(element.itertext()))
    raw = element.text if len(element) == 0 else "".join(element.itertext())
    raw = raw or ""
    if mode == "base64" or (
        kind not in {"text", "html", ""}
        and not kind.startswith("text/")
        and not kind.endswith("xml")
    ):
        raw = _b64_text(raw)
    if kind in {"text", "text/plain"} and mode != "escaped":
        return collapse_whitespace(raw)  # plain text: a "<" in it is a character
    return html_to_text(raw)


def _b64_text(raw: str) -> str:
    try:
        return base64.b64decode("".join(raw.split()), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return raw


def _orig_link(element: ET.Element | None) -> str | None:
    """A FeedBurner origLink's absolute http(s) address, None if missing or unusable."""
    if element is None or not element.text:
        return None
    return _http_url(element.text)


def _http_url(text: str) -> str | None:
    """``text`` as an absolute http(s) address, None when it is not one."""
    url = text.strip()
    return usable_url(url) if url.lower().startswith(("http://", "https://")) else None


def _atom_link(entry: ET.Element, ns: str, base: str) -> str | None:
    best: str | None = None
    for link in entry.findall(f"{{{ns}}}link"):
        href = link.get("href")
        if not href:
            continue
        rel = (link.get("rel") or "alternate").strip().lower()
        if rel == "alternate":
            resolved = _join(_base(link, base), href)
            if resolved is not None:  # a malformed one is skipped, as a missing one
                return resolved
        elif best is None and rel not in {"self", "edit", "replies", "enclosure", "hub"}:
            best = _join(_base(link, base), href)
    return best


def _atom_author(entry: ET.Element, ns: str) -> tuple[str | None, str | None]:
    author = entry.find(f"{{{ns}}}author")
    if author is None:
        return None, None
    name = _first_text(author, f"{{{ns}}}name")
    uri = _first_text(author, f"{{{ns}}}uri", f"{{{ns}}}url")
    return (collapse_whitespace(name) if name else None), uri


_ATOM_DATES = {
    ATOM10: (f"{{{ATOM10}}}published", f"{{{ATOM10}}}updated"),
    ATOM03: tuple(f"{{{ATOM03}}}{tag}" for tag in
                  ("issued", "published", "created", "modified", "updated")),
}
_MEDIA_GROUP = f"{{{MEDIA}}}group"
_MEDIA_DESCRIPTION = f"{{{MEDIA}}}group/{{{MEDIA}}}description"


def _atom_entry(entry: ET.Element, ns: str, base: str, feed: dict[str, Any]) -> FeedEntry:
    atom03 = ns == ATOM03
    base = _base(entry, base)
    content_el = entry.find(f"{{{ns}}}content")
    summary_el = entry.find(f"{{{ns}}}summary")
    # A path find runs in Python (ElementPath): only when there is a group to look into.
    if summary_el is None and entry.find(_MEDIA_GROUP) is not None:
        summary_el = entry.find(_MEDIA_DESCRIPTION)
    text = _atom_text(content_el, atom03) or _atom_text(summary_el, atom03)
    html_source = _text(content_el) or _text(summary_el) or ""
    date = _first_text(entry, *_ATOM_DATES[ns])
    name, uri = _atom_author(entry, ns)
    return _new_entry(FeedEntry, (
        _first_text(entry, f"{{{ns}}}id"),
        _orig_link(entry.find(_ORIG_LINK)) or _atom_link(entry, ns, base),
        _atom_text(entry.find(f"{{{ns}}}title"), atom03) or None,
        text,
        name or feed["author"],
        uri or feed["author_uri"],
        _parse_date(date),
        _lang(entry, feed["language"]),
        extract_links(html_source, base=base),
    ))


def _atom_feed(root: ET.Element, ns: str, base: str) -> ParsedFeed:
    language = _lang(root, None)
    author, author_uri = _atom_author(root, ns)
    meta = {"language": language, "author": author, "author_uri": author_uri}
    return ParsedFeed(
        title=_atom_text(root.find(f"{{{ns}}}title"), ns == ATOM03) or None,
        link=_atom_link(root, ns, base),
        language=language,
        entries=[_atom_entry(e, ns, base, meta) for e in root.findall(f"{{{ns}}}entry")],
        parser="fast",
    )


# ---------------------------------------------------------------------- tolerant path

_ENTITY_KEYWORD = re.compile(rb"<!ENTITY(?![A-Za-z0-9_])", re.IGNORECASE)
_SAFE_ENTITY = re.compile(rb'<!ENTITY\s+[\w.-]{1,100}\s+"(?:&#\w{1,10};|[^&%"]{0,32})"\s*>')


def defuse_dtd(content: bytes) -> bytes:
    """Drop entity declarations that could expand or read files before feedparser sees them.

    feedparser strips unsafe declarations itself only when each starts a line, and its
    strict parser (expat) then expands nested entities up to expat's amplification
    limit, seconds of CPU per fetch. Kept: ``<!ENTITY name "plain text">`` of at most 32
    bytes (what real feeds use for named characters and prefixes); a 200-byte one
    referenced by 3-byte ``&a;`` made 1.8 MB of feed hold 157 MB. Every declaration in
    the document is looked at, not only those before what looks like the root element:
    a ``<!-- <z -->`` inside the DTD passed for it and hid the declarations after it
    (2 MB of feed held 200 MB). A declaration past the prolog is only text in a CDATA
    section, lost here. Not covered: UTF-16 documents, which expat still bounds.
    """
    if not _ENTITY_KEYWORD.search(content):
        return content
    parts: list[bytes] = []
    kept = 0  # content[:kept] is in parts, or dropped
    unclosed = False  # no ">" left: the declarations from here on have no end
    for match in _ENTITY_KEYWORD.finditer(content):
        start = match.start()
        if start < kept:
            continue  # inside a declaration already dropped
        safe = _SAFE_ENTITY.match(content, start)
        if safe:
            parts.append(content[kept:safe.end()])
            kept = safe.end()
            continue
        parts.append(content[kept:start])
        # Each find starts past the last declaration's end: linear in the document.
        end = -1 if unclosed else content.find(b">", start)
        unclosed = end < 0
        kept = start + len(match.group()) if unclosed else end + 1
    parts.append(content[kept:])
    return b"".join(parts)


def join_surrogate_references(content: bytes) -> bytes:
    """Write each surrogate pair of character references as one reference to its character.

    Some publishers escape an emoji as its two UTF-16 halves (``&#55357;&#56832;``);
    feedparser turns each half into a lone surrogate and fails encoding it (whole feed
    lost, every poll). A pair becomes ``&#128512;``, a lone half ``&#65533;`` (U+FFFD):
    references, not characters, so the document's own encoding does not matter.
    """
    if b"&#" not in content:
        return content
    parts: list[bytes] = []
    kept = 0  # content[:kept] is in parts
    high: re.Match[bytes] | None = None  # a high half waiting for its low half
    for match in _NUMERIC_REFERENCE.finditer(content):
        value = _reference_value(match)
        if high is not None:
            parts.append(content[kept:high.start()])
            kept = high.end()
            if match.start() == high.end() and 0xDC00 <= value <= 0xDFFF:
                joined = 0x10000 + ((_reference_value(high) - 0xD800) << 10) + value - 0xDC00
                parts.append(b"&#%d;" % joined)
                kept = match.end()
                high = None
                continue
            parts.append(_REPLACEMENT_REFERENCE)
            high = None
        if 0xD800 <= value <= 0xDBFF:
            high = match
        elif 0xDC00 <= value <= 0xDFFF:
            parts.append(content[kept:match.start()])
            parts.append(_REPLACEMENT_REFERENCE)
            kept = match.end()
    if high is not None:
        parts.append(content[kept:high.start()])
        parts.append(_REPLACEMENT_REFERENCE)
        kept = high.end()
    parts.append(content[kept:])
    return b"".join(parts)


def _reference_value(match: re.Match[bytes]) -> int:
    hexa, decimal = match.groups()
    return int(hexa, 16) if hexa is not None else int(decimal)


def parse_tolerant(content: bytes, *, url: str = "", content_type: str | None = None) -> ParsedFeed:
    """Parse anything feedparser can make sense of; SourceError when it is not a feed.

    Web pages and documents over TOLERANT_MAX_BYTES are refused before parsing. The
    entries' HTML is not sanitised by feedparser (a second, pure-Python HTML parser):
    html_to_text and extract_links reduce it to text and links with bounded work.
    """
    if _HTML_PAGE.match(content[:4096]):
        raise SourceError("this address serves a web page, not an RSS or Atom feed",
                          key="web_page")
    if len(content) > TOLERANT_MAX_BYTES:
        size = f"{TOLERANT_MAX_BYTES // (1024 * 1024)} MB"
        raise SourceError(
            f"this feed is not well-formed XML and too large to read leniently (over {size})",
            key="feed_too_large", params={"size": size},
        )
    headers = {"content-location": url} if url else {}
    # Served with no type, the document says its own encoding, else it is sniffed
    # (feedparser's chardet). Headers without a type would make feedparser assume
    # ISO-8859-1 (HTTP/1.0's default), which decodes anything: KOI8-R or Shift_JIS
    # titles came out as mojibake.
    headers["content-type"] = content_type or "application/xml"
    # Bytes, never a str: feedparser would treat a str as a URL or a file name to open.
    document = join_surrogate_references(defuse_dtd(bytes(content)))
    try:
        result = feedparser.parse(document, response_headers=headers,
                                  sanitize_html=False, resolve_relative_uris=False)
    except UnicodeError:
        # A surrogate reference the byte-level join cannot see (a UTF-16 document):
        # joined again once feedparser has made the document UTF-8.
        document = join_surrogate_references(
            fp_encodings.convert_to_utf8(headers, document, {}))
        result = feedparser.parse(
            document, response_headers={**headers, "content-type": "application/xml"},
            sanitize_html=False, resolve_relative_uris=False)
    if not result.get("version") and not result.entries:
        raise SourceError("this address does not serve an RSS or Atom feed", key="not_a_feed")
    feed = result.feed
    language = language_tag(feed.get("language"))
    author = feed.get("author")
    atom = result.get("version") == "atom10"
    entries = [_fp_entry(e, language, author, atom) for e in result.entries]
    return ParsedFeed(
        title=_html_or_text(feed.get("title")) or None,
        link=usable_url(feed.get("link") or "") or None,
        language=language,
        entries=entries,
        parser="tolerant",
        recovered=bool(result.get("bozo")),
    )


def _fp_entry(entry: Any, feed_language: str | None, feed_author: str | None,
              atom: bool) -> FeedEntry:
    contents = entry.get("content") or []
    html = (contents[0].get("value") if contents else None) or entry.get("summary") or ""
    body = (contents[0] if contents and contents[0].get("value") else
            entry.get("summary_detail")) or {}
    author_detail = entry.get("author_detail") or {}
    # dict.get skips FeedParserDict's deprecated "updated" -> "published" aliasing.
    struct = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    written = dict.get(entry, "published") or dict.get(entry, "updated")
    # feedparser dated a YYYY/MM/DD date 1 December of its year: it is read as the fast
    # parser reads it (an invalid one as no date).
    slashed = isinstance(written, str) and is_slashed_date(written)
    published = None if slashed else _from_struct(struct)
    if published is None:
        published = _parse_date(written)
    link = (_http_url(entry.get("feedburner_origlink") or "")
            or usable_url((entry.get("link") or "").strip()) or None)
    return FeedEntry(
        entry_id=(entry.get("id") or "").strip() or None,
        link=link,
        title=_fp_text(entry.get("title_detail"), entry.get("title"), atom,
                       _html_or_text) or None,
        text=_fp_text(body, html, atom, html_to_text),
        author_name=collapse_whitespace(entry.get("author") or "") or feed_author,
        author_uri=author_detail.get("href"),
        published=to_utc(published) if published else None,
        language=language_tag(entry.get("language")) or feed_language,
        links=extract_links(html, base=(entry.get("link") or "") if link else ""),
    )
