"""Reply suggestions from an OpenAI-compatible LLM, in the brand's voice.

The prompt carries the voice guide, the mention (and its parent when stored; when the
customer wrote again in its case, their newest post and the conversation before it), the
author's earlier exchanges with the brand, the network's length limit and a few replies
the team approved before, for their style: never the posts they answered, and their
personal data scrubbed (``bot.replies.personal.scrub``), since a post steering the LLM
could otherwise get another customer's email or order number into its own draft. Mention
text is data, never instructions (see bot.replies.prompt).
A failure falls back to the template, with the reason in plain words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.llm import LLMClient, LLMError
from bot.messages.notes import Phrase
from bot.metrics import LLM_LATENCY
from bot.replies.limits import limit_for, measure
from bot.replies.personal import scrub
from bot.replies.prompt import (
    CUT_OFF_WARNING,
    LINK_DROPPED_WARNING,
    PromptMention,
    PromptTurn,
    build_messages,
    clean_answer,
)
from bot.services.cases import conversation
from bot.services.draft_checks import DraftAudience, foreign_data
from bot.services.drafting import DraftContext
from bot.services.workflow import latest_draft
from storage.models import Approval, Author, Draft, DraftOrigin, Mention, Workspace
from storage.models_cases import CasePost
from storage.repositories import latest_customer_post

logger = logging.getLogger("vigie.suggestions")

DEFAULT_VOICE = ("Friendly, concise and human. Thank people, acknowledge the problem, "
                 "say what happens next. No jargon, no promises of refunds or compensation.")
EXAMPLES = 3
PAST_EXCHANGES = 4


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The editor's new content, or why the LLM could not help (a phrase shown in the
    reader's language)."""

    context: DraftContext
    error: Phrase | None = None


def _approved_examples(session: Session, mention: Mention) -> list[str]:
    rows = session.execute(
        select(Draft.text, Author.name, Author.handle)
        .join(Mention, Draft.mention_id == Mention.id)
        .join(Approval, Approval.draft_id == Draft.id)
        .join(Author, Author.id == Mention.author_id, isouter=True)
        .where(Mention.workspace_id == mention.workspace_id, Approval.decision == "approved",
               Mention.id != mention.id, Mention.language == mention.language,
               Mention.intent == mention.intent)
        .order_by(Approval.id.desc()).limit(EXAMPLES)).all()
    return [scrub(answer, [name for name in (author_name, handle) if name])[:500]
            for answer, author_name, handle in rows]


def _past_exchanges(session: Session, mention: Mention, handle: str) -> list[PromptTurn]:
    if mention.author_id is None:
        return []
    earlier = session.execute(
        select(Mention.text, Draft.text)
        .join(Draft, Draft.mention_id == Mention.id, isouter=True)
        .join(Approval, Approval.draft_id == Draft.id, isouter=True)
        .where(Mention.author_id == mention.author_id, Mention.id != mention.id,
               (Approval.decision == "approved") | (Draft.id.is_(None)))
        .order_by(Mention.id.desc()).limit(PAST_EXCHANGES)).all()
    turns: list[PromptTurn] = []
    for text, answer in reversed(earlier):
        turns.append(PromptTurn(handle, text[:500]))
        if answer:
            turns.append(PromptTurn("brand", answer[:500], from_brand=True))
    return turns


def _thread(session: Session, mention: Mention, handle: str) -> list[PromptTurn]:
    if not mention.parent_external_id:
        return []
    parent = session.scalar(select(Mention).where(
        Mention.workspace_id == mention.workspace_id, Mention.network == mention.network,
        Mention.external_id == mention.parent_external_id))
    if parent is None:
        return []
    author = parent.author.handle if parent.author else "someone"
    return [PromptTurn(author, parent.text[:1000])]


def _case_thread(session: Session, mention: Mention, latest: CasePost) -> list[PromptTurn]:
    """The case's conversation before the customer's newest post ``latest``; when no
    brand post of it was read back, the reply Vigie last recorded for it closes it."""
    posts = [post for post in conversation(session, mention.workspace_id, mention.id)
             if post.mention_id != latest.mention_id]
    turns = [PromptTurn("brand" if post.by_brand else post.author, post.text[:1000],
                        from_brand=post.by_brand) for post in posts]
    sent = latest_draft(session, mention.id)
    if sent is not None and not any(post.by_brand for post in posts):
        turns.append(PromptTurn("brand", sent.text[:1000], from_brand=True))
    return turns


