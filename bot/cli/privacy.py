"""`vigie forget HANDLE`, `vigie purge --older-than DAYS` and `vigie workspace erase`."""

from __future__ import annotations

import click

from bot.cli.common import cli_workspace, open_runtime, settings_or_exit
from bot.cli.root import main
from bot.i18n import t
from bot.services.actors import CLI
from bot.services.errors import ServiceError


@main.command()
@click.argument("handle")
@click.option("--team", default=None, help="Slack team id (several workspaces).")
@click.option("--undo", is_flag=True,
              help="The person asks to be tracked again: let their posts be stored again.")
def forget(handle: str, team: str | None, undo: bool) -> None:
    """Delete an author's data everywhere and keep it from coming back (privacy request)."""
    from bot.services.privacy import do_compact_search_index, do_forget, do_unforget

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            if undo:
                do_unforget(runtime.sessions, workspace.id, CLI, handle)
            else:
                report = do_forget(runtime.sessions, workspace.id, CLI, handle)
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}", err=True)
            raise SystemExit(2) from None
        runtime.outbox.flush(wait=True)
        if not undo:
            # No one else waits here for the answer: the words go before the command ends.
            do_compact_search_index(runtime.sessions)
    if undo:
        click.echo(f"{handle} is no longer forgotten: their posts are stored again from the "
                   "next poll (what was deleted is not restored).")
        return
    if not report.authors:
        click.echo(t("en", "cli.privacy.forgotten_none", handle=handle.strip()))
        return
    click.echo(f"Deleted {report.authors} author record(s) and {report.mentions} mention(s); "
               "no source will store their posts again (undo: vigie forget --undo HANDLE).")


@main.command()
@click.option("--older-than", "days", type=click.IntRange(1, 36500), required=True,
              help="Days to keep.")
def purge(days: int) -> None:
    """Delete mentions found more than DAYS ago, keeping their counts.

    Stats, digests, share of voice and monthly reports keep the volumes, sentiment,
    networks and reach of purged days (counted per UTC hour). The posts themselves go:
    their text, authors, top posts and influencers, response times, SLA and topics.
    The posts it deleted are not stored again when a source brings them back. The
    Slack messages sent before then (digests, DMs, alerts, reports) leave the outbox.
    """
    from bot.services.privacy import do_compact_search_index, purge_older_than

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        purged = purge_older_than(runtime.sessions, days, runtime.clock())
        do_compact_search_index(runtime.sessions)
    click.echo(f"Purged {purged.mentions} mention(s) and {purged.messages} other Slack "
               f"message record(s) (digests, DMs, alerts, reports) older than {days} days.")


@main.group()
def workspace() -> None:
    """A workspace's data as a whole."""


@workspace.command("erase")
@click.option("--team", required=True, help="Slack team id of the workspace (T…).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True,
              help="Erase it even though Vigie is still installed there.")
def workspace_erase(team: str, yes: bool, force: bool) -> None:
    """Delete everything Vigie keeps about one workspace, for good.

    Its mentions, authors, cases, drafts, replies, outbox, digests, reports, audit trail,
    settings, forget suppressions, search index rows, and Slack's installation and bot
    tokens for the team. Refused while Vigie is installed there (uninstall it from Slack
    first) unless --force. Shows what it will delete and asks first, unless --yes.
    """
    from bot.services.erasure import do_erase_workspace, erase_plan
    from bot.slack.oauth import OAUTH_METADATA

    tokens = [OAUTH_METADATA.tables[name] for name in ("slack_installations", "slack_bots")]
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        try:
            plan = erase_plan(runtime.sessions, team, tokens)
            if plan.installed and not force:
                raise ServiceError("erase.installed", team=team)
            shown = f"{team} ({plan.name})" if plan.name else team
            click.echo(f"Erasing workspace {shown} deletes {plan.total} row(s):")
            for table, count in sorted(plan.rows.items()):
                click.echo(f"  {table}: {count}")
            if not yes and not click.confirm("Delete all of it? This cannot be undone"):
                click.echo("Nothing was deleted.")
                raise SystemExit(1)
            done = do_erase_workspace(runtime.sessions, team, force=force,
                                      token_tables=tokens)
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}", err=True)
            raise SystemExit(2) from None
    click.echo(f"Workspace {team} erased: {done.total} row(s) deleted.")
