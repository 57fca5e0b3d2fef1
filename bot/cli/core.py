"""`vigie run`, `web`, `worker`, `db` and `doctor`."""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from bot.cli.common import open_runtime, settings_or_exit
from bot.cli.root import main

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.config import Settings
    from bot.runtime import Runtime
    from bot.slack.token_state import SlackTokenState

log = logging.getLogger("vigie")


@main.command()
def run() -> None:
    """Run everything in one process: Slack listener (Socket Mode, or HTTP) and scheduler.

    In Socket Mode and without Slack, webhook sources and GET /healthz are served on PORT
    (default 3000).

    Without Slack credentials, alerts are printed to the console.
    """
    # Start-up allocates ~100,000 long-lived objects and no garbage worth a collection:
    # prepare_worker_process collects once, freezes them and turns the collector back on.
    gc.disable()
    from bot.cli.demo import startup_lines
    from bot.i18n import t
    from bot.runtime import CONSOLE_TEAM_ID

    settings = settings_or_exit()
    with open_runtime(settings, first_run=True) as runtime:
        if not settings.has_slack:
            try:
                workspace = runtime.workspaces.ensure(CONSOLE_TEAM_ID)
                next_steps = startup_lines(runtime, workspace.id)
                click.echo(t("en", "app.console_mode"))
                for line in next_steps:
                    click.echo(line)
                # Webhook sources push their posts: without this front a console user
                # could add one and never see a post of it.
                front = _start_web_front(runtime, slack_events="no Slack: alerts print here")
                try:
                    _run_scheduler_until_stopped(runtime)
                finally:
                    if front is not None:
                        front.stop()
            except KeyboardInterrupt:  # Ctrl-C before the scheduler took over
                click.echo("Vigie stopped.")
            return
        if settings.socket_mode:
            _run_socket_mode(runtime)
            return
        if settings.slack_signing_secret is None:
            click.echo("Configuration error: SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN "
                       "(Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is.", err=True)
            raise SystemExit(2)
        scheduler = _start_background_scheduler(runtime)
        try:
            _serve_http(runtime, host="0.0.0.0", port=settings.port, workers=1,  # noqa: S104
                        fix="set PORT to a free port.")
        finally:
            scheduler.stop()


class _BackgroundScheduler:
    """A started background scheduler and what stops its jobs."""

    def __init__(self, runtime: Runtime) -> None:
        from bot.runtime import prepare_worker_process
        from bot.scheduler import ClockWatch, Stopping, build_scheduler, catch_up_clock

        prepare_worker_process(models_in_background=True)
        self._stopping = Stopping()
        self._scheduler = build_scheduler(runtime, blocking=False, stopping=self._stopping)
        self._scheduler.start()
        self._clock_watch = ClockWatch(
            self._scheduler, on_step_back=lambda now, step: catch_up_clock(runtime, now, step))
        self._clock_watch.start()

    def stop(self) -> None:
        """Stop it: a poll in flight cuts its fetches short and releases its sources."""
        self._clock_watch.stop()
        _stop_logged(self._scheduler, self._stopping)


def _stop_logged(scheduler: Any, stopping: Any) -> None:
    from bot.scheduler import STOP_GRACE_SECONDS, stop_scheduler

    if not stop_scheduler(scheduler, stopping):
        log.warning("jobs still running %.0f s after the stop: not waited for",
                    STOP_GRACE_SECONDS)


def _start_background_scheduler(runtime: Runtime) -> _BackgroundScheduler:
    return _BackgroundScheduler(runtime)


