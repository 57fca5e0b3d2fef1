"""`vigie doctor`: check configuration, database, migrations, Slack and the LLM endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.config import ConfigError, Settings, load_settings
from bot.database_diagnosis import (
    database_failure,
    missing_sqlite_file,
    no_file_detail,
    shown_location,
)
from bot.llm import LLMClient, LLMError, LLMTimeoutError, from_config
from bot.schema_revision import current_revision, head_revision, is_newer, newer_database
from storage.db import make_engine, ping
from storage.models import utcnow

if TYPE_CHECKING:
    from bot.services.outbox_admin import PauseView

OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's table: what, status, and what to do about it."""

    name: str
    status: str
    detail: str


def _database_checks(settings: Settings) -> list[Check]:
    url = settings.database_url
    missing = missing_sqlite_file(url)
    if missing is not None:  # connecting would create an empty database there
        return [Check("database", FAIL, no_file_detail(url)),
                Check("migrations", SKIP, "no database")]
    engine = make_engine(url)
    try:
        try:
            ping(engine)
        except Exception as err:  # noqa: BLE001  (any failure is reported, not raised)
            return [
                Check("database", FAIL, database_failure(url, err)),
                Check("migrations", SKIP, "database unreachable"),
            ]
        checks = [Check("database", OK, f"{shown_location(url)} reachable")]
        current, head = current_revision(engine), head_revision()
        if current == head:
            checks.append(Check("migrations", OK, f"at {head}"))
            checks += _outbox_checks(engine, settings)
        elif current is not None and is_newer(current):
            checks.append(Check("migrations", FAIL, newer_database(current, head)))
        else:
            checks.append(Check("migrations", FAIL,
                                f"database at {current or 'nothing'}, Vigie needs {head}: "
                                "run `vigie db upgrade`"))
        return checks
    finally:
        engine.dispose()


OUTBOX_LATE = timedelta(minutes=15)
"""A pending row older than this is worth a look (a 429 or a few 5xx take minutes)."""


def _outbox_checks(engine: Engine, settings: Settings) -> list[Check]:
    """What waits to reach Slack, what failed in the last 24 h, paused workspaces; a
    workspace Vigie was uninstalled from is no failure with several (OAuth): it is
    listed as such."""
    from bot.services.outbox_admin import age, outbox_health
    from storage.db import make_session_factory

    now = utcnow()
    try:
        health = outbox_health(make_session_factory(engine), now)
    except Exception as err:  # noqa: BLE001  (the doctor reports, never raises)
        return [Check("outbox", FAIL, f"cannot read the outbox ({type(err).__name__})")]
    summary = (f"{health.pending} pending (oldest {age(health.oldest_pending_at, now)}), "
               f"{health.failed_last_day} failed in the last 24 h")
    late = health.oldest_pending_at is not None and now - health.oldest_pending_at > OUTBOX_LATE
    if health.failed_last_day or late:
        check = Check("outbox", WARN, f"{summary}: `vigie outbox` lists them with their "
                      "errors, `vigie outbox retry --all-failed` requeues the failed ones")
    else:
        check = Check("outbox", OK, summary)
    return [check, *(_pause_check(p, settings) for p in health.paused)]


def _pause_check(pause: PauseView, settings: Settings) -> Check:
    """One paused workspace: what Slack refuses, and what to do in this mode (an install
    link with several workspaces, a new SLACK_BOT_TOKEN with one)."""
    since = f"since {pause.paused_at:%Y-%m-%d %H:%M} UTC"
    if pause.uninstalled_at is not None:
        gone = (f"workspace {pause.team_id} since {pause.uninstalled_at:%Y-%m-%d %H:%M} UTC: "
                f"Slack said the app was uninstalled ({pause.error}); nothing is sent there, "
                f"{pause.waiting} messages wait")
        if settings.oauth:
            return Check("uninstalled", OK, f"{gone}. Installing the app there again "
                         "(https://YOUR-HOST/slack/install) resumes it")
        return Check("outbox paused", FAIL, f"{gone}. {_token_fix(settings)}")
    if pause.posting_refused:
        return Check("outbox paused", FAIL,
                     f"workspace {pause.team_id} {since}: Slack does not let the bot post "
                     f"({pause.detail or pause.error}), {pause.waiting} messages wait. "
                     "Reinstall the app with the scopes of manifest.yml; delivery resumes "
                     "by itself and the admins get a DM")
    return Check("outbox paused", FAIL,
                 f"workspace {pause.team_id} {since}: Slack refuses the bot token "
                 f"({pause.error}), {pause.waiting} messages wait. {_token_fix(settings)}; "
                 "delivery resumes by itself and the admins get a DM")


