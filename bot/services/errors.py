"""Errors services raise for the user: a catalogue key and its parameters, never a traceback."""

from __future__ import annotations

from typing import Any

from bot.i18n import t


class ServiceError(Exception):
    """A request that cannot be done as asked; ``key`` names the explanation in the catalogue."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, language: str = "en") -> str:
        """The explanation in ``language``."""
        return t(language, self.key, **self.params)

    def __str__(self) -> str:
        return self.message()


class NotFound(ServiceError):
    """The thing named does not exist (in this workspace)."""


class Forbidden(ServiceError):
    """The user's role does not allow this."""
