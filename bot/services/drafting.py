"""What the draft editor opens with: the current draft, or a suggestion for this mention.

When the customer wrote again in the mention's case, the editor answers the newest of
their posts (the follow-up): that is the post it shows, and the one the reply goes to
(``bot.services.replies``). A draft already answered is history (``current_draft``): the
editor then starts from a template, and the LLM is asked for a suggestion again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.messages.delivery import UserDirectory
from bot.replies.limits import measure
from bot.replies.templates import choose_template, render_template
from bot.services.actors import Actor
from bot.services.draft_checks import DraftAudience, draft_audience, foreign_data
from bot.services.errors import ServiceError
from bot.services.reply_queue import reply_target
from bot.services.voice import custom_templates
from bot.services.workflow import (
    MAX_DRAFT,
    check_drafter,
    current_draft,
    draft_base,
    drafter_account,
    load_mention,
    require_action,
)
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
    follow_up: bool = False
    """``mention_text`` is the customer's newest post in the case, not the first one."""
    audience: DraftAudience | None = None
    """What a text in the editor is checked against (None: the mention text alone)."""
    answering: str | None = None
    """The external id of the post the editor shows as the one answered (``reply_target``
    when it opened): the draft saved from it answers that post."""
    base_version: int | None = None
    """The mention's newest draft version when the editor opened (None: it had none)."""
    base_approval: int | None = None
    """The approval standing when the editor opened (its id; None: none). With
    ``base_version``, what a save from the editor must still find (``DraftBase``)."""


def draft_context(sessions: sessionmaker[Session], workspace_id: int, mention_id: int, *,
                  link_allowlist: list[str] | None = None,
                  actor: Actor | None = None,
                  users: UserDirectory | None = None) -> DraftContext:
    """The current draft if there is one, else a template chosen by intent and language
    (see the module docstring). A follow-up's id opens its case's mention.

    With ``actor``: only if they may draft a reply to the mention now (the explanation
    otherwise), checked on the same load. As saving would make them the owner of a
    mention nobody owns, they are checked then as saving checks them (Slack's directory
    ``users``, when there is one, and roles), so a guest no admin gave a role is told
    before typing a reply, not after. A draft longer than the editor holds (saved before
    drafts were capped) is refused with the way to replace it, not cut.
    """
    account = (drafter_account(sessions, workspace_id, actor, mention_id, users)
               if actor is not None else None)
    with sessions() as session:
        mention: Mention = (require_action(session, workspace_id, actor, mention_id, "draft")
                            if actor is not None
                            else load_mention(session, workspace_id, mention_id))
        if actor is not None:
            check_drafter(session, workspace_id, actor, mention, account)
        workspace = session.get(Workspace, workspace_id)
        brand = str((workspace.settings or {}).get("brand_name") or "") if workspace else ""
        author = mention.author.name or mention.author.handle if mention.author else ""
        draft = current_draft(session, mention.id)
        if draft is not None and len(draft.text) > MAX_DRAFT:
            raise ServiceError("workflow.draft_too_long_for_editor", id=str(mention.id),
                               version=str(draft.version), limit=str(MAX_DRAFT))
        audience = draft_audience(session, mention)
        language = mention.language or "en"
        if draft is not None:
            text, origin = draft.text, DraftOrigin(draft.origin)
        else:
            template = choose_template(mention.intent, language,
                                       custom_templates(workspace.settings if workspace
                                                        else None))
            text = render_template(template, author=author or "", brand=brand or "our team")
            origin = DraftOrigin.TEMPLATE
        text = audience.as_posted(text)
        risk = audience.check(text, link_allowlist, foreign_data(session, mention, text))
        used, limit = measure(text, mention.network)
        base = draft_base(session, mention.id)
        return DraftContext(mention.id, mention.network, audience.answered, author, language,
                            text, origin, used, limit, tuple(f.message_key for f in risk.flags),
                            risk.level, follow_up=audience.follow_up, audience=audience,
                            answering=reply_target(session, mention).external_id,
                            base_version=base.version, base_approval=base.approval)
