"""`vigie influencers [--period] [--json]` and `vigie influencers track|untrack HANDLE
NETWORK`: the `/cm influencers` ranking and tracking from the terminal."""

from __future__ import annotations

import json

import click

from bot.cli.common import cli_workspace, open_runtime, settings_or_exit
from bot.cli.root import main

team_option = click.option("--team", default=None, help="Slack team id (several workspaces).")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(2)


@main.group(invoke_without_command=True)
@click.option("--period", default=None, help="7d, 30d or 90d (default 30d).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@team_option
@click.pass_context
def influencers(ctx: click.Context, period: str | None, as_json: bool, team: str | None
                ) -> None:
    """Who talked about the brand most (reach × engagement × frequency), as /cm influencers."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.services.actors import CLI
    from bot.services.errors import ServiceError
    from bot.services.influencers import get_influencers
    from bot.slack.digest_blocks import blocks_as_text
    from bot.slack.influencer_blocks import build_influencer_blocks

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            report = get_influencers(runtime.sessions, workspace.id, CLI, period=period,
                                     now=runtime.clock(), default_timezone=settings.timezone)
        except ServiceError as err:
            _fail(err.message(plain=True))
            return
    if as_json:
        click.echo(json.dumps({
            "days": report.days, "start": report.start.isoformat(),
            "end": report.end.isoformat(),
            "influencers": [{
                "handle": i.handle, "name": i.name, "network": i.network, "url": i.url,
                "followers": i.followers, "mentions": i.mentions, "engagement": i.engagement,
                "score": round(i.score, 3), "trend": i.trend, "tracked": i.tracked,
                "last_posts": [{"url": p.url, "published_at": p.published_at.isoformat(),
                                "sentiment": p.sentiment_label} for p in i.last_posts],
            } for i in report.ranked],
            "tracked": [{"network": n, "handle": h} for n, h in report.tracked],
        }, ensure_ascii=False, indent=2))
        return
    _text, blocks = build_influencer_blocks(report, workspace.locale or "en")
    # The ranking's hints name the slash command; here the same verb is a vigie one.
    click.echo(blocks_as_text(blocks).replace("/cm influencers", "vigie influencers"))


def _track(handle: str, network: str, team: str | None, *, track: bool) -> None:
    from bot.services.actors import CLI
    from bot.services.errors import ServiceError
    from bot.services.influencers import do_track, do_untrack, network_name

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            if track:
                stored, added = do_track(runtime.sessions, workspace.id, CLI, handle=handle,
                                         network=network, now=runtime.clock())
            else:
                stored = do_untrack(runtime.sessions, workspace.id, CLI, handle=handle,
                                    network=network)
        except ServiceError as err:
            _fail(err.message(plain=True))
            return
    name = network_name(network)
    if not track:
        click.echo(f"No longer tracking {stored} on {name}.")
    elif added:
        click.echo(f"Tracking {stored} on {name}: their new posts alert whatever their "
                   "priority.")
    else:
        click.echo(f"{stored} on {name} was already tracked.")


@influencers.command("track")
@click.argument("handle")
@click.argument("network")
@team_option
def track_command(handle: str, network: str, team: str | None) -> None:
    """Track an author: their new posts alert whatever their priority."""
    _track(handle, network, team, track=True)


@influencers.command("untrack")
@click.argument("handle")
@click.argument("network")
@team_option
def untrack_command(handle: str, network: str, team: str | None) -> None:
    """Stop tracking an author."""
    _track(handle, network, team, track=False)
