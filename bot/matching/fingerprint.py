"""Dedupe keys: one fingerprint per piece of content, one story key per shared link.

``content_fingerprint`` collapses near-duplicate texts: retweets (``RT @x: ...``),
cross-posts (same words, other links, other handle forms), a feed entry re-published
under a new GUID. ``story_key``/``story_key_for`` group mentions that carry the same
external link, whichever network they come from: one story, one alert card.

Both keys are stable across releases as long as ``FINGERPRINT_VERSION`` and
``STORY_KEY_VERSION`` do not change; bump them when the normalization changes, since
stored keys are compared with fresh ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from bot.matching.text import fold, tokenize_folded

__all__ = [
    "FINGERPRINT_MAX_TOKENS",
    "FINGERPRINT_MIN_CHARS",
    "FINGERPRINT_MIN_TOKENS",
    "FINGERPRINT_VERSION",
    "STORY_KEY_VERSION",
    "canonical_url",
    "content_fingerprint",
    "fingerprint_text",
    "is_social_post_url",
    "story_key",
    "story_key_for",
]

FINGERPRINT_VERSION: Final = 1
"""Bumped whenever ``fingerprint_text`` normalizes differently."""
STORY_KEY_VERSION: Final = 1
"""Bumped whenever ``canonical_url`` normalizes differently."""

FINGERPRINT_MIN_TOKENS: Final = 5
"""Texts with fewer words get no fingerprint.

