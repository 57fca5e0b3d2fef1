"""`vigie digest --preview`, `vigie stats [--sov]` and `vigie export`: reports from the terminal."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO, cast

import click

from bot.cli.common import LazyChoice, cli_workspace, open_runtime, settings_or_exit
from bot.cli.outfile import check_output_file, write_atomically
from bot.cli.root import main
from bot.services.errors import ServiceError

team_option = click.option("--team", default=None, help="Slack team id (several workspaces).")


def _fail(err: ServiceError) -> None:
    click.echo(f"Error: {err.message(plain=True)}", err=True)
    raise SystemExit(2)


@main.command()
@click.option("--preview", is_flag=True, required=True,
              help="Print the digest of the last 24 hours here; nothing is posted.")
@click.option("--channel", default=None, help="Only this channel id (default: every digest "
                                               "channel).")
@team_option
def digest(preview: bool, channel: str | None, team: str | None) -> None:
    """Print the daily digest as it would be posted now."""
    from bot.services.reporting.digest import preview_digests
    from bot.slack.digest_blocks import blocks_as_text, build_digest_blocks

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            reports = preview_digests(runtime.sessions, workspace.id, now=runtime.clock(),
                                      default_timezone=settings.timezone, channel_id=channel)
        except ServiceError as err:
            _fail(err)
            return
    if not reports:
        click.echo("No channel gets a digest yet: add a watch (vigie watch add) or pass "
                   "--channel C0123ABCD.")
        return
    for config, report in reports:
        _text, blocks = build_digest_blocks(report, workspace.locale or "en")
        click.echo(f"--- #{config.channel_id} · daily at {config.local_time:%H:%M} "
                   f"{config.timezone_name} ---")
        click.echo(blocks_as_text(blocks, config.tz))


def _sov_formats() -> tuple[str, ...]:
    from bot.services.reporting.sov_export import FORMATS

    return ("text", *FORMATS)


@main.command()
@click.option("--period", default=None, help="7d, 30d or 90d; with --sov also 1d (default 7d).")
@click.option("--sov", is_flag=True, help="Share of voice of the watch groups.")
@click.option("--group", default=None, help="With --sov: only this group.")
@click.option("--format", "fmt", type=LazyChoice(_sov_formats), default="text",
              show_default=True, help="With --sov: text, csv or jsonl.")
@team_option
def stats(period: str | None, sov: bool, group: str | None, fmt: str, team: str | None
          ) -> None:
    """Statistics over a period, or (--sov) the share of voice of the watch groups."""
    from bot.services.actors import CLI
    from bot.services.reporting.share_of_voice import get_share_of_voice
    from bot.services.reporting.sov_export import write_sov
    from bot.services.reporting.stats import get_stats
    from bot.slack.digest_blocks import blocks_as_text, build_stats_blocks
    from bot.slack.opportunity_blocks import build_sov_blocks

    if not sov and (fmt != "text" or group is not None):
        raise click.UsageError("--format and --group apply to --sov only (the share of voice).")
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        language = workspace.locale or "en"
        try:
            if not sov:
                report = get_stats(runtime.sessions, workspace.id, CLI, period=period,
                                   now=runtime.clock(), default_timezone=settings.timezone)
                _text, blocks = build_stats_blocks(report, language)
                click.echo(blocks_as_text(blocks))
                return
            days, _zone, reports = get_share_of_voice(
                runtime.sessions, workspace.id, CLI, period=period, group=group,
                now=runtime.clock(), default_timezone=settings.timezone)
        except ServiceError as err:
            _fail(err)
            return
    if fmt != "text":
        write_sov(reports, sys.stdout, fmt)
        return
    _text, blocks = build_sov_blocks(days, reports, language)
    click.echo(blocks_as_text(blocks))


def _export_formats() -> tuple[str, ...]:
    from bot.services.export import FORMATS

    return FORMATS


@main.command()
@click.option("--since", default="30d", show_default=True, help="e.g. 24h, 7d, 30d.")
@click.option("--format", "fmt", type=LazyChoice(_export_formats), default="csv", show_default=True)
@click.option("--watch", "watch_name", default=None, help="Only this watch's mentions.")
@click.option("--text", default=None,
              help='Only mentions this search finds (words, "phrases", prefix*, -word).')
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
@team_option
def export(since: str, fmt: str, watch_name: str | None, text: str | None,
           output: Path | None, team: str | None) -> None:
    """Export mentions with their status, owner, reply and times (the last found first)."""
    from bot.services.export import export_mentions

    if output is not None:
        check_output_file(output, "--output")
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            if output is None:
                count = export_mentions(runtime.sessions, workspace.id, sys.stdout, since=since,
                                        fmt=fmt, now=runtime.clock(), watch=watch_name,
                                        text=text)
            else:
                # A byte-order mark makes spreadsheet apps read a CSV file as UTF-8 (as
                # `/cm export`'s); standard output, often a pipe, gets none.
                count = write_atomically(output, lambda handle: export_mentions(
                    runtime.sessions, workspace.id, cast(TextIO, handle), since=since,
                    fmt=fmt, now=runtime.clock(), watch=watch_name, text=text),
                    encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        except ServiceError as err:
            _fail(err)
            return
    if output is not None:
        click.echo(f"Exported {count} mention(s) to {output}.", err=True)


def _report_formats() -> tuple[str, ...]:
    from bot.services.reporting.monthly import FORMATS

    return tuple(FORMATS)


@main.command()
@click.option("--month", default=None, metavar="YYYY-MM",
              help="The month to report on (default: the last complete month).")
@click.option("--format", "fmt", type=LazyChoice(_report_formats), default="pdf",
              show_default=True)
@click.option("--out", "output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: vigie-report-YYYY-MM.pdf|html here).")
@team_option
def report(month: str | None, fmt: str, output: Path | None, team: str | None) -> None:
    """Build the monthly report for management (PDF or HTML, with charts)."""
    from bot.reports.monthly import render_html, render_pdf
    from bot.services.actors import CLI
    from bot.services.reporting import monthly

    if output is not None:
        check_output_file(output, "--out")
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        workspace = cli_workspace(runtime, team)
        try:
            built, spec = monthly.get_monthly_report(
                runtime.sessions, workspace.id, CLI, month=month,
                now=runtime.clock(), default_timezone=settings.timezone)
        except ServiceError as err:
            _fail(err)
            return
    content = render_pdf(spec) if fmt == "pdf" else render_html(spec).encode("utf-8")
    target = output or Path(monthly.report_filename(built.month, fmt))
    write_atomically(target, lambda handle: handle.write(content), binary=True)
    click.echo(f"Report of {built.month} ({built.total} mention(s)) written to {target}.",
               err=True)
