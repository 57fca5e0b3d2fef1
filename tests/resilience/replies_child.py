"""Child process of the reply crash test: post approved replies until none is pending.

Run as ``python tests/resilience/replies_child.py`` with ``VIGIE_DATABASE_URL`` set. It
builds the runtime as the worker does and calls ``flush_replies`` in a loop, printing
one line per flush that did something.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select

from bot.config import load_settings
from bot.runtime import build_runtime
from bot.services.http_clients import http_factory
from bot.services.replies import flush_replies
from bot.services.reply_queue import PENDING
from storage.models_replies import ReplyPost


def pending(runtime: object) -> int:
    """Queued replies not posted (or failed) yet."""
    with runtime.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(ReplyPost).where(
            ReplyPost.status == PENDING)) or 0)


def main() -> int:
    """Flush until no reply is pending; exit 0."""
    settings = load_settings()
    runtime = build_runtime(settings)
    try:
        while pending(runtime):
            outcomes = flush_replies(runtime.sessions, http_factory(settings), limit=5)
            if outcomes:
                print(" ".join(f"{o.mention_id}:{o.status}" for o in outcomes), flush=True)
            else:
                time.sleep(0.05)
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
