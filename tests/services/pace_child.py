"""Child process of the shared-pace test: one more sender of the outbox.

Run as ``python tests/services/pace_child.py INTERVAL GO_FILE`` with ``VIGIE_DATABASE_URL``,
``SLACK_BOT_TOKEN`` and ``SLACK_API_URL`` set. It builds the runtime as the worker does,
prints ``ready``, waits for ``GO_FILE`` to exist (so that both senders start together),
then flushes every 20 ms, as a worker's tick and a web process's nudges would, until
nothing is pending (or a minute has gone by).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.services.outbox import OutboxSender

DEADLINE_SECONDS = 60.0


def main(argv: list[str]) -> int:
    """Flush until the outbox is empty; exit 0 (1 when the deadline passed first)."""
    interval, go = float(argv[1]), Path(argv[2])
    runtime = build_runtime(load_settings())
    try:
        outbox = OutboxSender(runtime.sessions, runtime.notifier,
                              per_channel_interval=interval)
        print("ready", flush=True)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not go.exists():
            if time.monotonic() > deadline:
                return 1
            time.sleep(0.01)
        while outbox.pending_count():
            if time.monotonic() > deadline:
                return 1
            outbox.flush()
            time.sleep(0.02)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
