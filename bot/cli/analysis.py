"""`vigie eval sentiment|attention|complaint FILE.tsv [--json] [--out PRED.tsv]`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.outfile import check_output_file, write_atomically
from bot.cli.root import main


def _write(out: Path, text: str) -> None:
    """Put the predictions in ``out`` whole (a failed write leaves the file as it was)."""
    write_atomically(out, lambda handle: handle.write(text))


@main.group(name="eval")
def eval_group() -> None:
    """Measure analysis quality on labelled data."""


def _sentiment_language(ctx: click.Context, param: click.Parameter, value: str | None
                        ) -> str | None:
    """``--lang`` of ``eval sentiment``: a language a sentiment model reads, or refused."""
    from bot.analysis.sentiment import SENTIMENT_LANGUAGES

    return _known_language(param, value, SENTIMENT_LANGUAGES)


def _complaint_language(ctx: click.Context, param: click.Parameter, value: str | None
                        ) -> str | None:
    """``--lang`` of ``eval complaint``: a language a complaint model ships for, or refused."""
    from bot.analysis.classifiers import MODEL_LANGUAGES

    return _known_language(param, value, tuple(sorted(MODEL_LANGUAGES["complaint"])))


def _known_language(param: click.Parameter, value: str | None, known: tuple[str, ...]
                    ) -> str | None:
    if value is None:
        return None
    lang = value.strip().lower()
    if lang not in known:
        raise click.BadParameter(f"no model reads '{value}': use one of {', '.join(known)} "
                                 "(or leave it out: each line's language is detected)",
                                 param=param)
    return lang


@eval_group.command("sentiment")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default=None, callback=_sentiment_language,
              help="Language of every line (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one 'SCORE<TAB>LABEL' line per input line.")
def eval_sentiment(file: Path, lang: str | None, as_json: bool, out: Path | None) -> None:
    """Score FILE's LABEL<TAB>TEXT lines: n, accuracy, macro-F1, per-class P/R/F1."""
    from bot.analysis.evaluate import evaluate_file, format_predictions, format_report

    if out is not None:
        check_output_file(out, "--out", input_file=file)
    try:
        report = evaluate_file(file, lang=lang)
    except (OSError, ValueError) as err:
        click.echo(f"Error: {err}", err=True)
        raise SystemExit(2) from None
    click.echo(json.dumps(report.to_json(), indent=2) if as_json else format_report(report))
    if out is not None:
        _write(out, format_predictions(report))


@eval_group.command("attention")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one 'PRIORITY<TAB>PREDICTED<TAB>REASON' line per input line.")
def eval_attention(file: Path, as_json: bool, out: Path | None) -> None:
    """Score FILE's alert|digest<TAB>TEXT lines: precision, recall and F1 of the alert
    class at the default threshold, and the threshold that maximises F1 on FILE.

    Each line is analysed as an X mention addressed to the brand, posted five minutes
    ago, author reach unknown, under a watch with default settings.
    """
    from bot.analysis.evaluate_attention import (
        evaluate_attention_file,
        format_attention_predictions,
        format_attention_report,
    )

    if out is not None:
        check_output_file(out, "--out", input_file=file)
    try:
        report = evaluate_attention_file(file)
    except (OSError, ValueError) as err:
        click.echo(f"Error: {err}", err=True)
        raise SystemExit(2) from None
    text = json.dumps(report.to_json(), indent=2) if as_json else format_attention_report(report)
    click.echo(text)
    if out is not None:
        _write(out, format_attention_predictions(report))


@eval_group.command("complaint")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--lang", default=None, callback=_complaint_language,
              help="Language of every line (default: detected).")
@click.option("--threshold", type=float, default=None,
              help="Probability from which a line is predicted a complaint "
                   "[default: the model's decision threshold, 0.5].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write one 'PROBABILITY<TAB>LABEL' line per input line.")
def eval_complaint(
    file: Path, lang: str | None, threshold: float | None, as_json: bool, out: Path | None
) -> None:
    """Score FILE's complaint|not_complaint<TAB>TEXT lines with the complaint model:
    n, accuracy, macro-F1, precision/recall/F1 of complaints, per-class figures."""
    from bot.analysis.evaluate_complaint import (
        DEFAULT_THRESHOLD,
        evaluate_complaint_file,
        format_complaint_predictions,
        format_complaint_report,
    )

    if out is not None:
        check_output_file(out, "--out", input_file=file)
    try:
        report = evaluate_complaint_file(
            file, lang=lang, threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
    except (OSError, ValueError) as err:
        click.echo(f"Error: {err}", err=True)
        raise SystemExit(2) from None
    click.echo(
        json.dumps(report.to_json(), indent=2) if as_json else format_complaint_report(report)
    )
    if out is not None:
        _write(out, format_complaint_predictions(report))
