"""Multi-workspace install: Slack's OAuth flow with slack_sdk's SQLAlchemy stores.

The stores' tables are created by Alembic like every other table (see alembic/env.py);
``OAUTH_METADATA`` describes them without needing an engine. Tokens are encrypted at
rest by ``EncryptedInstallationStore`` (slack_sdk's store, sealing on save and opening
on find), with the keys of VIGIE_SECRET_KEY.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt import BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, Table, Text, select, update

from bot.config import Settings
from storage.secret_box import SecretBox, SecretKeyError

BOT_SECRET_COLUMNS = ("bot_token", "bot_refresh_token")
INSTALLATION_SECRET_COLUMNS = (*BOT_SECRET_COLUMNS, "user_token", "user_refresh_token",
                               "incoming_webhook_url")
_T = TypeVar("_T", Bot, Installation)


def _widened(table: Table, columns: tuple[str, ...]) -> Table:
    # Encrypted tokens are longer than slack_sdk's VARCHAR(200) (migration 0013).
    for name in columns:
        table.c[name].type = Text()
    return table


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy installation store with tokens encrypted at rest.

    Tokens are sealed on a copy before slack_sdk writes it and opened when it builds
    what it found; a legacy plain token reads as it is (``vigie secrets rotate``
    encrypts it). Without a key, tokens are stored in clear as before.
    """

    def __init__(self, client_id: str, engine: Engine, box: SecretBox) -> None:
        super().__init__(client_id=client_id, engine=engine)
        self.box = box

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        """slack_sdk's table with room for encrypted tokens."""
        return _widened(super().build_installations_table(metadata, table_name),
                        INSTALLATION_SECRET_COLUMNS)

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        """slack_sdk's table with room for encrypted tokens."""
        return _widened(super().build_bots_table(metadata, table_name), BOT_SECRET_COLUMNS)

    def _apply(self, entity: _T, columns: tuple[str, ...], how: Callable[[str], str]) -> _T:
        for name in columns:
            value = getattr(entity, name, None)
            if isinstance(value, str) and value:
                setattr(entity, name, how(value))
        return entity

    def save(self, installation: Installation) -> None:
        """Store an installation (and its bot) with its tokens encrypted."""
        super().save(self._apply(copy.copy(installation), INSTALLATION_SECRET_COLUMNS,
                                 self.box.seal))

    def save_bot(self, bot: Bot) -> None:
        """Store a bot with its tokens encrypted (sealing twice changes nothing)."""
        super().save_bot(self._apply(copy.copy(bot), BOT_SECRET_COLUMNS, self.box.seal))

    def build_installation_entity(self, row: Any) -> Installation:  # type: ignore[override]
        """The installation found, with its tokens decrypted."""
        return self._apply(super().build_installation_entity(row),
                           INSTALLATION_SECRET_COLUMNS, self.box.open)

    def build_bot_entity(self, row: Any) -> Bot:  # type: ignore[override]
        """The bot found, with its tokens decrypted."""
        return self._apply(super().build_bot_entity(row), BOT_SECRET_COLUMNS, self.box.open)

    def rotate_tokens(self) -> int:
        """Encrypt every stored token with the first key (legacy plain ones included);
        returns how many values were rewritten."""
        rewritten = 0
        with self.engine.begin() as conn:
            for table, columns in ((self.installations, INSTALLATION_SECRET_COLUMNS),
                                   (self.bots, BOT_SECRET_COLUMNS)):
                rows = conn.execute(select(table.c.id, *[table.c[n] for n in columns]))
                for row in rows.mappings().all():
                    values = {n: self.box.rotate(row[n]) for n in columns if row[n]}
                    if values:
                        conn.execute(update(table).where(table.c.id == row["id"])
                                     .values(**values))
                        rewritten += len(values)
        return rewritten

    def unreadable_tokens(self) -> tuple[int, list[str]]:
        """How many stored tokens are encrypted, and which of them (named by table, row and
        team, never by value) none of the keys opens."""
        sealed = 0
        unreadable: list[str] = []
        with self.engine.connect() as conn:
            for table, columns in ((self.installations, INSTALLATION_SECRET_COLUMNS),
                                   (self.bots, BOT_SECRET_COLUMNS)):
                rows = conn.execute(select(table.c.id, table.c.team_id,
                                           *[table.c[n] for n in columns])
                                    .order_by(table.c.id))
                for row in rows.mappings().all():
                    for name in columns:
                        value = row[name]
                        if not self.box.is_sealed(value):
                            continue
                        sealed += 1
                        try:
                            self.box.open(value)
                        except SecretKeyError:
                            unreadable.append(f"{table.name} {row['id']} {name} "
                                              f"(team {row['team_id']})")
        return sealed, unreadable

