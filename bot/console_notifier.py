"""The console implementation of the Notifier port, used when Slack is not configured."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, TextIO

from bot.services.ports import OutgoingMessage

RECENT = 1000


def _block_text(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    lines: list[str] = []
    if kind in {"section", "header"}:
        text = (block.get("text") or {}).get("text")
        if text:
            lines.append(text)
        lines.extend(field.get("text", "") for field in block.get("fields") or [])
    elif kind == "context":
        lines.append("  ".join(el.get("text", "") for el in block.get("elements") or []
                               if isinstance(el, dict)))
    elif kind == "actions":
        labels = [(el.get("text") or {}).get("text", "") for el in block.get("elements") or []]
        lines.append("[" + "] [".join(label for label in labels if label) + "]")
    elif kind == "divider":
        lines.append("-" * 40)
    return lines


def render_text(message: OutgoingMessage) -> str:
    """A readable plain-text rendering of a message's blocks (or its fallback text)."""
    if not message.blocks:
        return message.text
    return "\n".join(line for block in message.blocks for line in _block_text(block))


class ConsoleNotifier:
    """Prints alerts to a stream instead of posting them to Slack."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        # Recent messages only: enough to find a retried one, bounded for long runs.
        self._posted: deque[tuple[str, OutgoingMessage]] = deque(maxlen=RECENT)

    def _write(self, header: str, message: OutgoingMessage) -> None:
        with self._lock:
            print(f"\n=== {header} [{message.channel}] ===", file=self._stream)
            print(render_text(message), file=self._stream, flush=True)

    def post(self, message: OutgoingMessage) -> str:
        """Print the message; return a ts-like id."""
        ts = f"{int(time.time())}.{next(self._counter):06d}"
        self._posted.append((ts, message))
        self._write("thread reply" if message.thread_ts else "alert", message)
        return ts

    def update(self, ts: str, message: OutgoingMessage) -> None:
        """Print the updated card."""
        self._write(f"update of {ts}", message)

    def upload_file(self, channel: str, filename: str, content: bytes, *, title: str,
                    comment: str | None = None, thread_ts: str | None = None,
                    team_id: str | None = None) -> None:
        """Write the file to the working directory and say where."""
        path = Path(filename).name
        Path(path).write_bytes(content)
        with self._lock:
            print(f"\n=== file [{channel}] {title}: saved as ./{path} ({len(content)} bytes)"
                  + (f"\n{comment}" if comment else ""), file=self._stream, flush=True)

    def find_posted(self, channel: str, event_type: str, key: str, key_value: Any,
                    team_id: str | None = None, thread_ts: str | None = None) -> str | None:
        """Messages printed by this process, searched by metadata (nothing survives a restart)."""
        for ts, message in self._posted:
            payload = message.event_payload or {}
            if (message.channel == channel and message.event_type == event_type
                    and payload.get(key) == key_value):
                return ts
        return None
