"""Child process of the shared-polling test: one worker polling due sources.

Run as ``python tests/resilience/poll_worker_child.py LIMIT START_AT`` with
``VIGIE_DATABASE_URL`` set. After its imports it waits until the wall clock reaches
START_AT (so all workers claim at the same moment), then runs poll ticks of at most LIMIT
sources, exactly as the scheduler's job does, until a tick finds nothing due. Prints one
JSON line: ticks, sources claimed, failures, stored mentions.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.services.http_clients import http_factory
from bot.services.polling import run_poll_tick


def main(argv: list[str]) -> int:
    """Poll until nothing is due; print the figures as JSON."""
    limit, start_at = int(argv[1]), float(argv[2])
    settings = load_settings()
    runtime = build_runtime(settings)
    figures = {"pid": os.getpid(), "ticks": 0, "claimed": 0, "failures": 0, "stored": 0,
               "waited": round(start_at - time.time(), 2)}
    try:
        runtime.engine.connect().close()  # connect before the start line, like a warm worker
        time.sleep(max(0.0, start_at - time.time()))
        while True:
            report = run_poll_tick(runtime.sessions, http_factory(settings), limit=limit,
                                   concurrency=settings.poll_concurrency)
            if not report.outcomes:
                break
            figures["ticks"] += 1
            figures["claimed"] += len(report.outcomes)
            figures["failures"] += report.failures
            figures["stored"] += report.totals.stored
    finally:
        runtime.close()
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
