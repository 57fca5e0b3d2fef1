"""Multi-workspace install: Slack's OAuth flow with slack_sdk's SQLAlchemy stores.

The stores' tables are created by Alembic like every other table (see alembic/env.py);
``OAUTH_METADATA`` describes them without needing an engine.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData

from bot.config import Settings

BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "channels:history",
              "groups:history", "channels:read", "groups:read", "im:write", "files:write",
              "users:read")
STATE_EXPIRATION_SECONDS = 600

OAUTH_METADATA = MetaData()
SQLAlchemyInstallationStore.build_installations_table(
    OAUTH_METADATA, SQLAlchemyInstallationStore.default_installations_table_name)
SQLAlchemyInstallationStore.build_bots_table(
    OAUTH_METADATA, SQLAlchemyInstallationStore.default_bots_table_name)
SQLAlchemyOAuthStateStore.build_oauth_states_table(
    OAUTH_METADATA, SQLAlchemyOAuthStateStore.default_table_name)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    """The store of workspaces that installed Vigie (bot tokens)."""
    assert settings.slack_client_id is not None
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)


def build_oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    """Bolt's OAuth settings: /slack/install and /slack/oauth_redirect."""
    assert settings.slack_client_secret is not None
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        installation_store=installation_store(settings, engine),
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_EXPIRATION_SECONDS,
                                              engine=engine),
    )


def bot_token_resolver(settings: Settings, engine: Engine) -> Callable[[str], str | None]:
    """team id -> that workspace's bot token (for the outbox sender)."""
    store = installation_store(settings, engine)

    def resolve(team_id: str) -> str | None:
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    return resolve
