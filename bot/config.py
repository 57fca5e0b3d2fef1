"""Vigie's settings: the only module that reads the environment (and `.env`)."""

from __future__ import annotations

import base64
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SLACK_API_URL_DEFAULT = "https://slack.com/api/"


class LogFormat(StrEnum):
    """How log lines are written."""

    TEXT = "text"
    JSON = "json"


class Settings(BaseSettings):
    """Everything Vigie can be configured with; see `.env.example` for each variable."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(SLACK_API_URL_DEFAULT, validation_alias="SLACK_API_URL")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")

    database_url: str = Field("sqlite:///./vigie.db", validation_alias="VIGIE_DATABASE_URL")
    admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="VIGIE_ADMINS"
    )
    timezone: str = Field("UTC", validation_alias="VIGIE_TIMEZONE")

    llm_base_url: str | None = Field(None, validation_alias="VIGIE_LLM_BASE_URL")
    llm_api_key: SecretStr | None = Field(None, validation_alias="VIGIE_LLM_API_KEY")
    llm_model: str | None = Field(None, validation_alias="VIGIE_LLM_MODEL")
    llm_max_tokens: int = Field(2000, ge=16, le=200_000, validation_alias="VIGIE_LLM_MAX_TOKENS")
    """Token budget of one completion, a thinking model's reasoning included."""

    metrics_token: SecretStr | None = Field(None, validation_alias="VIGIE_METRICS_TOKEN")

    log_level: str = Field("INFO", validation_alias="VIGIE_LOG_LEVEL")
    log_format: LogFormat = Field(LogFormat.TEXT, validation_alias="VIGIE_LOG_FORMAT")

    poll_tick_seconds: int = Field(30, ge=1, le=3600, validation_alias="VIGIE_POLL_TICK_SECONDS")
    retention_days: int = Field(0, ge=0, le=36500, validation_alias="VIGIE_RETENTION_DAYS")
    poll_concurrency: int = Field(8, ge=1, le=64, validation_alias="VIGIE_POLL_CONCURRENCY")
    poll_source_budget_seconds: float = Field(
        60.0, ge=1, le=900, validation_alias="VIGIE_POLL_SOURCE_BUDGET_SECONDS"
    )
    """Longest one source's fetch may take in a poll tick (requests, retries, pauses)."""
    backfill_hours: int = Field(48, ge=0, le=24 * 365, validation_alias="VIGIE_BACKFILL_HOURS")
    migration_lock_timeout_seconds: float = Field(
        5.0, ge=0, le=3600, validation_alias="VIGIE_MIGRATION_LOCK_TIMEOUT_SECONDS"
    )
    """On PostgreSQL, how long `vigie db upgrade` waits for a table in use before it gives
    up with what to do (0: as long as it takes): readers of that table wait behind it."""
    migration_statement_timeout_seconds: float = Field(
        900.0, ge=0, le=86400, validation_alias="VIGIE_MIGRATION_STATEMENT_TIMEOUT_SECONDS"
    )
    """On PostgreSQL, how long one migration statement may run (0: no limit)."""
    """A new or resumed source's posts older than this are stored without alert or SLA."""

    port: int = Field(3000, validation_alias="PORT")
    """Where `vigie web` and `vigie run` in HTTP mode listen (platforms such as Heroku set it)."""
    socket_mode_web_host: str = Field("127.0.0.1", validation_alias="VIGIE_SOCKET_MODE_WEB_HOST")
    """In Socket Mode and console mode, the address the webhook and health front binds on
    ``port``: this machine only by default (neither needs an inbound port), ``0.0.0.0`` to take
    webhooks from elsewhere, ``off`` to serve nothing."""
    worker_web_host: str = Field("127.0.0.1", validation_alias="VIGIE_WORKER_WEB_HOST")
    """The address `vigie worker` serves its health checks and metrics on: this machine only
    by default (a container's own health check), ``0.0.0.0`` for a scraper elsewhere,
    ``off`` to serve nothing."""
    worker_port: int | None = Field(None, validation_alias="VIGIE_WORKER_PORT")
    """The port `vigie worker` serves them on (default: PORT when it is set; with neither
    set the worker serves nothing, so it never takes the port of a `vigie web` beside it)."""
    web_body_timeout_seconds: float = Field(
        10.0, gt=0, le=300, validation_alias="VIGIE_WEB_BODY_TIMEOUT_SECONDS"
    )
    """Longest the web front waits for a request's whole body, however steadily it trickles
    in (Slack's and webhook senders' bodies arrive at once): past it, 408."""
    web_max_buffered_mb: int = Field(
        32, ge=1, le=4096, validation_alias="VIGIE_WEB_MAX_BUFFERED_MB"
    )
    """Most megabytes of request bodies each web process holds at once, all connections
    together; a body that would go past it is refused with 503 and Retry-After."""
    outbox_tick_seconds: float = Field(
        1.0, gt=0, le=60, validation_alias="VIGIE_OUTBOX_TICK_SECONDS"
    )
    notify_digest_minutes: int = Field(
        10, ge=1, le=1440, validation_alias="VIGIE_NOTIFY_DIGEST_MINUTES"
    )
    """At most one "drafts wait for your approval" DM per approver in this many minutes."""
    allowed_source_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="VIGIE_ALLOWED_SOURCE_HOSTS"
    )

    reply_link_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="VIGIE_REPLY_LINK_DOMAINS"
    )
    secret_key: SecretStr | None = Field(None, validation_alias="VIGIE_SECRET_KEY")
    """Fernet keys (comma-separated; the first encrypts, all decrypt) for secrets at rest."""

    @field_validator("admins", "allowed_source_hosts", "reply_link_domains", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.replace(";", ",").split(",") if item.strip()]
        return value

    @field_validator("admins")
    @classmethod
    def _check_user_ids(cls, value: list[str]) -> list[str]:
        for entry in value:
            team, _, user_id = entry.rpartition(":")
            if team and not (team[:1] in {"T", "E"} and team[1:].isalnum() and len(team) >= 5):
                raise ValueError(f"{team!r} is not a Slack team id; write T01TEAM:U01ABCDEF")
            if not (user_id[:1] in {"U", "W"} and user_id[1:].isalnum() and len(user_id) >= 5):
                raise ValueError(f"{entry!r} is not a Slack user id; put ids like U01ABCDEF "
                                 "(or T01TEAM:U01ABCDEF for one workspace) separated by commas")
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(
                f"unknown time zone {value!r}; put an IANA name such as Europe/Paris or UTC"
            ) from err
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError(
                "must be a SQLAlchemy URL such as sqlite:///./vigie.db or "
                "postgresql+psycopg://user@host/dbname"
            )
        if value.startswith("postgres:") or value.startswith("postgresql:"):
            # psycopg 3 is the driver we ship; the bare scheme would pick psycopg2.
            value = "postgresql+psycopg:" + value.split(":", 1)[1]
        _check_url_parts(value)
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("port", "worker_port", mode="before")
    @classmethod
    def _check_port(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "worker_port" and (value is None or not str(value).strip()):
            return None  # unset (or left empty in an env file): PORT's, when set
        text = str(value).strip()
        if not text.isdigit() or not 1 <= int(text) <= 65535:
            raise ValueError(f"must be a port number (1-65535), not {text[:20]!r}")
        return int(text)

    @field_validator("socket_mode_web_host", "worker_web_host")
    @classmethod
    def _check_web_host(cls, value: str) -> str:
        import ipaddress

        text = value.strip().lower()
        if text == "off":
            return text
        try:
            ipaddress.ip_address(text)
        except ValueError:
            raise ValueError("must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::) "
                             f"or off, not {value[:40]!r}") from None
        return text

    @field_validator("llm_base_url")
    @classmethod
    def _check_llm_base_url(cls, value: str | None) -> str | None:
        from bot.llm import checked_base_url

        if value is not None:
            checked_base_url(value)  # the LLM client's own check: one rule for both
        return value

    @field_validator("llm_api_key")
    @classmethod
    def _check_llm_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        from bot.llm import checked_api_key

        if value is not None:
            checked_api_key(value.get_secret_value())
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        keys = [key.strip() for key in value.get_secret_value().split(",") if key.strip()]
        for key in keys:
            try:
                if len(base64.urlsafe_b64decode(key.encode("ascii"))) != 32:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    "each key must be 32 url-safe base64-encoded bytes; create one with "
                    "`vigie secrets new-key`") from None
        return SecretStr(",".join(keys)) if keys else None

    @property
    def secret_keys(self) -> list[str]:
        """The keys of VIGIE_SECRET_KEY, the one that encrypts first (none: plain)."""
        if self.secret_key is None:
            return []
        return self.secret_key.get_secret_value().split(",")

    @field_validator("slack_bot_token")
    @classmethod
    def _check_bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb- (OAuth & Permissions page)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _check_app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            pasted = value.get_secret_value()[:5]
            hint = ("; this one starts with xoxb-: that is the bot token, it goes in "
                    "SLACK_BOT_TOKEN" if pasted == "xoxb-" else "")
            raise ValueError(
                "must be an app-level token starting with xapp- (Basic Information page, "
                f"App-Level Tokens, scope connections:write){hint}"
            )
        return value

    @field_validator(
        "slack_bot_token", "slack_app_token", "slack_signing_secret", "llm_api_key",
        "slack_client_id", "slack_client_secret", "metrics_token", "secret_key",
        "llm_base_url", "llm_model", mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def oauth(self) -> bool:
        """True when Vigie is installed per workspace through OAuth (client id and secret)."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def has_slack(self) -> bool:
        """True when Slack is configured (otherwise alerts go to the console)."""
        return self.slack_bot_token is not None or self.oauth

    @property
    def socket_mode(self) -> bool:
        """True when Socket Mode can be used (bot token and app-level token)."""
        return self.slack_bot_token is not None and self.slack_app_token is not None

    @property
    def has_llm(self) -> bool:
        """True when an OpenAI-compatible endpoint and model are configured."""
        return bool(self.llm_base_url and self.llm_model)

    @property
    def tz(self) -> ZoneInfo:
        """The default time zone as a ZoneInfo."""
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is SQLite (one process only)."""
        return self.database_url.startswith("sqlite")


def _check_url_parts(url: str) -> None:
    """Refuse a database URL that cannot be what the operator meant, in words that never
    repeat it (it may hold a password): an ``@`` left unescaped in the user part (the
    driver would take the rest of the password for the host and print it in its error),
    a URL SQLAlchemy cannot read, a PostgreSQL URL naming no database (the tables would go
    into the user's default one, often the ``postgres`` maintenance database)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme_end = url.find("://")
    if scheme_end >= 0:
        authority = url[scheme_end + 3:].split("/", 1)[0].split("?", 1)[0]
        if authority.count("@") > 1:
            raise ValueError("its user name or password holds an '@': write it %40 there "
                             "(percent-encoded), e.g. postgresql+psycopg://vigie:p%40ss@host/vigie")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as err:
        raise ValueError(
            "is not a database URL Vigie can read; write it like sqlite:///./vigie.db or "
            "postgresql+psycopg://user@host/dbname") from err
    if (parsed.get_backend_name() == "postgresql" and not (parsed.database or "").strip()
            and "dbname" not in parsed.query):  # libpq's ?dbname= names it too
        raise ValueError("names no database: end it with /DBNAME, e.g. "
                         "postgresql+psycopg://vigie@127.0.0.1:5432/vigie")


class ConfigError(Exception):
    """Settings are missing or invalid; ``lines`` holds one clear line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _env_name(field_name: str) -> str:
    alias = Settings.model_fields[field_name].validation_alias
    return str(alias) if alias else field_name.upper()


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and `.env`; raise ConfigError with one line per problem.

    ``overrides`` (by field name) win over the environment; tests and the CLI use them.
    """
    try:
        return Settings(**overrides)
    except ValidationError as err:
        lines = []
        for problem in err.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "?"
            name = _env_name(field) if field in Settings.model_fields else field
            message = str(problem["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise ConfigError(lines) from None
