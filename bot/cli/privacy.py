"""`vigie forget HANDLE` and `vigie purge --older-than DAYS`."""

from __future__ import annotations

import click

from bot.cli.common import cli_workspace, open_runtime, settings_or_exit
from bot.cli.root import main
from bot.services.actors import CLI
from bot.services.errors import ServiceError


@main.command()
@click.argument("handle")
@click.option("--team", default=None, help="Slack team id (several workspaces).")
def forget(handle: str, team: str | None) -> None:
    """Delete an author's data everywhere (privacy request)."""
    from bot.services.privacy import do_forget

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            report = do_forget(runtime.sessions, workspace.id, CLI, handle)
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}", err=True)
            raise SystemExit(2) from None
        runtime.outbox.flush(wait=True)
    click.echo(f"Deleted {report.authors} author record(s) and {report.mentions} mention(s).")


@main.command()
@click.option("--older-than", "days", type=click.IntRange(1, 36500), required=True,
              help="Days to keep.")
def purge(days: int) -> None:
    """Delete mentions older than DAYS now, keeping daily aggregates."""
    from bot.services.privacy import purge_older_than

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        purged = purge_older_than(runtime.sessions, days, runtime.clock())
    click.echo(f"Purged {purged} mention(s) older than {days} days.")
