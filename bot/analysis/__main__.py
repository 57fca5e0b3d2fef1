"""``python -m bot.analysis FILE.tsv [--lang xx] [--json] [--out PRED.tsv]``: evaluate sentiment.

The same report as ``vigie eval sentiment``, for use without the CLI (and in bench runs).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.analysis.evaluate import evaluate_file, format_predictions, format_report


def main(argv: list[str] | None = None) -> int:
    """Evaluate one labelled file and print its report."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.analysis", description="Evaluate sentiment on a labelled file."
    )
    parser.add_argument("file", type=Path, help="LABEL<TAB>TEXT lines")
    parser.add_argument("--lang", default=None, help="language of every line (else detected)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--out", type=Path, default=None, help="write per-line predictions")
    args = parser.parse_args(argv)
    try:
        report = evaluate_file(args.file, lang=args.lang)
    except (OSError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    print(json.dumps(report.to_json(), indent=2) if args.json else format_report(report))
    if args.out is not None:
        args.out.write_text(format_predictions(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
