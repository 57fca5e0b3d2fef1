"""What to tell a user whose database cannot be used: which database (with the absolute
file of a relative SQLite URL, which depends on the current folder), the driver's own
reason, and what to do for the common causes. Never shows the URL's password.

Used by every `vigie` command that opens the database and by `vigie doctor`; imports only
SQLAlchemy's URL parser, so the commands' start-up stays light.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, urlsplit

from sqlalchemy.engine import URL, make_url

MASK = "***"
"""What stands for the password (as SQLAlchemy's ``hide_password`` writes it)."""

MAX_REASON_CHARS = 240
"""The driver's reason is cut there: one line in a terminal, never a page."""

_SPACES = re.compile(r"\s+")


def _parsed(url: str) -> URL | None:
    try:
        return make_url(url)
    except Exception:  # noqa: BLE001  (settings checked it: a URL that fails here is shown as given)
        return None


def _is_sqlite(parsed: URL | None) -> bool:
    return parsed is not None and parsed.get_backend_name() == "sqlite"


def _file_part(parsed: URL) -> str | None:
    """The file name of a SQLite URL as written (relative or absolute); None in memory."""
    database = parsed.database or ""
    if parsed.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):  # a URI filename (uri=true)
        database = unquote(urlsplit(database).path)
    if not database or database == ":memory:":
        return None
    return database


def is_memory_database(url: str) -> bool:
    """True for a SQLite URL naming no file (``sqlite://``, ``:memory:``, ``mode=memory``):
    such a database lives only as long as the process that opened it."""
    parsed = _parsed(url)
    return parsed is not None and _is_sqlite(parsed) and _file_part(parsed) is None


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite database file (a relative URL is relative to the
    current folder); None for an in-memory database or another backend."""
    parsed = _parsed(url)
    if not _is_sqlite(parsed):
        return None
    assert parsed is not None
    name = _file_part(parsed)
    return Path(name).absolute() if name else None


_SECRET_PARAMS = frozenset({"password", "passwd", "pass", "sslpassword", "sslkey"})
"""Query parameters of a database URL that carry a secret (libpq takes ``?password=``)."""


def shown_url(url: str) -> str:
    """``url`` as shown to users: its password masked, in its user part and in its query
    (``?password=...``)."""
    parsed = _parsed(url)
    if parsed is None:
        return url
    if any(key.lower() in _SECRET_PARAMS for key in parsed.query):
        parsed = parsed.update_query_dict({key: MASK for key in parsed.query
                                           if key.lower() in _SECRET_PARAMS})
    return parsed.render_as_string(hide_password=True).replace(quote(MASK, safe=""), MASK)


def shown_location(url: str) -> str:
    """The database as shown to users: its URL (password masked), followed by the absolute
    file when the URL names a relative SQLite file ('sqlite:///./vigie.db (/srv/vigie.db)')."""
    path = sqlite_file(url)
    if path is None or not _relative_file(url):
        return shown_url(url)
    return f"{shown_url(url)} ({path})"


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist (opening it would create an
    empty one); None when it exists, or for another backend."""
    path = sqlite_file(url)
    return path if path is not None and not path.exists() else None


def _relative_file(url: str) -> bool:
    parsed = _parsed(url)
    name = _file_part(parsed) if parsed is not None and _is_sqlite(parsed) else None
    return name is not None and not Path(name).is_absolute()


def _no_file_advice(url: str) -> str:
    if _relative_file(url):
        return ("run vigie from the folder that holds your database, or set "
                "VIGIE_DATABASE_URL to its absolute path; `vigie db upgrade` would create a "
                "new, empty one here")
    return "check VIGIE_DATABASE_URL; `vigie db upgrade` would create a new, empty one there"


