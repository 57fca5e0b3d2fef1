"""Small query helpers over the models; services own the transactions they run in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Member, Mention, Role, Workspace
from storage.models_cases import Case, CasePost


def get_workspace_by_team(session: Session, team_id: str) -> Workspace | None:
    """The workspace for a Slack team id, if known."""
    return session.scalar(select(Workspace).where(Workspace.team_id == team_id))


def create_workspace(session: Session, team_id: str, *, timezone: str = "UTC") -> Workspace:
    """Insert a workspace row for ``team_id`` and return it (flushed, with its id)."""
    workspace = Workspace(team_id=team_id, timezone=timezone)
    session.add(workspace)
    session.flush()
    return workspace


def adopt_console_workspace(session: Session, console_team: str, team_id: str) -> Workspace | None:
    """Give the console workspace the real team id when it is the only workspace."""
    workspaces = session.scalars(select(Workspace).limit(2)).all()
    if len(workspaces) == 1 and workspaces[0].team_id == console_team:
        workspaces[0].team_id = team_id
        session.flush()
        return workspaces[0]
    return None


def get_member(session: Session, workspace_id: int, user_id: str) -> Member | None:
    """A user's membership row in a workspace, if any."""
    return session.scalar(
        select(Member).where(Member.workspace_id == workspace_id, Member.user_id == user_id)
    )


def set_member_role(
    session: Session, workspace_id: int, user_id: str, role: Role, *, granted_by: str | None
) -> Member:
    """Give ``user_id`` the role ``role`` in the workspace (insert or update)."""
    member = get_member(session, workspace_id, user_id)
    if member is None:
        member = Member(workspace_id=workspace_id, user_id=user_id, role=role.value,
                        granted_by=granted_by)
        session.add(member)
    else:
        member.role = role.value
        member.granted_by = granted_by
    session.flush()
    return member


def latest_customer_post(session: Session, mention: Mention) -> CasePost | None:
    """The customer's newest post in the case ``mention`` is the first mention of, when it
    is a follow-up (None: no case, or nothing from the customer since ``mention``): what
    the team answers now, and where the reply goes."""
    case = session.scalar(select(Case).where(Case.root_mention_id == mention.id))
    if case is None:
        return None
    post = session.scalar(select(CasePost).where(
        CasePost.case_id == case.id, CasePost.by_brand.is_(False),
        CasePost.author == case.customer)
        .order_by(CasePost.published_at.desc(), CasePost.id.desc()).limit(1))
    return post if post is not None and post.mention_id != mention.id else None