def _stop_on_signals() -> threading.Event:
    """An event SIGTERM and Ctrl-C (unless ignored) set from now on."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, lambda *_: stopped.set())
    return stopped


def _run_scheduler_until_stopped(runtime: Runtime,
                                 stopped: threading.Event | None = None) -> None:
    # SIGTERM (process managers, `docker stop`) and Ctrl-C stop the jobs in flight too: a
    # poll would otherwise fetch on for up to its budget after "Vigie stopped.". A signal
    # while the scheduler starts stops it as soon as it runs.
    stopped = stopped or _stop_on_signals()
    scheduler = None
    # Ctrl-C while the scheduler starts stops as cleanly as Ctrl-C later.
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler = _start_background_scheduler(runtime)
        while not stopped.wait(1.0):
            pass
    if scheduler is not None:
        scheduler.stop()
    click.echo("Vigie stopped.")


def _run_socket_mode(runtime: Runtime) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.doctor import app_token_fix
    from bot.slack.token_state import SlackTokenState

    settings = runtime.settings
    assert settings.slack_app_token is not None
    # A refused bot token does not stop this process either: it polls, holds what is for
    # Slack in the outbox and serves webhook sources; only Slack's requests need the token.
    token = SlackTokenState()
    app = _build_app_or_exit(
        runtime, on_refused=token.refused,
        starting="Starting anyway: sources are polled, what is for Slack waits in the "
                 "outbox, webhook sources and health checks are served and /readyz reports "
                 "the refused token until Slack accepts it again.")
    _follow_token(runtime, app, token)
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    front = _start_web_front(runtime, slack_refused=token.current)
    stopped = threading.Event()
    # Process managers and `docker stop` send SIGTERM: stop as on Ctrl-C (close the socket,
    # stop the scheduler) instead of dying mid-job.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    scheduler = None
    exit_code = 0

    def app_token_refused(err: Exception) -> None:
        answer = getattr(err, "response", None) or {}
        click.echo(app_token_fix(str(answer.get("error")), answer.get("needed"),
                                 answer.get("provided")), err=True)

    def refused_later(err: Exception) -> None:
        nonlocal exit_code
        app_token_refused(err)
        exit_code = 2
        stopped.set()

    def reconnect() -> None:
        handler.client.connect_to_new_endpoint()
        if not handler.client.is_connected():
            raise ConnectionError("the Socket Mode connection did not open")

    try:
        connected = True
        try:
            handler.connect()  # apps.connections.open with the app token, then the socket
        except (SlackClientError, OSError) as err:
            if isinstance(err, SlackApiError) and not _slack_unreachable(err):
                app_token_refused(err)
                raise SystemExit(2) from None
            # A network or DNS failure at boot, or Slack failing on its side: poll anyway
            # (the outbox keeps what is for Slack) and connect once Slack answers.
            connected = False
            click.echo(f"Warning: cannot reach {settings.slack_api_url} to open the Socket "
                       f"Mode connection ({_why(err)}): check the network or SLACK_API_URL. "
                       "Starting without it: sources are polled, and the connection is "
                       "tried again in the background.", err=True)
            _retry_slack(reconnect, refused=refused_later, stopped=stopped,
                         connected=lambda: click.echo(
                             "Vigie is connected to Slack in Socket Mode."))
        scheduler = _start_background_scheduler(runtime)
        if connected:
            click.echo("Vigie is connected to Slack in Socket Mode. Ctrl-C to stop.")
        # A timed wait keeps the main thread able to take Ctrl-C.
        while not stopped.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stopped.set()  # ends a background connection attempt
        handler.close()
        if front is not None:
            front.stop()
        if scheduler is not None:
            scheduler.stop()
    click.echo("Vigie stopped.")
    if exit_code:
        raise SystemExit(exit_code)


def _start_web_front(runtime: Runtime,
                     slack_events: str = "Slack events come over the socket", *,
                     slack_refused: Callable[[], str | None] | None = None) -> Any:
    """In Socket Mode or console mode, serve the web front without Slack's events endpoint
    on PORT, bound to VIGIE_SOCKET_MODE_WEB_HOST (this machine by default, ``off`` for
    none): webhook sources (POST /ingest/<source id>) and health checks would be
    unreachable otherwise. ``slack_events`` ends the start-up line (where Slack's events
    come from); ``slack_refused`` is as in :func:`bot.web.build_wsgi_app`. A PORT set on
    purpose that cannot be bound stops `vigie run`; the default one only warns (nothing
    may need it)."""
    from bot.server import BackgroundServer, WebLimits
    from bot.web import build_wsgi_app, served_endpoints

    port, host = runtime.settings.port, runtime.settings.socket_mode_web_host
    if host == "off":
        click.echo("Webhook sources and health checks are not served "
                   "(VIGIE_SOCKET_MODE_WEB_HOST=off).")
        return None
    try:
        front = BackgroundServer(build_wsgi_app(runtime, None, slack_refused=slack_refused),
                                 host, port, log_level=runtime.settings.log_level,
                                 limits=WebLimits.of(runtime.settings))
    except OSError as err:
        reason = _bind_reason(err)
        if "port" in runtime.settings.model_fields_set:  # PORT was set, not defaulted
            click.echo(f"Cannot serve webhooks and /healthz on PORT {port} ({reason}): "
                       "set PORT to a free port.", err=True)
            raise SystemExit(2) from None
        click.echo(f"Warning: port {port} is not free ({reason}), so webhook sources "
                   "(POST /ingest/<source id>) and GET /healthz are not served: their "
                   "senders cannot reach Vigie. Set PORT to a free port.", err=True)
        return None
    front.start()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Webhooks and health checks on http://{shown}:{front.port} "
               f"({served_endpoints(runtime.settings, slack=False)}); {slack_events}.")
    if host in ("127.0.0.1", "::1"):
        click.echo("Only this machine can reach them: set VIGIE_SOCKET_MODE_WEB_HOST=0.0.0.0 "
                   "for webhook senders elsewhere.")
    return front


SLACK_RETRY_CAP_SECONDS = 60.0
"""Longest wait between two tries to reach a Slack that could not be reached at start."""


def _slack_unreachable(err: BaseException) -> bool:
    """True when Slack could not be reached or failed on its side (network, DNS, timeout,
    HTTP 5xx or 429): worth trying again later. False for an answer that will not change
    by waiting (invalid_auth, token_revoked, account_inactive...)."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    if isinstance(err, SlackApiError):
        status = int(getattr(err.response, "status_code", 200) or 200)
        return status >= 500 or status == 429
    return isinstance(err, SlackClientError | OSError)