def no_file_message(url: str, path: Path) -> str:
    """Why there is nothing to open at ``path`` and what to do: for a relative URL, that
    it is relative to the current folder (the database may be in another one)."""
    relative = (f" (VIGIE_DATABASE_URL {shown_url(url)} is relative to the current folder)"
                if _relative_file(url) else "")
    return f"No database file at {path}{relative}: {_no_file_advice(url)}."


def no_file_detail(url: str) -> str:
    """``no_file_message`` for the doctor's table, after the database's location."""
    relative = (" (a relative VIGIE_DATABASE_URL is relative to the current folder)"
                if _relative_file(url) else "")
    return f"{shown_location(url)}: no database file{relative}: {_no_file_advice(url)}"


MIN_MASKED_CHARS = 4
"""Shorter secrets are not searched for in a driver's message: replacing every "a" of it
would garble the message (and hint at the password) for nothing, since no driver repeats
a password in its errors; the masking guards against one that echoes its connection
string."""


def _password_forms(parsed: URL | None) -> list[str]:
    if parsed is None:
        return []
    secrets = [str(parsed.password)] if parsed.password else []
    secrets += [str(value) for key, value in parsed.query.items()
                if key.lower() in _SECRET_PARAMS and isinstance(value, str)]
    forms = {form for text in secrets for form in (text, quote(text, safe=""),
                                                    quote_plus(text))}
    return sorted((f for f in forms if len(f) >= MIN_MASKED_CHARS), key=len, reverse=True)


def driver_reason(url: str, err: BaseException) -> str:
    """The first line of the driver's own error (SQLAlchemy's wrapper left out), spaces
    collapsed, the URL's password masked, cut at ``MAX_REASON_CHARS``; the error's type
    when it says nothing."""
    original = getattr(err, "orig", None)
    source = original if isinstance(original, BaseException) else err
    lines = [line for line in str(source).splitlines() if line.strip()]
    reason = _SPACES.sub(" ", lines[0]).strip() if lines else type(source).__name__
    for form in _password_forms(_parsed(url)):
        reason = reason.replace(form, MASK)
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[:MAX_REASON_CHARS - 1].rstrip() + "…"
    return reason


def what_to_do(url: str, reason: str) -> str:
    """What fixes the common causes of ``reason`` (the driver's words), else to check
    VIGIE_DATABASE_URL."""
    parsed = _parsed(url)
    said = reason.lower()
    path = sqlite_file(url)
    if _is_sqlite(parsed) and path is not None:
        assert parsed is not None
        if "readonly" in said or "read-only" in said:
            if parsed.query.get("mode") == "ro":
                return "remove mode=ro from VIGIE_DATABASE_URL"
            return (f"make {path} and its folder {path.parent} writable by the user running "
                    "Vigie (SQLite writes its journal next to the file)")
        if "unable to open" in said:
            return (f"check that the folder {path.parent} exists and that the user running "
                    "Vigie may write in it (SQLite keeps -wal and -shm files next to the "
                    "database)")
        if "locked" in said:
            return "another process is writing to it: try again in a moment"
        return "check VIGIE_DATABASE_URL"
    database = parsed.database if parsed is not None else None
    if database and f'database "{database.lower()}" does not exist' in said:
        return (f"create it (createdb {database}, or CREATE DATABASE {database}; in psql), "
                "then run `vigie db upgrade`")
    if "password authentication failed" in said or ("role" in said and "does not exist"
                                                     in said):
        return "check the user name and password in VIGIE_DATABASE_URL"
    if any(cause in said for cause in ("refused", "timeout", "timed out", "translate host",
                                       "name or service", "no route", "unreachable")):
        return "check the host and port in VIGIE_DATABASE_URL and that the server is running"
    return "check VIGIE_DATABASE_URL and that the server is running"


def database_failure(url: str, err: BaseException) -> str:
    """One line about a database that failed: where, the driver's reason, what to do."""
    reason = driver_reason(url, err)
    return f"{shown_location(url)}: {reason}; {what_to_do(url, reason)}"
