"""`vigie settings [NAME VALUE]`: the workspace's rules from the terminal, as `/cm settings`
shows and changes them (same service, same audit event)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli.common import cli_workspace, open_runtime, settings_or_exit
from bot.cli.root import main
from bot.i18n import t
from bot.services.actors import CLI
from bot.services.errors import ServiceError

if TYPE_CHECKING:
    from bot.services.workspace_settings import WorkspaceSettings


def _lines(values: WorkspaceSettings) -> list[str]:
    from bot.services import workspace_settings

    return [t("en", f"settings.line_{name}", value=values.shown(name)).replace("`", "")
            for name in workspace_settings.SETTING_NAMES]


@main.command("settings")
@click.argument("name", required=False)
@click.argument("value", required=False)
@click.option("--team", default=None, help="Slack team id (several workspaces).")
def settings_command(name: str | None, value: str | None, team: str | None) -> None:
    """Show the workspace's rules, or set one: four_eyes on|off, default_role viewer|agent,
    backfill_hours 0-168, timezone ZONE (e.g. `vigie settings timezone Europe/Paris`),
    language en|fr (what Vigie posts in channels)."""
    from bot.services import workspace_settings

    if name is not None and value is None:
        click.echo("Usage: vigie settings (show them), vigie settings NAME VALUE, e.g. "
                   "vigie settings default_role viewer", err=True)
        raise SystemExit(2)
    config = settings_or_exit()
    with open_runtime(config) as runtime:
        ws = cli_workspace(runtime, team)
        try:
            if name is None or value is None:
                for line in _lines(workspace_settings.get_settings(runtime.sessions, ws.id)):
                    click.echo(line)
                return
            before = workspace_settings.get_settings(runtime.sessions, ws.id)
            after = workspace_settings.do_set_setting(runtime.sessions, ws.id, CLI, name,
                                                      value)
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}".replace("`", ""), err=True)
            raise SystemExit(2) from None
        key = name.strip().lower().replace("-", "_")
        if before.shown(key) == after.shown(key):
            click.echo(f"{key} is already {after.shown(key)}.")
        else:
            click.echo(f"{key} changed from {before.shown(key)} to {after.shown(key)}.")
