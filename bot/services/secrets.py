"""Source secrets: encrypted in ``sources.config``, opened only to fetch or post, and
redacted from every error a user can read.

Which settings are secrets comes from each source's typed config (its ``SecretStr``
fields), plus any setting holding a URL that carries credentials (a user-info password,
or a query parameter named as one, ``bot.url_secrets.SECRET_WORDS``): such a URL is
stored encrypted whole. The encryption itself is ``storage.secret_box``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, sessionmaker

from bot.net.errors import SourceConfigError
from bot.sources.registry import get_source
from bot.url_secrets import MASK, url_credentials
from storage.db import transaction
from storage.models import SourceRow
from storage.models_privacy import ForgetKey
from storage.secret_box import SecretBox, SecretKeyError, box_of

log = logging.getLogger(__name__)

MIN_REDACTED_CHARS = 4
"""Shorter values are not hunted in messages (they would blank ordinary words)."""



def secret_fields(kind: str) -> list[str]:
    """The names of the settings of a source kind that hold secrets."""
    try:
        model = get_source(kind).config_model
    except SourceConfigError:
        return []
    return [name for name, info in model.model_fields.items()
            if "SecretStr" in str(info.annotation)]


def secret_names(kind: str, config: dict[str, Any]) -> list[str]:
    """The settings of a plain ``config`` to store encrypted: the kind's secret fields,
    and every setting whose URL carries credentials."""
    names = secret_fields(kind)
    return names + [name for name, value in config.items()
                    if name not in names and url_credentials(value)]


def seal_config(session: Session, kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with its secret settings encrypted by the session's box (when a key
    is set), ready to store."""
    return box_of(session).seal_values(config, secret_names(kind, config))


def open_config(row: SourceRow, box: SecretBox | None = None) -> dict[str, Any]:
    """A copy of the row's config with its secrets decrypted. A value no key opens stays
    encrypted (``ensure_openable`` then refuses to use it) instead of failing the caller."""
    box = box or box_of(object_session(row))
    try:
        return box.open_values(dict(row.config))
    except SecretKeyError as err:
        log.warning("source %s: %s", row.id, err)
        opened: dict[str, Any] = {}
        for name, value in row.config.items():
            try:
                opened[name] = box.open(value) if isinstance(value, str) else value
            except SecretKeyError:
                opened[name] = value
        return opened


def ensure_openable(config: dict[str, Any]) -> None:
    """Raise SourceConfigError when a secret of ``config`` is still encrypted."""
    if any(SecretBox.is_sealed(value) for value in config.values()):
        raise SourceConfigError(
            "a secret of this source is encrypted with a key Vigie does not have: put the "
            "key it was written with back in VIGIE_SECRET_KEY, or add the source again")


def secret_values(kind: str, config: dict[str, Any]) -> list[str]:
    """The plain secret values of a decrypted config (what must never be shown): its
    secret fields, and the credentials of any URL carrying some: the password of its user
    info (``https://user:pw@...``, a private feed's basic authentication) and the values
    of its secret query parameters (``?apikey=...``)."""
    values = []
    for name in secret_fields(kind):
        value = config.get(name)
        if isinstance(value, str) and len(value) >= MIN_REDACTED_CHARS \
                and not SecretBox.is_sealed(value):
            values.append(value)
    for value in config.values():
        values += [form for form in url_credentials(value) if len(form) >= MIN_REDACTED_CHARS]
    return values


