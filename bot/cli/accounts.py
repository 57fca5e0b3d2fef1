"""`vigie account add|list|remove`: the brand's own accounts, from the terminal."""

from __future__ import annotations

import click

from bot import verbs
from bot.cli.common import cli_workspace, open_runtime, settings_or_exit, shared_command
from bot.cli.root import main
from bot.services.actors import CLI
from bot.services.errors import ServiceError

team_option = click.option("--team", default=None, help="Slack team id (several workspaces).")


@main.group()
def account() -> None:
    """The brand's own accounts: their posts mark cases replied, mentions to them are direct."""


def _run(team: str | None, action: str, network: str = "", handle: str = "") -> None:
    from bot.services import brand_accounts

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        ws = cli_workspace(runtime, team)
        try:
            if action == "list":
                views = brand_accounts.list_accounts(runtime.sessions, ws.id)
                if not views:
                    click.echo("No brand accounts yet: vigie account add x @acmecare")
                for view in views:
                    click.echo(f"{view.network:<11} {view.handle}")
                return
            if action == "add":
                view = brand_accounts.do_add_account(runtime.sessions, ws.id, CLI, network,
                                                     handle)
                click.echo(f"{view.handle} on {view.network} is now one of the brand's "
                           "accounts.")
            else:
                view = brand_accounts.do_remove_account(runtime.sessions, ws.id, CLI,
                                                        network, handle)
                click.echo(f"{view.handle} on {view.network} removed.")
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}", err=True)
            raise SystemExit(2) from None


@shared_command(account, verbs.ACCOUNT_ADD)
@team_option
def account_add(network: str, handle: str, team: str | None) -> None:
    """`vigie account add` (its help: ``verbs.ACCOUNT_ADD``, shared with `/cm`)."""
    _run(team, "add", network, handle)


@shared_command(account, verbs.ACCOUNT_LIST)
@team_option
def account_list(team: str | None) -> None:
    """`vigie account list` (its help: ``verbs.ACCOUNT_LIST``, shared with `/cm`)."""
    _run(team, "list")


@shared_command(account, verbs.ACCOUNT_REMOVE)
@team_option
def account_remove(network: str, handle: str, team: str | None) -> None:
    """`vigie account remove` (its help: ``verbs.ACCOUNT_REMOVE``, shared with `/cm`)."""
    _run(team, "remove", network, handle)
