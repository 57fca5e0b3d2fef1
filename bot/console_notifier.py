"""The console implementation of the Notifier port, used when Slack is not configured."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, TextIO

from bot.messages.delivery import LookupBudget, OutgoingMessage, metadata_matches
from bot.slack.plaintext import blocks_to_plain, mrkdwn_to_plain
from bot.slack.render import rendered

RECENT = 1000


CONSOLE_TS_PREFIX = "console-"
"""Marks the ids of messages printed here: they are no Slack message and have no permalink."""


def render_text(message: OutgoingMessage, zone: tzinfo = UTC) -> str:
    """A readable plain-text rendering of a message's blocks (or its fallback text): no
    Slack markup, dates in ``zone``."""
    message = rendered(message)
    if not message.blocks:
        return mrkdwn_to_plain(message.text, zone)
    return blocks_to_plain(message.blocks, zone)


class ConsoleNotifier:
    """Prints alerts to a stream instead of posting them to Slack."""

    def __init__(self, stream: TextIO | None = None, zone: tzinfo = UTC) -> None:
        self._stream = stream or sys.stdout
        self._zone = zone
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        # Recent messages only: enough to find a retried one, bounded for long runs.
        self._posted: deque[tuple[str, OutgoingMessage]] = deque(maxlen=RECENT)

    def _write(self, header: str, message: OutgoingMessage) -> None:
        with self._lock:
            print(f"\n=== {header} [{message.channel}] ===", file=self._stream)
            print(render_text(message, self._zone), file=self._stream, flush=True)

    def post(self, message: OutgoingMessage) -> str:
        """Print the message; return a ts-like id."""
        ts = f"{CONSOLE_TS_PREFIX}{int(time.time())}.{next(self._counter):06d}"
        message = rendered(message)
        self._posted.append((ts, message))
        self._write("thread reply" if message.thread_ts else "alert", message)
        return ts

    def update(self, ts: str, message: OutgoingMessage) -> None:
        """Print the updated card."""
        self._write(f"update of {ts}", message)

    def upload_file(self, channel: str, filename: str, content: bytes, *, title: str,
                    comment: str | None = None, thread_ts: str | None = None,
                    team_id: str | None = None,
                    on_file_id: Callable[[str], None] | None = None,
                    before_step: Callable[[], None] | None = None) -> None:
        """Write the file to the working directory and say where."""
        path = Path(filename).name
        Path(path).write_bytes(content)
        with self._lock:
            print(f"\n=== file [{channel}] {title}: saved as ./{path} ({len(content)} bytes)"
                  + (f"\n{mrkdwn_to_plain(comment, self._zone)}" if comment else ""),
                  file=self._stream, flush=True)

    def find_file(self, channel: str, file_id: str, team_id: str | None = None,
                  thread_ts: str | None = None, since: datetime | None = None, *,
                  budget: LookupBudget | None = None) -> bool:
        """Nothing to find: the console shares no file, and writing one again is harmless."""
        return False

    def find_all_posted(self, channel: str, event_type: str, key: str, key_value: Any,
                        team_id: str | None = None, thread_ts: str | None = None,
                        since: datetime | None = None, *,
                        also: Mapping[str, Any] | None = None,
                        token: tuple[str, Any] | None = None,
                        budget: LookupBudget | None = None) -> list[str]:
        """The messages printed by this process with this metadata (``metadata_matches``):
        the console posts each once."""
        return [ts for ts, message in self._posted if message.channel == channel
                and metadata_matches({"event_type": message.event_type,
                                      "event_payload": message.event_payload or {}},
                                     event_type, key, key_value, also, token)]

    def delete_file(self, file_id: str, team_id: str | None = None) -> None:
        """Say which written file no longer counts."""
        with self._lock:
            print(f"\n=== deleted file {file_id} ===", file=self._stream, flush=True)

    def check_token(self, team_id: str | None = None) -> None:
        """Nothing refuses: the console takes every message, as ``post`` does, so a
        workspace's outbox paused by a Slack process sharing the database resumes here as
        it would with its first message printed."""

    def delete(self, channel: str, ts: str, team_id: str | None = None) -> None:
        """Say which printed message no longer counts."""
        with self._lock:
            print(f"\n=== deleted {ts} [{channel}] ===", file=self._stream, flush=True)

    def find_posted(self, channel: str, event_type: str, key: str, key_value: Any,
                    team_id: str | None = None, thread_ts: str | None = None,
                    since: datetime | None = None) -> str | None:
        """Messages printed by this process, searched by metadata (nothing survives a restart)."""
        for ts, message in self._posted:
            payload = message.event_payload or {}
            if (message.channel == channel and message.event_type == event_type
                    and payload.get(key) == key_value):
                return ts
        return None
