"""Child process of the outbox crash test: deliver the outbox until nothing is pending.

Run as ``python tests/resilience/outbox_child.py [INTERVAL]`` with ``VIGIE_DATABASE_URL``,
``SLACK_BOT_TOKEN`` and ``SLACK_API_URL`` set. It builds the runtime exactly as the
worker does (Slack notifier, card renderers) and flushes with ``wait=True`` in a loop;
only the per-channel pace is shortened (INTERVAL seconds, default 0.05) so a test does
not wait a second per card. Prints one line per flush that recovered or sent something.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.services.cards import register_card_renderers
from bot.services.outbox import OutboxSender


def main(argv: list[str]) -> int:
    """Flush until the outbox is empty; exit 0."""
    interval = float(argv[1]) if len(argv) > 1 else 0.05
    runtime = build_runtime(load_settings())
    try:
        outbox = OutboxSender(runtime.sessions, runtime.notifier,
                              per_channel_interval=interval)
        register_card_renderers(outbox)
        while outbox.pending_count():
            report = outbox.flush(wait=True)
            if report.sent or report.recovered:
                print(f"sent {report.sent} recovered {report.recovered} "
                      f"failed {report.failed}", flush=True)
            else:
                time.sleep(0.05)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
