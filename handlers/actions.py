"""Buttons: the alert card's actions and the listing's More button."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import influencers, opportunities, replies, workflow
from bot.services.errors import NeedsOverride, ServiceError
from bot.services.mention_search import MentionFilter
from bot.slack.cards import ACTION_PREFIX
from bot.slack.escape import escape
from bot.slack.influencer_blocks import TRACK_ACTION
from bot.slack.mention_views import MORE_ACTION
from bot.slack.modals import USE_SUGGESTION, build_assign_modal, build_reason_modal
from bot.slack.opportunity_blocks import USE_SUGGESTION as USE_OPP_SUGGESTION
from handlers.buttons import Click, on_button
from handlers.commands.workflow import (
    EXPIRED_TRIGGER,
    editor_not_opened,
    mention_page,
    opportunity_editor_not_opened,
)
from handlers.context import request_directory
from handlers.drafting import (
    editor_context,
    open_draft_editor,
    open_opportunity_editor,
    use_opportunity_suggestion,
    use_suggestion,
)
from handlers.home import refresh_home

log = logging.getLogger(__name__)

# \Z, not $: "$" also matches before a final newline, and "vigie.ignore\n" is no action.
CARD_ACTION = re.compile(
    r"^vigie\.(assign|draft|approve|reject|withdraw|replied|ignore|reopen|close|retry)\Z")
OPPORTUNITY_ACTION = re.compile(r"^vigie\.opp_(take|draft|contacted|dismiss|reopen)\Z")
OPPORTUNITY_VERBS = {"take": "assign", "contacted": "contacted", "dismiss": "dismiss",
                     "reopen": "reopen"}
FILTER_FIELDS = {"watch", "since", "status", "sentiment", "network", "assignee", "text",
                 "before_id", "topic"}
MAX_VALUE = 2000
"""Slack's limit for a button value: anything longer was not sent by a button of ours
(https://docs.slack.dev/reference/block-kit/block-elements/button-element)."""
MAX_SINCE = 9999 * 7 * 86400
"""The longest `since:` a listing accepts (9999w); a More button carries it in seconds."""
MAX_ID = 2**63 - 1
BUTTON_ID = re.compile(r"[0-9]{1,12}")
BUTTON_VALUE = re.compile(r"([0-9]{1,12})(?::v([0-9]{1,9}):([0-9a-f]{16,64}))?")
"""``ID`` or, on Approve and Reject, ``ID:vVERSION:HASH`` (ASCII digits only:
``"¹".isdigit()``)."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a card button names: the mention, and for Approve the draft version and text
    hash the approver was shown."""

    mention_id: int
    version: int | None = None
    digest: str | None = None


def _target(action: dict[str, Any]) -> Target | None:
    value = action.get("value")
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        return None
    match = BUTTON_VALUE.fullmatch(value)
    if match is None:
        return None
    version = int(match.group(2)) if match.group(2) else None
    return Target(int(match.group(1)), version, match.group(3))


def _filters_from(value: str) -> MentionFilter | None:
    """The filters a More button carries, or None when the value is not ours."""
    if len(value) > MAX_VALUE:
        return None
    try:
        state = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(state, dict):
        return None
    values: dict[str, Any] = {}
    for key, item in state.items():
        if key in {"since", "before_id"}:
            limit = MAX_SINCE if key == "since" else MAX_ID
            if not isinstance(item, int) or isinstance(item, bool) or not 0 <= item <= limit:
                return None
            values[key] = timedelta(seconds=item) if key == "since" else item
        elif key in FILTER_FIELDS:
            if not isinstance(item, str):
                return None
            values[key] = item
    return MentionFilter(**values)


MODAL_BUTTONS = {"assign": "card.button_assign", "reject": "card.button_reject",
                 "override": "card.button_approve"}
"""The card button that opens each of its modals (its label names the window)."""


def modal_not_opened(language: str, kind: str, mention_id: int, error: str) -> str:
    """Why a card button's modal (``kind``: assign, reject, override) did not open (Slack's
    ``error``), and what to do: click again, or the `/cm` command that does the same."""
    button = t(language, MODAL_BUTTONS[kind])
    if error in EXPIRED_TRIGGER:
        return t(language, "card.modal_expired", id=mention_id, button=button)
    return t(language, "card.modal_failed", id=mention_id, button=button,
             error=escape(error[:80]),
             command=t(language, f"card.modal_command_{kind}", id=mention_id))


def _open_or_tell(click: Click, mention_id: int, kind: str, open_it: Callable[[], object],
                  not_opened: Callable[[str], str]) -> None:
    """Open a card button's modal; when Slack refuses (most often a trigger id that
    expired or was already used, since the click's 3 seconds ran out) tell the clicker
    what to do instead of the generic apology."""
    try:
        open_it()
    except SlackApiError as err:
        code = str(err.response.get("error") or "?")
        log.warning("%s window for #%s not opened: %s", kind, mention_id, code)
        click.tell(not_opened(code))


def card_button(runtime: Runtime, click: Click) -> None:
    """An alert card's buttons: open a modal (assign, draft, reject, approve anyway) or
    change the mention; the card and its thread show the change, so no extra message."""
    ctx, body, client = click.ctx, click.body, click.client
    target = _target(click.action)
    name = str(click.action.get("action_id", "")).removeprefix(ACTION_PREFIX)
    if target is None or not CARD_ACTION.match(ACTION_PREFIX + name):
        return
    mention_id = target.mention_id
    if name == "draft":
        # Another refusal leaves the text fallback (/cm draft N your reply).
        _open_or_tell(click, mention_id, "draft", lambda: open_draft_editor(
            runtime, client, ctx, editor_context(runtime, ctx, mention_id, client),
            body["trigger_id"]), lambda code: editor_not_opened(
            ctx.language, mention_id, code, button=True))
        return
    if name in {"assign", "reject"}:
        workflow.check_allowed(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id,
                               name)
        # Reject rejects the version its button showed, or nothing (workflow.do_reject).
        bound = ({"version": target.version, "digest": target.digest}
                 if target.version is not None else None)
        view = (build_assign_modal(mention_id, ctx.language) if name == "assign"
                else build_reason_modal("reject", mention_id, ctx.language, bound))
        _open_or_tell(click, mention_id, name, lambda: client.views_open(
            trigger_id=body["trigger_id"], view=view), lambda code: modal_not_opened(
            ctx.language, name, mention_id, code))
        return
    if name == "approve":
        try:
            workflow.do_approve(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id,
                                version=target.version, digest=target.digest)
        except NeedsOverride:
            # The reason modal approves the version this button showed, or nothing.
            bound = {"version": target.version, "digest": target.digest}
            view = build_reason_modal("override", mention_id, ctx.language, bound)
            _open_or_tell(click, mention_id, "override", lambda: client.views_open(
                trigger_id=body["trigger_id"], view=view), lambda code: modal_not_opened(
                ctx.language, "override", mention_id, code))
            return
        runtime.nudge_replies()
    elif name == "retry":
        replies.do_retry_reply(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id)
        runtime.nudge_replies()
    elif name == "replied":
        workflow.do_mark_replied(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id)
    elif name == "withdraw":
        workflow.do_withdraw(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id)
    else:
        workflow.do_simple(runtime.sessions, ctx.workspace_id, ctx.actor, mention_id, name)
    runtime.nudge_outbox()
    refresh_home(runtime, client, ctx.workspace_id, [ctx.user_id])


def opportunity_button(runtime: Runtime, click: Click) -> None:
    """An opportunity's buttons, on its card or in App Home: take it, draft (the editor),
    mark contacted, dismiss, reopen. From App Home (no response URL) a refusal is sent to
    the clicker's DM and their Home is republished as things now are."""
    ctx = click.ctx
    target = _target(click.action)
    match = OPPORTUNITY_ACTION.match(str(click.action.get("action_id", "")))
    if target is None or match is None or target.version is not None:
        return
    try:
        if match.group(1) == "draft":
            try:
                open_opportunity_editor(runtime, click.client, ctx, target.mention_id,
                                        click.body["trigger_id"])
            except SlackApiError as err:
                # As the card's Draft button: what to do, not the generic apology.
                code = str(err.response.get("error") or "?")
                log.warning("opportunity editor for %s not opened: %s", target.mention_id,
                            code)
                _tell_clicker(click, opportunity_editor_not_opened(
                    ctx.language, target.mention_id, code))
            return
        opportunities.do_opportunity_action(runtime.sessions, ctx.workspace_id, ctx.actor,
                                            target.mention_id,
                                            OPPORTUNITY_VERBS[match.group(1)],
                                            users=request_directory(runtime, click.client, ctx))
    except ServiceError as err:
        if (click.body.get("container") or {}).get("type") != "view":
            raise
        click.client.chat_postMessage(channel=ctx.user_id, text=err.message(ctx.language))
        refresh_home(runtime, click.client, ctx.workspace_id, [ctx.user_id])
        return
    runtime.nudge_outbox()
    refresh_home(runtime, click.client, ctx.workspace_id, [ctx.user_id])


def _tell_clicker(click: Click, text: str) -> None:
    """Answer the clicker alone: ephemerally under a message, by DM from App Home (a view
    has no response URL)."""
    if (click.body.get("container") or {}).get("type") == "view":
        click.client.chat_postMessage(channel=click.ctx.user_id, text=text)
    else:
        click.tell(text)


def more_button(runtime: Runtime, click: Click) -> None:
    """A listing's More button: the next page, in place of this one."""
    ctx = click.ctx
    filters = _filters_from(str(click.action.get("value") or "{}"))
    if filters is None:
        return
    reply = mention_page(runtime, ctx.workspace_id, ctx.user_id, filters, ctx.language)
    click.respond(**reply.as_kwargs(), replace_original=True)


def track_button(runtime: Runtime, click: Click) -> None:
    """An influencer line's Track button."""
    ctx = click.ctx
    value = str(click.action.get("value") or "")
    if not BUTTON_ID.fullmatch(value):
        return
    handle, network = influencers.do_track_author(
        runtime.sessions, ctx.workspace_id, ctx.actor, author_id=int(value),
        now=runtime.clock())
    click.tell(t(ctx.language, "influencers.tracked", handle=escape(handle),
                 network=escape(network)))


def register(app: App, runtime: Runtime) -> None:
    """Attach the button listeners."""
    on_button(app, runtime, CARD_ACTION, card_button)
    on_button(app, runtime, OPPORTUNITY_ACTION, opportunity_button)
    on_button(app, runtime, MORE_ACTION, more_button)
    on_button(app, runtime, TRACK_ACTION, track_button)
    on_button(app, runtime, USE_SUGGESTION, use_suggestion)
    on_button(app, runtime, USE_OPP_SUGGESTION, use_opportunity_suggestion)

    @app.action(re.compile(r"^vigie\.open"))
    def on_link(ack: Ack) -> None:
        """URL buttons also send an action: acknowledge it."""
        ack()

    @app.action(re.compile(r"^vigie\."))
    def on_unknown(ack: Ack) -> None:
        """Any other action id of ours (forged, or from an older card, e.g. one ending in a
        newline): acknowledge it and do nothing. Registered last: Bolt runs the first
        listener that matches, so every real action above keeps its own."""
        ack()