Short texts ("lol", "thanks @vigie!", "I love this product") are written independently
by many people; collapsing them would hide distinct mentions. A retweet of a short text
is still recognized through the network's own ids.
"""
FINGERPRINT_MIN_CHARS: Final = 20
"""...nor texts whose words total fewer characters than this ("a b c d e f")."""
FINGERPRINT_MAX_TOKENS: Final = 40
"""Only the first words count: a cross-post truncated by a shorter network's length limit
(``…`` plus a link) still shares its first 40 words with the original."""

_FINGERPRINT_PERSON: Final = f"vigie-fp-v{FINGERPRINT_VERSION}".encode()
_STORY_PERSON: Final = f"vigie-story-v{STORY_KEY_VERSION}".encode()
_URL_RE: Final = re.compile(r"(?:https?://|www\.)\S+|\bpic\.twitter\.com/\S+", re.IGNORECASE)
_HANDLE: Final = r"@[\w.\-]+(?:@[\w.\-]+)?"
# Repost and reply prefixes: "RT @x: ", "MT @x:", "@a @b " (a reply's addressees).
_PREFIX_RE: Final = re.compile(
    rf"^\s*(?:(?:rt|mt|qt|repost(?:ed)?)\s*:?\s*{_HANDLE}\s*:?\s*|{_HANDLE}[\s,:]+)+",
    re.IGNORECASE,
)
# Trailing attributions added by reposters: "... via @x", "(via @x @y)", "h/t @x".
# The lookbehind and possessive quantifier keep this linear on long whitespace runs.
_SUFFIX_RE: Final = re.compile(
    rf"(?<![\s(\[—–-])[\s(\[—–-]*+\b(?:via|h/t|cc)\s*:?\s*{_HANDLE}"
    rf"(?:[\s,]+{_HANDLE})*[\s)\].]*$",
    re.IGNORECASE,
)
# What every _SUFFIX_RE match contains; much cheaper to look for at every position.
_SUFFIX_START_RE: Final = re.compile(r"(?:via|h/t|cc)\s*:?\s*@", re.IGNORECASE)


# A repost prefix (at the start only) and a trailing "via @x" or "h/t @x": the two
# readings of credited_handle, tried in that order as one alternation would be.
_REPOST_FIRST_RE: Final = re.compile(
    rf"\s*(?:rt|mt|qt|repost(?:ed)?)\s*:?\s*({_HANDLE})", re.IGNORECASE)
_REPOST_LAST_RE: Final = re.compile(
    rf"\b(?:via|h/t)\s*:?\s*({_HANDLE})[\s)\].]*$", re.IGNORECASE)


def credited_handle(text: str) -> str | None:
    """The handle ``text`` says it repeats the post of ("RT @ana: ...", "... via @ana",
    "h/t @ana": ``@ana``), or ``None``: its words are that person's, whoever reposted
    them."""
    if "@" not in text:
        return None
    found = _REPOST_FIRST_RE.match(text)
    if found is None:
        # The trailing form needs "via" or "h/t" in some case ("i" also matches "İ" and
        # "ı" under IGNORECASE; lower() makes them "i̇" and "ı"): most texts have neither,
        # which spares trying the pattern at every position.
        lowered = text.lower()
        if not ("vi" in lowered or "vı" in lowered or "h/t" in lowered):
            return None
        found = _REPOST_LAST_RE.search(text)
    return found.group(1) if found else None


def fingerprint_text(text: str) -> str | None:
    """The normalized word sequence a fingerprint is computed from, or ``None``.

    Folds case and accents, removes URLs, repost/reply prefixes and trailing ``via @x``
    attributions, reduces handles to their first label (``@vigie@mastodon.social`` and
    ``@vigie.bsky.social`` are both ``vigie``), drops ``#``, punctuation, emoji and
    extra whitespace, drops a word cut by a trailing ``…``, and keeps the first
    ``FINGERPRINT_MAX_TOKENS`` words. Exposed for debugging and tests.
    """
    # The cheap checks only skip substitutions that cannot match (see the patterns).
    body = _URL_RE.sub(" ", text) if "/" in text or "w." in text or "W." in text else text
    if "@" in body:
        body = _PREFIX_RE.sub("", body)
        # A match needs "via", "h/t" or "cc" in some case; under IGNORECASE "i" also
        # matches "İ" and "ı", which lower() makes "i̇" and "ı". Most texts are ruled
        # out by these searches in C.
        lowered = body.lower()
        if ("vi" in lowered or "vı" in lowered or "h/t" in lowered or "cc" in lowered
                ) and _SUFFIX_START_RE.search(body):
            body = _SUFFIX_RE.sub("", body)
    truncated = body.rstrip().endswith(("…", "..."))
    folded = fold(body)
    tokens = tokenize_folded(folded)
    if truncated and len(tokens) > 1:
        tokens.pop()  # likely cut mid-word by the cross-poster
    tokens = tokens[:FINGERPRINT_MAX_TOKENS]
    if "@" in folded or "#" in folded or "&" in folded:  # else no token has a sigil
        # A handle's first label: what precedes its first "@" or ".", if any; a hashtag
        # and a word after "&" without their sign.
        tokens = [token[1:].partition("@")[0].partition(".")[0] if token[0] == "@"
                  else token[1:] if token[0] in "#&" else token for token in tokens]
    if len(tokens) < FINGERPRINT_MIN_TOKENS or sum(map(len, tokens)) < FINGERPRINT_MIN_CHARS:
        return None
    return " ".join(tokens)


def content_fingerprint(text: str) -> str | None:
    """A 32-hex-digit key shared by near-duplicate texts, or ``None`` for short texts.

    Two texts get the same key when ``fingerprint_text`` reduces them to the same words
    (see there). ``None`` means "too short to dedupe by content" (fewer than
    ``FINGERPRINT_MIN_TOKENS`` words or ``FINGERPRINT_MIN_CHARS`` letters): store it as
    NULL, which never collides. Edits that change words change the key.
    """
    normalized = fingerprint_text(text)
    if normalized is None:
        return None
    digest = hashlib.blake2b(
        normalized.encode("utf-8"),
        digest_size=16,
        person=_FINGERPRINT_PERSON,
    )
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------
# URLs

_TRACKING_PARAMS: Final = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "twclid",
        "ttclid",
        "yclid",
        "ysclid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "mkt_tok",
        "_ga",
        "_gl",
        "igshid",
        "igsh",
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "si",
        "spm",
        "share",
        "cmpid",
        "s_cid",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "rb_clickid",
        "__s",
    }
)
_TRACKING_PREFIXES: Final = ("utm_", "pk_", "mtm_", "hsa_", "__hs")
# Parameters that only mean something on one site ("s" is a search on most blogs but a
# share token on X).
_HOST_TRACKING_PARAMS: Final = {
    "x.com": frozenset({"s", "t"}),
    "youtube.com": frozenset({"feature", "pp", "ab_channel"}),
}

_HOST_ALIASES: Final = {
    "twitter.com": "x.com",
    "old.reddit.com": "reddit.com",
    "new.reddit.com": "reddit.com",
    "np.reddit.com": "reddit.com",
    "youtube-nocookie.com": "youtube.com",
    "music.youtube.com": "youtube.com",
}

# host -> (path, query parameters that hold the target URL); "" path = any path.
_REDIRECTORS: Final = {
    "l.facebook.com": ("/l.php", ("u",)),
    "lm.facebook.com": ("/l.php", ("u",)),
    "facebook.com": ("/l.php", ("u",)),
    "l.instagram.com": ("", ("u",)),
    "youtube.com": ("/redirect", ("q",)),
    "out.reddit.com": ("", ("url",)),
    "t.umblr.com": ("/redirect", ("z",)),
    "linkedin.com": ("/redir/redirect", ("url",)),
    "slack-redir.net": ("/link", ("url",)),
    "duckduckgo.com": ("/l/", ("uddg",)),
    "steamcommunity.com": ("/linkfilter/", ("url", "u")),
    "href.li": ("/", ()),
}
_GOOGLE_HOST_RE: Final = re.compile(r"(?:[a-z0-9-]+\.)*google\.[a-z]{2,3}(?:\.[a-z]{2})?")
_MAX_UNWRAP: Final = 4
_HOST_RE: Final = re.compile(r"[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*|[0-9a-f:.]*:[0-9a-f:.]*")
# Most links: http(s), a plain host (no credentials, port or brackets), no whitespace.
# For them the groups hold what urlsplit reads (it lower-cases scheme and hostname).
# IGNORECASE also lets four non-ASCII letters into the host class (the Kelvin sign, long
# s, dotted and dotless i); urlsplit reads those hosts the same way.
_PLAIN_URL_RE: Final = re.compile(
    r"(https?)://([A-Za-z0-9.-]+)(/[^?#\s]*)?(?:\?([^#\s]*))?(?:#\S*)?", re.IGNORECASE
)
# The same matches on ASCII links (nearly all), without IGNORECASE's per-character folding.
_PLAIN_ASCII_URL_RE: Final = re.compile(
    r"([hH][tT][tT][pP][sS]?)://([A-Za-z0-9.-]+)(/[^?#\s]*)?(?:\?([^#\s]*))?(?:#\S*)?"
)

_YOUTUBE_ID_PATH_RE: Final = re.compile(r"/(?:shorts|embed|live|v|e)/([\w-]+)")
_UNRESERVED_ESCAPE_RE: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE: Final = "/%:@!$&'()*+,;="
# What quote(path, safe=_PATH_SAFE) leaves as it is: letters, digits, "_.-~" and the safe.
_KEPT_BY_QUOTE: Final = (
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~" + _PATH_SAFE.encode()
)

# Post, profile and tag pages of networks: discussion around a story, not a story.
_SOCIAL_HOSTS: Final = ("news.ycombinator.com", "reddit.com", "redd.it", "bsky.app", "x.com")
_SOCIAL_SUBDOMAINS: Final = tuple("." + host for host in _SOCIAL_HOSTS)
_FEDIVERSE_PATH_RE: Final = re.compile(
    r"/(?:@[^/]+(?:/\d+)?|web/@[^/]+(?:/\d+)?|users/[^/]+(?:/statuses/\d+)?"
    r"|web/statuses/\d+|notice/[^/]+|objects/[^/]+|tags/[^/]+)/?",
)


def _normalize_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if not host.isascii():
        # An undecodable name stays as it is and fails the validity check later.
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    stripped = host.startswith(("www.", "m.", "mobile."))
    while stripped:  # "www.m.example.com": strip to a fixed point, so keys are stable
        stripped = False
        for prefix in ("www.", "m.", "mobile."):
            if host.startswith(prefix) and "." in host[len(prefix) :]:
                host = host[len(prefix) :]
                stripped = True
    return _HOST_ALIASES.get(host, host)


def _normalize_escapes(text: str) -> str:
    """Upper-case percent escapes and decode the ones that encode unreserved characters."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _UNRESERVED_ESCAPE_RE.sub(fix, text)


