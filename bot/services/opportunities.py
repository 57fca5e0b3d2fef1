"""Conquest opportunities: a competitor's mention whose author is unhappy or asks for an
alternative, offered as a card in the brand's channel when the group asks for them.

Their workflow is light and their own: open -> assigned -> drafted -> contacted, or
dismissed (and reopened). Nothing is ever posted to the network: the team contacts the
author themselves and marks it. A draft is risk-checked as a reply draft is, against the
post (``bot.services.draft_checks.post_audience``), in the editor, on save and for the
LLM's suggestion. The card goes through the outbox like alert cards (created
in the ingest transaction, rendered from the database at send time, updated in place).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.analysis.conquest import conquest_reason
from bot.llm import LLMClient, LLMError
from bot.messages.delivery import OutgoingMessage, UserDirectory
from bot.messages.notes import NetworkName, Phrase
from bot.messages.opportunities import HomeOpportunities, OpportunitySpec, OpportunityView
from bot.metrics import LLM_LATENCY
from bot.networks import resolve_network
from bot.replies.limits import limit_for, measure
from bot.replies.prompt import (
    CUT_OFF_WARNING,
    LINK_DROPPED_WARNING,
    PromptMention,
    build_messages,
    clean_answer,
    conquest_task,
)
from bot.services import assignees
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.draft_checks import DraftAudience, post_audience
from bot.services.errors import NotFound, ServiceError, Term
from bot.services.outbox import (
    EVENT_TYPE_MESSAGE,
    KIND_OPPORTUNITY,
    KIND_UPDATE_OPPORTUNITY,
    OutboxSender,
    do_enqueue,
    message_metadata,
)
from bot.services.permissions import require_role
from bot.services.suggestions import DEFAULT_VOICE
from bot.services.workspaces import workspace_language
from storage.db import transaction
from storage.models import (
    Author,
    Mention,
    OutboxMessage,
    OutboxStatus,
    Role,
    Watch,
    Workspace,
)
from storage.models_competitors import (
    WATCH_BRAND,
    Opportunity,
    WatchGroup,
    WatchGroupMember,
)
from storage.models_watches import MentionWatch

OPEN, ASSIGNED, DRAFTED, CONTACTED, DISMISSED = (
    "open", "assigned", "drafted", "contacted", "dismissed")
STATUSES = (OPEN, ASSIGNED, DRAFTED, CONTACTED, DISMISSED)
ACTIVE = (OPEN, ASSIGNED, DRAFTED)
ACTIONS: dict[str, tuple[str, ...]] = {
    "assign": ACTIVE, "draft": ACTIVE, "contacted": ACTIVE, "dismiss": ACTIVE,
    "reopen": (CONTACTED, DISMISSED),
}
MAX_DRAFT = 3000
HOME_SIZE = 5
"""Opportunities App Home lists (each is two blocks of the view's 100)."""
INGEST = Actor(None, "ingest")
"""Who the audit trail names for an opportunity dismissed because the brand's watch holds it."""


def opportunity_dedupe_key(opportunity_id: int) -> str:
    return f"opportunity:{opportunity_id}"


def do_find_opportunities(session: Session, watch: Watch, mention_ids: Sequence[int],
                          now: datetime) -> int:
    """Offer the competitor ``watch``'s new mentions that are opportunities to its group's
    brand channel, when the group has conquest on; return how many were queued.

    A post the group's brand watches hold too is left to them (it alerts there)."""
    if not mention_ids or watch.kind == WATCH_BRAND:
        return 0
    group = session.scalar(select(WatchGroup).join(
        WatchGroupMember, WatchGroupMember.group_id == WatchGroup.id).where(
        WatchGroupMember.watch_id == watch.id, WatchGroup.conquest.is_(True)))
    if group is None:
        return 0
    brands = session.execute(
        select(Watch.id, Watch.channel_id).join(
            WatchGroupMember, WatchGroupMember.watch_id == Watch.id)
        .where(WatchGroupMember.group_id == group.id, Watch.kind == WATCH_BRAND)
        .order_by(Watch.name)).all()
    if not brands:
        return 0
    ids = sorted(mention_ids)
    held = set(session.scalars(select(MentionWatch.mention_id).where(
        MentionWatch.mention_id.in_(ids), MentionWatch.watch_id.in_([b[0] for b in brands]))))
    known = set(session.scalars(select(Opportunity.mention_id).where(
        Opportunity.group_id == group.id, Opportunity.mention_id.in_(ids))))
    queued = 0
    for mention_id, text, title, label, intent, published in session.execute(
            select(Mention.id, Mention.text, Mention.title, Mention.sentiment_label,
                   Mention.intent, Mention.published_at).where(Mention.id.in_(ids))
            .order_by(Mention.id)):
        if mention_id in held or mention_id in known:
            continue
        reason = conquest_reason(f"{title or ''}\n{text}", label, intent)
        if reason is None:
            continue
        row = Opportunity(workspace_id=watch.workspace_id, mention_id=mention_id,
                          group_id=group.id, competitor_watch_id=watch.id,
                          channel_id=brands[0][1], reason=reason, status=OPEN,
                          published_at=published, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        do_enqueue(session, workspace_id=watch.workspace_id, kind=KIND_OPPORTUNITY,
                   channel=row.channel_id, payload={"opportunity_id": row.id},
                   dedupe_key=opportunity_dedupe_key(row.id))
        queued += 1
    return queued


def do_retire_held_by_brand(session: Session, watch: Watch, mention_ids: Sequence[int]
                            ) -> int:
    """The brand ``watch`` now holds these mentions (its card speaks for them): their
    opportunities in its group that nobody took up yet are dismissed, their cards updated.
    Returns how many."""
    if not mention_ids or watch.kind != WATCH_BRAND:
        return 0
    group_id = session.scalar(select(WatchGroupMember.group_id).where(
        WatchGroupMember.watch_id == watch.id))
    if group_id is None:
        return 0
    rows = session.scalars(select(Opportunity).where(
        Opportunity.group_id == group_id, Opportunity.status == OPEN,
        Opportunity.mention_id.in_(sorted(mention_ids)))).all()
    for row in rows:
        row.status = DISMISSED
        record(session, watch.workspace_id, INGEST, "opportunity.dismiss",
               detail={"opportunity": row.id, "from": OPEN, "to": DISMISSED,
                       "why": "the brand's watch holds the post", "watch": watch.name})
        _refresh_card(session, row)
    return len(rows)


def load_view(session: Session, opportunity_id: int) -> OpportunityView | None:
    """What the opportunity's card shows (None when it is gone)."""
    row = session.get(Opportunity, opportunity_id)
    if row is None:
        return None
    mention = session.get(Mention, row.mention_id)
    if mention is None:
        return None
    author = session.get(Author, mention.author_id) if mention.author_id else None
    competitor = session.get(Watch, row.competitor_watch_id) if row.competitor_watch_id \
        else None
    group = session.get(WatchGroup, row.group_id)
    return OpportunityView(
        id=row.id, reason=row.reason, status=row.status, group=group.name if group else "?",
        competitor=competitor.name if competitor else None, network=mention.network,
        url=mention.url, author_handle=author.handle if author else "?",
        followers=author.followers if author else None, text=mention.text,
        title=mention.title, published_at=mention.published_at,
        assignee_user_id=row.assignee_user_id, draft=row.draft)


def _render(session: Session, row: OutboxMessage) -> OutgoingMessage | None:
    opportunity_id = row.payload.get("opportunity_id")
    if not isinstance(opportunity_id, int):
        return None
    if row.kind == KIND_UPDATE_OPPORTUNITY and session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.kind == KIND_UPDATE_OPPORTUNITY,
            OutboxMessage.channel == row.channel,
            OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.id > row.id,
            OutboxMessage.payload["opportunity_id"].as_integer() == opportunity_id,
        ).limit(1)
    ):
        return None  # a newer update waits: it renders the card as it is then
    view = load_view(session, opportunity_id)
    if view is None:
        return None
    language = workspace_language(session, row.workspace_id)
    return OutgoingMessage(channel=row.channel, spec=OpportunitySpec(view, language),
                           event_type=EVENT_TYPE_MESSAGE, event_payload=message_metadata(row))