def _why(err: BaseException) -> str:
    """A short reason for a Slack failure, for one line."""
    from slack_sdk.errors import SlackApiError

    if isinstance(err, SlackApiError):
        return f"HTTP {getattr(err.response, 'status_code', '?')}"
    return f"{type(err).__name__}: {err}"[:200]


def _retry_slack(attempt: Callable[[], object], *, connected: Callable[[], None],
                 refused: Callable[[Exception], None],
                 stopped: threading.Event | None = None) -> threading.Thread:
    """Call ``attempt`` in a background thread until it works (then ``connected``), waiting
    1, 2, 4... seconds (at most SLACK_RETRY_CAP_SECONDS) while Slack is unreachable;
    ``refused`` when Slack answers with a refusal instead. Ends early once ``stopped``."""
    wait = threading.Event() if stopped is None else stopped

    def run() -> None:
        delay = 1.0
        while not wait.wait(delay):
            try:
                attempt()
            except Exception as err:  # noqa: BLE001  (sorted just below)
                if not _slack_unreachable(err):
                    refused(err)
                    return
                delay = min(delay * 2, SLACK_RETRY_CAP_SECONDS)
                log.warning("Slack is still unreachable (%s): trying again in %.0f s",
                            _why(err), delay)
                continue
            connected()
            return

    thread = threading.Thread(target=run, name="slack-retry", daemon=True)
    thread.start()
    return thread


def _error_code(err: Exception) -> str:
    """Slack's error code in ``err`` (``token_revoked``...), never the token."""
    return str(getattr(getattr(err, "response", None), "get", lambda _key: None)("error"))


def _refused_token_line(err: Exception) -> str:
    error = _error_code(err)
    return (f"Slack refused SLACK_BOT_TOKEN ({error}): check SLACK_BOT_TOKEN, or reinstall "
            "the app to the workspace (OAuth & Permissions > Reinstall) and copy the new "
            "xoxb- Bot User OAuth Token.")


def _build_app_or_exit(runtime: Runtime, *,
                       on_refused: Callable[[str], None] | None = None,
                       starting: str = "Starting without Slack: webhook sources and health "
                                       "checks are served, /readyz reports the refused "
                                       "token.") -> Any:
    """The Bolt app. When Slack cannot be reached (network, DNS, 5xx), warn and build it
    without checking the token: polling and the outbox go on, and the token is checked
    again in the background.

    When Slack refuses the bot token (token_revoked, invalid_auth...): without
    ``on_refused``, exit 2 with one line; with it (``vigie web`` and ``vigie run``, which
    serve webhook sources, and poll for the latter), log the line at ERROR, say
    ``starting``, hand Slack's error code to ``on_refused`` (``/readyz`` reports it) and
    build the app all the same. Its requests are still verified with the signing secret;
    while Slack refuses the token, a person's request is told so in the workspace's
    language (``handlers.guard.authorization_refusal``)."""
    from slack_sdk.errors import SlackApiError

    from bot.app import build_app

    def refused(err: Exception) -> None:
        log.error("%s", _refused_token_line(err))
        if on_refused is not None:
            on_refused(_error_code(err))

    try:
        return build_app(runtime.settings, runtime)
    except SlackApiError as err:
        if not _slack_unreachable(err):
            click.echo(_refused_token_line(err), err=True)
            if on_refused is None:
                raise SystemExit(2) from None
            refused(err)
            click.echo(starting, err=True)
            return build_app(runtime.settings, runtime, verify_token=False)
        failure: Exception = err
    except Exception as err:
        if not _slack_unreachable(err):
            log.debug("could not start the Slack app", exc_info=True)
            click.echo(f"Could not start the Slack app: {type(err).__name__}: {err}", err=True)
            raise SystemExit(2) from None
        failure = err
    click.echo(f"Warning: cannot reach Slack at {runtime.settings.slack_api_url} "
               f"({_why(failure)}): starting without it. Sources are polled, messages for "
               "Slack wait in the outbox, and Slack is tried again in the background.",
               err=True)
    app = build_app(runtime.settings, runtime, verify_token=False)
    _retry_slack(app.client.auth_test, refused=refused,
                 connected=lambda: log.warning("Slack is reachable again (auth.test ok)"))
    return app