def _normalize_path(path: str) -> str:
    # A path of characters quote keeps, without escapes, is left as it is by both steps:
    # the check quote makes first, without its calls.
    if not (path.isascii() and "%" not in path and not path.encode().rstrip(_KEPT_BY_QUOTE)):
        path = quote(path, safe=_PATH_SAFE)  # encodes spaces and non-ASCII, keeps escapes
        path = _normalize_escapes(path)
    if "/." in path:  # resolve "." and ".." segments
        path = "/" + posixpath.normpath(path).lstrip("/").removeprefix(".")
    return path.rstrip("/")


def _is_tracking(key: str, host: str) -> bool:
    lowered = key.lower()
    if lowered in _TRACKING_PARAMS or lowered.startswith(_TRACKING_PREFIXES):
        return True
    return lowered in _HOST_TRACKING_PARAMS.get(host, ())


def _unwrap(host: str, path: str, query: str) -> str | None:
    """The destination of a known redirector link, or ``None``."""
    if "google." in host and _GOOGLE_HOST_RE.fullmatch(host):  # the search in C first
        if path == "/url":
            params = dict(parse_qsl(query))
            target = params.get("url") or params.get("q")
            return target if target and _looks_absolute(target) else None
        if path.startswith("/amp/s/"):  # /amp/s/host/path?query of the target
            return "https://" + path[len("/amp/s/") :] + ("?" + query if query else "")
        return None
    rule = _REDIRECTORS.get(host)
    if rule is None:
        return None
    rule_path, keys = rule
    if rule_path and path.rstrip("/") != rule_path.rstrip("/"):
        return None
    if not keys:  # href.li/?https://target
        target = unquote(query)
        return target if _looks_absolute(target) else None
    params = dict(parse_qsl(query))
    for key in keys:
        target = params.get(key)
        if target and _looks_absolute(target):
            return target
    return None


