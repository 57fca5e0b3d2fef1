"""What the draft editor opens with: the current draft, or a suggestion for this mention."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.replies.limits import measure
from bot.replies.risk import check_draft
from bot.replies.templates import choose_template, render_template
from bot.services.actors import Actor
from bot.services.errors import ServiceError
from bot.services.voice import custom_templates
from bot.services.workflow import MAX_DRAFT, latest_draft, load_mention, require_action
from storage.models import DraftOrigin, Mention, Workspace


@dataclass(frozen=True, slots=True)
class DraftContext:
    """The editor's starting point for one mention."""

    mention_id: int
    network: str
    mention_text: str
    author: str
    language: str
    text: str
    origin: DraftOrigin
    used: int
    limit: int | None
    risk_keys: tuple[str, ...]
    risk_level: str


def draft_context(sessions: sessionmaker[Session], workspace_id: int, mention_id: int, *,
                  link_allowlist: list[str] | None = None,
                  actor: Actor | None = None) -> DraftContext:
    """The latest draft if there is one, else a template chosen by intent and language.
    A follow-up's id opens its case's mention.

    With ``actor``: only if they may draft a reply to the mention now (the explanation
    otherwise), checked on the same load. A draft longer than the editor holds (saved
    before drafts were capped) is refused with the way to replace it, not cut.
    """
    with sessions() as session:
        mention: Mention = (require_action(session, workspace_id, actor, mention_id, "draft")
                            if actor is not None
                            else load_mention(session, workspace_id, mention_id))
        workspace = session.get(Workspace, workspace_id)
        brand = str((workspace.settings or {}).get("brand_name") or "") if workspace else ""
        author = mention.author.name or mention.author.handle if mention.author else ""
        draft = latest_draft(session, mention.id)
        if draft is not None and len(draft.text) > MAX_DRAFT:
            raise ServiceError("workflow.draft_too_long_for_editor", id=str(mention.id),
                               version=str(draft.version), limit=str(MAX_DRAFT))
        language = mention.language or "en"
        if draft is not None:
            text, origin = draft.text, DraftOrigin(draft.origin)
        else:
            template = choose_template(mention.intent, language,
                                       custom_templates(workspace.settings if workspace
                                                        else None))
            text = render_template(template, author=author or "", brand=brand or "our team")
            origin = DraftOrigin.TEMPLATE
        risk = check_draft(text, network=mention.network, mention_text=mention.text,
                           link_allowlist=link_allowlist or [])
        used, limit = measure(text, mention.network)
        return DraftContext(mention.id, mention.network, mention.text, author, language, text,
                            origin, used, limit, tuple(f.message_key for f in risk.flags),
                            risk.level)
