"""A mention's history (audit trail) and the data `/cm show` needs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.messages.cards import CardView
from bot.messages.show import HistoryEntry
from bot.services.cards import load_card_view
from bot.services.errors import NotFound
from storage.models import AuditEvent, Mention


def load_mention(sessions: sessionmaker[Session], workspace_id: int, mention_id: int
                 ) -> tuple[CardView, list[HistoryEntry]]:
    """The card data and the full history of a mention of this workspace."""
    with sessions() as session:
        mention = session.get(Mention, mention_id)
        if mention is None or mention.workspace_id != workspace_id:
            raise NotFound("workflow.not_found", id=str(mention_id))
        view = load_card_view(session, mention_id)
        assert view is not None
        events = session.scalars(select(AuditEvent).where(AuditEvent.mention_id == mention_id)
                                 .order_by(AuditEvent.id)).all()
        return view, [HistoryEntry(e.created_at, e.actor, e.action, e.surface, e.from_status,
                                   e.to_status, e.reason) for e in events]