def _looks_absolute(url: str) -> bool:
    return url[:8].lower().startswith(("http://", "https://"))


def _youtube_id(host: str, path: str, query: str) -> str | None:
    if host == "youtu.be":
        video = path.strip("/").split("/", 1)[0]
        return video or None
    if host != "youtube.com":
        return None
    if path.rstrip("/") == "/watch":
        return dict(parse_qsl(query)).get("v") or None
    match = _YOUTUBE_ID_PATH_RE.match(path)
    return match.group(1) if match else None


def canonical_url(url: str) -> str | None:
    """Normalize a link so that the same page gets the same string, or ``None``.

    Returns ``None`` for anything that is not an absolute http(s) URL with a host.
    Lower-cases scheme and host, drops ``www.``/``m.``/``mobile.``, credentials, default
    ports, the fragment and tracking parameters (``utm_*``, ``fbclid``, ``gclid``,
    ``mc_cid``, ``ref``, ``si``...), sorts the remaining parameters, normalizes percent
    escapes and dot segments, strips the trailing slash, unwraps known redirectors
    (``google.com/url?url=``, ``l.facebook.com/l.php?u=``, Google AMP...) and gives every
    YouTube video form (``youtu.be/ID``, ``/shorts/ID``, ``/embed/ID``) the
    ``https://youtube.com/watch?v=ID`` form. Shorteners such as ``t.co`` cannot be
    resolved offline and are kept. The scheme is kept; ``story_key`` ignores it.
    """
    canonical = _canonical(url)
    return None if canonical is None else canonical[0]


