"""Opening the draft editors (a mention's reply, an opportunity's message): at once with
what we have, then filled by the LLM if any."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import opportunities
from bot.services.drafting import DraftContext, draft_context
from bot.services.ratelimit import LLM_DRAFT
from bot.services.suggestions import suggest_reply
from bot.slack.modals import build_draft_modal
from bot.slack.opportunity_blocks import build_opportunity_draft_modal
from handlers.context import UserContext

log = logging.getLogger(__name__)


def editor_context(runtime: Runtime, ctx: UserContext, mention_id: int) -> DraftContext:
    """What the editor opens with, if the user may draft a reply to the mention now (the
    explanation otherwise): one load of the mention for the check and the editor."""
    return draft_context(runtime.sessions, ctx.workspace_id, mention_id,
                         link_allowlist=runtime.settings.reply_link_domains, actor=ctx.actor)


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
    note = t(ctx.language, "modal.llm_failed", error=suggestion.error) \
        if suggestion.error else t(ctx.language, "modal.llm_done")
    view: dict[str, Any] = opened.get("view") or {}
    try:
        client.views_update(view_id=view.get("id"), hash=view.get("hash"),
                            view=build_draft_modal(suggestion.context, ctx.language, note=note))
    except SlackApiError as err:
        # hash_conflict: the user already changed the view; their text wins.
        log.info("draft editor not updated: %s", err.response.get("error"))


def open_opportunity_editor(runtime: Runtime, client: WebClient, ctx: UserContext,
                            opportunity_id: int, trigger_id: str) -> None:
    """Open an opportunity's draft editor now (the saved draft, or empty); without a saved
    draft and with an LLM, ask it for a suggestion after, then update the editor."""
    start = opportunities.draft_start(runtime.sessions, ctx.workspace_id, ctx.actor,
                                      opportunity_id)
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
    suggested, error = opportunities.suggest_draft(runtime.sessions, runtime.llm, start)
    note = (t(ctx.language, "opp.llm_failed", error=error) if error
            else t(ctx.language, "opp.llm_done"))
    view: dict[str, Any] = opened.get("view") or {}
    try:
        client.views_update(view_id=view.get("id"), hash=view.get("hash"),
                            view=build_opportunity_draft_modal(suggested, ctx.language,
                                                               note=note))
    except SlackApiError as err:
        log.info("opportunity draft editor not updated: %s", err.response.get("error"))
