"""`vigie demo` and the start-up screen: what a newcomer sees first."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.cli.common import cli_workspace, open_runtime, settings_or_exit
from bot.cli.root import main

if TYPE_CHECKING:
    from bot.runtime import Runtime

DEMO_CHANNEL = "C0VIGIEDEMO"
"""Where the demo's alerts go in console mode (any id: they are printed)."""

FIRST_STEPS = """\
Nothing to watch yet. To see Vigie work:
  vigie demo            a watch on a bundled sample feed: alerts print here in seconds
To watch your brand:
  vigie watch add acme --channel C0123ABCD --query 'acme -jobs'
  vigie source add rss --watch acme --url https://news.example.com/feed.xml
  vigie source test 1   (what the source would bring, stores nothing)
Then keep `vigie run` running: sources are polled every few minutes, alerts print here.
Slack: README "Connect to Slack", then `vigie doctor`. Stop with Ctrl-C."""


def startup_lines(runtime: Runtime, workspace_id: int) -> list[str]:
    """What to do next, from what is set up: the first steps, a missing source, or a
    one-line summary of what is watched."""
    from bot.services import sources_admin, watches
    from bot.services.demo import DEMO_WATCH

    views = watches.list_watches(runtime.sessions, workspace_id)
    if not views:
        return FIRST_STEPS.splitlines()
    sources = sources_admin.list_sources(runtime.sessions, workspace_id)
    active = [s for s in sources if not s.paused]
    if not active:
        real = [v for v in views if v.name != DEMO_WATCH]
        if not real:  # the demo's only: its feed is gone, a real source belongs elsewhere
            return ["Only the demo watch is here (its sample feed is served only while "
                    "`vigie demo` runs).",
                    *FIRST_STEPS.splitlines()[3:6],
                    "  vigie demo --remove   deletes the demo watch and its fictional "
                    "mentions"]
        return [f"{len(views)} watch(es) and no active source: add one with",
                f"  vigie source add rss --watch {real[0].name} --url https://.../feed.xml"]
    return [f"Watching {len(views)} watch(es) with {len(active)} source(s); alerts print "
            "here. Stop with Ctrl-C."]


@main.command()
@click.option("--channel", default=None,
              help="Slack channel id for the demo's alerts (needed when Slack is connected).")
@click.option("--team", default=None, help="Slack team id (several workspaces).")
@click.option("--remove", is_flag=True,
              help="Delete the demo watch and its fictional mentions instead.")
def demo(channel: str | None, team: str | None, remove: bool) -> None:
    """Set up a demo watch on a bundled sample feed, poll it once and show the alerts
    (--remove: delete the demo watch and its fictional mentions)."""
    if remove:
        _remove_demo(team)
        return
    from bot.cli.listening import threshold_text
    from bot.demo import serve_sample_feed
    from bot.services.demo import DEMO_WATCH, do_bind_demo_watch, do_run_demo
    from bot.services.errors import ServiceError
    from bot.services.http_clients import http_factory

    settings = settings_or_exit()
    if channel is None and settings.has_slack:
        click.echo("Error: Slack is connected: give --channel C0123ABCD, a channel the bot "
                   "is in, for the demo's alerts.", err=True)
        raise SystemExit(2)
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            bound = do_bind_demo_watch(runtime.sessions, workspace.id, channel, DEMO_CHANNEL,
                                       notifier=runtime.notifier, team_id=workspace.team_id)
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}", err=True)
            raise SystemExit(2) from None
        if bound.moved_from:
            click.echo(f"Moved the watch {DEMO_WATCH!r} from {bound.moved_from} to {channel}: "
                       "its alerts go there now.")
        with serve_sample_feed() as url:
            click.echo(f"Serving the sample feed (fictional posts about 'Acme Cloud') at {url}")
            result = do_run_demo(runtime.sessions, workspace.id, http_factory(settings),
                                 feed_url=url, budget=settings.poll_source_budget_seconds)
        flushed = runtime.outbox.flush(wait=True, limit=1000)
    if result.error:
        click.echo(f"Error: the demo poll failed: {result.error}", err=True)
        raise SystemExit(1)
    verb = "Created" if bound.created else "Reused"
    click.echo(f"\n{verb} the watch {DEMO_WATCH!r} (query: {bound.watch.query}, alerts at "
               f"priority >= {threshold_text(bound.watch)}). Fetched {result.fetched} post(s): "
               f"{result.stored} new, "
               f"{result.filtered} filtered out by the query, {result.alerts} alert(s)"
               + (f" sent to Slack ({flushed.sent} message(s))." if settings.has_slack
                  else " printed above."))
    if not result.stored:
        click.echo("Nothing new: the demo already ran here, its mentions are stored.")
    click.echo("Next:\n"
               f"  vigie mentions --watch {DEMO_WATCH}       every stored mention, with why\n"
               "  vigie digest --preview              what waits for the daily digest\n"
               "  vigie watch test \"acme NOT refund\"  try a query on what is stored\n"
               "  vigie demo --remove                 when you are done (deletes its "
               "fictional mentions too)")


def _remove_demo(team: str | None) -> None:
    """``vigie demo --remove``."""
    from bot.services.demo import do_remove_demo
    from bot.services.errors import NotFound, ServiceError

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            removed = do_remove_demo(runtime.sessions, workspace.id)
        except NotFound:
            click.echo("There is no demo watch here: nothing to remove.")
            return
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}", err=True)
            raise SystemExit(2) from None
    click.echo(f"Removed the demo watch and {removed.mentions} fictional mention(s)"
               f" ({removed.authors} author(s))."
               + (f" {removed.kept} of its mention(s) stay: another watch holds them too."
                  if removed.kept else ""))