def register_opportunity_renderers(sender: OutboxSender) -> None:
    """Teach the outbox sender to render opportunity cards and their updates."""
    sender.register_renderer(KIND_OPPORTUNITY, _render)
    sender.register_renderer(KIND_UPDATE_OPPORTUNITY, _render)


def _refresh_card(session: Session, row: Opportunity) -> None:
    """Re-render the posted card; a card still waiting is rendered fresh when it goes."""
    ts = session.scalar(select(OutboxMessage.result_ts).where(
        OutboxMessage.dedupe_key == opportunity_dedupe_key(row.id),
        OutboxMessage.status == OutboxStatus.SENT.value))
    if ts:
        do_enqueue(session, workspace_id=row.workspace_id, kind=KIND_UPDATE_OPPORTUNITY,
                   channel=row.channel_id, payload={"opportunity_id": row.id, "ts": ts})


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did: the opportunity's new status and owner; for a saved draft, what
    its risk check found (``risk.*`` keys, most severe first, and the highest level)."""

    id: int
    status: str
    assignee_user_id: str | None
    risk_keys: tuple[str, ...] = ()
    risk_level: str = "none"


def draft_digest(text: str | None) -> str:
    """A short digest of an opportunity's saved draft (none reads as empty): what the
    draft editor showed when it opened (``DraftStart.base``), so a save from it can tell
    whether another was saved since."""
    return hashlib.sha256((text or "").encode()).hexdigest()[:16]


class DraftOutdated(ServiceError):
    """Nothing was saved: the opportunity's draft changed while the draft editor was open,
    and the editor's text would have replaced it unseen. ``current`` is the saved text,
    to show."""

    def __init__(self, key: str, current: str, **params: Any) -> None:
        super().__init__(key, **params)
        self.current = current


def do_opportunity_action(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                          opportunity_id: int, action: str, *, assignee: str | None = None,
                          draft: str | None = None, users: UserDirectory | None = None,
                          link_allowlist: list[str] | None = None,
                          based_on: str | None = None) -> Outcome:
    """Assign (to ``assignee``, by default the actor: Take), save a draft (it is never
    posted), mark contacted, dismiss or reopen an opportunity; agents and above. Whoever it
    is assigned to, the actor taking it included (Take, or a draft of an opportunity
    nobody owns), is checked as a mention's assignee is (Slack's directory ``users``, when
    there is one, and roles). A draft over the network's limit is refused; the other
    findings of its risk check (``link_allowlist``: domains whose links are fine) are
    returned and audited, as a reply draft's are stored with it.

    ``based_on``: from the draft editor, the :func:`draft_digest` of the draft it showed
    when it opened; when the saved draft is another now, nothing is saved
    (:class:`DraftOutdated`). None (a command, an editor opened before editors kept it):
    the draft is saved whatever stands."""
    if action not in ACTIONS:
        raise ServiceError("opp.bad_action", action=action, valid=", ".join(ACTIONS))
    taker = (assignee or actor.user_id) if action == "assign" else None
    account = (assignees.check_account(users, taker, actor_user_id=actor.user_id)
               if taker is not None else None)
    if action == "draft":
        account = _drafter_account(sessions, workspace_id, actor, opportunity_id, users)
    if action == "draft":
        draft = (draft or "").strip()
        if not draft:
            raise ServiceError("opp.empty_draft", id=opportunity_id)
        if len(draft) > MAX_DRAFT:
            raise ServiceError("opp.long_draft", limit=MAX_DRAFT)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.AGENT)
        row = session.get(Opportunity, opportunity_id, with_for_update=True)
        if row is None or row.workspace_id != workspace_id:
            raise NotFound("opp.not_found", id=opportunity_id)
        if row.status not in ACTIONS[action]:
            raise ServiceError("opp.not_allowed", id=opportunity_id, action=action,
                               status=row.status)
        if action == "draft" and based_on is not None and draft_digest(row.draft) != based_on:
            # Only the text counts, not the row's other changes (Take, contacted): a save
            # is refused only when it would replace a text its editor never showed.
            raise DraftOutdated("opp.editor_outdated", row.draft or "", id=opportunity_id,
                                button=Term("opp.button_opp_draft"))
        risk_keys: tuple[str, ...] = ()
        risk_level = "none"
        detail: dict[str, Any] = {"opportunity": row.id, "from": row.status}
        if action == "draft" and draft:
            mention = session.get(Mention, row.mention_id)
            _check_length(draft, mention.network if mention is not None else None)
            if mention is not None:
                risk = post_audience(session, mention).check(draft, link_allowlist)
                risk_keys = tuple(flag.message_key for flag in risk.flags)
                risk_level = detail["risk"] = risk.level
                if risk.flags:
                    detail["risk_flags"] = risk.codes
        if taker is not None:
            assignees.check_can_work(session, workspace_id, taker, Role.AGENT, account,
                                     actor_user_id=actor.user_id)
        if action == "assign":
            row.assignee_user_id = assignee or actor.user_id
            row.status = DRAFTED if row.status == DRAFTED else ASSIGNED
            detail["assignee"] = row.assignee_user_id
        elif action == "draft":
            if row.assignee_user_id is None and actor.user_id:
                # The drafter takes it: whom Take would refuse may not take it so.
                assignees.check_can_work(session, workspace_id, actor.user_id, Role.AGENT,
                                         account, actor_user_id=actor.user_id)
                row.assignee_user_id = actor.user_id
            row.draft = draft
            row.status = DRAFTED
        elif action == "contacted":
            row.status = CONTACTED
        elif action == "dismiss":
            row.status = DISMISSED
        else:
            row.status = ASSIGNED if row.assignee_user_id else OPEN
        row.updated_by = actor.user_id
        detail["to"] = row.status
        record(session, workspace_id, actor, f"opportunity.{action}", detail=detail)
        _refresh_card(session, row)
        return Outcome(row.id, row.status, row.assignee_user_id, risk_keys, risk_level)


def _drafter_account(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                     opportunity_id: int, users: UserDirectory | None
                     ) -> assignees.Checked:
    """Before any transaction (no row lock held over a network call): what Slack's
    directory ``users`` says about ``actor`` when their draft would make them the owner
    of the opportunity (nobody owns it), refusing whom Take would refuse. None when they
    would take nothing, when the roles table decides without Slack (read first:
    ``assignees.self_check_asks_slack``), or Slack is not asked; ``assignees.UNCHECKED``
    when it could not answer and never did."""
    if users is None or not actor.user_id:
        return None
    with sessions() as session:
        row = session.get(Opportunity, opportunity_id)  # get: an id past INTEGER is none
        if row is None or row.workspace_id != workspace_id or row.assignee_user_id is not None \
                or not assignees.self_check_asks_slack(
                session, workspace_id, actor, Role.AGENT):
            return None
    return assignees.check_account(users, actor.user_id, actor_user_id=actor.user_id)


def _check_length(draft: str, network: str | None) -> None:
    """ServiceError ``opp.too_long_for_network`` when ``draft`` is over the reply limit of
    the author's network (counted as the network counts)."""
    used, limit = measure(draft, network)
    if limit is not None and used > limit:
        descriptor = resolve_network(network)
        raise ServiceError("opp.too_long_for_network", used=used, limit=limit,
                           network=NetworkName(descriptor.name if descriptor else str(network)))