def redact(text: str | None, secrets: list[str]) -> str | None:
    """``text`` with every secret replaced by a mask, also when a server repeated it
    URL-encoded."""
    if not text or not secrets:
        return text
    for secret in sorted(secrets, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            text = text.replace(form, MASK)
    return text


def credential_secrets(credentials: BaseModel) -> list[str]:
    """The secret values of a publisher's credentials (its ``SecretStr`` fields)."""
    return [value.get_secret_value() for value in vars(credentials).values()
            if isinstance(value, SecretStr)
            and len(value.get_secret_value()) >= MIN_REDACTED_CHARS]


def redact_for_row(text: str | None, row: SourceRow, box: SecretBox | None = None
                   ) -> str | None:
    """``text`` with every secret of the row's source masked."""
    if not text:
        return text
    return redact(text, secret_values(row.kind, open_config(row, box)))


def do_rotate_secrets(sessions: sessionmaker[Session]) -> int:
    """Encrypt every source secret (its secret fields, and its settings holding a URL with
    credentials) and every workspace's forget key with the first key (legacy plain ones
    included) and mask the secrets in stored health messages; returns how many values
    were rewritten.
    Needs a key; a value no key opens raises SecretKeyError and nothing is written."""
    rewritten = 0
    with transaction(sessions) as session:
        box = box_of(session)
        if not box.enabled:
            raise SecretKeyError("set VIGIE_SECRET_KEY before rotating secrets")
        for row in session.scalars(select(SourceRow).order_by(SourceRow.id)):
            secret = set(secret_fields(row.kind))
            names = [n for n, value in row.config.items()
                     if isinstance(value, str) and value
                     and (n in secret or box.is_sealed(value) or url_credentials(value))]
            if names:
                config = dict(row.config)
                for name in names:
                    config[name] = box.rotate(config[name])
                row.config = config
                rewritten += len(names)
            masked = redact_for_row(row.last_error, row, box)
            if masked != row.last_error:
                row.last_error = masked
        # The keys of the forgotten authors' hashes: re-encrypted, same value (same hashes).
        for key in session.scalars(select(ForgetKey).order_by(ForgetKey.workspace_id)):
            key.key = box.rotate(key.key)
            rewritten += 1
    return rewritten


def seal_plain_secrets(sessions: sessionmaker[Session]) -> int:
    """Encrypt the source secrets still stored in plain text (written before a key was
    set, or a URL whose credentials an older Vigie did not recognise: ``?feed_token=``)
    with the first key; returns how many. Nothing without a key, and an encrypted value
    is left as it is (``vigie secrets rotate`` re-encrypts those). Run as the scheduler
    starts."""
    sealed = 0
    with transaction(sessions) as session:
        box = box_of(session)
        if not box.enabled:
            return 0
        for row in session.scalars(select(SourceRow).order_by(SourceRow.id)):
            names = [name for name in secret_names(row.kind, row.config)
                     if isinstance(row.config.get(name), str) and row.config[name]
                     and not box.is_sealed(row.config[name])]
            if names:
                row.config = box.seal_values(dict(row.config), names)
                sealed += len(names)
            masked = redact_for_row(row.last_error, row, box)
            if masked != row.last_error:
                row.last_error = masked
    return sealed


def unreadable_secrets(sessions: sessionmaker[Session]) -> tuple[int, list[str]]:
    """How many source secrets and forget keys are stored encrypted, and which of them
    (named by source id, kind and setting, or by workspace id; never by value) none of the
    keys of the sessions' box opens. Reads every row: for `vigie doctor`."""
    sealed = 0
    unreadable: list[str] = []
    with sessions() as session:
        box = box_of(session)

        def opens(value: str) -> bool:
            try:
                box.open(value)
            except SecretKeyError:
                return False
            return True

        for row in session.scalars(select(SourceRow).order_by(SourceRow.id)):
            for name, value in sorted(row.config.items()):
                if box.is_sealed(value):
                    sealed += 1
                    if not opens(value):
                        unreadable.append(f"source {row.id} ({row.kind}) {name}")
        for key in session.scalars(select(ForgetKey).order_by(ForgetKey.workspace_id)):
            if box.is_sealed(key.key):
                sealed += 1
                if not opens(key.key):
                    unreadable.append(f"forget key of workspace {key.workspace_id}")
    return sealed, unreadable
