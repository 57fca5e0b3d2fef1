"""The triage feedback buttons: "Not urgent" on an alert card, "Should have alerted" on the
digest's lines of mentions that waited. Each click is a label for triage learning."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.runtime import Runtime
from bot.services import triage_labels
from handlers.buttons import Click, on_button

# \Z, not $: "$" also matches before a final newline. A digest's buttons carry the mention
# id in their action id too (action ids must differ within a block); the value names it.
FEEDBACK_ACTION = re.compile(r"^vigie\.(not_urgent|should_alert\.[0-9]{1,12})\Z")
VALUE = re.compile(r"([0-9]{1,12})(?::w([0-9]{1,12}))?")
"""``ID``, or on a digest's line ``ID:wWATCH``: the watch whose digest lists the mention
(ASCII digits only). A digest posted before the watch was named carries ``ID`` alone."""


def feedback_button(runtime: Runtime, click: Click) -> None:
    """A "Not urgent" or "Should have alerted" click: record the label, say so. From a
    digest, the label judges the watch whose section listed the mention."""
    value = click.action.get("value")
    name = str(click.action.get("action_id", "")).removeprefix("vigie.").split(".")[0]
    match = VALUE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return
    watch_id = int(match.group(2)) if match.group(2) else None
    outcome = triage_labels.do_feedback(runtime.sessions, click.ctx.workspace_id,
                                        click.ctx.actor, int(match.group(1)), name,
                                        watch_id=watch_id)
    click.tell(outcome.message(click.ctx.language))
    runtime.nudge_outbox()


def register(app: App, runtime: Runtime) -> None:
    """Attach the feedback listener (before the catch-all of ``handlers.actions``)."""
    on_button(app, runtime, FEEDBACK_ACTION, feedback_button)
