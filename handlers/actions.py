"""Buttons: the alert card's actions and the listing's More button."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.runtime import Runtime
from bot.services import replies, workflow
from bot.services.errors import ServiceError
from bot.services.mention_search import MentionFilter
from bot.slack.cards import ACTION_PREFIX
from bot.slack.mention_views import MORE_ACTION
from bot.slack.modals import build_assign_modal, build_reason_modal
from handlers.commands.workflow import mention_page
from handlers.context import UserContext, user_context
from handlers.drafting import open_draft_editor
from handlers.home import refresh_home

CARD_ACTION = re.compile(
    r"^vigie\.(assign|draft|approve|reject|replied|ignore|reopen|close|retry)$")
FILTER_FIELDS = {"watch", "since", "status", "sentiment", "network", "assignee", "text",
                 "before_id"}


def _mention_id(action: dict[str, Any]) -> int | None:
    value = str(action.get("value") or "")
    return int(value) if value.isdigit() and len(value) <= 12 else None


def _filters_from(value: str) -> MentionFilter | None:
    """The filters a More button carries, or None when the value is not ours."""
    try:
        state = json.loads(value)
    except ValueError:
        return None
    if not isinstance(state, dict):
        return None
    values: dict[str, Any] = {}
    for key, item in state.items():
        if key in {"since", "before_id"}:
            if not isinstance(item, int) or isinstance(item, bool) or item < 0:
                return None
            values[key] = timedelta(seconds=item) if key == "since" else item
        elif key in FILTER_FIELDS:
            if not isinstance(item, str):
                return None
            values[key] = item
    return MentionFilter(**values)


def _run(runtime: Runtime, ctx: UserContext, name: str, mention_id: int, body: dict[str, Any],
         client: WebClient) -> bool:
    """Perform the clicked action; True when it changed the mention, False when a modal
    opened instead (the card and its thread show the change, so no extra message)."""
    if name in {"assign", "draft", "reject"}:
        workflow.check_allowed(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id,
                               name)
        if name == "draft":
            open_draft_editor(runtime, client, ctx, mention_id, body["trigger_id"])
            return False
        view = (build_assign_modal(mention_id, ctx.language) if name == "assign"
                else build_reason_modal("reject", mention_id, ctx.language))
        client.views_open(trigger_id=body["trigger_id"], view=view)
        return False
    if name == "approve":
        try:
            workflow.do_approve(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id)
        except ServiceError as err:
            if err.key != "workflow.needs_override":
                raise
            client.views_open(trigger_id=body["trigger_id"],
                              view=build_reason_modal("override", mention_id, ctx.language))
            return False
    elif name == "retry":
        replies.do_retry_reply(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id)
        runtime.nudge_replies()
        return True
    elif name == "replied":
        workflow.do_mark_replied(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id)
    else:
        workflow.do_simple(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id, name)
    return True


def register(app: App, runtime: Runtime) -> None:
    """Attach the button listeners."""

    @app.action(CARD_ACTION)
    def on_card_button(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                       client: WebClient, respond: Respond) -> None:
        ack()
        ctx = user_context(runtime, body, "button", client)
        mention_id = _mention_id(action)
        name = str(action.get("action_id", "")).removeprefix(ACTION_PREFIX)
        if mention_id is None:
            return
        try:
            changed = _run(runtime, ctx, name, mention_id, body, client)
        except ServiceError as err:
            respond(text=err.message(ctx.language), response_type="ephemeral",
                    replace_original=False)
            return
        if changed:
            if name == "approve":
                runtime.nudge_replies()
            runtime.nudge_outbox()
            refresh_home(runtime, client, ctx.workspace_id, [ctx.user_id])

    @app.action(MORE_ACTION)
    def on_more(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                respond: Respond) -> None:
        ack()
        ctx = user_context(runtime, body, "button")
        filters = _filters_from(str(action.get("value") or "{}"))
        if filters is None:
            return
        try:
            reply = mention_page(runtime, ctx.workspace_id, ctx.user_id, filters, ctx.language)
        except ServiceError as err:
            respond(text=err.message(ctx.language), response_type="ephemeral",
                    replace_original=False)
            return
        respond(**reply.as_kwargs(), replace_original=True)

    @app.action(re.compile(r"^vigie\.open"))
    def on_link(ack: Ack) -> None:
        """URL buttons also send an action: acknowledge it."""
        ack()