def _token_fix(settings: Settings) -> str:
    """What gives a workspace a token Slack accepts, in this mode."""
    if settings.oauth:
        return "Install the app in that workspace again (https://YOUR-HOST/slack/install)"
    if settings.slack_bot_token is not None:
        return "Reinstall the app, set its new xoxb- token as SLACK_BOT_TOKEN and restart"
    return "Reinstall the app (or set a new SLACK_BOT_TOKEN and restart)"


def _slack_checks(settings: Settings) -> list[Check]:
    if settings.oauth:
        mode = (Check("slack mode", OK, "OAuth install (several workspaces): install at "
                      "https://YOUR-HOST/slack/install")
                if settings.slack_signing_secret is not None else
                Check("slack mode", FAIL, "SLACK_SIGNING_SECRET is required with "
                      "SLACK_CLIENT_ID (Basic Information > App Credentials)"))
        return [mode]
    if settings.slack_bot_token is None:
        return [Check("slack token", WARN,
                      "SLACK_BOT_TOKEN is not set: Vigie runs in console mode. Create the app "
                      "from manifest.yml and copy the Bot User OAuth Token (xoxb-...)")]
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.slack.client import build_web_client

    client = build_web_client(settings)
    try:
        response = client.auth_test()
        token_check = Check("slack token", OK,
                            f"auth.test: bot {response.get('user')} in team {response.get('team')}")
    except SlackApiError as err:
        token_check = Check("slack token", FAIL,
                            f"auth.test refused the token ({err.response.get('error')}): "
                            "reinstall the app and copy the new xoxb- token")
    except (SlackClientError, OSError) as err:
        token_check = Check("slack token", FAIL,
                            f"cannot reach {settings.slack_api_url} ({type(err).__name__}): "
                            "check the network or SLACK_API_URL")
    if settings.slack_app_token is not None:
        mode = _app_token_check(settings)
    elif settings.slack_signing_secret is not None:
        mode = Check("slack mode", OK, "HTTP mode: point the app's Request URLs at "
                     "https://YOUR-HOST/slack/events")
    else:
        mode = Check("slack mode", FAIL, "set SLACK_APP_TOKEN (Socket Mode, xapp-...) or "
                     "SLACK_SIGNING_SECRET (HTTP mode)")
    return [token_check, mode]


_XAPP_STEPS = ("generate an app-level token at Basic Information > App-Level Tokens with "
               "the scope connections:write, and put the xapp-... token in SLACK_APP_TOKEN")


def app_token_fix(error: str, needed: str | None = None, provided: str | None = None) -> str:
    """What to do when Slack refuses SLACK_APP_TOKEN with ``error`` (apps.connections.open)."""
    if error in {"invalid_auth", "not_authed", "token_revoked", "account_inactive",
                 "token_expired"}:
        return f"Slack refused SLACK_APP_TOKEN ({error}): {_XAPP_STEPS}"
    if error == "not_allowed_token_type":
        return (f"SLACK_APP_TOKEN is not an app-level token ({error}); the bot token goes in "
                f"SLACK_BOT_TOKEN: {_XAPP_STEPS}")
    if error == "missing_scope":
        return (f"SLACK_APP_TOKEN lacks the scope {needed or 'connections:write'} "
                f"(it has: {provided or 'none'}): {_XAPP_STEPS}")
    return f"apps.connections.open failed ({error}): check SLACK_APP_TOKEN; {_XAPP_STEPS}"