def list_opportunities(sessions: sessionmaker[Session], workspace_id: int, *,
                       active_only: bool = True, limit: int = 20,
                       statuses: Sequence[str] | None = None) -> list[OpportunityView]:
    """The newest opportunities (only those still to act on, by default; ``statuses``:
    only those in these statuses)."""
    with sessions() as session:
        query = select(Opportunity.id).where(Opportunity.workspace_id == workspace_id)
        if statuses is not None:
            query = query.where(Opportunity.status.in_(list(statuses)))
        elif active_only:
            query = query.where(Opportunity.status.in_(ACTIVE))
        ids = list(session.scalars(query.order_by(Opportunity.id.desc()).limit(limit)))
        return [view for view in (load_view(session, i) for i in ids) if view is not None]


def opportunity_counts(session: Session, workspace_id: int, start: datetime, end: datetime,
                       group_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Opportunities of posts published in [start, end), per status (every status keyed)."""
    query = select(Opportunity.status, func.count()).where(
        Opportunity.workspace_id == workspace_id, Opportunity.published_at >= start,
        Opportunity.published_at < end)
    if group_ids is not None:
        query = query.where(Opportunity.group_id.in_(list(group_ids)))
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(query.group_by(Opportunity.status)):
        counts[str(status)] = int(count)
    return counts


def home_opportunities(session: Session, workspace_id: int, limit: int = HOME_SIZE
                       ) -> HomeOpportunities | None:
    """The opportunities still to act on for App Home, those asking for an alternative
    first, then the newest; None when no group of the workspace has conquest on."""
    if session.scalar(select(WatchGroup.id).where(
            WatchGroup.workspace_id == workspace_id, WatchGroup.conquest.is_(True))
            .limit(1)) is None:
        return None
    active = (Opportunity.workspace_id == workspace_id, Opportunity.status.in_(ACTIVE))
    total = int(session.scalar(select(func.count()).select_from(Opportunity).where(*active))
                or 0)
    ids = session.scalars(select(Opportunity.id).where(*active).order_by(
        case((Opportunity.reason == "alternative", 0), else_=1),
        Opportunity.published_at.desc(), Opportunity.id.desc()).limit(limit))
    views = [view for view in (load_view(session, i) for i in ids) if view is not None]
    return HomeOpportunities(views, total)


@dataclass(frozen=True, slots=True)
class DraftStart:
    """What the opportunity's draft editor opens with."""

    opportunity_id: int
    network: str
    author_handle: str
    post_text: str
    competitor: str | None
    text: str
    limit: int | None
    has_draft: bool
    used: int = 0
    """``text``'s length, counted as the network counts."""
    risk_keys: tuple[str, ...] = ()
    """What the risk check of ``text`` found (``risk.*`` keys, most severe first)."""
    risk_level: str = "none"
    audience: DraftAudience | None = None
    """What a text in the editor is checked against (None: the post's text alone)."""
    base: str = ""
    """The :func:`draft_digest` of the draft saved when the editor opened: a save from
    it passes it back (``do_opportunity_action``'s ``based_on``)."""


def checked_start(start: DraftStart, text: str, *, link_allowlist: list[str] | None = None
                  ) -> DraftStart:
    """``start`` with ``text`` in it (a saved draft, the LLM's suggestion), its length and
    its risks, checked as on save (an empty editor has none)."""
    used, _ = measure(text, start.network)
    if not text.strip():
        return replace(start, text=text, used=used, risk_keys=(), risk_level="none")
    audience = start.audience or DraftAudience(start.network, start.post_text)
    risk = audience.check(text, link_allowlist)
    return replace(start, text=text, used=used,
                   risk_keys=tuple(flag.message_key for flag in risk.flags),
                   risk_level=risk.level)


def draft_start(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                opportunity_id: int, users: UserDirectory | None = None, *,
                link_allowlist: list[str] | None = None) -> DraftStart:
    """The editor's starting point (the saved draft, if any, with its risk check), if
    ``actor`` may draft for this opportunity now; the explanation (ServiceError)
    otherwise. As saving would make them the owner of an opportunity nobody owns, they are
    checked then as saving checks them (Slack's directory ``users``, when there is one,
    and roles), so a guest no admin gave a role is told before typing, as the mention's
    draft editor tells them."""
    account = _drafter_account(sessions, workspace_id, actor, opportunity_id, users)
    with sessions() as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.AGENT)
        row = session.get(Opportunity, opportunity_id)
        if row is None or row.workspace_id != workspace_id:
            raise NotFound("opp.not_found", id=opportunity_id)
        if row.status not in ACTIONS["draft"]:
            raise ServiceError("opp.not_allowed", id=opportunity_id, action="draft",
                               status=row.status)
        if row.assignee_user_id is None and actor.user_id:
            assignees.check_can_work(session, workspace_id, actor.user_id, Role.AGENT,
                                     account, actor_user_id=actor.user_id)
        view = load_view(session, opportunity_id)
        mention = session.get(Mention, row.mention_id)
        if view is None or mention is None:
            raise NotFound("opp.not_found", id=opportunity_id)
        start = DraftStart(view.id, view.network, view.author_handle,
                           view.text.strip() or (view.title or ""), view.competitor,
                           view.draft or "", limit_for(view.network), bool(view.draft),
                           audience=post_audience(session, mention),
                           base=draft_digest(view.draft))
        return checked_start(start, start.text, link_allowlist=link_allowlist)


