"""Credentials written inside a URL: a user-info password (``https://user:pw@host/``, or a
token alone: ``https://TOKEN@host/``) and the values of query parameters that carry
secrets (``?apikey=...``, ``?feed_token=...``). Pure string work,
shared by the source secrets (``bot.services.secrets``) and the log masking
(``bot.logging_setup``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

MASK = "••••••"
SECRET_WORDS = frozenset({
    "token", "tokens", "key", "keys", "apikey", "secret", "secrets", "auth", "authn", "authz",
    "oauth", "authorization", "authentication", "sig", "signature", "pass", "passwd",
    "password", "passphrase", "pwd", "credential", "credentials", "session", "jwt", "hmac",
})
"""Words of a query parameter's name (``feed_token``, ``apiToken``, ``X-Amz-Signature``:
lower case, ``-`` and ``.`` read as ``_``, camelCase split) that make its value a
credential: masked wherever a URL is shown, and a URL carrying one is stored encrypted."""

_SUFFIXES = ("token", "tokens", "key", "keys", "secret", "signature", "sig", "password",
             "passwd", "pass", "credential", "credentials", "session", "sessionid", "jwt")
_PREFIXES = ("token", "secret", "password", "passwd", "credential", "session", "jwt",
             "apikey", "hmac")
# A word glued to one of the words above (``privatetoken``, ``accesskey``, ``sessionid``)
# counts too. Not a prefix "key" or "auth": ``keyword`` and ``author`` are ordinary feed
# parameters (a search's words, a WordPress author's feed) that must stay readable.

_PARAM_IN_TEXT = r"(?P<param>[?&#;](?P<name>[^=&#;\s\"'<>]+)=)(?P<value>[^&#;\s\"'<>]+)"
_IN_TEXT = re.compile(
    r"(?P<userinfo>\b[A-Za-z][A-Za-z0-9+.-]*://(?:[^\s/?#:@]*:)?)[^\s/?#@]+@"
    rf"|{_PARAM_IN_TEXT}",
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _is_secret_word(word: str) -> bool:
    return (word in SECRET_WORDS or word.endswith(_SUFFIXES) or word.startswith(_PREFIXES))


def _is_secret_param(name: str) -> bool:
    words = re.split(r"[^a-z]+", _CAMEL.sub("_", unquote_plus(name).strip()).lower())
    return any(_is_secret_word(word) for word in words if word)


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
    """The user info credential, query and fragment of a URL (None when not one). The
    credential is the password, or the user name when it comes alone: a token written
    as ``https://TOKEN@host/`` (GitHub's way) is one."""
    if not isinstance(value, str) or "://" not in value:
        return None
    try:
        parts = urlsplit(value)
        credential = ((parts.password or parts.username) if "@" in parts.netloc
                      else None)
    except ValueError:  # not a URL (an unbalanced "[" in its host, say)
        return None
    return credential or "", parts.query, parts.fragment


def url_credentials(value: object) -> list[str]:
    """The credentials a URL carries, each as written and as a server decodes it: its
    user info password (its user name when alone) and the values of its parameters
    named as credentials (``SECRET_WORDS``; empty when none, or when ``value`` is not a
    URL)."""
    parts = _url_parts(value)
    if parts is None:
        return []
    password, query, fragment = parts
    found = [password] if password else []
    found += _secret_params(query) + _secret_params(fragment)
    forms = [form for raw in found for form in (raw, unquote(raw), unquote_plus(raw))]
    return [form for form in dict.fromkeys(forms) if form]


def mask_url(value: str) -> str:
    """``value`` as shown to users: the password of its URL's user info (the whole user
    info when it has no password) and the values of its secret query parameters masked
    (as it is when it is not a URL)."""
    parts = _url_parts(value)
    if parts is None:
        return value
    password, query, fragment = parts
    split = urlsplit(value)
    if password:
        userinfo, _, host = split.netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        split = split._replace(netloc=f"{user}:{MASK}@{host}" if colon else f"{MASK}@{host}")
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
    def masked(match: re.Match[str]) -> str:
        if match.group("userinfo"):
            return f"{match.group('userinfo')}{MASK}@"
        if _is_secret_param(match.group("name")):
            return match.group("param") + MASK
        return match.group(0)

    return _IN_TEXT.sub(masked, text)
