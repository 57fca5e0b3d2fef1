"""`vigie eval sentiment FILE.tsv [--lang xx] [--json] [--out PRED.tsv]`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.analysis.evaluate import evaluate_file, format_predictions, format_report
from bot.cli.root import main


@main.group(name="eval")
def eval_group() -> None:
    """Measure analysis quality on labelled data."""


@eval_group.command("sentiment")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default=None, help="Language of every line (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one 'SCORE<TAB>LABEL' line per input line.")
def eval_sentiment(file: Path, lang: str | None, as_json: bool, out: Path | None) -> None:
    """Score FILE's LABEL<TAB>TEXT lines: n, accuracy, macro-F1, per-class P/R/F1."""
    try:
        report = evaluate_file(file, lang=lang)
    except (OSError, ValueError) as err:
        click.echo(f"Error: {err}", err=True)
        raise SystemExit(2) from None
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else format_report(report))
    if out is not None:
        out.write_text(format_predictions(report), encoding="utf-8")