# Keep in step with manifest.yml (tests/test_manifest_schema.py checks both).
BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "channels:history",
              "groups:history", "im:history", "channels:read", "channels:join",
              "groups:read", "im:write", "files:write", "users:read")
STATE_EXPIRATION_SECONDS = 600

OAUTH_METADATA = MetaData()
EncryptedInstallationStore.build_installations_table(
    OAUTH_METADATA, SQLAlchemyInstallationStore.default_installations_table_name)
EncryptedInstallationStore.build_bots_table(
    OAUTH_METADATA, SQLAlchemyInstallationStore.default_bots_table_name)
SQLAlchemyOAuthStateStore.build_oauth_states_table(
    OAUTH_METADATA, SQLAlchemyOAuthStateStore.default_table_name)


def installation_store(settings: Settings, engine: Engine) -> EncryptedInstallationStore:
    """The store of workspaces that installed Vigie (bot tokens, encrypted at rest)."""
    assert settings.slack_client_id is not None
    return EncryptedInstallationStore(settings.slack_client_id, engine,
                                      SecretBox(settings.secret_keys))


def build_oauth_settings(settings: Settings, engine: Engine, *,
                         on_success: Callable[[SuccessArgs], BoltResponse] | None = None
                         ) -> OAuthSettings:
    """Bolt's OAuth settings: /slack/install and /slack/oauth_redirect (``on_success``: run
    once the installation is stored; it returns the page, e.g. Bolt's default)."""
    assert settings.slack_client_secret is not None
    callbacks = None
    if on_success is not None:
        callbacks = CallbackOptions(success=on_success,
                                    failure=lambda args: args.default.failure(args))
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        installation_store=installation_store(settings, engine),
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_SECONDS,
                                              engine=engine),
        callback_options=callbacks,
    )


def bot_token_resolver(settings: Settings, engine: Engine) -> Callable[[str], str | None]:
    """team id -> that workspace's bot token (for the outbox sender): the newest install of
    that workspace, in an Enterprise Grid org or not. (slack_sdk's ``find_bot`` needs the
    org's id, and with ``enterprise_id=None`` finds workspaces of no org only: a workspace
    of a Grid org, ``T…`` in an ``E…`` org, was never found.) An org-wide install is
    stored without a team (``is_enterprise_install``, https://api.slack.com/enterprise/apps/
    reference): no workspace has its token here (see :func:`org_wide_installs`)."""
    store = installation_store(settings, engine)
    bots = store.bots

    def resolve(team_id: str) -> str | None:
        query = (select(bots).where(bots.c.client_id == store.client_id,
                                    bots.c.team_id == team_id, bots.c.bot_token.is_not(None))
                 .order_by(bots.c.installed_at.desc(), bots.c.id.desc()).limit(1))
        with engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return store.build_bot_entity(row).bot_token if row is not None else None

    return resolve


def org_wide_installs(settings: Settings, engine: Engine) -> Callable[[str], bool]:
    """enterprise id -> whether Vigie's installation in that Enterprise Grid org is org-wide
    (which Vigie does not serve: it serves workspace installs)."""
    store = installation_store(settings, engine)

    def org_wide(enterprise_id: str) -> bool:
        return store.find_bot(enterprise_id=enterprise_id, team_id=None,
                              is_enterprise_install=True) is not None

    return org_wide
