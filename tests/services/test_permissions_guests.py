"""Roles of Slack guests: none until an admin grants one, whatever the default role."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.services.actors import CLI, Actor
from bot.services.errors import Forbidden
from bot.services.permissions import ANYONE, actor_role, check_role, require_role
from storage.db import transaction
from storage.models import Member, Role

GUEST = Actor("U07GUEST01", "test", guest=True)
MEMBER = Actor("U07MEMBER1", "test")


def test_a_guest_nobody_granted_a_role_has_none(sessions: sessionmaker[Session],
                                                workspace_id: int) -> None:
    with sessions() as session:
        assert actor_role(session, workspace_id, GUEST) is None
        assert actor_role(session, workspace_id, MEMBER) == Role.AGENT
        with pytest.raises(Forbidden) as refused:
            require_role(session, workspace_id, GUEST, Role.VIEWER)
        assert refused.value.key == "perm.guest"
    with pytest.raises(Forbidden):
        check_role(sessions, workspace_id, GUEST, ANYONE)
    check_role(sessions, workspace_id, MEMBER, ANYONE)
    check_role(sessions, workspace_id, CLI, Role.ADMIN)  # the local operator is trusted


def test_a_granted_role_holds_for_a_guest(sessions: sessionmaker[Session],
                                          workspace_id: int) -> None:
    with transaction(sessions) as session:
        session.add(Member(workspace_id=workspace_id, user_id=GUEST.user_id,
                           role=Role.VIEWER.value, granted_by="U07ADMIN01"))
    with sessions() as session:
        assert actor_role(session, workspace_id, GUEST) == Role.VIEWER
        require_role(session, workspace_id, GUEST, Role.VIEWER)
        with pytest.raises(Forbidden) as refused:
            require_role(session, workspace_id, GUEST, Role.AGENT)
        assert refused.value.key == "perm.denied"
    check_role(sessions, workspace_id, GUEST, ANYONE)
