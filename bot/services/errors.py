"""Errors services raise for the user: a catalogue key and its parameters, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.i18n import has, network_name, t
from bot.messages.notes import NetworkName
from bot.net.errors import SourceError

if TYPE_CHECKING:
    from bot.matching.query import QueryError


class Mrkdwn(str):
    """A ServiceError parameter that is already mrkdwn (``<@U123>``): shown as is."""


class Term(str):
    """A ServiceError parameter that is a catalogue key: shown as its text in the reader's
    language (``status.approved`` -> "Approved"), not as the code."""


class Terms(tuple[str, ...]):
    """A ServiceError parameter that is a list of catalogue keys: shown as their texts in
    the reader's language, comma-separated (the values a filter accepts)."""

    __slots__ = ()


class Periods(tuple[int, ...]):
    """A ServiceError parameter that lists periods in days (the ones a command accepts):
    shown as the reader's language writes them (``7d, 30d``; ``7j, 30j`` in French)."""

    __slots__ = ()


class Worded:
    """A ServiceError parameter that is a catalogue string with parameters of its own (what
    a QueryError says is wrong): shown in the reader's language, then escaped like any
    parameter."""

    __slots__ = ("key", "params")

    def __init__(self, key: str, params: dict[str, Any] | None = None) -> None:
        self.key = key
        self.params = dict(params or {})

    def __repr__(self) -> str:
        return f"Worded({self.key!r}, {self.params!r})"


class Listed(tuple[Worded | str, ...]):
    """A ServiceError parameter made of several (worded) parts, shown in the reader's
    language joined by its ``source_error.separator``."""

    __slots__ = ()


def source_error(err: SourceError, hide: Callable[[str], str] = str) -> Listed:
    """What ``err`` says went wrong, as a parameter worded for the reader: from its catalogue
    reasons (``source_error.KEY``), else its English message. ``hide`` masks secrets in
    what a server or the network echoed (it is given every text parameter)."""
    if not err.reasons:
        return Listed((hide(str(err)),))
    return Listed(Worded(f"source_error.{key}",
                         {k: hide(v) if isinstance(v, str) else v for k, v in params.items()})
                  for key, params in err.reasons)


def query_error(err: QueryError) -> Worded:
    """What ``err`` says is wrong with a query, as a parameter worded for the reader."""
    return Worded(f"query.{err.key}", err.params)


def _word(language: str, value: Any) -> Any:
    if isinstance(value, Term):
        return t(language, value)
    if isinstance(value, Terms):
        return ", ".join(t(language, key) for key in value)
    if isinstance(value, Worded):
        return t(language, value.key, **value.params)
    if isinstance(value, Periods):
        return ", ".join(t(language, "period.days", days=days) for days in value)
    if isinstance(value, NetworkName):
        return network_name(value.name, language)
    if isinstance(value, Listed):
        return t(language, "source_error.separator").join(
            str(_word(language, part)) for part in value)
    return value


def _worded(language: str, params: dict[str, Any]) -> dict[str, Any]:
    return {k: _word(language, v) for k, v in params.items()}


def _escaped(value: Any) -> Any:
    # Parameters often echo what the user typed: escape them (&, <, >) so an echo can never
    # ping (<!channel>), link or mention in the ephemeral answer.
    if isinstance(value, str) and not isinstance(value, Mrkdwn):
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


class ServiceError(Exception):
    """A request that cannot be done as asked; ``key`` names the explanation in the catalogue."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, language: str = "en", *, plain: bool = False,
                surface: str | None = None) -> str:
        """The explanation in ``language``, its parameters escaped for mrkdwn (``plain``:
        as typed, for the terminal). ``surface`` names a catalogue section that words some
        explanations for where they are shown (``modal_error``: under a modal's field), if
        it holds this one."""
        if plain:
            # The terminal has its own way to fix things (`vigie watch list`, not `/cm`).
            key = f"cli.{self.key}" if has(f"cli.{self.key}") else self.key
            return t(language, key, **_worded(language, self.params))
        key = f"{surface}.{self.key}" if surface and has(f"{surface}.{self.key}") else self.key
        return t(language, key,
                 **{k: _escaped(v) for k, v in _worded(language, self.params).items()})

    def __str__(self) -> str:
        return self.message(plain=True)


class NotFound(ServiceError):
    """The thing named does not exist (in this workspace)."""


class Forbidden(ServiceError):
    """The user's role does not allow this."""


class NeedsOverride(ServiceError):
    """Nothing was approved: the draft is high-risk and approving it needs a written reason
    (the Approve button then opens the reason modal)."""


def database_unavailable(error: BaseException) -> str | None:
    """The type of the database's error (``OperationalError``) when ``error`` is the
    database failing for a passing reason (refusing connections, a lost connection, a
    lock or statement timeout, a busy SQLite file: ``storage.db_errors``), else None: the
    user is then told to try again, not that Vigie broke."""
    from sqlalchemy.exc import SQLAlchemyError

    from storage.db_errors import error_kind, is_transient

    if isinstance(error, SQLAlchemyError) and is_transient(error):
        return error_kind(error)
    return None
