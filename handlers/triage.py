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
MENTION_ID = re.compile(r"[0-9]{1,12}")


def feedback_button(runtime: Runtime, click: Click) -> None:
    """A "Not urgent" or "Should have alerted" click: record the label, say so."""
    value = click.action.get("value")
    name = str(click.action.get("action_id", "")).removeprefix("vigie.").split(".")[0]
    if not isinstance(value, str) or not MENTION_ID.fullmatch(value):
        return
    outcome = triage_labels.do_feedback(runtime.sessions, click.ctx.workspace_id,
                                        click.ctx.actor, int(value), name)
    click.tell(outcome.message(click.ctx.language))
    runtime.nudge_outbox()


def register(app: App, runtime: Runtime) -> None:
    """Attach the feedback listener (before the catch-all of ``handlers.actions``)."""
    on_button(app, runtime, FEEDBACK_ACTION, feedback_button)
