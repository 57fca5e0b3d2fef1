"""Secrets at rest: source tokens and Slack bot tokens encrypted with keys from the settings.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) and
stored as ``vigie-enc:v1:<token>``, so a value without the prefix is a legacy plain one
that still reads (and ``vigie secrets rotate`` encrypts it). Several keys make rotation
possible (``MultiFernet``): the first encrypts, every key decrypts.

Without a key Vigie keeps working and stores new secrets in clear (``vigie doctor``
warns): refusing to start would break every existing install on upgrade, and a key
invented on the spot would be lost with the process, and the secrets with it.

The box travels with the session factory (``session.info``), so services read and write
secrets without a global and tests choose their keys per database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.orm import Session

PREFIX = "vigie-enc:v1:"
INFO_KEY = "secret_box"

__all__ = ["PREFIX", "SecretBox", "SecretKeyError", "box_of", "generate_key"]


class SecretKeyError(Exception):
    """An encrypted value cannot be read: no key, or none of the keys opens it."""


def generate_key() -> str:
    """A new random key for VIGIE_SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Encrypts and decrypts secret strings with the configured keys (none: plain)."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self._keys = [key for key in keys if key]
        self._fernet = (MultiFernet([Fernet(key.encode("ascii")) for key in self._keys])
                        if self._keys else None)

    @property
    def enabled(self) -> bool:
        """True when a key is set (new secrets are stored encrypted)."""
        return self._fernet is not None

    @staticmethod
    def is_sealed(value: object) -> bool:
        """True for a value this box (or another key's) encrypted."""
        return isinstance(value, str) and value.startswith(PREFIX)

    def seal(self, value: str) -> str:
        """``value`` encrypted with the first key; unchanged when no key is set or when
        it is encrypted already."""
        if self._fernet is None or self.is_sealed(value):
            return value
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, value: str) -> str:
        """The plain value: decrypted when encrypted, as it is when it is a legacy plain
        value. Raises SecretKeyError when no key opens it."""
        if not self.is_sealed(value):
            return value
        if self._fernet is None:
            raise SecretKeyError("a secret is stored encrypted but VIGIE_SECRET_KEY is not set")
        try:
            return self._fernet.decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as err:
            raise SecretKeyError("none of the keys in VIGIE_SECRET_KEY opens a stored "
                                 "secret; put the key it was written with back in the "
                                 "list") from err

    def rotate(self, value: str) -> str:
        """``value`` encrypted with the first key, whatever key (or none) it had."""
        if self._fernet is None:
            raise SecretKeyError("set VIGIE_SECRET_KEY before rotating secrets")
        if not self.is_sealed(value):
            return self.seal(value)
        try:
            token = self._fernet.rotate(value[len(PREFIX):].encode("ascii"))
        except (InvalidToken, ValueError) as err:
            raise SecretKeyError("none of the keys in VIGIE_SECRET_KEY opens a stored "
                                 "secret") from err
        return PREFIX + token.decode("ascii")

    def open_values(self, data: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``data`` whose encrypted string values are decrypted."""
        if not any(self.is_sealed(value) for value in data.values()):
            return dict(data)
        return {name: self.open(value) if self.is_sealed(value) else value
                for name, value in data.items()}

    def seal_values(self, data: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
        """A copy of ``data`` with the string values of ``names`` encrypted."""
        sealed = dict(data)
        for name in names:
            value = sealed.get(name)
            if isinstance(value, str) and value:
                sealed[name] = self.seal(value)
        return sealed


PLAIN = SecretBox()


def box_of(session: Session | None) -> SecretBox:
    """The secret box of the session's factory (the plain box when it has none)."""
    if session is None:
        return PLAIN
    box = session.info.get(INFO_KEY)
    return box if isinstance(box, SecretBox) else PLAIN
