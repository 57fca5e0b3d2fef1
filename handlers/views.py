"""Modal submissions: assign, draft editor, reject, approve anyway, an opportunity's draft."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import opportunities, workflow
from bot.services.errors import ServiceError
from bot.services.permissions import ANYONE, check_role
from bot.services.workflow import DraftBase, DraftOrigin, StaleDraft
from bot.slack.escape import truncate
from bot.slack.modals import (
    ASSIGN,
    DRAFT,
    OVERRIDE,
    REJECT,
    editor_base,
    risk_words,
    text_digest,
)
from bot.slack.opportunity_blocks import DRAFT_ACTION as OPP_DRAFT_ACTION
from bot.slack.opportunity_blocks import DRAFT_BLOCK as OPP_DRAFT_BLOCK
from bot.slack.opportunity_blocks import DRAFT_CALLBACK as OPP_DRAFT
from bot.slack.plaintext import mrkdwn_to_plain
from handlers.context import (
    installed_enterprise,
    request_directory,
    user_context,
    view_metadata,
)
from handlers.home import refresh_home

FIELDS = {ASSIGN: ("assignee", "user", "selected_user"), DRAFT: ("draft", "text", "value"),
          REJECT: ("reason", "text", "value"), OVERRIDE: ("reason", "text", "value"),
          OPP_DRAFT: (OPP_DRAFT_BLOCK, OPP_DRAFT_ACTION, "value")}


def _field(view: dict[str, Any], callback: str) -> tuple[str, str]:
    """The input's block_id as submitted and its value.

    The draft editor's block_id carries a suffix (``draft.<digest>``) that changes when
    Vigie replaces the text, so the block is found by its prefix.
    """
    block, action, key = FIELDS[callback]
    state = (view.get("state") or {}).get("values") or {}
    found = block
    for block_id, actions in state.items():
        if block_id == block or str(block_id).startswith(block + "."):
            found = str(block_id)
            value = ((actions or {}).get(action) or {}).get(key)
            if value:
                return found, str(value)
    return found, ""


def _mention_id(view: dict[str, Any]) -> int | None:
    value = view_metadata(view).get("mention_id")
    return value if isinstance(value, int) and value > 0 else None


def _bound_draft(view: dict[str, Any]) -> tuple[int | None, str | None]:
    """The draft version and text hash an "approve anyway" or Reject modal was opened for
    (None, None: a Reject modal opened from a button that carried neither)."""
    metadata = view_metadata(view)
    version, digest = metadata.get("version"), metadata.get("digest")
    return (version if isinstance(version, int) and not isinstance(version, bool) else None,
            digest if isinstance(digest, str) else None)


def _answering(view: dict[str, Any]) -> str | None:
    """The post the draft editor showed as the one answered (its external id), if any."""
    value = view_metadata(view).get("answering")
    return value if isinstance(value, str) and value else None


def _draft_base(view: dict[str, Any]) -> DraftBase | None:
    """What the draft editor showed when it opened (None: an editor opened before editors
    recorded it, saved as then)."""
    base = editor_base(view_metadata(view))
    return DraftBase(*base) if base is not None else None


def draft_origin(view: dict[str, Any], text: str) -> DraftOrigin:
    """The suggestion's origin if it was submitted unedited, else human."""
    metadata = view_metadata(view)
    if metadata.get("suggested") == text_digest(text):
        try:
            return DraftOrigin(str(metadata.get("origin")))
        except ValueError:
            pass
    return DraftOrigin.HUMAN


MAX_ERROR = 1900
"""Characters of an error under a modal's field (Slack shows it there, so it is cut)."""


def modal_error(err: ServiceError, language: str) -> str:
    """The service's reason as a modal shows it: plain text, which Slack does not read as
    mrkdwn (``*agent*`` would show its stars, ``&lt;`` as such), worded for the modal where
    the catalogue has a ``modal_error`` version (a `/cm` example means little there)."""
    return mrkdwn_to_plain(err.message(language, surface="modal_error"))


def _refuse_under_field(ack: Ack, block_id: str, err: ServiceError, language: str) -> None:
    """Keep the modal open with the service's reason under the field."""
    ack(response_action="errors", errors={block_id: truncate(modal_error(err, language),
                                                             MAX_ERROR)})


