"""Labels for triage learning: every action the team takes on a mention says whether it
needed attention, and the "Not urgent" / "Should have alerted" buttons say it outright.

Positive (the team wanted it now): assign, draft, replied, "Should have alerted".
Negative: ignore, "Not urgent". One row per mention: the latest label wins, except that a
workflow action never replaces an explicit button label (a reply to a mention someone
called not urgent says it needed an answer, not that it needed one now).

Only decisions the learned shift can change are labels: a mention's label judges the alert
decision of a brand watch with a threshold above 0 (its own watch, else the lowest such
threshold among the brand watches it is also in). A competitor's watch never alerts and a
watch at threshold 0 alerts on everything, so what the team does with their mentions is
not recorded, the buttons are neither shown nor accepted for them, and learning leaves out
labels stored before this rule (``learnable``).

Only the threshold's decisions are labels, too: a tracked author's post alerts whatever its
priority, and a story's or a case's first post gets its card when a later post makes it
urgent (``MentionWatch.alert_forced``). What the team does with those says nothing about
where the threshold should be (engaging a creator's joke is no verdict on its priority), so
it is not recorded, and their cards offer no "Not urgent" (``alert_forced``).

A reply is a label only when the team made it through Vigie (its reply buttons, `/cm
replied`, the CLI). A reply the brand's account posted natively and Vigie found on the
network (actor ``BRAND_ACCOUNT``) is no label: the brand thanks praise as routinely as it
answers complaints, often hours later, so it says nothing about what needed an alert.
Labels the team gave the mention before (assign, draft...) stay.

Whether the decision alerted is the judged watch's too (``judged_alerted``): a mention in
two watches may have alerted in one and waited for the digest in the other, and its label,
like the buttons, speaks of the judged watch's decision, not of the other watch's card.
A digest's "Should have alerted" names the watch whose section listed the mention (the
watch of that digest's channel): its label judges that watch's decision, whichever watch
would judge the mention otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, true
from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import plural_key, t
from bot.messages.notes import Note
from bot.messages.stored import spec_payload
from bot.services.actors import BRAND_ACCOUNT, Actor, note_actor
from bot.services.audit import record
from bot.services.errors import NotFound, ServiceError
from bot.services.late_cards import held_back_by, queue_late_card
from bot.services.outbox import KIND_THREAD, KIND_UPDATE_CARD, do_enqueue
from bot.services.permissions import require_role
from bot.services.watch_links import alerting_in
from bot.services.workspaces import workspace_language
from storage.db import transaction
from storage.models import Mention, MentionStatus, Role, Watch, utcnow
from storage.models_competitors import WATCH_BRAND
from storage.models_triage import TriageCalibration, TriageLabel
from storage.models_watches import MentionWatch
from storage.upserts import upsert_triage_label

WORKFLOW, FEEDBACK = "workflow", "feedback"
NOT_URGENT, SHOULD_ALERT = "not_urgent", "should_alert"
WORKFLOW_LABELS = {"assign": True, "draft": True, "replied": True, "ignore": False}
"""Workflow actions that are labels, and whether they say "it needed attention"."""
FEEDBACK_LABELS = {NOT_URGENT: False, SHOULD_ALERT: True}
DEFAULT_THRESHOLD = 50
OPEN = frozenset({MentionStatus.NEW, MentionStatus.ASSIGNED, MentionStatus.DRAFTING,
                  MentionStatus.AWAITING_APPROVAL, MentionStatus.APPROVED})


def _was_alerted(mention: Mention) -> bool:
    return bool(mention.alerted or mention.slack_ts)


def judged_alerted(session: Session, mention: Mention, watch_id: int | None) -> bool:
    """Whether the judged watch (``watch_id``, from ``judged_watch``) alerted on
    ``mention``, from what is stored: its link's ``alerted``, set when the watch decided
    to alert (its card queued, its own or one it shares with a watch alerting in that
    channel), or its card's ts, as for the mention's own flags. A card another watch
    posted in another channel is that watch's decision, not this one's. A mention in one
    watch, or judged by none, reads its own flags as labels always did (its only link
    carries the same). A card queued late for a watch whose threshold held the mention
    back (reopened, or "Should have alerted": ``held_back_by``) leaves its decision
    "waited"."""
    links = [] if watch_id is None else session.execute(
        select(MentionWatch.watch_id, MentionWatch.alerted, MentionWatch.slack_ts)
        .where(MentionWatch.mention_id == mention.id)).all()
    if len(links) >= 2:
        for linked, alerted, ts in links:
            if linked == watch_id:
                return bool(alerted or ts) and linked not in held_back_by(session, mention.id)
    # The mention's own flags: only a late card (every watch held it back) is no alert.
    return _was_alerted(mention) and not held_back_by(session, mention.id)


def _shiftable(watch: Watch) -> bool:
    return watch.kind == WATCH_BRAND and watch.alert_threshold > 0


def judged_watch(session: Session, mention: Mention) -> tuple[int | None, int] | None:
    """(watch id, own threshold) of the alert decision a label of ``mention`` judges: its
    watch when that is a brand watch with a threshold above 0, else the lowest threshold
    among the other brand watches it is in; None when no decision of it can be shifted
    (competitors' watches only, or "alert on everything"). A mention without a watch is
    judged against the default threshold."""
    if mention.watch_id is None:
        return None, DEFAULT_THRESHOLD
    watch = session.get(Watch, mention.watch_id)
    if watch is None:
        return None, DEFAULT_THRESHOLD
    if _shiftable(watch):
        return watch.id, watch.alert_threshold
    other = session.execute(
        select(Watch.id, Watch.alert_threshold).join(
            MentionWatch, MentionWatch.watch_id == Watch.id).where(
            MentionWatch.mention_id == mention.id, Watch.kind == WATCH_BRAND,
            Watch.alert_threshold > 0).order_by(Watch.alert_threshold, Watch.id).limit(1)
    ).first()
    return (int(other[0]), int(other[1])) if other is not None else None


def alert_forced(session: Session, mention_id: int, watch_id: int | None) -> bool:
    """Whether ``watch_id`` alerted on the mention whatever its threshold (its link's
    ``alert_forced``): no decision a shift changes, so no label judges it."""
    if watch_id is None:
        return False
    return bool(session.scalar(select(MentionWatch.alert_forced).where(
        MentionWatch.mention_id == mention_id, MentionWatch.watch_id == watch_id)))


def learnable() -> ColumnElement[bool]:
    """The labels learning reads (with ``TriageLabel`` outer-joined to ``Watch`` on its
    watch): of decisions the shift can change, including those stored before the rule."""
    return and_(TriageLabel.threshold > 0, or_(
        TriageLabel.watch_id.is_(None),
        and_(Watch.kind == WATCH_BRAND, Watch.alert_threshold > 0)))


def learned_from(session: Session, workspace_id: int) -> ColumnElement[bool]:
    """The labels of ``workspace_id`` learning reads (with ``TriageLabel`` outer-joined to
    ``Watch`` on its watch): ``learnable`` ones made since the workspace's last reset. A
    reset sets the labels before it aside; read again, they would learn the shift back."""
    reset_at = session.scalar(select(TriageCalibration.reset_at).where(
        TriageCalibration.workspace_id == workspace_id))
    since = true() if reset_at is None else TriageLabel.labelled_at > reset_at
    return and_(TriageLabel.workspace_id == workspace_id, learnable(), since)


def count_labels(session: Session, workspace_id: int) -> int:
    """How many labels of the workspace learning reads (``learned_from``)."""
    return int(session.scalar(
        select(func.count()).select_from(TriageLabel)
        .outerjoin(Watch, Watch.id == TriageLabel.watch_id)
        .where(learned_from(session, workspace_id))) or 0)


def upsert_label(session: Session, mention: Mention, actor: Actor, action: str, *,
                 positive: bool, source: str) -> bool:
    """Record ``action`` as the mention's label in the caller's transaction (one statement:
    concurrent labels of one mention cannot collide); False, recording nothing, when no
    alert decision of the mention can be shifted (``judged_watch``) or the judged watch
    alerted whatever its threshold (``alert_forced``). The priority recorded
    is the judged watch's (its link's when that is not the mention's own watch), and so is
    whether it alerted (``judged_alerted``)."""
    return _upsert(session, mention, actor, action, positive=positive, source=source,
                   judged=judged_watch(session, mention))


def _upsert(session: Session, mention: Mention, actor: Actor, action: str, *,
            positive: bool, source: str, judged: tuple[int | None, int] | None) -> bool:
    """``upsert_label`` of the decision ``judged`` (watch id, own threshold)."""
    if judged is None or alert_forced(session, mention.id, judged[0]):
        return False
    watch_id, threshold = judged
    priority = mention.priority
    if watch_id is not None and watch_id != mention.watch_id:
        # Another watch weighs the post with its own weight: it decided on its link's.
        linked = session.scalar(select(MentionWatch.priority).where(
            MentionWatch.mention_id == mention.id, MentionWatch.watch_id == watch_id))
        if linked is not None:
            priority = linked
    values = {
        "workspace_id": mention.workspace_id, "mention_id": mention.id,
        "watch_id": watch_id, "positive": positive, "action": action,
        "source": source, "actor": actor.name[:32], "surface": actor.surface[:24],
        "priority": priority, "threshold": threshold,
        "alerted": judged_alerted(session, mention, watch_id),
        "decided_at": mention.created_at,
        "labelled_at": utcnow(),
    }
    # Feedback from Slack overrides any label; a workflow label only a workflow label.
    upsert_triage_label(session, values, overriding_source=FEEDBACK,
                        overridable_source=WORKFLOW)
    return True


def on_transition(session: Session, mention: Mention, actor: Actor, action: str) -> None:
    """The workflow's hook: record the label a transition gives, if it gives one (a reply
    the brand's account posted outside Vigie gives none)."""
    positive = WORKFLOW_LABELS.get(action)
    if positive is not None and actor != BRAND_ACCOUNT:
        upsert_label(session, mention, actor, action, positive=positive, source=WORKFLOW)


def feedback_of(session: Session, mention_id: int) -> str | None:
    """The explicit button label of a mention (``not_urgent``/``should_alert``), if any."""
    return session.scalar(select(TriageLabel.action).where(
        TriageLabel.mention_id == mention_id, TriageLabel.source == FEEDBACK))


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    """What a "Not urgent" / "Should have alerted" click recorded."""

    mention_id: int
    action: str
    labels: int
    """How many labelled mentions the workspace has now."""
    card_channel: str | None = None
    """Where the mention's card was queued by this click ("Should have alerted" on open
    work that waited), if it was."""

    def message(self, language: str) -> str:
        """The confirmation shown to the person who clicked."""
        done = t(language, plural_key(language, f"triage.done_{self.action}", self.labels),
                 id=self.mention_id, labels=self.labels)
        if self.card_channel is None:
            return done
        return done + " " + t(language, "triage.card_posted", id=self.mention_id,
                              channel=f"<#{self.card_channel}>")


def do_feedback(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                mention_id: int, action: str, *, watch_id: int | None = None
                ) -> FeedbackOutcome:
    """Record "Not urgent" (on an alerted mention) or "Should have alerted" (on one that
    waited for the digest): agents and above; the card and its thread show it. Alerted or
    waited is the judged watch's decision (``judged_alerted``): the refusal names that
    watch when the mention is in several. ``watch_id``: the watch whose digest listed the
    mention, which the label then judges (``_digest_watch``), not another of its watches."""
    if action not in FEEDBACK_LABELS:
        raise ValueError(action)
    with transaction(sessions) as session:
        mention = session.get(Mention, mention_id)
        if mention is None or mention.workspace_id != workspace_id:
            raise NotFound("workflow.not_found", id=str(mention_id))
        if actor.user_id is not None:
            require_role(session, workspace_id, actor, Role.AGENT)
        judged = (judged_watch(session, mention) if watch_id is None
                  else _digest_watch(session, mention, watch_id))
        watch_id = judged[0] if judged is not None else None
        if alert_forced(session, mention.id, watch_id):
            raise ServiceError("triage.alert_forced", id=str(mention_id))
        alerted = judged_alerted(session, mention, watch_id)
        if action == NOT_URGENT and not alerted and _held_back(session, mention, watch_id):
            raise ServiceError("triage.card_late", id=str(mention_id))
        if (action == NOT_URGENT and not alerted) or (action == SHOULD_ALERT and alerted):
            key = "triage.already_alerted" if alerted else "triage.not_alerted"
            name = _named_in_several(session, mention, watch_id)
            if name is not None:
                # Another watch's card is not the decision the label judges: say whose.
                raise ServiceError(f"{key}_by", id=str(mention_id), watch=name)
            raise ServiceError(key, id=str(mention_id))
        if not _upsert(session, mention, actor, action, positive=FEEDBACK_LABELS[action],
                       source=FEEDBACK, judged=judged):
            raise ServiceError("triage.never_alerts", id=str(mention_id))
        record(session, workspace_id, actor, f"mention.{action}", mention_id=mention.id,
               detail={"priority": mention.priority})
        # Open work that waited: it needs an answer now, so its card is posted now, where
        # the judged watch alerts (the label above judged the decision as it was).
        late = (queue_late_card(session, mention, SHOULD_ALERT, watch_id=watch_id)
                if action == SHOULD_ALERT and mention.status in OPEN else None)
        channel = mention.slack_channel if mention.slack_ts else late
        if channel:
            language = workspace_language(session, workspace_id)
            if late is None:  # a new card shows the label when it is drawn
                do_enqueue(session, workspace_id=workspace_id, kind=KIND_UPDATE_CARD,
                           channel=channel, mention_id=mention.id)
            do_enqueue(session, workspace_id=workspace_id, kind=KIND_THREAD,
                       channel=channel, mention_id=mention.id,
                       payload=spec_payload(Note.of(language, f"triage.note_{action}",
                                                    actor=note_actor(actor))))
        return FeedbackOutcome(mention.id, action, count_labels(session, workspace_id),
                               card_channel=late)


def _digest_watch(session: Session, mention: Mention, watch_id: int
                  ) -> tuple[int | None, int]:
    """(watch id, own threshold) of the watch whose digest listed ``mention`` as waiting:
    the decision its "Should have alerted" judges. Refused when the mention is no longer
    in that watch (removed, or the link gone) or its alerts are no longer learned (turned
    into a competitor's watch, or set to alert on everything)."""
    watch = session.get(Watch, watch_id)
    linked = watch is not None and watch.workspace_id == mention.workspace_id and (
        session.scalar(select(MentionWatch.watch_id).where(
            MentionWatch.mention_id == mention.id, MentionWatch.watch_id == watch_id))
        is not None or mention.watch_id == watch_id)
    if watch is None or not linked:
        raise ServiceError("triage.left_watch", id=str(mention.id))
    if not _shiftable(watch):
        raise ServiceError("triage.watch_not_learned", id=str(mention.id), watch=watch.name)
    return watch.id, watch.alert_threshold


def _named_in_several(session: Session, mention: Mention, watch_id: int | None
                      ) -> str | None:
    """The judged watch's name when the mention is in several watches (None otherwise)."""
    if watch_id is None or (session.scalar(select(func.count()).select_from(MentionWatch)
                                           .where(MentionWatch.mention_id == mention.id))
                            or 0) < 2:
        return None
    watch = session.get(Watch, watch_id)
    return watch.name if watch is not None else None


def card_offers_not_urgent(session: Session, mention: Mention, channel: str | None = None
                           ) -> bool:
    """Whether the card (in ``channel``, when known) shows "Not urgent": an open mention
    nobody has judged explicitly, whose alert a learned shift could have avoided, the
    judged watch's (``_judged_on_card``); never one it alerted on whatever its threshold
    (``alert_forced``)."""
    if MentionStatus(mention.status) not in OPEN or feedback_of(session, mention.id) is not None:
        return False
    judged = judged_watch(session, mention)
    return (judged is not None and not alert_forced(session, mention.id, judged[0])
            and _judged_on_card(session, mention, judged[0], channel)
            and not _held_back(session, mention, judged[0]))


def _held_back(session: Session, mention: Mention, watch_id: int | None) -> bool:
    """Whether the judged watch's card of ``mention`` was queued late, its threshold having
    held the mention back (``held_back_by``): its card shows no "Not urgent"."""
    held = held_back_by(session, mention.id)
    return bool(held) and (watch_id is None or watch_id in held)


def _judged_on_card(session: Session, mention: Mention, watch_id: int | None,
                   channel: str | None) -> bool:
    """Whether the card of ``mention`` in ``channel`` speaks of the judged watch's alert: a
    mention in several watches only when the judged watch alerted (``judged_alerted``) or
    this card is its own (it alerts in ``channel``, the card perhaps not posted yet); on a
    card only other watches sent, "Not urgent" would judge an alert it never made. Always
    for a mention in one watch, and where the channel is not known."""
    if watch_id is None or channel is None:
        return True
    links = session.execute(
        select(MentionWatch.watch_id, MentionWatch.alerted, MentionWatch.slack_ts)
        .where(MentionWatch.mention_id == mention.id)).all()
    if len(links) < 2:
        return True
    if any(linked == watch_id and (alerted or ts) for linked, alerted, ts in links):
        return True
    return watch_id in alerting_in(session, mention.id, channel)