def _web_app(settings: Settings) -> Any:
    """The WSGI app of one web process, with its own runtime."""
    from bot.runtime import build_runtime
    from bot.slack.token_state import SlackTokenState
    from bot.web import build_wsgi_app

    # Web processes acknowledge Slack; charts are drawn by the worker's outbox sender.
    worker_runtime = build_runtime(settings, draws_charts=False)
    # A refused bot token does not stop this process: it alone serves webhook sources.
    token = SlackTokenState()
    bolt_app = (_build_app_or_exit(worker_runtime, on_refused=token.refused)
                if settings.has_slack else None)
    if bolt_app is not None:
        _follow_token(worker_runtime, bolt_app, token)
    return build_wsgi_app(worker_runtime, bolt_app, slack_refused=token.current)


def _follow_token(runtime: Runtime, app: Any, token: SlackTokenState) -> None:
    """Keep ``token`` (what /readyz reports of SLACK_BOT_TOKEN) current: the outbox tells
    it each refusal and delivery, and while refused it checks with ``auth.test``. With
    several workspaces (OAuth) there is no SLACK_BOT_TOKEN, and none was refused at start:
    each workspace's outbox pauses and resumes on its own token."""
    if runtime.settings.oauth:
        return
    token.check = app.client.auth_test
    runtime.outbox.token_watch = token


def web_process_app() -> Any:
    """The ASGI app of a `vigie web --workers N` process (N > 1): each builds its own from
    the environment (Hypercorn imports this in every worker process)."""
    from bot.server import BufferedWSGI, WebLimits

    settings = settings_or_exit()
    return BufferedWSGI(_web_app(settings), limits=WebLimits.of(settings))


def _bind_reason(err: OSError) -> str:
    """Why a listening socket could not be bound, in the system's words."""
    return err.strerror or type(err).__name__


