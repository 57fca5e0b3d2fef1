"""Events Vigie has no use for (``member_joined_channel``, ``channel_archive``...): Slack
sends some whatever the app subscribes to, and retries any answer but a 2xx, so each is
acknowledged, not left to Bolt's 404."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

log = logging.getLogger(__name__)

ANY_EVENT = re.compile(r".*")


def register(app: App) -> None:
    """Attach the catch-all event listener; register it after every other one (Bolt runs
    the first listener that matches)."""

    def on_other_event(event: dict[str, Any]) -> None:
        log.debug("ignored Slack event %s", str(event.get("type"))[:80])

    app.event(ANY_EVENT)(on_other_event)