def reply_room(network: str, author_handle: str | None) -> int | None:
    """The room a suggestion has on ``network`` (None: no limit): its reply limit less
    the mention of ``author_handle`` put in front of it when posted (on Mastodon), so the
    reply as posted fits."""
    limit = limit_for(network)
    if limit is None:
        return None
    marker = "x"
    addressed = DraftAudience(network, "", author_handle=author_handle).as_posted(marker)
    return max(1, limit - (measure(addressed, network)[0] - measure(marker, network)[0]))


def build_prompt(session: Session, mention: Mention, language: str) -> list[dict[str, str]]:
    """The chat messages for this mention (system rules first, mention as data). When the
    customer wrote again in its case, the post to answer is their newest, and the thread
    is the conversation before it."""
    workspace = session.get(Workspace, mention.workspace_id)
    settings = (workspace.settings if workspace else None) or {}
    handle = mention.author.handle if mention.author else "someone"
    latest = latest_customer_post(session, mention)
    return build_messages(
        str(settings.get("voice") or DEFAULT_VOICE),
        PromptMention(text=(latest.text if latest else mention.text)[:4000], author=handle,
                      network=mention.network,
                      author_name=mention.author.name if mention.author else None,
                      title=None if latest else mention.title,
                      url=latest.url if latest else mention.url, intent=mention.intent,
                      sentiment=mention.sentiment_label),
        network_limit=reply_room(mention.network, handle) or 1000,
        language=language,
        thread=(_case_thread(session, mention, latest) if latest
                else _thread(session, mention, handle)),
        past_exchanges=_past_exchanges(session, mention, handle),
        approved_examples=_approved_examples(session, mention),
        brand_name=str(settings.get("brand_name") or "our team"),
    )


def suggest_reply(sessions: sessionmaker[Session], llm: LLMClient, context: DraftContext, *,
                  link_allowlist: list[str] | None = None) -> Suggestion:
    """Ask the LLM for a reply to ``context``'s mention; never raises for LLM failures."""
    with sessions() as session:
        mention = session.get(Mention, context.mention_id)
        if mention is None:
            return Suggestion(context, Phrase.of("llm_error.mention_gone"))
        messages = build_prompt(session, mention, context.language)
    try:
        result = llm.chat(messages)
        LLM_LATENCY.observe(result.latency_s)
    except LLMError as err:
        # The user sees the phrase; the provider's own words (key redacted by the client)
        # are what an operator needs to fix it.
        logger.warning("LLM suggestion for mention %s failed: %s (HTTP %s; provider said: %s)",
                       context.mention_id, err, err.status or "-",
                       err.provider_message or "-")
        return Suggestion(context, err.phrase)
    cut_off = result.cut_off
    audience = context.audience or DraftAudience(context.network, context.mention_text)
    answer = clean_answer(result.text,
                          reply_room(context.network, audience.author_handle) or 3000,
                          network=context.network, cut_off=cut_off)
    text = answer.text
    if not text:
        return Suggestion(context, Phrase.of(
            "llm_error.cut_off" if cut_off else "llm_error.empty_suggestion"))
    with sessions() as session:
        mention = session.get(Mention, context.mention_id)
        foreign = foreign_data(session, mention, text) if mention is not None else ()
    suggested = suggested_context(context, text, link_allowlist=link_allowlist,
                                  foreign=foreign)
    if cut_off:
        suggested = replace(suggested, risk_keys=(*suggested.risk_keys, CUT_OFF_WARNING))
    if answer.dropped_links:
        # Trimmed to the limit, the reply lost a link the LLM meant to give: say so.
        suggested = replace(suggested,
                            risk_keys=(*suggested.risk_keys, LINK_DROPPED_WARNING))
    return Suggestion(suggested)


def suggested_context(context: DraftContext, text: str, *,
                      link_allowlist: list[str] | None = None,
                      foreign: tuple[str, ...] = ()) -> DraftContext:
    """``context`` with the LLM's ``text`` in it: its origin, length and risks
    (``foreign``: its personal data found in other conversations, see ``foreign_data``)."""
    audience = context.audience or DraftAudience(context.network, context.mention_text)
    text = audience.as_posted(text)
    risk = audience.check(text, link_allowlist, foreign)
    used, limit = measure(text, context.network)
    return replace(context, text=text, origin=DraftOrigin.LLM, used=used, limit=limit,
                   risk_keys=tuple(f.message_key for f in risk.flags), risk_level=risk.level)
