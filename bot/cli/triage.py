"""`vigie triage learn`: the per-workspace triage calibration (`/cm triage` shows it in Slack)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.cli.common import open_runtime, settings_or_exit
from bot.cli.root import main
from bot.services.actors import CLI
from bot.services.errors import ServiceError

if TYPE_CHECKING:
    from bot.services.triage_learning import LearnResult


@main.group()
def triage() -> None:
    """Triage learning: calibrate each workspace's alert thresholds on its team's labels."""


def _describe(result: LearnResult) -> str:
    from bot.services.triage_learning import MIN_LABELS, MIN_PER_CLASS, STEP
    from bot.slack.digest_blocks import signed
    from bot.slack.triage_blocks import ratio

    counts = result.counts
    line = (f"{result.team_id}: {result.outcome}; shift {signed(result.offset_before)} -> "
            f"{signed(result.offset_after)}")
    if result.proposed is not None:
        line += f" (labels asked for {signed(result.proposed)})"
    labels = counts.get("labels", 0)
    line += (f"; {labels} label{'' if labels == 1 else 's'} ({counts.get('positive', 0)} "
             f"wanted now, {counts.get('negative', 0)} could wait)")
    if result.outcome == "off":
        line += ("\n  triage learning is off for this workspace (/cm triage on in Slack); "
                 "nothing was changed")
    if result.outcome == "day_limit":
        line += (f"\n  the shift already moved {result.moved_today or STEP} points today (UTC), "
                 f"learning and resets together, and learning moves it at most {STEP} points "
                 f"a day; nothing was changed")
    if result.outcome == "too_few_labels":
        line += (f"\n  not enough labels to learn from: a run needs {MIN_LABELS}, with at least "
                 f"{MIN_PER_CLASS} of each kind; nothing was changed")
    if result.before is not None and result.after is not None:
        line += (f"\n  newest {result.before.labels} labels, not used to fit: precision "
                 f"{ratio(result.before.precision)} -> {ratio(result.after.precision)}, recall "
                 f"{ratio(result.before.recall)} -> {ratio(result.after.recall)}")
    return line


@triage.command()
@click.option("--workspace", "teams", multiple=True, metavar="TEAM_ID",
              help="Only this workspace (Slack team id); repeat for several. Default: all.")
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def learn(teams: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Fit each workspace's threshold shift on its labels (what the nightly job does)."""
    from bot.services.triage_learning import do_learn

    settings = settings_or_exit()
    with open_runtime(settings) as runtime:
        try:
            results = do_learn(runtime.sessions, CLI, teams, dry_run=dry_run)
        except ServiceError as err:
            click.echo(f"Error: {err.message(plain=True)}", err=True)
            raise SystemExit(2) from None
    if as_json:
        click.echo(json.dumps([{"team_id": r.team_id, "outcome": r.outcome,
                                "applied": r.applied, "dry_run": r.dry_run,
                                "offset_before": r.offset_before, "offset_after": r.offset_after,
                                "proposed": r.proposed, **r.figures} for r in results],
                              indent=2))
        return
    if not results:
        click.echo("No workspace yet.")
    for result in results:
        click.echo(_describe(result))
    if dry_run:
        click.echo("Dry run: nothing was changed.")

