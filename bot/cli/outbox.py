"""`vigie outbox`: what waits to reach Slack, what failed and why; requeue failed rows."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING

import click

from bot.cli.common import open_runtime, settings_or_exit
from bot.cli.root import main
from bot.services.errors import ServiceError

if TYPE_CHECKING:
    from bot.services.outbox_admin import OutboxHealth, PauseView

STATUS_CHOICES = ("all", "failed", "pending")
"""What ``--status`` lists: failed rows, pending rows (paused ones included), or both."""


def _statuses(choice: str) -> tuple[str, ...]:
    from bot.services.outbox_admin import FAILED, PENDING

    return {"failed": (FAILED,), "pending": (PENDING,), "all": (FAILED, PENDING)}[choice]


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def pause_reason(pause: PauseView) -> str:
    """Why a workspace's outbox is paused, for an operator: a refused token, or one Slack
    lets post nothing, with Slack's words (the scope it said is needed)."""
    if pause.uninstalled_at is not None:
        return (f"Slack said the app was uninstalled ({pause.error}) on "
                f"{_when(pause.uninstalled_at)}: nothing is sent there until it is installed "
                "again")
    if pause.posting_refused:
        return (f"Slack does not let the bot post ({pause.detail or pause.error}): reinstall "
                "the app with the scopes of manifest.yml")
    return f"Slack refuses the bot token ({pause.error})"


def health_lines(health: OutboxHealth, now: datetime) -> list[str]:
    """The outbox's health in a few lines (also what `vigie doctor` summarises)."""
    from bot.services.outbox_admin import age

    lines = [f"{health.pending} pending (oldest {age(health.oldest_pending_at, now)}), "
             f"{health.failed_last_day} failed in the last 24 h"]
    lines += [f"PAUSED {p.team_id} since {_when(p.paused_at)}: {pause_reason(p)}; "
              f"{p.waiting} waiting"
              + ("" if p.uninstalled_at is not None else f", next try {_when(p.next_probe_at)}")
              for p in health.paused]
    return lines


@main.group(invoke_without_command=True)
@click.option("--status", type=click.Choice(STATUS_CHOICES), default="all",
              show_default=True, help="Which rows to list (paused rows are pending).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def outbox(ctx: click.Context, status: str, limit: int, as_json: bool) -> None:
    """List what waits to reach Slack or failed, per channel, with its error and age."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.services.outbox_admin import FAILED, PAUSED, PENDING, age, list_rows, outbox_health
    from storage.models import utcnow

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        now = utcnow()
        health = outbox_health(runtime.sessions, now)
        rows = list_rows(runtime.sessions, statuses=_statuses(status), limit=limit)
    if as_json:
        click.echo(json.dumps({"health": asdict(health), "rows": [asdict(r) for r in rows]},
                              indent=2, default=str))
        return
    for line in health_lines(health, now):
        click.echo(line)
    if rows:
        click.echo(f"\n  {'ID':>7}  {'KIND':<11} {'STATUS':<7} {'TRIES':>5}  {'AGE':>7}  "
                   f"{'MENTION':>7}  ERROR")
    for channel, group in groupby(rows, key=lambda r: r.channel):
        click.echo(channel)
        for row in group:
            mention = str(row.mention_id) if row.mention_id is not None else "-"
            waits = (f" (next try in {age(now, row.next_attempt_at)})"
                     if row.status == PENDING and row.next_attempt_at > now else "")
            click.echo(f"  {row.id:>7}  {row.kind:<11} {row.status:<7} {row.attempts:>5}  "
                       f"{age(row.created_at, now):>7}  {mention:>7}  "
                       f"{row.last_error or ''}{waits}".rstrip())
    if any(r.status == FAILED for r in rows):
        click.echo("\nRequeue with `vigie outbox retry ID...` or "
                   "`vigie outbox retry --all-failed`.")
    if any(r.status == PAUSED for r in rows):
        fix = ("install the app in their workspace again" if settings.oauth else
               "reinstall the app, set its new xoxb- token as SLACK_BOT_TOKEN and restart"
               if settings.slack_bot_token is not None else
               "reinstall the app, or set a new SLACK_BOT_TOKEN and restart")
        click.echo(f"Paused rows go out by themselves once Slack accepts the token again "
                   f"({fix}).")


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all-failed", is_flag=True, help="Every failed row queued within --since.")
@click.option("--since", default="24h", show_default=True,
              help="With --all-failed: how far back (30m, 24h, 7d); older rows are stale.")
def outbox_retry(ids: tuple[int, ...], all_failed: bool, since: str) -> None:
    """Queue failed rows again (IDS from `vigie outbox`, or --all-failed)."""
    from bot.services.mention_search import parse_duration
    from bot.services.outbox_admin import do_retry_failed

    if bool(ids) == all_failed:
        click.echo("Give the ids of failed rows, or --all-failed (not both).", err=True)
        raise SystemExit(2)
    try:
        window = parse_duration(since) if all_failed else None
    except ServiceError:
        click.echo(f"--since {since!r}: use a duration such as 30m, 24h or 7d.", err=True)
        raise SystemExit(2) from None
    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        result = do_retry_failed(runtime.sessions, ids=ids, all_failed_since=window)
    if result.requeued:
        click.echo(f"Requeued {len(result.requeued)} rows: "
                   f"{', '.join(map(str, result.requeued))}. The worker (or `vigie run`) "
                   "sends them.")
    else:
        click.echo("Nothing requeued.")
    for row_id, reason in result.skipped:
        click.echo(f"Row {row_id} left alone: {reason}.", err=True)
    if ids and not result.requeued:
        raise SystemExit(1)
