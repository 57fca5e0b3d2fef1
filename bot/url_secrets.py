"""Credentials written inside a URL: a user-info password (``https://user:pw@host/``) and
the values of query parameters that carry secrets (``?apikey=...``). Pure string work,
shared by the source secrets (``bot.services.secrets``) and the log masking
(``bot.logging_setup``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

MASK = "••••••"
SECRET_QUERY_PARAMS = frozenset({
    "token", "access_token", "api_key", "apikey", "key", "secret", "signature", "sig",
    "auth", "password", "pass", "passwd", "client_secret",
})
"""Query parameters whose value is a credential (compared in lower case, ``-`` read as
``_``): masked wherever a URL is shown, and a URL carrying one is stored encrypted.
Deliberately short: an ordinary parameter (``q``, ``lang``...) must stay readable."""

_PARAM_NAMES = "|".join(sorted((re.escape(name).replace("_", "[-_]")
                                for name in SECRET_QUERY_PARAMS), key=len, reverse=True))
_IN_TEXT = re.compile(
    r"(?P<userinfo>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#:@]*:)[^\s/?#@]+@"
    rf"|(?P<param>[?&#;](?:{_PARAM_NAMES})=)[^&#;\s\"'<>]+",
    re.IGNORECASE,
)


def _is_secret_param(name: str) -> bool:
    return unquote_plus(name).strip().lower().replace("-", "_") in SECRET_QUERY_PARAMS


def _secret_params(query: str) -> list[str]:
    """The values (as written) of the secret parameters of a query string."""
    found = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if equals and value and _is_secret_param(name):
            found.append(value)
    return found


def _mask_params(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        pairs.append(f"{name}={MASK}" if equals and value and _is_secret_param(name)
                     else pair)
    return "&".join(pairs)


def _url_parts(value: object) -> tuple[str, str, str] | None:
    """The user info password, query and fragment of a URL (None when not one)."""
    if not isinstance(value, str) or "://" not in value:
        return None
    try:
        parts = urlsplit(value)
        password = parts.password if "@" in parts.netloc else None
    except ValueError:  # not a URL (an unbalanced "[" in its host, say)
        return None
    return password or "", parts.query, parts.fragment


def url_credentials(value: object) -> list[str]:
    """The credentials a URL carries, each as written and as a server decodes it: its
    user info password and the values of its ``SECRET_QUERY_PARAMS`` (empty when none,
    or when ``value`` is not a URL)."""
    parts = _url_parts(value)
    if parts is None:
        return []
    password, query, fragment = parts
    found = [password] if password else []
    found += _secret_params(query) + _secret_params(fragment)
    forms = [form for raw in found for form in (raw, unquote(raw), unquote_plus(raw))]
    return [form for form in dict.fromkeys(forms) if form]


def mask_url(value: str) -> str:
    """``value`` as shown to users: the password of its URL's user info and the values
    of its secret query parameters masked (as it is when it is not a URL)."""
    parts = _url_parts(value)
    if parts is None:
        return value
    password, query, fragment = parts
    split = urlsplit(value)
    if password:
        userinfo, _, host = split.netloc.rpartition("@")
        split = split._replace(netloc=f"{userinfo.partition(':')[0]}:{MASK}@{host}")
    if query or fragment:
        split = split._replace(query=_mask_params(query), fragment=_mask_params(fragment))
    return urlunsplit(split) if split != urlsplit(value) else value


def without_credentials(value: str) -> str:
    """``value`` with its user info and its secret query parameters left out: the address
    to give to what is shown or stored (a mention's link falling back to its feed's URL)."""
    parts = _url_parts(value)
    if parts is None:
        return value
    split = urlsplit(value)
    cleaned = split._replace(netloc=split.netloc.rpartition("@")[2],
                             query=_drop_params(split.query),
                             fragment=_drop_params(split.fragment))
    return urlunsplit(cleaned) if cleaned != split else value


def _drop_params(query: str) -> str:
    return "&".join(pair for pair in query.split("&") if not _secret_params(pair))


def mask_urls_in_text(text: str) -> str:
    """``text`` (a log line, a traceback) with the credentials of every URL in it masked,
    as ``mask_url`` masks one URL."""
    return _IN_TEXT.sub(lambda m: (m.group("userinfo") or m.group("param")) + MASK
                        + ("@" if m.group("userinfo") else ""), text)
