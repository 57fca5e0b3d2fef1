"""Errors of the shared HTTP layer, raised by :mod:`bot.net.http` and the sources on it.

Their ``str()`` is a plain-words message in English, safe to show in Slack: it may name a
host but never a full URL, header or token. ``key`` and ``params``, when set, name the same
message in the catalogue's ``source_error`` section, so that the layer showing it to a
reader words it in the reader's language (this layer knows nothing of languages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class SourceError(Exception):
    """A fetch failed; ``str(err)`` is a plain-words message safe to show in Slack.

    ``key`` (``source_error.KEY`` in bot/locales, with ``params``) says the same for a
    reader in another language; None when the message has no catalogue entry."""

    def __init__(self, message: str, *, key: str | None = None,
                 params: Mapping[str, str | int] | None = None,
                 reasons: Sequence[tuple[str, Mapping[str, str | int]]] = ()) -> None:
        """Keep the English message and, when there is one, its catalogue key; an error
        with several problems (settings) gives one ``(key, params)`` each in ``reasons``."""
        super().__init__(message)
        self.key = key
        self.params: dict[str, str | int] = dict(params or {})
        listed = [(k, dict(p)) for k, p in reasons]
        if not listed and key:
            listed = [(key, self.params)]
        self.reasons: tuple[tuple[str, dict[str, str | int]], ...] = tuple(listed)


class SourceConfigError(SourceError):
    """The source's configuration is invalid or incomplete."""


class SourceAuthError(SourceError):
    """The network refused our credentials (401/403)."""


class SourceRateLimited(SourceError):
    """The network asked us to slow down; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float | None = None, *,
                 key: str | None = None, params: Mapping[str, str | int] | None = None
                 ) -> None:
        """Keep the wait the network asked for, when it said."""
        super().__init__(message, key=key, params=params)
        self.retry_after = retry_after
