"""The one shape of a button listener: acknowledge at once, then do the work in a Bolt lazy
listener, where a ServiceError becomes the user's ephemeral explanation and anything else
the apology (``handlers.errors``).

Lazy listeners run on the app's listener pool after the ack in Socket Mode and over HTTP
alike, and would still run after the HTTP response with ``process_before_response`` (FaaS),
which the app does not set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.services.errors import ServiceError
from bot.services.permissions import ANYONE, check_role
from handlers.commands.registry import Reply
from handlers.context import UserContext, installed_enterprise, user_context
from handlers.errors import apologize


@dataclass(frozen=True, slots=True)
class Click:
    """One button click, as a button's work needs it."""

    ctx: UserContext
    body: dict[str, Any]
    action: dict[str, Any]
    client: WebClient
    respond: Respond

    def tell(self, text: str) -> None:
        """Answer the clicker alone, leaving the message clicked as it is."""
        self.respond(text=text, response_type="ephemeral", replace_original=False)


ButtonWork = Callable[[Runtime, Click], None]


def _refuse(client: WebClient, body: dict[str, Any], respond: Respond, ctx: UserContext,
            err: ServiceError) -> None:
    """Tell the clicker why not: ephemerally under a message, by DM from App Home or a
    modal (they have no response URL)."""
    text = err.message(ctx.language)
    if (body.get("container") or {}).get("type") == "view":
        client.chat_postMessage(channel=ctx.user_id, text=text)
    else:
        respond(text=text, response_type="ephemeral", replace_original=False)


def on_button(app: App, runtime: Runtime, action_id: str | re.Pattern[str],
              work: ButtonWork) -> None:
    """Listen to the buttons ``action_id`` names: ack at once, then ``work`` lazily."""

    def ack_at_once(ack: Ack) -> None:
        ack()

    def after_ack(body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  respond: Respond, context: BoltContext) -> None:
        try:
            ctx = user_context(runtime, body, "button", client,
                               enterprise_id=installed_enterprise(context))
            try:
                # Every button, whatever it does: a guest no admin gave a role may not act.
                check_role(runtime.sessions, ctx.workspace_id, ctx.actor, ANYONE)
            except ServiceError as err:
                _refuse(client, body, respond, ctx, err)
                return
            try:
                work(runtime, Click(ctx, body, action, client, respond))
            except ServiceError as err:
                respond(**Reply.for_error(err, ctx.language).as_kwargs(),
                        replace_original=False)
        except Exception as err:  # noqa: BLE001  (Bolt only logs a lazy listener's errors)
            apologize(err, body, respond)

    # Bolt tells lazy listeners apart by name (in FaaS mode it runs them by name).
    after_ack.__name__ = after_ack.__qualname__ = work.__name__
    app.action(action_id)(ack=ack_at_once, lazy=[after_ack])
