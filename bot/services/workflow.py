"""The mention workflow: one function performs every transition and checks who may do it.

new -> assigned -> drafting -> awaiting approval -> approved -> replied -> closed, or ignored.
Each transition locks the mention (version check), writes an audit event, and queues the
card update and a thread note in the same transaction.

A follow-up (a customer writing again in a case, status ``follow_up``) has no workflow of
its own: its case's first mention, whose card the team works, carries it. Every action on
a follow-up's id acts on that mention instead, and the confirmation says so.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import network_name, t
from bot.messages.delivery import UserDirectory
from bot.messages.notes import Link, NetworkName, Note, RiskFlags, RiskLevel, Text
from bot.messages.show import DraftToApprove
from bot.messages.stored import spec_payload
from bot.services import assignees, notifications, triage_labels
from bot.services.actors import BRAND_ACCOUNT, CLI, Actor, note_actor
from bot.services.audit import record
from bot.services.draft_checks import draft_audience, foreign_data
from bot.services.errors import Forbidden, Mrkdwn, NeedsOverride, NotFound, ServiceError, Term
from bot.services.late_cards import card_queued, queue_late_card
from bot.services.outbox import (
    KIND_CARD,
    KIND_THREAD,
    KIND_UPDATE_CARD,
    RANK_FEEDBACK,
    card_channels,
    do_enqueue,
    repost_lost_card,
)
from bot.services.permissions import check_actor
from bot.services.reply_queue import CANCELLED as REPLY_CANCELLED
from bot.services.reply_queue import FAILED as REPLY_FAILED
from bot.services.reply_queue import PENDING as REPLY_PENDING
from bot.services.reply_queue import latest_reply, queue_reply, reply_target
from bot.services.workspaces import workspace_language
from storage.db import transaction
from storage.models import (
    Approval,
    AuditEvent,
    Draft,
    DraftAuthor,
    DraftOrigin,
    Mention,
    MentionStatus,
    OutboxMessage,
    OutboxStatus,
    Role,
    Workspace,
    utcnow,
)
from storage.models_cases import Case, CasePost
from storage.models_replies import ReplyPost
from storage.models_sla import SlaNotice
from storage.models_watches import MentionWatch
from storage.repositories import latest_customer_post

__all__ = ["RULES", "DraftBase", "DraftOrigin", "DraftToApprove", "EditorOutdated", "Outcome",
           "StaleDraft", "allowed_actions", "check_allowed", "text_hash"]

S = MentionStatus
OPEN = frozenset({S.NEW, S.ASSIGNED, S.DRAFTING, S.AWAITING_APPROVAL, S.APPROVED})
MAX_DRAFT = 3000
"""The longest draft: the draft editor's input holds 3,000 characters (Slack's limit for a
plain_text_input), and a longer draft saved by `/cm draft` would be cut there."""
MAX_REASON = 500
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
"""A Slack user id as Slack sends it (users_select, ``<@U…>``): anything else is refused."""
SLA_REMINDER = "reminder"
"""The SLA notice addressed to the assignee (``bot.services.sla``)."""
APPROVED_DECISION, WITHDRAWN = "approved", "withdrawn"
"""An approval's decisions: approved, and withdrawn once the mention went back from
approved without the reply being sent (withdrawn, sent back, redrafted or ignored)."""
HASH_PREFIX = 16
"""Hex digits of a draft's text hash that an Approve button carries (64 bits)."""
MAX_POST_SHOWN = 1000
"""Characters of the customer's new post quoted when approval is refused for it."""
MAX_EXTERNAL_ID = 500
"""The longest post id a draft keeps (``drafts.target_external_id``)."""


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may do an action, from which states, and where it leads (None: unchanged)."""

    role: Role
    sources: frozenset[MentionStatus]
    target: MentionStatus | None


RULES: dict[str, Rule] = {
    "assign": Rule(Role.AGENT, OPEN, None),
    "draft": Rule(Role.AGENT, OPEN, S.AWAITING_APPROVAL),
    "approve": Rule(Role.APPROVER, frozenset({S.AWAITING_APPROVAL}), S.APPROVED),
    "reject": Rule(Role.APPROVER, frozenset({S.AWAITING_APPROVAL, S.APPROVED}), S.DRAFTING),
    "withdraw": Rule(Role.APPROVER, frozenset({S.APPROVED}), S.DRAFTING),
    "replied": Rule(Role.AGENT, OPEN, S.REPLIED),
    "ignore": Rule(Role.AGENT, OPEN, S.IGNORED),
    "reopen": Rule(Role.AGENT, frozenset({S.IGNORED, S.REPLIED, S.CLOSED}), S.NEW),
    "close": Rule(Role.AGENT, frozenset({S.REPLIED}), S.CLOSED),
}


@dataclass
class Outcome:
    """What a transition did: the new status and a confirmation for the user."""

    mention_id: int
    status: str
    message_key: str
    params: dict[str, Any] = field(default_factory=dict)
    follow_up: int | None = None
    """The follow-up whose id the user named (the action went to its case's mention)."""
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """Further sentences of the confirmation (catalogue key, parameters), in order."""

    def message(self, language: str) -> str:
        """The confirmation in ``language``."""
        text = t(language, self.message_key, **_shown_params(language, self.params))
        for key, params in self.notes:
            text += " " + t(language, key, **_shown_params(language, params))
        if self.follow_up is not None:
            text += " " + t(language, "workflow.follow_up_redirect", follow_up=self.follow_up,
                            id=self.mention_id)
        return text


def _shown_params(language: str, params: dict[str, Any]) -> dict[str, Any]:
    return {name: t(language, value) if isinstance(value, Term)
            else network_name(value.name, language) if isinstance(value, NetworkName) else value
            for name, value in params.items()}


def person_shown(users: UserDirectory | None, who: str | None) -> Any:
    """How to name the person ``who`` (a Slack id) to a user: by the name Slack gives them
    (``users``, when there is one), else as a user reference; the local operator (recorded
    as the CLI's name) in words, anyone else unnamed as recorded, or "someone" (nobody
    recorded: a version saved from the terminal). Asks Slack: call it outside any
    transaction."""
    if who == CLI.name:
        return Term("workflow.operator")
    if not who or not USER_ID.fullmatch(who):
        return who or Term("workflow.someone")
    account = users.account(who) if users is not None else None
    return account.name if account is not None and account.found and account.name \
        else Mrkdwn(f"<@{who}>")


def text_hash(text: str) -> str:
    """The SHA-256 (hex) of a draft's text: what an approval is bound to."""
    return hashlib.sha256(text.encode()).hexdigest()


class StaleDraft(ServiceError):
    """Nothing was approved: the approver did not name the current draft version (``draft``),
    which they must read first."""

    def __init__(self, key: str, draft: DraftToApprove, **params: Any) -> None:
        super().__init__(key, **params)
        self.draft = draft


class EditorOutdated(StaleDraft):
    """Nothing was saved: the mention's draft changed while the draft editor was open (a
    newer version saved, or the one it showed approved), and the editor's text would have
    replaced it unseen. ``draft`` is the current version, to show; ``person`` names the
    parameter that is whoever did it (their Slack id), to name them as Slack does."""

    def __init__(self, key: str, draft: DraftToApprove, person: tuple[str, str],
                 **params: Any) -> None:
        super().__init__(key, draft, **params)
        self.person = person
        self.name_person(None)

    def name_person(self, users: UserDirectory | None) -> None:
        """Show the person by the name Slack gives them (``users``, when there is one),
        else as a user reference; asked outside any transaction."""
        param, who = self.person
        self.params[param] = person_shown(users, who)


@dataclass(frozen=True, slots=True)
class DraftBase:
    """What the draft editor showed when it opened: the mention's newest draft version
    (None: it had none) and the approval standing then (its id; None: none). A save from
    the editor is refused when either changed since (``EditorOutdated``)."""

    version: int | None
    approval: int | None


class WarningsToConfirm(StaleDraft):
    """Nothing was approved: the draft's risk check warned and the approver has not
    confirmed it yet (``draft`` is what to show, warnings included)."""


CARD_LEAVES_OUT = {S.APPROVED: frozenset({"reject"})}
"""Actions a status allows that its card leaves to the command: on an approved card,
Withdraw approval sends the draft back (`/cm reject ID reason` does too, with a reason)."""


def allowed_actions(status: str) -> list[str]:
    """The actions the card offers in ``status`` (buttons are filtered by this)."""
    state = MentionStatus(status)
    hidden = CARD_LEAVES_OUT.get(state, frozenset())
    return [name for name, rule in RULES.items() if state in rule.sources and name not in hidden]


def check_allowed(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                  mention_id: int, action: str) -> None:
    """Raise the user's explanation now if ``action`` is not possible (before a modal opens)."""
    with sessions() as session:
        require_action(session, workspace_id, actor, mention_id, action)


def require_action(session: Session, workspace_id: int, actor: Actor, mention_id: int,
                   action: str) -> Mention:
    """The mention, if ``actor`` may do ``action`` on it now; the explanation otherwise."""
    mention = _load(session, workspace_id, mention_id)
    _check(session, workspace_id, actor, action, mention)
    return mention


_REDIRECTS = "vigie.follow_up_redirects"
"""Key of ``Session.info``: case mention id -> the follow-up id the user named."""


def _load(session: Session, workspace_id: int, mention_id: int) -> Mention:
    mention = session.get(Mention, mention_id)
    if mention is None or mention.workspace_id != workspace_id:
        raise NotFound("workflow.not_found", id=str(mention_id))
    if mention.status == S.FOLLOW_UP.value:
        root = session.get(Mention, case_mention_id(session, mention.id) or mention.id)
        if root is not None and root.id != mention.id and root.workspace_id == workspace_id:
            session.info.setdefault(_REDIRECTS, {})[root.id] = mention.id
            return root
        if root is None or root.id == mention.id:
            # Its case is gone (its first mention was deleted): it is worked on its own.
            mention.status = S.NEW.value
    return mention


def load_mention(session: Session, workspace_id: int, mention_id: int) -> Mention:
    """The mention the team works for ``mention_id``: itself, or for a follow-up its
    case's first mention (see the module docstring); NotFound when there is none."""
    return _load(session, workspace_id, mention_id)


def case_mention_id(session: Session, mention_id: int) -> int | None:
    """The first mention of the case ``mention_id`` joined as a follow-up (None: it is in
    no case, or is that first mention)."""
    root = session.scalar(select(Case.root_mention_id).join(
        CasePost, CasePost.case_id == Case.id).where(CasePost.mention_id == mention_id))
    return root if root is not None and root != mention_id else None


def _check(session: Session, workspace_id: int, actor: Actor, action: str,
           mention: Mention) -> Rule:
    rule = RULES[action]
    if actor.user_id is not None:
        check_actor(session, workspace_id, actor, rule.role, "workflow.denied",
                    action=Term(f"card.button_{action}"))
    if MentionStatus(mention.status) not in rule.sources:
        raise ServiceError("workflow.bad_state", id=str(mention.id),
                           action=Term(f"card.button_{action}"),
                           status=Term(f"status.{mention.status}"))
    return rule


def _bump(session: Session, mention: Mention, **values: Any) -> None:
    """Apply ``values`` only if nobody changed the mention since we read it."""
    result = session.execute(
        update(Mention).where(Mention.id == mention.id, Mention.version == mention.version)
        .values(version=mention.version + 1, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ServiceError("workflow.conflict", id=str(mention.id))
    session.expire(mention)


def _note(session: Session, mention: Mention, note: Note) -> None:
    """Queue the card update and a thread note (only once the card exists or will)."""
    CardNotes(session, [mention]).note(mention, note)


def _note_after_lost(session: Session, mention: Mention, note: Note) -> None:
    """``_note`` for a mention with a card Slack refused: the card is queued again first."""
    if not (mention.slack_channel or mention.alerted or card_queued(session, mention.id)):
        return
    # A card Slack refused is queued again in its channel (rendered at send time: it needs
    # no update); the update and the note reach every card of the mention (do_enqueue).
    lost = repost_lost_card(session, mention)
    channels = card_channels(session, mention.id)
    if not channels:
        return
    if mention.slack_ts is not None or not lost:
        do_enqueue(session, workspace_id=mention.workspace_id, kind=KIND_UPDATE_CARD,
                   channel=channels[0], mention_id=mention.id)
    do_enqueue(session, workspace_id=mention.workspace_id, kind=KIND_THREAD,
               channel=channels[0], mention_id=mention.id, payload=spec_payload(note))


def note_card(session: Session, mention: Mention, note: Note) -> None:
    """Inside the caller's transaction: update the mention's card and add ``note`` to its
    thread (when it has a card or one is queued)."""
    _note(session, mention, note)


@dataclass
class _Cards:
    """A mention's cards as ``_note`` reads them: its first card, the others posted, and
    the rows of its cards queued (id order)."""

    channel: str | None
    ts: str | None
    alerted: bool
    posted: list[tuple[str, str]] = field(default_factory=list)
    queued: list[tuple[str, str, int]] = field(default_factory=list)
    """(channel, status, send rank) of each card row."""


class CardNotes:
    """How a note reaches a mention's cards (``note_card``, every transition), and for many
    notes on a few mentions (the first mentions of the cases a batch's follow-ups join):
    the mentions' cards are read once, in two statements, and each note adds its rows (an
    update of each card, the note in each card's thread, ranked after a card on its way as
    ``send_rank`` ranks them) without reading.
    A mention with a card Slack refused (``repost_lost_card`` may queue it again) takes
    ``_note_after_lost``. ``changed`` after anything queues a card of a mention."""

    def __init__(self, session: Session, mentions: Sequence[Mention]) -> None:
        self.session = session
        self.cards: dict[int, _Cards] = {}
        self._read(list(mentions))

    def _read(self, mentions: list[Mention]) -> None:
        if not mentions:
            return
        ids = sorted(m.id for m in mentions)
        for m in mentions:
            self.cards[m.id] = _Cards(m.slack_channel, m.slack_ts, bool(m.alerted))
        for mention_id, channel, ts in self.session.execute(
                select(MentionWatch.mention_id, MentionWatch.slack_channel,
                       MentionWatch.slack_ts).where(
                    MentionWatch.mention_id.in_(ids), MentionWatch.slack_ts.is_not(None))
                .distinct().order_by(MentionWatch.mention_id, MentionWatch.slack_channel)):
            self.cards[mention_id].posted.append((str(channel), str(ts)))
        for mention_id, channel, status, rank in self.session.execute(
                select(OutboxMessage.mention_id, OutboxMessage.channel, OutboxMessage.status,
                       OutboxMessage.send_rank).where(
                    OutboxMessage.mention_id.in_(ids), OutboxMessage.kind == KIND_CARD)
                .order_by(OutboxMessage.id)):
            self.cards[mention_id].queued.append((channel, status, rank))

    def changed(self, mention: Mention) -> None:
        """A card of ``mention`` was queued since its cards were read: read them again."""
        self.cards.pop(mention.id, None)
        self._read([mention])

    def note(self, mention: Mention, note: Note) -> None:
        """What ``note_card(session, mention, note)`` does."""
        cards = self.cards.get(mention.id)
        if cards is None or any(status == OutboxStatus.FAILED.value
                                for _c, status, _r in cards.queued):
            _note_after_lost(self.session, mention, note)
            return
        if not (cards.channel or cards.alerted or cards.queued):
            return
        first = (cards.channel, cards.ts)
        others = [(c, t) for c, t in cards.posted if (c, t) != first]
        channels = list(dict.fromkeys([*([cards.channel] if cards.channel else []),
                                       *(c for c, _t in others),
                                       *(c for c, status, _r in cards.queued
                                         if status == OutboxStatus.PENDING.value)]))
        if not channels:
            return

        def rank(channel: str) -> int:
            posted = cards.ts if cards.channel == channel and cards.ts else next(
                (t for c, t in cards.posted if c == channel), None)
            if posted is None:
                ranks = [r for c, status, r in cards.queued
                         if c == channel and status == OutboxStatus.PENDING.value]
                if ranks:
                    return max(max(ranks), RANK_FEEDBACK)
            return RANK_FEEDBACK

        def add(kind: str, channel: str, payload: dict[str, Any], send_rank: int) -> None:
            self.session.add(OutboxMessage(
                workspace_id=mention.workspace_id, kind=kind, channel=channel,
                payload=payload, mention_id=mention.id, dedupe_key=None,
                send_rank=send_rank))

        for channel, ts in others:
            add(KIND_UPDATE_CARD, channel, {"ts": ts}, RANK_FEEDBACK)
        add(KIND_UPDATE_CARD, channels[0], {}, rank(channels[0]))
        payload = spec_payload(note)
        for channel in channels[1:]:
            add(KIND_THREAD, channel, dict(payload), rank(channel))
        add(KIND_THREAD, channels[0], payload, rank(channels[0]))


def _reason(reason: str | None, *, required: bool) -> str | None:
    cleaned = " ".join((reason or "").split())
    if required and not cleaned:
        raise ServiceError("workflow.reason_required")
    if len(cleaned) > MAX_REASON:
        raise ServiceError("workflow.reason_too_long", limit=str(MAX_REASON))
    return cleaned or None


def _transition(session: Session, workspace_id: int, mention: Mention, actor: Actor,
                action: str, rule: Rule, *, reason: str | None = None,
                detail: dict[str, Any] | None = None, note: Note,
                cards: CardNotes | None = None, **values: Any) -> Outcome:
    before = mention.status
    after = rule.target.value if rule.target is not None else values.pop("status", before)
    if before == S.APPROVED.value and after not in {S.APPROVED.value, S.REPLIED.value}:
        detail = {**(detail or {}), **_withdraw_approval(session, mention)}
    if action == "reopen" or values.get("assignee_user_id",
                                        mention.assignee_user_id) != mention.assignee_user_id:
        # The SLA reminder is the assignee's: whoever gets the mention now hears it too.
        session.execute(delete(SlaNotice).where(SlaNotice.mention_id == mention.id,
                                                SlaNotice.kind == SLA_REMINDER))
    _bump(session, mention, status=after, **values)
    record(session, workspace_id, actor, f"mention.{action}", mention_id=mention.id,
           from_status=before, to_status=after, reason=reason, detail=detail)
    if cards is not None:
        cards.note(mention, note)
    else:
        _note(session, mention, note)
    notifications.on_transition(session, workspace_id, mention, actor, action,
                                reason=reason, detail=detail)
    triage_labels.on_transition(session, mention, actor, action)
    return Outcome(mention.id, after, f"workflow.done_{action}", {"id": mention.id},
                   follow_up=session.info.get(_REDIRECTS, {}).get(mention.id))


def _withdraw_approval(session: Session, mention: Mention) -> dict[str, Any]:
    """An approved mention goes back (withdrawn, sent back, redrafted or ignored): the
    approval of its draft no longer stands, and the post it queued is called off, unless
    posting has started (the network may hold the reply already): then nothing changes."""
    approval = session.scalar(select(Approval).where(
        Approval.mention_id == mention.id, Approval.decision == APPROVED_DECISION)
        .order_by(Approval.id.desc()).limit(1))
    if approval is None:
        return {}
    reply = session.scalar(select(ReplyPost).where(ReplyPost.draft_id == approval.draft_id))
    called_off = None
    if reply is not None and reply.status != REPLY_CANCELLED:
        # Compare-and-set against the sender's lease, which counts an attempt first (a
        # call the network rate limited gives it back, counted apart): a queued post nobody
        # took yet, or one that failed, is called off; anything else is on its way or out.
        called = 0
        if reply.status in {REPLY_PENDING, REPLY_FAILED}:
            started = [ReplyPost.attempts == 0, ReplyPost.rate_limited_calls == 0] \
                if reply.status == REPLY_PENDING else []
            called = session.execute(
                update(ReplyPost).where(ReplyPost.id == reply.id,
                                        ReplyPost.status == reply.status, *started)
                .values(status=REPLY_CANCELLED, error="approval withdrawn",
                        error_phrase=None)
                .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
        if called != 1:
            raise ServiceError("workflow.posting_started", id=str(mention.id),
                               network=NetworkName(mention.network))
        called_off = reply.status
    approval.decision = WITHDRAWN
    return {"approval_withdrawn": approval.draft_version, "reply_called_off": called_off}


def transition(session: Session, workspace_id: int, mention: Mention, actor: Actor,
               action: str, rule: Rule, *, note: Note, detail: dict[str, Any] | None = None,
               cards: CardNotes | None = None) -> Outcome:
    """Inside the caller's transaction: ``action`` by a system actor (the rule's states
    are checked), audited and noted on the card like any other (through ``cards``, the
    mention's cards read already, when given)."""
    _check(session, workspace_id, actor, action, mention)
    return _transition(session, workspace_id, mention, actor, action, rule, note=note,
                       detail=detail, cards=cards)


def do_assign(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
              mention_id: int, assignee: str, *, users: UserDirectory | None = None
              ) -> Outcome:
    """Give the mention to ``assignee`` (a Slack user id): a person (looked up in ``users``,
    Slack's directory, when there is one) whose role can work a mention."""
    if not USER_ID.fullmatch(assignee):
        # ServiceError escapes its parameters for mrkdwn itself: the value goes as typed.
        raise ServiceError("workflow.bad_assignee", value=assignee[:40])
    account = assignees.check_account(users, assignee, actor_user_id=actor.user_id)
    with transaction(sessions) as session:
        mention = _load(session, workspace_id, mention_id)
        rule = _check(session, workspace_id, actor, "assign", mention)
        assignees.check_can_work(session, workspace_id, assignee, RULES["draft"].role,
                                 account, actor_user_id=actor.user_id)
        status = S.ASSIGNED.value if mention.status == S.NEW.value else mention.status
        language = workspace_language(session, workspace_id)
        outcome = _transition(
            session, workspace_id, mention, actor, "assign", rule,
            detail={"assignee": assignee, "previous": mention.assignee_user_id},
            note=Note.of(language, "workflow.note_assign", actor=note_actor(actor),
                         user=f"<@{assignee}>"),
            assignee_user_id=assignee, status=status)
        outcome.params["user"] = f"<@{assignee}>"
        return outcome


def do_save_draft(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                  mention_id: int, text: str, *, origin: DraftOrigin = DraftOrigin.HUMAN,
                  link_allowlist: list[str] | None = None,
                  users: UserDirectory | None = None,
                  answering: str | None = None, based_on: DraftBase | None = None,
                  names: UserDirectory | None = None) -> Outcome:
    """Store a new draft version (with its risk checks) and ask for approval. A mention
    nobody owns becomes the drafter's, who is checked as anyone assigned is (Slack's
    directory ``users``, when there is one, and roles): a guest no admin gave a role is
    refused, as when taking it with Assign.

    The version answers ``answering`` (the external id of the post the draft editor showed
    as answered), else the post a reply answers now (``reply_target``): approval refuses it
    once the customer wrote again since.

    ``based_on``: what the draft editor showed when it opened. If another version was
    saved since, or the mention approved, nothing is saved (``EditorOutdated``, naming who
    did it and carrying the current draft). Without it (a `/cm draft` command, an editor
    opened before editors recorded it), the text replaces whatever is there, and the
    confirmation says whose version it replaced (saved by someone else) and whose approval
    it withdrew.

    ``names``: the directory the refusal and the confirmation name people by (default
    ``users``); one that never asks Slack when they go in a request's ack."""
    text = text.strip()
    if not text:
        raise ServiceError("workflow.empty_draft")
    if len(text) > MAX_DRAFT:
        raise ServiceError("workflow.draft_too_long", limit=str(MAX_DRAFT))
    account = drafter_account(sessions, workspace_id, actor, mention_id, users)
    if names is None:
        names = users
    try:
        outcome = _save_draft(sessions, workspace_id, actor, mention_id, text, origin,
                              link_allowlist, account, answering, based_on)
    except EditorOutdated as err:
        err.name_person(names)
        raise
    except IntegrityError:
        # Someone saved a draft of this mention at the same moment.
        raise ServiceError("workflow.conflict", id=str(mention_id)) from None
    for _key, params in outcome.notes:
        params["who"] = person_shown(names, params["who"])
    return outcome


def drafter_account(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                    mention_id: int, users: UserDirectory | None) -> assignees.Checked:
    """Before any transaction: what Slack's directory ``users`` says about ``actor`` when
    their draft would make them the owner of the mention (nobody owns it), refusing whom
    Assign would refuse (``assignees.check_account``). None when they would take nothing,
    when the roles table decides without Slack (``assignees.self_check_asks_slack``: read
    first, so it costs no look-up), or Slack is not asked; ``assignees.UNCHECKED`` when
    it could not answer and never did."""
    if users is None or not actor.user_id:
        return None
    with sessions() as session:
        if not _unowned(session, workspace_id, mention_id) or not \
                assignees.self_check_asks_slack(session, workspace_id, actor,
                                                RULES["draft"].role):
            return None
    return assignees.check_account(users, actor.user_id, actor_user_id=actor.user_id)


def check_drafter(session: Session, workspace_id: int, actor: Actor, mention: Mention,
                  account: assignees.Checked) -> bool:
    """Whether ``actor``'s draft makes them the owner of ``mention`` (nobody owns it), in
    which case they are checked as anyone given it (``assignees.check_can_work``, with
    ``account`` from :func:`drafter_account`): a guest no admin gave a role is refused."""
    if mention.assignee_user_id is not None or not actor.user_id:
        return False
    assignees.check_can_work(session, workspace_id, actor.user_id, RULES["draft"].role,
                             account, actor_user_id=actor.user_id)
    return True


def _unowned(session: Session, workspace_id: int, mention_id: int) -> bool:
    """Whether the mention exists and nobody owns it: a draft would make the drafter its
    assignee, so Slack is asked about them (before the transaction: no row lock held over
    a network call). An owner is never taken away, so one seen here is still there."""
    mention = session.get(Mention, mention_id)  # get: an id past INTEGER is no mention
    return mention is not None and mention.workspace_id == workspace_id \
        and mention.assignee_user_id is None


def _save_draft(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                mention_id: int, text: str, origin: DraftOrigin,
                link_allowlist: list[str] | None, account: assignees.Checked,
                answering: str | None = None, based_on: DraftBase | None = None) -> Outcome:
    with transaction(sessions) as session:
        mention = _load(session, workspace_id, mention_id)
        rule = _check(session, workspace_id, actor, "draft", mention)
        if based_on is not None:
            _check_base(session, mention, based_on)
        notes: list[tuple[str, dict[str, Any]]] = []
        replaced = latest_draft(session, mention.id)
        if based_on is None and replaced is not None \
                and replaced.author_user_id != actor.user_id:
            # An explicit command overwrites on purpose, but its writer hears whose newer
            # version they replaced (the editor refuses that instead: _check_base).
            notes.append(("workflow.draft_replaced",
                          {"version": replaced.version, "who": replaced.author_user_id}))
        if mention.status == S.APPROVED.value:
            standing = session.scalar(select(Approval).where(
                Approval.mention_id == mention.id, Approval.decision == APPROVED_DECISION)
                .order_by(Approval.id.desc()).limit(1))
            if standing is not None:
                notes.append(("workflow.draft_withdrew_approval",
                              {"version": standing.draft_version,
                               "who": standing.approver_user_id}))
        values: dict[str, Any] = {}
        if check_drafter(session, workspace_id, actor, mention, account):
            # The drafter takes the mention: whom Assign would refuse may not take it so.
            values["assignee_user_id"] = actor.user_id
        audience = draft_audience(session, mention)
        text = audience.as_posted(text)  # what is approved is what is posted
        risk = audience.check(text, link_allowlist, foreign_data(session, mention, text))
        version = int(session.scalar(select(func.coalesce(func.max(Draft.version), 0)).where(
            Draft.mention_id == mention.id)) or 0) + 1
        authors = _authors_of_new_version(session, mention.id, actor, text)
        # The post the writer saw as the one answered: a follow-up that came while they
        # typed in the editor is not what this text answers (approval refuses it then).
        if answering is None or len(answering) > MAX_EXTERNAL_ID:
            answering = reply_target(session, mention).external_id
        draft = Draft(mention_id=mention.id, version=version, text=text, origin=origin.value,
                      author_user_id=actor.user_id, risk_level=risk.level,
                      risk_flags=risk.to_dict()["flags"], target_external_id=answering)
        session.add(draft)
        session.flush()
        session.add_all(DraftAuthor(draft_id=draft.id, user_id=user) for user in sorted(authors))
        language = workspace_language(session, workspace_id)
        note = Note.of(language, "workflow.note_draft", actor=note_actor(actor), version=version,
                       text=Text(text, 2500))
        if risk.flags:
            note = note.then("workflow.note_risk", level=RiskLevel(risk.level),
                             flags=RiskFlags(tuple(risk.codes)))
        outcome = _transition(session, workspace_id, mention, actor, "draft", rule,
                              detail={"version": version, "origin": origin.value,
                                      "risk": risk.level}, note=note, **values)
        outcome.params.update(version=version, risk=Term(f"risk_level.{risk.level}"))
        outcome.notes.extend(notes)
        return outcome


def _check_base(session: Session, mention: Mention, base: DraftBase) -> None:
    """Refuse a save from the draft editor when what it showed is no longer what stands:
    another draft version was saved since it opened, or the mention was approved since (a
    save would withdraw that approval unseen). Nothing is written before this check."""
    latest = latest_draft(session, mention.id)
    if latest is None:
        return
    if latest.version != base.version:
        raise EditorOutdated(
            "workflow.editor_outdated", _shown(latest),
            ("author", latest.author_user_id or ""), id=mention.id, version=latest.version,
            button=Term("card.button_draft"))
    if mention.status != S.APPROVED.value:
        return
    approval = session.scalar(select(Approval).where(
        Approval.mention_id == mention.id, Approval.decision == APPROVED_DECISION)
        .order_by(Approval.id.desc()).limit(1))
    if approval is not None and approval.id != base.approval:
        raise EditorOutdated(
            "workflow.editor_approved", _shown(latest), ("approver", approval.approver_user_id),
            id=mention.id, version=approval.draft_version, button=Term("card.button_draft"))


def draft_base(session: Session, mention_id: int) -> DraftBase:
    """What a draft editor opening now shows, for :func:`do_save_draft`'s ``based_on``:
    the newest draft version and the approval standing, if any."""
    latest = latest_draft(session, mention_id)
    approval = session.scalar(select(Approval.id).where(
        Approval.mention_id == mention_id, Approval.decision == APPROVED_DECISION)
        .order_by(Approval.id.desc()).limit(1))
    return DraftBase(latest.version if latest is not None else None, approval)


def _authors_of_new_version(session: Session, mention_id: int, actor: Actor,
                            text: str) -> set[str]:
    """Whose words a new version carries: the previous version's authors (their text may
    survive any edit, so they stay), plus the saver if the text changed. Whoever saves a
    text unchanged, or a suggestion (LLM, template) they asked for, is judged by its words:
    an unchanged re-save keeps the authors it had; a changed text adds the saver."""
    previous = latest_draft(session, mention_id)
    authors = draft_authors(session, previous.id) if previous is not None else set()
    if actor.user_id and (previous is None or previous.text != text):
        authors.add(actor.user_id)
    return authors


def draft_authors(session: Session, draft_id: int) -> set[str]:
    """The users whose words are in a draft version (none may approve it)."""
    return set(session.scalars(select(DraftAuthor.user_id).where(
        DraftAuthor.draft_id == draft_id)))


def latest_draft(session: Session, mention_id: int) -> Draft | None:
    """The newest draft of a mention."""
    return session.scalar(select(Draft).where(Draft.mention_id == mention_id)
                          .order_by(Draft.version.desc()).limit(1))


def current_draft(session: Session, mention_id: int) -> Draft | None:
    """The draft being worked on: the newest, unless the mention was answered since it was
    saved (a reply sent, then the case reopened when the customer wrote again): that one
    is history, and the next answer starts afresh."""
    draft = latest_draft(session, mention_id)
    if draft is None:
        return None
    events = session.execute(select(AuditEvent.action, AuditEvent.detail).where(
        AuditEvent.mention_id == mention_id,
        AuditEvent.action.in_(("mention.draft", "mention.replied", "mention.reopen")))
        .order_by(AuditEvent.id.desc()))
    undone = 0  # later reopens that took a hand-made reply mark back (_undo_hand_reply)
    for action, detail in events:
        if action == "mention.draft":
            return draft
        if action == "mention.reopen":
            undone += bool((detail or {}).get("reply_undone"))
        elif undone:  # a "replied" mark taken back: nothing was answered, the draft stands
            undone -= 1
        else:
            return None
    return draft


def _draft_to_decide(session: Session, workspace_id: int, actor: Actor, action: str,
                     mention_id: int) -> tuple[Mention, Rule, Draft]:
    mention = _load(session, workspace_id, mention_id)
    rule = _check(session, workspace_id, actor, action, mention)
    draft = latest_draft(session, mention.id)
    if draft is None:
        raise ServiceError("workflow.no_draft", id=str(mention_id))
    return mention, rule, draft


def do_approve(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
               mention_id: int, *, version: int | None = None, digest: str | None = None,
               override_reason: str | None = None, warnings_confirmed: bool = True
               ) -> Outcome:
    """Approve the draft version the approver read: approver role, nobody whose words are
    in it (four eyes), one approval per draft.

    A draft whose risk check warned needs the approver to confirm the warnings: the
    Approve button asks before it sends; a command passes ``warnings_confirmed=False``
    unless the approver said so, and then WarningsToConfirm carries the draft to show.

    ``version`` (and, from a button, ``digest``: a prefix of the text's SHA-256) name what
    the approver was shown; unless they name the current draft, nothing is approved and
    StaleDraft carries the current one to show. Only the trusted local operator may omit
    them. A draft written before the customer wrote again in the case is not approved
    either (``_check_target``): the refusal shows their new post.
    """
    try:
        with transaction(sessions) as session:
            mention, rule, draft = _draft_to_decide(session, workspace_id, actor, "approve",
                                                    mention_id)
            workspace = session.get(Workspace, workspace_id)
            # A draft written by another code path without author rows: its saver.
            authors = draft_authors(session, draft.id) or (
                {draft.author_user_id} if draft.author_user_id else set())
            self_approval = actor.user_id is not None and actor.user_id in authors
            if self_approval and not (workspace and workspace.allow_self_approval):
                raise Forbidden("workflow.four_eyes", id=str(mention_id))
            current_hash = _bound_hash(actor, draft, version, digest)
            _check_target(session, mention, draft)
            reason = _reason(override_reason, required=False)
            if draft.risk_level == "high" and reason is None:
                raise NeedsOverride("workflow.needs_override", id=str(mention_id),
                                   version=draft.version)
            shown = _shown(draft)
            if shown.risk_flags and not warnings_confirmed and reason is None:
                raise WarningsToConfirm("workflow.confirm_warnings", shown, id=mention_id,
                                        version=draft.version)
            session.add(Approval(draft_id=draft.id, mention_id=mention.id,
                                 approver_user_id=actor.name, decision=APPROVED_DECISION,
                                 draft_version=draft.version, text_hash=current_hash,
                                 reason=reason, override=reason is not None))
            session.flush()
            language = workspace_language(session, workspace_id)
            note = Note.of(language, "workflow.note_approve", actor=note_actor(actor),
                           version=draft.version)
            if reason:
                note = note.then("workflow.note_override", reason=Text(reason))
            posting = queue_reply(session, mention, draft, actor.name)
            if posting:
                note = note.then("workflow.note_posting",
                                 network=NetworkName(mention.network))
            else:
                note = note.then("workflow.note_post_elsewhere",
                                 network=NetworkName(mention.network))
            outcome = _transition(session, workspace_id, mention, actor, "approve", rule,
                                  reason=reason, note=note,
                                  detail={"draft_version": draft.version,
                                          "text_hash": current_hash,
                                          "self_approval": self_approval,
                                          "override": reason is not None, "posting": posting})
            if posting:
                outcome.message_key = "workflow.done_approve_posting"
            else:
                outcome.message_key = "workflow.done_approve_elsewhere"
                outcome.params["network"] = NetworkName(mention.network)
            outcome.params["version"] = draft.version
            return outcome
    except IntegrityError:
        # Someone approved or rejected this draft at the same moment: theirs stands.
        raise ServiceError("workflow.conflict", id=str(mention_id)) from None


def _check_target(session: Session, mention: Mention, draft: Draft) -> None:
    """Refuse ``draft`` when the post a reply would answer now (``reply_target``: the
    customer's newest in the case) is not the one it was written for: the customer wrote
    again since it was saved. The refusal quotes what they wrote; the draft stays pending,
    to check and save again (which pins it to that post), then approve. A draft saved
    before drafts kept their post is approved as before."""
    if draft.target_external_id is None:
        return
    if reply_target(session, mention).external_id == draft.target_external_id:
        return
    latest = latest_customer_post(session, mention)
    post = " ".join((latest.text if latest is not None else mention.text).split())
    if len(post) > MAX_POST_SHOWN:
        post = post[:MAX_POST_SHOWN - 1] + "…"
    raise ServiceError("workflow.customer_wrote_again", id=str(mention.id),
                       version=draft.version, post=post, button=Term("card.button_draft"))


def _shown(draft: Draft) -> DraftToApprove:
    """``draft`` as an approver is shown it."""
    return DraftToApprove(draft.mention_id, draft.version, draft.text, draft.risk_level,
                          text_hash(draft.text),
                          tuple(str(flag.get("code")) for flag in draft.risk_flags or []
                                if isinstance(flag, dict) and flag.get("code")))


def _bound_hash(actor: Actor, draft: Draft, version: int | None, digest: str | None) -> str:
    """The draft's text hash, if ``version``/``digest`` name it; StaleDraft otherwise."""
    shown = _shown(draft)
    current = shown.text_hash
    if version is None and digest is None:
        if actor.trusted:
            return current
        raise StaleDraft("workflow.confirm_draft", shown, id=draft.mention_id,
                         version=draft.version)
    digest_ok = digest is None or (
        len(digest) >= HASH_PREFIX and hmac.compare_digest(current[:len(digest)], digest))
    if version != draft.version or not digest_ok:
        raise StaleDraft("workflow.stale_draft", shown, id=draft.mention_id,
                         seen=version if version is not None else "?", version=draft.version)
    return current


def _check_rejected(draft: Draft, version: int | None, digest: str | None) -> None:
    """StaleDraft unless ``version``/``digest`` name ``draft``, the one a reject would hit."""
    shown = _shown(draft)
    digest_ok = digest is None or (
        len(digest) >= HASH_PREFIX
        and hmac.compare_digest(shown.text_hash[:len(digest)], digest))
    if version != draft.version or not digest_ok:
        raise StaleDraft("workflow.stale_reject", shown, id=draft.mention_id,
                         seen=version if version is not None else "?",
                         version=draft.version, button=Term("card.button_reject"))


def do_reject(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
              mention_id: int, reason: str, *, version: int | None = None,
              digest: str | None = None) -> Outcome:
    """Send the draft back with a reason (an approved one too: its approval is withdrawn,
    the audit trail and the thread keep why).

    ``version`` and ``digest`` (a prefix of the text's SHA-256), from the Reject modal,
    name the draft the approver opened it on: when they no longer name the current draft,
    nothing is rejected and StaleDraft carries the current one to show (the reason was
    about another text). Without them (`/cm reject`, a card posted before its Reject
    button carried them), the latest draft is rejected."""
    cleaned = _reason(reason, required=True)
    try:
        with transaction(sessions) as session:
            mention, rule, draft = _draft_to_decide(session, workspace_id, actor, "reject",
                                                    mention_id)
            if version is not None or digest is not None:
                _check_rejected(draft, version, digest)
            if mention.status != S.APPROVED.value:
                session.add(Approval(draft_id=draft.id, mention_id=mention.id,
                                     approver_user_id=actor.name, decision="rejected",
                                     reason=cleaned))
                session.flush()
            language = workspace_language(session, workspace_id)
            return _transition(
                session, workspace_id, mention, actor, "reject", rule, reason=cleaned,
                detail={"draft_version": draft.version},
                note=Note.of(language, "workflow.note_reject", actor=note_actor(actor),
                             reason=Text(cleaned or "")))
    except IntegrityError:
        raise ServiceError("workflow.conflict", id=str(mention_id)) from None


def mark_replied(session: Session, workspace_id: int, actor: Actor, mention: Mention, *,
                 reply_url: str | None = None, now: datetime | None = None,
                 note_key: str = "workflow.note_replied",
                 note_params: Mapping[str, str | NetworkName] | None = None) -> Outcome:
    """Inside the caller's transaction: the mention was answered (by hand, or posted).
    ``note_params``: the note's other arguments, outside text (shown escaped) or a
    network (named in the note's language)."""
    rule = _check(session, workspace_id, actor, "replied", mention)
    if actor.surface != "network":
        reply = latest_reply(session, mention.id)
        if reply is not None and reply.status == REPLY_PENDING:
            raise ServiceError("replies.in_flight", id=str(mention.id))
    moment = now or utcnow()
    values: dict[str, Any] = {"replied_at": moment}
    if mention.first_response_at is None:
        values["first_response_at"] = moment
    if reply_url:
        values["reply_url"] = reply_url
    language = workspace_language(session, workspace_id)
    note = Note.of(language, note_key, actor=note_actor(actor),
                   url=Link(reply_url, reply_url or ""),
                   **{k: v if isinstance(v, NetworkName) else Text(v)
                      for k, v in (note_params or {}).items()})
    return _transition(session, workspace_id, mention, actor, "replied", rule, note=note,
                       detail={"reply_url": reply_url}, **values)


def do_mark_replied(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                    mention_id: int, *, reply_url: str | None = None,
                    now: datetime | None = None) -> Outcome:
    """Record that the mention was answered by hand ("Mark replied"); ``reply_url``, the
    reply's address, must be an http(s) link (the card links to it)."""
    if reply_url is not None and not _is_link(reply_url):
        raise ServiceError("workflow.bad_reply_url", value=reply_url[:80])
    with transaction(sessions) as session:
        return mark_replied(session, workspace_id, actor,
                            _load(session, workspace_id, mention_id),
                            reply_url=reply_url, now=now)


def _is_link(url: str) -> bool:
    """Whether ``url`` is an http(s) address a card can link to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (parts.scheme in {"http", "https"} and bool(parts.hostname) and len(url) <= 2000
            and not any(ch in url for ch in "<>| \t\r\n"))


def do_withdraw(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                mention_id: int, *, reason: str | None = None) -> Outcome:
    """Withdraw the approval of an approved mention (approvers): back to drafting, its
    draft kept to edit and send for approval again. Refused once its post has started on
    the network (it may be out); a post that failed is called off."""
    cleaned = _reason(reason, required=False)
    with transaction(sessions) as session:
        mention, rule, draft = _draft_to_decide(session, workspace_id, actor, "withdraw",
                                                mention_id)
        language = workspace_language(session, workspace_id)
        note = Note.of(language, "workflow.note_withdraw", actor=note_actor(actor),
                       version=draft.version)
        if cleaned:
            note = note.then("workflow.note_reason", reason=Text(cleaned))
        outcome = _transition(session, workspace_id, mention, actor, "withdraw", rule,
                              reason=cleaned, note=note)
        outcome.params["version"] = draft.version
        return outcome


SEEN_REPLY_SURFACES = frozenset({"network", BRAND_ACCOUNT.surface})
"""Where a "replied" comes from when a reply was seen going out: Vigie posted it, or the
brand's account was seen answering on the network."""


def _undo_hand_reply(session: Session, mention: Mention) -> dict[str, Any]:
    """A person reopens a mention marked replied by hand: the mark is undone (its reply
    time, and its first response if this mark gave it), so reports stop counting an answer
    nobody saw go out. A reply Vigie posted or saw on the network stays counted."""
    if mention.status != S.REPLIED.value or mention.replied_at is None:
        return {}
    surface = session.scalar(select(AuditEvent.surface).where(
        AuditEvent.mention_id == mention.id, AuditEvent.action == "mention.replied")
        .order_by(AuditEvent.id.desc()).limit(1))
    if surface is None or surface in SEEN_REPLY_SURFACES:
        return {}
    values: dict[str, Any] = {"replied_at": None, "reply_url": None}
    if mention.first_response_at == mention.replied_at:
        values["first_response_at"] = None
    return values


def do_simple(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
              mention_id: int, action: str, *, reason: str | None = None) -> Outcome:
    """Ignore (optional reason), reopen or close a mention. Reopening a mention marked
    replied by hand undoes the mark (``_undo_hand_reply``)."""
    if action not in {"ignore", "reopen", "close"}:
        raise ValueError(action)
    cleaned = _reason(reason, required=False)
    with transaction(sessions) as session:
        mention = _load(session, workspace_id, mention_id)
        rule = _check(session, workspace_id, actor, action, mention)
        language = workspace_language(session, workspace_id)
        note = Note.of(language, f"workflow.note_{action}", actor=note_actor(actor))
        if cleaned:
            note = note.then("workflow.note_reason", reason=Text(cleaned))
        undone = _undo_hand_reply(session, mention) if action == "reopen" else {}
        detail = None
        if undone:
            note = note.then("workflow.note_reply_undone")
            detail = {"reply_undone": {"replied_at": _iso(mention.replied_at),
                                       "first_response_at": _iso(mention.first_response_at),
                                       "reply_url": mention.reply_url}}
        if action == "reopen":
            # Queued before the transition, so that its note goes to the new card's thread.
            queue_late_card(session, mention, "reopen")
        outcome = _transition(session, workspace_id, mention, actor, action, rule,
                              reason=cleaned, note=note, detail=detail, **undone)
        if undone:
            outcome.message_key = "workflow.done_reopen_undone"
        return outcome


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