def _canonical(url: str) -> tuple[str, str, str] | None:
    """``canonical_url`` with the host and path it holds (what ``urlsplit`` would read
    back from it), or ``None``."""
    current = url.strip()
    if not current.isascii():
        try:
            current.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not a URL anyone can visit
            return None
    if current.startswith("//"):
        current = "https:" + current
    elif current[:4].lower() == "www.":
        current = "https://" + current
    for _ in range(_MAX_UNWRAP + 1):
        parts = _split(current)
        if parts is None:
            return None
        scheme, hostname, port, raw_path, raw_query = parts
        if scheme not in ("http", "https") or not hostname:
            return None
        host = _normalize_host(hostname)
        if not _HOST_RE.fullmatch(host):
            return None
        target = _unwrap(host, raw_path, raw_query)
        if target is None or target == current:
            break
        current = target
    else:
        return None  # redirector loop
    video = _youtube_id(host, raw_path, raw_query)
    if video is not None:
        return f"https://youtube.com/watch?v={quote(video, safe='')}", "youtube.com", "/watch"
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc += f":{port}"
    path = _normalize_path(raw_path)
    params = sorted(
        (key, value)
        for key, value in parse_qsl(raw_query, keep_blank_values=True)
        if not _is_tracking(key, host)
    ) if raw_query else []
    query = "?" + urlencode(params, quote_via=quote) if params else ""
    return f"{scheme}://{netloc}{path}{query}", host, path


def _split(url: str) -> tuple[str, str | None, int | None, str, str] | None:
    """(scheme, hostname, port, path, query) as urlsplit reads them, or ``None`` when
    it cannot; plain links are read by one regex instead."""
    plain = (_PLAIN_ASCII_URL_RE if url.isascii() else _PLAIN_URL_RE).fullmatch(url)
    if plain is not None:
        scheme, host, path, query = plain.groups()
        return scheme.lower(), host.lower(), None, path or "", query or ""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.hostname, parts.port, parts.path, parts.query
    except ValueError:
        return None


def story_key(url: str) -> str | None:
    """A 32-hex-digit key shared by every link to the same page, or ``None``.

    Built from ``canonical_url`` without the scheme (the http and https links to a page
    are one story). ``None`` when the URL is not a usable http(s) link. This does not
    check whether the link is a social post page: use ``story_key_for`` for mentions.
    """
    canonical = canonical_url(url)
    return None if canonical is None else _story_digest(canonical)


def _story_digest(canonical: str) -> str:
    """The story key of an already canonical URL (``canonical_url`` is idempotent)."""
    _, _, rest = canonical.partition("://")
    digest = hashlib.blake2b(
        rest.encode("utf-8"),
        digest_size=16,
        person=_STORY_PERSON,
    )
    return digest.hexdigest()


def is_social_post_url(url: str) -> bool:
    """Whether ``url`` is a network's own page (post, profile, tag) rather than content.

    Covers Hacker News, Reddit (and ``redd.it``), Bluesky, X/Twitter, and Mastodon-style
    fediverse paths on any host (``/@user/123``, ``/users/u/statuses/123``,
    ``/tags/x``, ``/notice/id``). Invalid URLs count as social (never a story).
    """
    parsed = _canonical(url)
    if parsed is None:
        return True
    _, host, path = parsed
    return _is_social(host, path)


def _is_social(host: str, path: str) -> bool:
    if host in _SOCIAL_HOSTS or host.endswith(_SOCIAL_SUBDOMAINS):
        return True
    return bool(_FEDIVERSE_PATH_RE.fullmatch(path))


def story_key_for(links: Iterable[str], own_url: str | None) -> str | None:
    """The story key of a mention: the content it is about, or ``None``.

    A mention whose own URL is content (a news article, a blog entry, a YouTube video
    from a feed) is its own story. A mention whose own URL is a network's post page
    (a Mastodon status, a Bluesky post, an HN item, a Reddit thread, a tweet) is not:
    its story is the first of ``links`` that is external, meaning a valid http(s) link
    that is neither on the post's own host (profile and hashtag links inside a Mastodon
    post) nor any network's post/profile/tag page. ``None`` when there is none.
    """
    own_host = ""
    if own_url:
        own = _canonical(own_url)
        if own is not None:
            own_canonical, own_host, own_path = own
            if not _is_social(own_host, own_path):
                return _story_digest(own_canonical)
    for link in links:
        parsed = _canonical(link)
        if parsed is None:
            continue
        canonical, host, path = parsed
        if host == own_host or _is_social(host, path):
            continue
        return _story_digest(canonical)
    return None