def _app_token_check(settings: Settings) -> Check:
    """Socket Mode: ask Slack for a connection URL with the app token (never connected to)."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.slack.client import build_web_client

    assert settings.slack_app_token is not None
    client = build_web_client(settings)
    try:
        response = client.apps_connections_open(
            app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as err:
        answer = err.response
        return Check("slack mode", FAIL, app_token_fix(
            str(answer.get("error")), answer.get("needed"), answer.get("provided")))
    except (SlackClientError, OSError) as err:
        return Check("slack mode", FAIL, f"cannot reach {settings.slack_api_url} "
                     f"({type(err).__name__}): check the network or SLACK_API_URL")
    if not str(response.get("url") or "").startswith(("wss://", "ws://")):
        return Check("slack mode", FAIL, "apps.connections.open answered without a websocket "
                     "URL: check that Socket Mode is on in the app settings and SLACK_API_URL")
    return Check("slack mode", OK, "Socket Mode: SLACK_APP_TOKEN accepted by "
                 "apps.connections.open (connections:write)")


def _llm_check(settings: Settings) -> Check:
    if not settings.llm_base_url and not settings.llm_model:
        return Check("llm", SKIP, "VIGIE_LLM_BASE_URL / VIGIE_LLM_MODEL not set (optional): "
                     "drafts use templates")
    try:
        # The runtime's timeout: a model that answers drafts in time (a thinking model, a
        # cold load) must pass here too.
        client = from_config(settings.llm_base_url, settings.llm_api_key, settings.llm_model,
                             max_retries=0, max_tokens=settings.llm_max_tokens)
    except ValueError as err:  # the message names the variable to fix
        return Check("llm", FAIL, str(err))
    if client is None:
        return Check("llm", FAIL, "set both VIGIE_LLM_BASE_URL and VIGIE_LLM_MODEL")
    with client:
        return llm_client_check(client)


def llm_client_check(client: LLMClient) -> Check:
    """The doctor's line for ``client``: OK when the model answered a test completion; a
    WARNING when the provider listed its models but the answer took longer than the
    timeout (the model is there, only slow); FAIL otherwise."""
    try:
        return Check("llm", OK, client.check())
    except LLMTimeoutError as err:
        if err.listed_models is None:
            return Check("llm", FAIL, str(err))
        known = ("is listed" if client.model in err.listed_models
                 else f"is not among the {len(err.listed_models)} models listed")
        return Check("llm", WARN, (
            f"{client.base_url}: model '{client.model}' {known}, but it did "
            f"not answer a test completion within {client.timeout:g} s (a thinking model or "
            "a cold load?); drafts wait as long, so suggestions may time out"))
    except LLMError as err:
        return Check("llm", FAIL, str(err))


def _secret_key_check(settings: Settings) -> Check:
    if not settings.secret_keys:
        return Check("secrets", WARN,
                     "VIGIE_SECRET_KEY is not set: source tokens, feed URL credentials and "
                     "Slack bot tokens are stored in clear in the database. Create a key "
                     "with `vigie secrets "
                     "new-key`, set it, then run `vigie secrets rotate`")
    extra = len(settings.secret_keys) - 1
    return Check("secrets", OK, "encrypted at rest"
                 + (f" ({extra} older key(s) still accepted for decryption)" if extra else ""))


SHOWN_UNREADABLE = 10
"""Secrets named on the doctor's line (the rest are counted)."""


def _stored_secrets_check(settings: Settings, setting_check: Check) -> Check:
    """``setting_check`` unless stored secrets cannot be opened with the keys set: FAIL,
    naming them. Runs once the database is known reachable and migrated."""
    from bot.services.secrets import unreadable_secrets
    from bot.slack.oauth import EncryptedInstallationStore
    from storage.db import make_session_factory
    from storage.secret_box import SecretBox

    engine = make_engine(settings.database_url)
    try:
        box = SecretBox(settings.secret_keys)
        sealed, unreadable = unreadable_secrets(make_session_factory(engine, box))
        store = EncryptedInstallationStore(settings.slack_client_id or "", engine, box)
        tokens_sealed, tokens_unreadable = store.unreadable_tokens()
    except Exception as err:  # noqa: BLE001  (a check reports, never raises)
        return Check("secrets", FAIL, f"cannot read the stored secrets ({type(err).__name__})")
    finally:
        engine.dispose()
    sealed += tokens_sealed
    unreadable += tokens_unreadable
    if not unreadable:
        return setting_check
    shown = ", ".join(unreadable[:SHOWN_UNREADABLE])
    if len(unreadable) > SHOWN_UNREADABLE:
        shown += f" and {len(unreadable) - SHOWN_UNREADABLE} more"
    fix = ("set VIGIE_SECRET_KEY to the key they were written with" if not settings.secret_keys
           else "put the key they were written with back in VIGIE_SECRET_KEY (any place in "
           "the list)")
    return Check("secrets", FAIL,
                 f"{len(unreadable)} of {sealed} encrypted stored secret(s) cannot be opened "
                 f"with {'no key' if not settings.secret_keys else 'the keys set'}: {shown}; "
                 f"{fix}")


def run_checks(overrides: dict[str, object] | None = None) -> list[Check]:
    """Every check, in order; never raises."""
    try:
        settings = load_settings(**(overrides or {}))
    except ConfigError as err:
        return [Check("configuration", FAIL, line) for line in err.lines]
    checks = [Check("configuration", OK, "settings read from the environment and .env")]
    database = _database_checks(settings)
    checks += database
    checks += _slack_checks(settings)
    secrets = _secret_key_check(settings)
    if all(check.status == OK for check in database
           if check.name in ("database", "migrations")):
        secrets = _stored_secrets_check(settings, secrets)
    checks.append(secrets)
    checks.append(_llm_check(settings))
    return checks


def format_checks(checks: list[Check]) -> str:
    """The checks as an aligned table."""
    width = max(len(check.name) for check in checks)
    lines = [f"{'CHECK'.ljust(width)}  STATUS  DETAIL"]
    lines += [f"{c.name.ljust(width)}  {c.status.ljust(6)}  {c.detail}" for c in checks]
    return "\n".join(lines)
