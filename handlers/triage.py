"""The triage feedback buttons: "Not urgent" on an alert card, "Should have alerted" on the
digest's lines of mentions that waited. Each click is a label for triage learning."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.services import triage_labels
from bot.services.errors import ServiceError
from handlers.context import user_context

# \Z, not $: "$" also matches before a final newline. A digest's buttons carry the mention
# id in their action id too (action ids must differ within a block); the value names it.
FEEDBACK_ACTION = re.compile(r"^vigie\.(not_urgent|should_alert\.[0-9]{1,12})\Z")
MENTION_ID = re.compile(r"[0-9]{1,12}")


def register(app: App, runtime: Runtime) -> None:
    """Attach the feedback listener (before the catch-all of ``handlers.actions``)."""

    @app.action(FEEDBACK_ACTION)
    def on_feedback(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                    client: WebClient, respond: Respond) -> None:
        ack()
        ctx = user_context(runtime, body, "button", client)
        value = action.get("value")
        name = str(action.get("action_id", "")).removeprefix("vigie.").split(".")[0]
        if not isinstance(value, str) or not MENTION_ID.fullmatch(value):
            return
        try:
            outcome = triage_labels.do_feedback(runtime.sessions, ctx.workspace_id, ctx.actor,
                                                int(value), name)
        except ServiceError as err:
            respond(text=err.message(ctx.language), response_type="ephemeral",
                    replace_original=False)
            return
        respond(text=outcome.message(ctx.language), response_type="ephemeral",
                replace_original=False)
        runtime.nudge_outbox()
