"""Helpers shared by the `vigie` subcommands: settings, runtime, the workspace to act on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import select

from bot.config import ConfigError, Settings, load_settings
from bot.logging_setup import configure_logging
from bot.runtime import CONSOLE_TEAM_ID, Runtime, build_runtime
from bot.services.workspaces import WorkspaceRef
from storage import migrations
from storage.models import Workspace

log = logging.getLogger("vigie")


def settings_or_exit(**overrides: Any) -> Settings:
    """Load settings and configure logging; print one line per problem and exit 2 if invalid."""
    try:
        settings = load_settings(**overrides)
    except ConfigError as err:
        for line in err.lines:
            click.echo(f"Configuration error: {line}", err=True)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format.value)
    return settings


@contextmanager
def open_runtime(settings: Settings, *, migrated: bool = True) -> Iterator[Runtime]:
    """The process's runtime; with ``migrated`` it first checks the schema is current."""
    runtime = build_runtime(settings)
    try:
        if migrated:
            require_migrated(runtime)
        yield runtime
    finally:
        runtime.close()


def require_migrated(runtime: Runtime) -> None:
    """Exit with a clear line unless the database is reachable and at the newest revision."""
    try:
        current = migrations.current_revision(runtime.engine)
    except Exception as err:  # noqa: BLE001  (a clear line instead of a traceback)
        click.echo(f"Database error: cannot open {runtime.settings.database_url.split('@')[-1]} "
                   f"({type(err).__name__}); check VIGIE_DATABASE_URL", err=True)
        raise SystemExit(2) from None
    head = migrations.head_revision()
    if current != head:
        click.echo(f"The database is at {current or 'nothing'} and Vigie needs {head}: "
                   "run `vigie db upgrade` first.", err=True)
        raise SystemExit(2)




def cli_workspace(runtime: Runtime, team: str | None = None) -> WorkspaceRef:
    """The workspace a local command acts on: ``--team``, else the only one there is
    (the console workspace when there is none yet)."""
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
