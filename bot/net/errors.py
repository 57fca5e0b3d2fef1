"""Errors of the shared HTTP layer, raised by :mod:`bot.net.http` and the sources on it.

Their ``str()`` is a plain-words message safe to show in Slack: it may name a host but
never a full URL, header or token.
"""

from __future__ import annotations


class SourceError(Exception):
    """A fetch failed; ``str(err)`` is a plain-words message safe to show in Slack."""


class SourceConfigError(SourceError):
    """The source's configuration is invalid or incomplete."""


class SourceAuthError(SourceError):
    """The network refused our credentials (401/403)."""


class SourceRateLimited(SourceError):
    """The network asked us to slow down; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
