"""Opening the draft editors (a mention's reply, an opportunity's message): at once with
what we have, then the LLM's suggestion beside the input if any, which replaces the input's
text only when the user presses "Use this suggestion"."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import opportunities
from bot.services.drafting import DraftContext, draft_context
from bot.services.errors import ServiceError
from bot.services.ratelimit import LLM_DRAFT
from bot.services.suggestions import suggest_reply, suggested_context
from bot.slack.modals import build_draft_modal, editor_base, suggestion_text
from bot.slack.opportunity_blocks import build_opportunity_draft_modal
from bot.slack.phrases import render_phrase
from handlers.context import UserContext, request_directory, view_metadata

if TYPE_CHECKING:  # handlers.buttons imports the commands, which import this module
    from handlers.buttons import Click

log = logging.getLogger(__name__)


def editor_context(runtime: Runtime, ctx: UserContext, mention_id: int,
                   client: WebClient | None = None) -> DraftContext:
    """What the editor opens with, if the user may draft a reply to the mention now (the
    explanation otherwise): one load of the mention for the check and the editor. With
    ``client``, Slack is asked about the user (one users.info) when their draft would make
    them the owner, as saving it would."""
    users = request_directory(runtime, client, ctx) if client is not None else None
    return draft_context(runtime.sessions, ctx.workspace_id, mention_id,
                         link_allowlist=runtime.settings.reply_link_domains, actor=ctx.actor,
                         users=users)


def open_draft_editor(runtime: Runtime, client: WebClient, ctx: UserContext,
                      context: DraftContext, trigger_id: str) -> None:
    """Open the editor now (the trigger expires in 3 s); ask the LLM after, then update."""
    allowlist = runtime.settings.reply_link_domains
    wants_llm = runtime.llm is not None and context.origin.value != "human"
    note = t(ctx.language, "modal.llm_working") if wants_llm else None
    refusal = runtime.limiter.check(LLM_DRAFT, ctx.workspace_id, ctx.user_id) if wants_llm else None
    if refusal is not None:  # over the LLM rate: the editor opens without a suggestion
        wants_llm = False
        note = t(ctx.language, "ratelimit.llm_note", seconds=refusal.retry_after)
    opened = client.views_open(
        trigger_id=trigger_id, view=build_draft_modal(context, ctx.language, note=note))
    if not wants_llm or runtime.llm is None:
        return
    suggestion = suggest_reply(runtime.sessions, runtime.llm, context, link_allowlist=allowlist)
    # The input keeps its block_id, so Slack keeps whatever the user typed meanwhile (typing
    # sends us nothing and leaves the hash alone); the suggestion waits beside it for the
    # user's "Use this suggestion".
    if suggestion.error:
        update = build_draft_modal(context, ctx.language, note=t(
            ctx.language, "modal.llm_failed",
            error=render_phrase(suggestion.error, ctx.language)))
    else:
        update = build_draft_modal(context, ctx.language, note=t(
            ctx.language, "modal.llm_ready"), suggestion=suggestion.context)
    _update(client, opened.get("view") or {}, update)


def open_opportunity_editor(runtime: Runtime, client: WebClient, ctx: UserContext,
                            opportunity_id: int, trigger_id: str) -> None:
    """Open an opportunity's draft editor now (the saved draft, or empty), if the user may
    draft for it (Slack is asked about them, as saving would, when their draft would make
    them its owner); without a saved draft and with an LLM, ask it for a suggestion after,
    then update the editor."""
    allowlist = runtime.settings.reply_link_domains
    start = opportunities.draft_start(runtime.sessions, ctx.workspace_id, ctx.actor,
                                      opportunity_id,
                                      users=request_directory(runtime, client, ctx),
                                      link_allowlist=allowlist)
    wants_llm = runtime.llm is not None and not start.has_draft
    note = t(ctx.language, "modal.llm_working") if wants_llm else None
    refusal = runtime.limiter.check(LLM_DRAFT, ctx.workspace_id, ctx.user_id) if wants_llm else None
    if refusal is not None:
        wants_llm = False
        note = t(ctx.language, "ratelimit.llm_note", seconds=refusal.retry_after)
    opened = client.views_open(trigger_id=trigger_id, view=build_opportunity_draft_modal(
        start, ctx.language, note=note))
    if not wants_llm or runtime.llm is None:
        return
    suggested, error = opportunities.suggest_draft(runtime.sessions, runtime.llm, start,
                                                   link_allowlist=allowlist)
    # As the mention editor: the input stays as the user left it, the suggestion waits.
    if error:
        update = build_opportunity_draft_modal(start, ctx.language, note=t(
            ctx.language, "opp.llm_failed", error=render_phrase(error, ctx.language)))
    else:
        update = build_opportunity_draft_modal(start, ctx.language, note=t(
            ctx.language, "opp.llm_ready"), suggestion=suggested)
    _update(client, opened.get("view") or {}, update)


def use_suggestion(runtime: Runtime, click: Click) -> None:
    """The draft editor's "Use this suggestion": the LLM's text replaces the input's (a new
    block_id, so Slack shows it), and is recorded as the LLM's until the user edits it."""
    view = click.body.get("view") or {}
    mention_id, text = view_metadata(view).get("mention_id"), suggestion_text(view)
    if not isinstance(mention_id, int) or text is None:
        return
    ctx = click.ctx
    try:
        context = editor_context(runtime, ctx, mention_id)
    except ServiceError as err:
        _tell(click, err)
        return
    chosen = suggested_context(context, text,
                               link_allowlist=runtime.settings.reply_link_domains)
    base = editor_base(view_metadata(view))
    if base is not None:
        # The editor still answers what it showed when it opened, not what stands now: a
        # version saved meanwhile must not be replaced unseen by the suggestion either.
        chosen = replace(chosen, base_version=base[0], base_approval=base[1])
    _update(click.client, view, build_draft_modal(
        chosen, ctx.language, note=t(ctx.language, "modal.llm_done"), replaced=True))


def use_opportunity_suggestion(runtime: Runtime, click: Click) -> None:
    """The opportunity editor's "Use this suggestion": the LLM's text replaces the input's,
    with its risk warnings."""
    view = click.body.get("view") or {}
    opportunity_id, text = view_metadata(view).get("opportunity_id"), suggestion_text(view)
    if not isinstance(opportunity_id, int) or text is None:
        return
    ctx = click.ctx
    try:
        start = opportunities.draft_start(runtime.sessions, ctx.workspace_id, ctx.actor,
                                          opportunity_id)
    except ServiceError as err:
        _tell(click, err)
        return
    chosen = opportunities.checked_start(start, text,
                                         link_allowlist=runtime.settings.reply_link_domains)
    base = view_metadata(view).get("base")
    if isinstance(base, str):
        # The editor still answers the draft it showed when it opened, not the one saved
        # now: a draft saved meanwhile must not be replaced unseen through the suggestion.
        chosen = replace(chosen, base=base)
    _update(click.client, view, build_opportunity_draft_modal(
        chosen, ctx.language, note=t(ctx.language, "opp.llm_done"),
        replaced=True))


def _update(client: WebClient, view: dict[str, Any], new: dict[str, Any]) -> None:
    try:
        client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=new)
    except SlackApiError as err:
        # hash_conflict: the view changed meanwhile (closed, or updated by another click).
        log.info("draft editor not updated: %s", err.response.get("error"))


def _tell(click: Click, err: ServiceError) -> None:
    """A click in a modal has no response URL: the refusal goes to the clicker's DM."""
    click.client.chat_postMessage(channel=click.ctx.user_id,
                                  text=err.message(click.ctx.language))
