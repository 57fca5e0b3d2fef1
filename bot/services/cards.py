"""Reading a mention's card state from the database, and the outbox renderers for cards."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.analysis.conversation import direct_handle
from bot.messages.cards import CardSpec, CardView, StoryMember
from bot.messages.delivery import OutgoingMessage
from bot.services.cases import case_summary
from bot.services.mention_search import language_read, topic_names_of
from bot.services.notifications import register_notification_renderers
from bot.services.opportunities import register_opportunity_renderers
from bot.services.outbox import (
    EVENT_TYPE_MENTION,
    KIND_CARD,
    KIND_UPDATE_CARD,
    OutboxSender,
    message_metadata,
)
from bot.services.reply_policy import card_actions
from bot.services.reply_queue import (
    FAILED,
    PENDING,
    RATE_LIMITED,
    can_post,
    failure_reason,
    latest_reply,
)
from bot.services.sla import due_at, received_at
from bot.services.triage_labels import card_offers_not_urgent
from bot.services.watch_links import watch_names
from bot.services.workflow import allowed_actions, latest_draft, text_hash
from bot.services.workspaces import workspace_language
from bot.sources.base import anonymous_handle
from storage.models import Author, Mention, OutboxMessage, OutboxStatus, Watch

STORY_MEMBERS_SHOWN = 8
"""The card names this many of a story's posts; it counts them all."""


def load_card_view(session: Session, mention_id: int, channel: str | None = None
                   ) -> CardView | None:
    """The card's data for ``mention_id`` (None if the mention is gone); in ``channel`` the
    card names the mention's watches alerting there."""
    mention = session.get(Mention, mention_id)
    if mention is None:
        return None
    author = mention.author
    names = watch_names(session, mention.id, channel) if channel is not None else []
    if not names and mention.watch_id:
        watch = session.get(Watch, mention.watch_id)
        names = [watch.name] if watch else []
    members = session.execute(
        select(Mention.network, Mention.url, Author.handle, Author.followers)
        .join(Author, Author.id == Mention.author_id, isouter=True)
        .where(Mention.story_id == mention.id).order_by(Mention.id).limit(STORY_MEMBERS_SHOWN)
    ).all()
    story_count, story_reach = len(members), sum(f or 0 for *_, f in members)
    if story_count == STORY_MEMBERS_SHOWN:  # maybe more than it names: count them all
        story_count, story_reach = session.execute(
            select(func.count(), func.coalesce(func.sum(Author.followers), 0))
            .select_from(Mention).join(Author, Author.id == Mention.author_id, isouter=True)
            .where(Mention.story_id == mention.id)).one()
    draft = latest_draft(session, mention.id)
    reply = latest_reply(session, mention.id)
    case = case_summary(session, mention.id)
    actions = card_actions(allowed_actions(mention.status), mention.network)
    if reply is not None and reply.status == PENDING:
        actions = [a for a in actions if a != "replied"]  # the post is on its way
    elif reply is not None and reply.status == FAILED and mention.status == "approved":
        actions = ["retry", *actions]
    if card_offers_not_urgent(session, mention, channel):
        actions.append("not_urgent")
    return CardView(
        mention_id=mention.id, network=mention.network, url=mention.url,
        author_handle=author.handle if author else anonymous_handle(mention.network),
        author_name=author.name if author else None,
        followers=author.followers if author else None,
        title=mention.title, text=mention.text, published_at=mention.published_at,
        context=mention.context, aside=mention.aside,
        watch_name=", ".join(names) or None, status=mention.status,
        sentiment_label=mention.sentiment_label, intent=mention.intent,
        priority=mention.priority, priority_reason=mention.priority_reason,
        topics=topic_names_of(mention.topics),
        assignee_user_id=mention.assignee_user_id,
        story=[StoryMember(network, handle or anonymous_handle(network), url, followers)
               for network, url, handle, followers in members],
        story_count=int(story_count), story_reach=int(story_reach),
        actions=tuple(actions),
        draft_text=draft.text if draft else None,
        draft_version=draft.version if draft else None,
        draft_risk=draft.risk_level if draft else None,
        draft_flags=tuple(str(flag.get("code", "")) for flag in (draft.risk_flags or [])
                          if isinstance(flag, dict) and flag.get("code")) if draft else (),
        draft_hash=text_hash(draft.text) if draft else None,
        reply_url=mention.reply_url,
        sla_due=due_at(session, mention),
        received_at=received_at(mention),
        reply_state=reply.status if reply else None,
        reply_error=failure_reason(reply) if reply else None,
        reply_waiting_until=reply.next_attempt_at if reply and reply.status == PENDING
        and (reply.error or "").startswith(RATE_LIMITED) else None,
        reply_retry_at=reply.next_attempt_at if reply and reply.status == PENDING
        and reply.error and not reply.error.startswith(RATE_LIMITED) else None,
        language=mention.language,
        language_analysed=language_read(mention.intent_flags),
        reply_elsewhere=not can_post(session, mention),
        direct_to=direct_handle(mention.intent_flags),
        case_posts=case.posts if case else 0,
        case_follow_ups=case.follow_ups if case else 0,
        case_reopened=case.reopened if case else 0,
    )



def render_card_row(session: Session, row: OutboxMessage) -> OutgoingMessage | None:
    """Outbox renderer for cards and card updates (skips updates superseded by a newer one)."""
    if row.mention_id is None:
        return None
    if row.kind == KIND_UPDATE_CARD and session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.kind == KIND_UPDATE_CARD, OutboxMessage.mention_id == row.mention_id,
            OutboxMessage.channel == row.channel,
            OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.id > row.id,
        ).limit(1)
    ):
        return None
    view = load_card_view(session, row.mention_id, row.channel)
    if view is None:
        return None
    return OutgoingMessage(channel=row.channel,
                           spec=CardSpec(view, workspace_language(session, row.workspace_id)),
                           event_type=EVENT_TYPE_MENTION, event_payload=message_metadata(row))


def register_card_renderers(sender: OutboxSender) -> None:
    """Teach the outbox sender to render cards and card updates, and the notification DMs
    that workflow changes queue with them."""
    sender.register_renderer(KIND_CARD, render_card_row)
    sender.register_renderer(KIND_UPDATE_CARD, render_card_row)
    register_notification_renderers(sender)
    register_opportunity_renderers(sender)