def _require_bindable(host: str, port: int, fix: str) -> None:
    """Exit 2 with one line (ending with ``fix``) when ``host:port`` cannot be listened on:
    the port is taken, or the host is no address of this machine. The server would
    otherwise stop with a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            probe.bind((host, port))
        except OSError as err:
            shown = f"[{host}]" if ":" in host else host
            click.echo(f"Cannot serve HTTP on {shown}:{port} ({_bind_reason(err)}): {fix}",
                       err=True)
            raise SystemExit(2) from None


def _serve_http(runtime: Runtime, *, host: str, port: int, workers: int, fix: str,
                notice: str | None = None) -> None:
    """Serve the HTTP app on ``host:port``; ``notice`` goes to stderr once the port is
    known to be free, before the start-up line."""
    from bot.server import WebLimits, serve, serve_processes, server_config

    settings = runtime.settings
    if settings.has_slack and settings.slack_signing_secret is None:
        click.echo("Configuration error: SLACK_SIGNING_SECRET is required in HTTP mode "
                   "(Basic Information > App Credentials > Signing Secret).", err=True)
        raise SystemExit(2)
    _require_bindable(host, port, fix)
    if notice:
        click.echo(notice, err=True)
    from bot.web import served_endpoints

    click.echo(f"Vigie HTTP app on http://{host}:{port} "
               f"({served_endpoints(settings, slack=settings.has_slack)})")
    config = server_config(host, port, workers=workers, log_level=settings.log_level)
    if workers == 1:
        serve(lambda: _web_app(settings), config, WebLimits.of(settings))
        return
    code = serve_processes("asgi:bot.cli.core:web_process_app()", config)
    if code:
        raise SystemExit(code)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on.")  # noqa: S104
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default: $PORT, else 3000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: 1 on SQLite, 2 otherwise).")
def web(host: str, port: int | None, workers: int | None) -> None:
    """Serve Slack's HTTP requests (POST /slack/events, with Slack credentials), webhook
    sources (POST /ingest/<source id>) and health checks (GET /healthz, /readyz)."""
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        if workers is None:
            workers = 1 if settings.is_sqlite else 2
        if settings.is_sqlite and workers > 1:
            click.echo("SQLite serves one process: use PostgreSQL for several workers.", err=True)
            raise SystemExit(2)
        # Nothing else can poll: SQLite serves one process, so no worker runs beside it.
        notice = ("Warning: vigie web runs no scheduler: sources are not polled and alerts, "
                  "digests and SLA notices are not sent. On SQLite run `vigie run` instead "
                  "(one process, the same HTTP endpoints in HTTP mode); with PostgreSQL run "
                  "`vigie worker` beside it.") if settings.is_sqlite else None
        _serve_http(runtime, host=host, port=port or settings.port, workers=workers,
                    fix="give a free --port (or PORT) and a --host of this machine.",
                    notice=notice)


@main.command()
def worker() -> None:
    """Run the scheduler only (polling, outbox, digests, SLA checks)."""
    gc.disable()  # until prepare_worker_process, as in `run`
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        front = _start_worker_front(runtime)
        stopped = _stop_on_signals()  # before the line a supervisor may wait for
        click.echo("Vigie worker started. Ctrl-C to stop.")
        try:
            _run_scheduler_until_stopped(runtime, stopped)
        finally:
            if front is not None:
                front.stop()


def _start_worker_front(runtime: Runtime) -> Any:
    """Serve the worker's health checks and metrics (GET /healthz, /readyz, /metrics; no
    Slack events, no webhooks) on VIGIE_WORKER_PORT, else PORT when set, bound to
    VIGIE_WORKER_WEB_HOST (this machine by default, ``off`` for none): its poll, ingest and
    digest counters live in this process, and a container's health check asks it. A port
    that cannot be bound only warns: polling matters more than being watched."""
    from bot.server import BackgroundServer, WebLimits
    from bot.web import build_wsgi_app, served_endpoints

    settings = runtime.settings
    host = settings.worker_web_host
    if host == "off":
        click.echo("Health checks and metrics are not served (VIGIE_WORKER_WEB_HOST=off).")
        return None
    if settings.worker_port is None and "port" not in settings.model_fields_set:
        # The default PORT is `vigie web`'s: taking it could stop a web started after us.
        click.echo("Health checks and metrics are not served: set VIGIE_WORKER_PORT (or "
                   "PORT) to serve GET /healthz, /readyz and /metrics.")
        return None
    port = settings.worker_port or settings.port
    try:
        front = BackgroundServer(build_wsgi_app(runtime, None, ingest=False), host, port,
                                 log_level=settings.log_level, limits=WebLimits.of(settings))
    except OSError as err:
        shown = f"[{host}]" if ":" in host else host
        click.echo(f"Warning: cannot serve health checks and metrics on {shown}:{port} "
                   f"({_bind_reason(err)}), so /healthz and /metrics go unanswered: set "
                   "VIGIE_WORKER_PORT to a free port (another than vigie web's on the same "
                   "machine), or VIGIE_WORKER_WEB_HOST=off.", err=True)
        return None
    front.start()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Health checks on http://{shown}:{front.port} "
               f"({served_endpoints(settings, slack=False, ingest=False)}).")
    return front


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: the newest)."""
    from bot.database_diagnosis import shown_location
    from storage import migrations
    from storage.db import make_engine, optimize

    settings = settings_or_exit()
    _refuse_memory_database(settings.database_url)
    _migrate(settings, lambda: migrations.upgrade(
        settings.database_url, revision,
        lock_timeout=settings.migration_lock_timeout_seconds,
        statement_timeout=settings.migration_statement_timeout_seconds))
    engine = make_engine(settings.database_url)
    try:  # new tables and indexes: give SQLite's planner statistics for them now
        optimize(engine)
        reached = _revision_of(engine)
    finally:
        engine.dispose()
    # Named: a relative SQLite URL creates the file in the current folder.
    click.echo(f"Database {shown_location(settings.database_url)} upgraded to {reached}.")


