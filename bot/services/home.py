"""What App Home shows a user: their work, what waits for their approval, what is late."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import ColumnElement, Select

from bot.analysis.conversation import direct_handle
from bot.messages.home import HomeItem, HomeSummary, HomeTriage
from bot.services.influencers import home_influencers
from bot.services.mention_search import language_read, topic_names_of
from bot.services.opportunities import home_opportunities
from bot.services.permissions import role_of
from bot.services.reporting.overdue import overdue_now
from bot.services.reporting.queries import Scope, open_work
from bot.services.workflow import OPEN
from storage.models import Draft, DraftAuthor, Mention, MentionStatus, Role
from storage.models_triage import TriageCalibration, TriageRun

LIST_SIZE = 10
LEARN_RUN = "learn"
"""The kind of triage run that learns (nightly or `/cm triage learn`), not reset/on/off."""


def _item(m: Mention) -> HomeItem:
    return HomeItem(m.id, m.network, m.title or m.text, m.url, m.priority, m.status,
                    m.created_at, m.slack_channel, m.slack_ts, reason=m.priority_reason,
                    intent=m.intent, topics=topic_names_of(m.topics),
                    direct_to=direct_handle(m.intent_flags), language=m.language,
                    language_analysed=language_read(m.intent_flags))


def _triage(session: Session, workspace_id: int) -> HomeTriage:
    calibration = session.get(TriageCalibration, workspace_id)
    last = session.scalar(select(TriageRun).where(
        TriageRun.workspace_id == workspace_id, TriageRun.kind == LEARN_RUN)
        .order_by(TriageRun.id.desc()).limit(1))
    return HomeTriage(
        enabled=calibration.enabled if calibration is not None else True,
        offset=calibration.offset if calibration is not None else 0,
        last_run_at=last.created_at if last else None,
        last_run_outcome=last.outcome if last else None,
        last_run_before=last.offset_before if last else 0,
        last_run_after=last.offset_after if last else 0)


def _items(session: Session, query: Select[tuple[Mention]]) -> list[HomeItem]:
    return [_item(m) for m in session.scalars(query)]


def _total(session: Session, shown: int, *where: ColumnElement[bool]) -> int:
    """How many mentions match ``where``; no count query when fewer than a full list do."""
    if shown < LIST_SIZE:
        return shown
    return session.scalar(select(func.count()).select_from(Mention).where(*where)) or 0


def _overdue(session: Session, workspace_id: int, now: datetime
             ) -> tuple[list[HomeItem], int, bool]:
    """The open work past its SLA, highest priority first (``overdue_now``): the first
    ``LIST_SIZE``, how many the walk found, and whether it read every candidate."""
    # Open work as the digest and the SLA checks count it: alerted as a card or taken up.
    # A low-priority mention that only waited for the digest was never shown as work to
    # do, so it is not late work either.
    scope = Scope(workspace_id)
    late = overdue_now(session, scope, and_(*scope.where(), open_work()), now,
                       keep=LIST_SIZE)
    return [_item(m) for m in late.first], late.count, late.complete


def home_summary(sessions: sessionmaker[Session], workspace_id: int, user_id: str,
                 now: datetime, *, default_timezone: str = "UTC") -> HomeSummary:
    """The Home tab's data for ``user_id``: the same whether the user opens the tab or a
    change republishes it (``default_timezone``: for a workspace without its own zone)."""
    influencers = home_influencers(sessions, workspace_id, now=now,
                                   default_timezone=default_timezone)
    open_states = [s.value for s in OPEN]
    with sessions() as session:
        role = role_of(session, workspace_id, user_id)
        mine_open = (Mention.workspace_id == workspace_id,
                     Mention.assignee_user_id == user_id, Mention.status.in_(open_states))
        assigned = _items(session, select(Mention).where(*mine_open)
                          .order_by(Mention.priority.desc()).limit(LIST_SIZE))
        assigned_total = _total(session, len(assigned), *mine_open)
        to_approve: list[HomeItem] = []
        to_approve_total = 0
        if role.rank >= Role.APPROVER.rank:
            latest = (select(Draft.mention_id, func.max(Draft.version).label("version"))
                      .group_by(Draft.mention_id).subquery())
            # Not drafts with the user's words in them: four eyes would refuse them.
            mine = select(Draft.mention_id).join(latest, and_(
                Draft.mention_id == latest.c.mention_id, Draft.version == latest.c.version)
            ).join(DraftAuthor, DraftAuthor.draft_id == Draft.id).where(
                DraftAuthor.user_id == user_id)
            waiting = (Mention.workspace_id == workspace_id,
                       Mention.status == MentionStatus.AWAITING_APPROVAL.value,
                       Mention.id.not_in(mine))
            to_approve = _items(session, select(Mention).where(*waiting)
                                .order_by(Mention.priority.desc()).limit(LIST_SIZE))
            to_approve_total = _total(session, len(to_approve), *waiting)
        # The team's open work as the digest counts it (alerted as a card or taken up): a
        # post that only waited for the digest, or that only a competitor's watch holds
        # (never alerted), is nobody's work until someone picks it up.
        counts = {status: count for status, count in session.execute(
            select(Mention.status, func.count())
            .where(*Scope(workspace_id).where(), open_work()).group_by(Mention.status))}
        overdue, overdue_total, overdue_counted_all = _overdue(session, workspace_id, now)
        return HomeSummary(role.value, assigned, to_approve, overdue, counts,
                           _triage(session, workspace_id),
                           home_opportunities(session, workspace_id), influencers,
                           assigned_total=assigned_total, to_approve_total=to_approve_total,
                           overdue_total=overdue_total,
                           overdue_counted_all=overdue_counted_all)
