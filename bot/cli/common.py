"""Helpers shared by the `vigie` subcommands: settings, runtime, the workspace to act on.

The `vigie` command imports every subcommand module to list them, so these modules import
only click at load time: settings (pydantic), the runtime (SQLAlchemy, services) and the
analysis are imported by the commands that use them, when they run. `vigie --help` and
`vigie --version` answer without loading them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from bot.cli.root import DATABASE_URL_META

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Runtime
    from bot.services.workspaces import WorkspaceRef
    from bot.verbs import SharedVerb

log = logging.getLogger("vigie")


class LazyChoice(click.Choice[str]):
    """A ``click.Choice`` whose choices come from ``load`` when first needed (checking a
    value, or the command's own ``--help``), not when the `vigie` command is imported."""

    def __init__(self, load: Callable[[], Iterable[str]], case_sensitive: bool = True) -> None:
        """Keep ``load`` for later; see ``click.Choice`` for ``case_sensitive``."""
        self._load = load
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple[str, ...]:
        """The choices, loaded once."""
        if self._choices is None:
            self._choices = tuple(self._load())
        return self._choices

    @choices.setter
    def choices(self, value: Iterable[str]) -> None:
        self._choices = tuple(value)


class LazyEpilogCommand(click.Command):
    """A ``click.Command`` whose epilog ``epilog_factory`` writes when its help is shown."""

    def __init__(self, *args: Any, epilog_factory: Callable[[], str], **kwargs: Any) -> None:
        """See ``click.Command``; ``epilog_factory`` gives the epilog's text."""
        super().__init__(*args, **kwargs)
        self._epilog_factory = epilog_factory

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Build the epilog (once), then write it as click does."""
        if self.epilog is None:
            self.epilog = self._epilog_factory()
        super().format_epilog(ctx, formatter)


def settings_or_exit(**overrides: Any) -> Settings:
    """Load settings and configure logging; print one line per problem and exit 2 if invalid."""
    from bot.config import ConfigError, load_settings
    from bot.logging_setup import configure_logging

    try:
        settings = load_settings(**overrides)
    except ConfigError as err:
        for line in err.lines:
            click.echo(f"Configuration error: {line}", err=True)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format.value)
    _remember_database(settings.database_url)
    return settings


def _remember_database(url: str) -> None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[DATABASE_URL_META] = url


@contextmanager
def open_runtime(settings: Settings, *, migrated: bool = True,
                 first_run: bool = False) -> Iterator[Runtime]:
    """The process's runtime; with ``migrated`` it first checks the schema is current
    (``first_run``: the command a first run starts with, see ``require_migrated``)."""
    from bot.runtime import build_runtime

    _remember_database(settings.database_url)
    runtime = build_runtime(settings)
    try:
        if migrated:
            require_migrated(runtime, first_run=first_run)
        yield runtime
    finally:
        runtime.close()


def require_sqlite_file(url: str, *, first_run: bool = False) -> None:
    """Exit with a clear line, naming the absolute path, when ``url`` is a SQLite file that
    does not exist: opening it would leave a new, empty database there (a relative URL
    found none in this folder). ``first_run`` says to create it with `vigie db upgrade`."""
    from bot.database_diagnosis import missing_sqlite_file, no_file_message, shown_location

    path = missing_sqlite_file(url)
    if path is None:
        return
    if first_run:
        click.echo(f"No database yet at {shown_location(url)}: run `vigie db upgrade` "
                   "first (it creates it).", err=True)
    else:
        click.echo(no_file_message(url, path), err=True)
    raise SystemExit(2)


NEWER_DATABASE_EXIT = 3
"""Exit code of `vigie db upgrade` and `vigie db downgrade` on a database a newer release
migrated: this version can do nothing to it, and saying so is no failure of the command
(the image's start goes on to its command on this code only, see docker/entrypoint.sh)."""


def newer_database_line(url: str, current: str, head: str | None) -> str:
    """The line every command stops with on a database a newer release migrated."""
    from bot.database_diagnosis import shown_location

    return (f"The database {shown_location(url)} is at {current}, newer than this Vigie "
            f"({head}): deploy the newer version.")


def require_migrated(runtime: Runtime, *, first_run: bool = False) -> None:
    """Exit with a clear line unless the database is reachable and at the newest revision
    (a database a newer release migrated is named as such: upgrading cannot help)."""
    from bot import schema_revision
    from bot.database_diagnosis import database_failure, shown_location

    url = runtime.settings.database_url
    require_sqlite_file(url, first_run=first_run)
    try:
        current = schema_revision.current_revision(runtime.engine)
    except Exception as err:  # noqa: BLE001  (a clear line instead of a traceback)
        click.echo(f"Database error: cannot open {database_failure(url, err)}", err=True)
        raise SystemExit(2) from None
    head = schema_revision.head_revision()
    if current is not None and current != head and schema_revision.is_newer(current):
        click.echo(newer_database_line(url, current, head), err=True)
        raise SystemExit(2)
    if current != head:
        state = f"is at {current}" if current else "was never migrated"
        click.echo(f"The database {shown_location(url)} {state} and Vigie needs {head}: "
                   "run `vigie db upgrade` first.", err=True)
        raise SystemExit(2)


def cli_workspace(runtime: Runtime, team: str | None = None) -> WorkspaceRef:
    """The workspace a local command acts on: ``--team``, else the only one there is
    (the console workspace when there is none yet)."""
    from sqlalchemy import select

    from bot.runtime import CONSOLE_TEAM_ID
    from storage.models import Workspace

    with runtime.sessions() as session:
        teams = list(session.scalars(select(Workspace.team_id).order_by(Workspace.id)))
    if team:
        if team not in teams:
            click.echo(f"No workspace {team!r}; known: {', '.join(teams) or 'none'}", err=True)
            raise SystemExit(2)
        return runtime.workspaces.ensure(team)
    if len(teams) > 1:
        click.echo(f"Several workspaces ({', '.join(teams)}): choose one with --team", err=True)
        raise SystemExit(2)
    return runtime.workspaces.ensure(teams[0] if teams else CONSOLE_TEAM_ID)


def shared_command(group: click.Group, verb: SharedVerb
                   ) -> Callable[[Callable[..., None]], click.Command]:
    """Register the decorated function as `vigie GROUP VERB` with ``verb``'s arguments (each
    passed by its ``param_names``) and help: the same definition `/cm` reads."""

    def decorate(func: Callable[..., None]) -> click.Command:
        # As stacked decorators apply: the last argument first.
        for metavar, param in reversed(list(zip(verb.args, verb.param_names(), strict=True))):
            func = click.argument(param, metavar=metavar.strip("[]"),
                                  required=not metavar.startswith("["))(func)
        return group.command(verb.name, help=verb.help)(func)

    return decorate
