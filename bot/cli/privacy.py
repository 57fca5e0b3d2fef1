"""`vigie forget HANDLE` and `vigie purge --older-than DAYS`."""

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