def suggest_draft(sessions: sessionmaker[Session], llm: LLMClient, start: DraftStart, *,
                  link_allowlist: list[str] | None = None) -> tuple[DraftStart, Phrase | None]:
    """Ask the LLM for a first message to the author; returns the start with the
    suggestion and its risk check, or unchanged with why it could not (a phrase in the
    reader's language; never raises for LLM failures)."""
    with sessions() as session:
        row = session.get(Opportunity, start.opportunity_id)
        mention = session.get(Mention, row.mention_id) if row is not None else None
        if row is None or mention is None:
            return start, Phrase.of("llm_error.opportunity_gone")
        workspace = session.get(Workspace, row.workspace_id)
        settings = (workspace.settings if workspace else None) or {}
        author = session.get(Author, mention.author_id) if mention.author_id else None
        messages = build_messages(
            str(settings.get("voice") or DEFAULT_VOICE),
            PromptMention(text=mention.text[:4000], author=start.author_handle,
                          network=mention.network,
                          author_name=author.name if author else None, title=mention.title,
                          url=mention.url, intent=mention.intent,
                          sentiment=mention.sentiment_label),
            network_limit=start.limit or 1000, language=mention.language or "en",
            brand_name=str(settings.get("brand_name") or "our team"),
            task=conquest_task(start.competitor))
    try:
        result = llm.chat(messages)
        LLM_LATENCY.observe(result.latency_s)
    except LLMError as err:
        return start, err.phrase
    cut_off = result.cut_off
    answer = clean_answer(result.text, start.limit or MAX_DRAFT, network=start.network,
                          cut_off=cut_off)
    text = answer.text
    if not text:
        return start, Phrase.of("llm_error.cut_off" if cut_off else "llm_error.empty_suggestion")
    suggested = checked_start(start, text, link_allowlist=link_allowlist)
    if cut_off:
        suggested = replace(suggested, risk_keys=(*suggested.risk_keys, CUT_OFF_WARNING))
    if answer.dropped_links:
        suggested = replace(suggested,
                            risk_keys=(*suggested.risk_keys, LINK_DROPPED_WARNING))
    return suggested, None