def _refuse_memory_database(url: str) -> None:
    """Exit with a clear line for an in-memory SQLite URL: migrating one is lost when the
    command ends, and saying "upgraded" would be untrue for every later command."""
    from bot.database_diagnosis import is_memory_database

    if is_memory_database(url):
        click.echo("VIGIE_DATABASE_URL names an in-memory SQLite database, which lives only "
                   "as long as one command: give a file, e.g. sqlite:///./vigie.db", err=True)
        raise SystemExit(2)


def _revision_of(engine: Engine) -> str:
    """The revision the database is at, as `vigie db current` names it."""
    from bot.schema_revision import current_revision

    return current_revision(engine) or "base (no tables)"


# ignore_unknown_options: "-1" (one step down, as the help says) is a revision, not an option.
@db.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (``base`` removes every table, ``-1`` one step)."""
    from bot.cli.common import require_sqlite_file
    from storage import migrations
    from storage.db import make_engine

    settings = settings_or_exit()
    _refuse_memory_database(settings.database_url)
    require_sqlite_file(settings.database_url)
    _migrate(settings, lambda: migrations.downgrade(
        settings.database_url, revision,
        lock_timeout=settings.migration_lock_timeout_seconds,
        statement_timeout=settings.migration_statement_timeout_seconds))
    engine = make_engine(settings.database_url)
    try:
        reached = _revision_of(engine)
    finally:
        engine.dispose()
    click.echo(f"Database downgraded to {reached}.")


@db.command("current")
def db_current() -> None:
    """Show the database's revision and the newest one."""
    from bot.database_diagnosis import missing_sqlite_file
    from bot.schema_revision import current_revision, head_revision
    from storage.db import make_engine

    settings = settings_or_exit()
    missing = missing_sqlite_file(settings.database_url)
    if missing is not None:  # opening it would leave an empty database file there
        click.echo(f"database: not migrated (no file at {missing}); newest: {head_revision()}")
        return
    engine = make_engine(settings.database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"database: {current or 'not migrated'}; newest: {head_revision()}")


def _refuse_newer_database(url: str) -> None:
    """Exit NEWER_DATABASE_EXIT with the line every other command stops with when a newer
    release migrated the database: Alembic knows no such revision, and its own message
    ("Can't locate revision") said neither what happened nor what to do."""
    from bot import schema_revision
    from bot.cli.common import NEWER_DATABASE_EXIT, newer_database_line
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        current = schema_revision.current_revision(engine)
    finally:
        engine.dispose()
    head = schema_revision.head_revision()
    if current is not None and current != head and schema_revision.is_newer(current):
        click.echo(newer_database_line(url, current, head), err=True)
        raise SystemExit(NEWER_DATABASE_EXIT)


def _migrate(settings: Settings, action: Any) -> None:
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from storage.migrations import MigrationBlocked

    try:
        _refuse_newer_database(settings.database_url)
        action()
    except MigrationBlocked as err:
        click.echo(f"Migration stopped: {err}", err=True)
        raise SystemExit(2) from None
    except CommandError as err:
        # Read again: the revision read before action() was read outside the migration
        # lock, so a newer release migrating at that moment was not seen yet; Alembic,
        # once the lock was let go, found the revision that release committed. A database
        # unreadable now keeps Alembic's own message below.
        with contextlib.suppress(SQLAlchemyError):
            _refuse_newer_database(settings.database_url)
        click.echo(f"Migration error: {err}", err=True)
        raise SystemExit(2) from None
    except OperationalError as err:  # the database refused: where, why, what to do
        from bot.database_diagnosis import database_failure

        log.debug("migration failed", exc_info=True)
        click.echo(f"Migration error: {database_failure(settings.database_url, err)}",
                   err=True)
        raise SystemExit(2) from None
    except Exception as err:
        if isinstance(err, SystemExit):
            raise
        log.debug("migration failed", exc_info=True)
        click.echo(f"Migration error: {type(err).__name__}: {err}", err=True)
        raise SystemExit(2) from None


@main.command()
def doctor() -> None:
    """Check configuration, database, migrations, Slack and the LLM; print what to fix."""
    from bot.doctor import FAIL, format_checks, run_checks

    checks = run_checks()
    click.echo(format_checks(checks))
    if any(check.status == FAIL for check in checks):
        sys.exit(1)

