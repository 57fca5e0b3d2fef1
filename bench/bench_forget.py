"""How long a forget keeps its caller waiting on SQLite, and the search index's compaction.

Usage: python bench/bench_forget.py --sqlite-file FILE [--handle @author7] [--repeat 3]

FILE is a SQLite database ``bench_search.py --sqlite-only --sqlite-file FILE`` built (its
mentions over 5,000 authors, each text in the full-text index). Each round copies it and
forgets ``--handle`` (``do_forget``, what `/cm forget` answers after), timed, then runs the
compaction the forget left due (``do_compact_search_index``, in the background since it
moved off the answer path), timed, and counts the index's segments after it (1: merged,
the deleted words gone). Run from an older checkout (no ``do_compact_search_index``), the
forget's time includes the compaction it ran itself. Prints one JSON object: seconds per round.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402

from bot.services import privacy  # noqa: E402
from bot.services.actors import CLI  # noqa: E402
from storage.db import make_engine, make_session_factory  # noqa: E402


def _round(source: Path, handle: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vigie-bench-forget-") as folder:
        copy = Path(folder) / "bench.db"
        shutil.copyfile(source, copy)
        engine = make_engine(f"sqlite:///{copy}")
        sessions = make_session_factory(engine)
        try:
            with sessions() as session:
                workspace_id = session.execute(text("SELECT min(id) FROM workspaces")).scalar()
                mentions = session.execute(text("SELECT count(*) FROM mentions")).scalar()
            began = time.perf_counter()
            report = privacy.do_forget(sessions, workspace_id, CLI, handle)
            answer = time.perf_counter() - began
            compaction = None
            compact = getattr(privacy, "do_compact_search_index", None)
            if compact is not None:
                began = time.perf_counter()
                compact(sessions)
                compaction = time.perf_counter() - began
            with sessions() as session:
                # One segment left: the rewrite ran (here, or inside the old forget).
                segments = session.execute(text(
                    "SELECT count(DISTINCT segid) FROM mention_search_fts_idx")).scalar()
        finally:
            engine.dispose()
    return {"mentions": mentions, "forgotten": report.mentions, "answer_s": answer,
            "compaction_s": compaction, "segments_after": segments}


def main() -> None:
    """Time ``--repeat`` forgets of ``--handle`` on copies of ``--sqlite-file``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-file", type=Path, required=True)
    parser.add_argument("--handle", default="@author7")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rounds = [_round(args.sqlite_file, args.handle) for _ in range(args.repeat)]
    answers = [r["answer_s"] for r in rounds]
    compactions = [r["compaction_s"] for r in rounds if r["compaction_s"] is not None]
    print(json.dumps({
        "sqlite": sqlite3.sqlite_version,
        "mentions": rounds[0]["mentions"],
        "forgotten_mentions": rounds[0]["forgotten"],
        "forget_answer_s": {"median": round(statistics.median(answers), 3),
                            "all": [round(a, 3) for a in answers]},
        "compaction_after_answer_s": {
            "median": round(statistics.median(compactions), 3),
            "all": [round(c, 3) for c in compactions]} if compactions else None,
        "index_segments_after": max(r["segments_after"] for r in rounds),
    }))


if __name__ == "__main__":
    main()