def register(app: App, runtime: Runtime) -> None:
    """Attach the view-submission listeners."""

    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                  client: WebClient, context: BoltContext) -> None:
        callback = str(view.get("callback_id"))
        ctx = user_context(runtime, body, "modal", client,
                           enterprise_id=installed_enterprise(context))
        mention_id = _mention_id(view)
        if callback not in FIELDS or mention_id is None:
            ack()
            return
        block_id, value = _field(view, callback)
        sessions, ws, actor = runtime.sessions, ctx.workspace_id, ctx.actor
        users = request_directory(runtime, client, ctx)
        try:
            check_role(sessions, ws, actor, ANYONE)
            if callback == ASSIGN:
                workflow.do_assign(sessions, ws, actor, mention_id, value, users=users)
            elif callback == DRAFT:
                workflow.do_save_draft(sessions, ws, actor, mention_id, value,
                                       origin=draft_origin(view, value),
                                       link_allowlist=runtime.settings.reply_link_domains,
                                       users=users, answering=_answering(view),
                                       based_on=_draft_base(view),
                                       names=users.without_asking())
            elif callback == REJECT:
                version, digest = _bound_draft(view)
                workflow.do_reject(sessions, ws, actor, mention_id, value, version=version,
                                   digest=digest)
            else:
                version, digest = _bound_draft(view)
                workflow.do_approve(sessions, ws, actor, mention_id, version=version,
                                    digest=digest, override_reason=value)
                runtime.nudge_replies()
        except StaleDraft as err:
            # A modal error is plain text under the field: the current draft goes with it.
            ack(response_action="errors", errors={block_id: (
                modal_error(err, ctx.language) + "\n\n" + err.draft.text)[:MAX_ERROR]})
            return
        except ServiceError as err:
            _refuse_under_field(ack, block_id, err, ctx.language)
            return
        ack()
        runtime.nudge_outbox()
        refresh_home(runtime, client, ws, [ctx.user_id] + ([value] if callback == ASSIGN else []))

    app.view(re.compile(r"^vigie\.modal\."))(on_submit)

    def on_opportunity_draft(ack: Ack, body: dict[str, Any], view: dict[str, Any],
                             client: WebClient, context: BoltContext) -> None:
        """An opportunity's draft editor: save the draft (never posted), or say under the
        field why not (empty, too long for the network, the opportunity gone or closed)."""
        ctx = user_context(runtime, body, "modal", client,
                           enterprise_id=installed_enterprise(context))
        opportunity_id = view_metadata(view).get("opportunity_id")
        if not isinstance(opportunity_id, int) or isinstance(opportunity_id, bool) \
                or opportunity_id <= 0:
            ack()
            return
        block_id, value = _field(view, OPP_DRAFT)
        base = view_metadata(view).get("base")
        try:
            check_role(runtime.sessions, ctx.workspace_id, ctx.actor, ANYONE)
            outcome = opportunities.do_opportunity_action(
                runtime.sessions, ctx.workspace_id, ctx.actor, opportunity_id, "draft",
                draft=value, users=request_directory(runtime, client, ctx),
                link_allowlist=runtime.settings.reply_link_domains,
                based_on=base if isinstance(base, str) else None)
        except opportunities.DraftOutdated as err:
            # A modal error is plain text under the field: the saved draft goes with it.
            ack(response_action="errors", errors={block_id: (
                modal_error(err, ctx.language) + "\n\n" + err.current)[:MAX_ERROR]})
            return
        except ServiceError as err:
            _refuse_under_field(ack, block_id, err, ctx.language)
            return
        ack()
        if outcome.risk_keys:  # a modal has no channel: what the check found goes to a DM
            client.chat_postMessage(channel=ctx.user_id, text=t(
                ctx.language, "opp.done", id=outcome.id,
                status=t(ctx.language, f"opp.status_{outcome.status}")) + "\n" + t(
                ctx.language, "opp.draft_warnings",
                warnings=risk_words(outcome.risk_keys, ctx.language)))
        runtime.nudge_outbox()
        refresh_home(runtime, client, ctx.workspace_id, [ctx.user_id])

    app.view(OPP_DRAFT)(on_opportunity_draft)
