"""Split ``intent/twcs_attention_dev.tsv`` into a tuning part and a held-out part.

    python -m bot.analysis.training.split_attention OUT_DIR [--data DIR] [--seed 1305]

Writes ``OUT_DIR/attention_tune.tsv`` and ``OUT_DIR/attention_heldout.tsv`` in the
``alert|digest<TAB>TEXT`` format of ``vigie eval attention``, plus ``*_full.tsv`` copies
with every column of the source file (for reading errors on the tuning part).

The file has no parent ids, so whole conversations cannot be rebuilt. Tweet ids of the
source data were handed out conversation by conversation, so tweets to the same brand
handle with nearby ids approximate one conversation: a group runs while the next tweet
(sorted by id) names the same first handle and its id is at most ``GAP`` further. Whole
groups go to one side, drawn with a fixed seed until the held-out side holds about
``HELD_OUT_SHARE`` of the tweets. Priority rules and the threshold are tuned on the
tuning part only; the held-out part is for reporting.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
from pathlib import Path

SOURCE = Path("intent") / "twcs_attention_dev.tsv"
GAP = 60
HELD_OUT_SHARE = 0.3
DEFAULT_SEED = 1305
_HANDLE_RE = re.compile(r"@(\w+)")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the tab-separated source file (no quoting)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise ValueError(f"{path.name}:{number}: expected {len(header)} columns")
    return header, rows


def conversation_groups(header: list[str], rows: list[list[str]]) -> list[list[list[str]]]:
    """Rows grouped into approximate conversations (see the module docstring)."""
    id_col, text_col = header.index("tweet_id"), header.index("text")
    ordered = sorted(rows, key=lambda r: int(r[id_col]))
    groups: list[list[list[str]]] = []
    last_id, last_handle = -10**9, None
    for row in ordered:
        match = _HANDLE_RE.search(row[text_col])
        handle = match.group(1).lower() if match else None
        tweet_id = int(row[id_col])
        if groups and handle == last_handle and tweet_id - last_id <= GAP:
            groups[-1].append(row)
        else:
            groups.append([row])
        last_id, last_handle = tweet_id, handle
    return groups


def split(groups: list[list[list[str]]], seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """``(tune, held_out)``: whole groups, shuffled with ``seed``, held-out filled first."""
    order = list(range(len(groups)))
    random.Random(seed).shuffle(order)
    total = sum(len(g) for g in groups)
    tune: list[list[str]] = []
    held: list[list[str]] = []
    for index in order:
        side = held if len(held) < HELD_OUT_SHARE * total else tune
        side.extend(groups[index])
    return tune, held


def write(out_dir: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    """``name.tsv`` (LABEL<TAB>TEXT) and ``name_full.tsv`` (all columns), sorted by id."""
    id_col, label_col = header.index("tweet_id"), header.index("attention")
    text_col = header.index("text")
    rows = sorted(rows, key=lambda r: int(r[id_col]))
    (out_dir / f"{name}.tsv").write_text(
        "".join(f"{r[label_col]}\t{r[text_col]}\n" for r in rows), encoding="utf-8")
    (out_dir / f"{name}_full.tsv").write_text(
        "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--data", type=Path, default=None,
                        help="shared data folder (default: $VIGIE_SHARED_DATA)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    data = args.data or Path(os.environ.get("VIGIE_SHARED_DATA", "../shared/data"))
    source = data / SOURCE
    if not source.exists():
        print(f"missing {source}: pass --data or set VIGIE_SHARED_DATA", file=sys.stderr)
        return 2
    header, rows = read_rows(source)
    groups = conversation_groups(header, rows)
    tune, held = split(groups, args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write(args.out_dir, "attention_tune", header, tune)
    write(args.out_dir, "attention_heldout", header, held)
    label = header.index("attention")
    for name, part in (("tune", tune), ("held-out", held)):
        alerts = sum(r[label] == "alert" for r in part)
        print(f"{name}: {len(part)} tweets ({alerts} alert, {len(part) - alerts} digest)")
    print(f"{len(groups)} approximate conversations; written to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
