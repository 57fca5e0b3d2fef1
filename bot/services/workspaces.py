"""Workspace bootstrap: the row every piece of data hangs from, and the first admins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage import repositories as repo
from storage.db import transaction
from storage.models import AuditEvent, Role, Workspace

CONSOLE_TEAM_ID = "T0CONSOLE"
"""The workspace used when Vigie runs without Slack (console mode, local CLI)."""


@dataclass(frozen=True, slots=True)
class WorkspaceRef:
    """The identity of a workspace as services need it."""

    id: int
    team_id: str
    locale: str
    timezone: str


class UnknownWorkspace(Exception):
    """A team that never installed Vigie (several-workspace mode): no workspace is created."""


def admins_for(entries: list[str], team_id: str, *, multi_workspace: bool) -> list[str]:
    """The user ids VIGIE_ADMINS makes admins of ``team_id``.

    ``T123:U456`` entries apply to their team only. Plain ``U456`` entries apply to the one
    workspace of a single-workspace install (and the console), never to every workspace
    that installs a multi-workspace app.
    """
    admins = []
    for entry in entries:
        team, separator, user = entry.rpartition(":")
        if separator:
            if team == team_id:
                admins.append(user)
        elif not multi_workspace or team_id == CONSOLE_TEAM_ID:
            admins.append(entry)
    return admins


class WorkspaceDirectory:
    """Finds or creates workspaces; remembers them so requests do not hit the database."""

    def __init__(self, sessions: sessionmaker[Session], *, admins: list[str], timezone: str,
                 adopt_console: bool = True,
                 installed: Callable[[str], bool] | None = None):
        """``installed`` (several-workspace mode) tells whether a team installed Vigie through
        OAuth; a workspace is created only for those."""
        self._sessions = sessions
        # With several workspaces (OAuth) the console's data belongs to nobody in particular.
        self._adopt_console = adopt_console
        self._admins = admins
        self._installed = installed
        self._timezone = timezone
        self._cache: dict[str, WorkspaceRef] = {}

    def ensure(self, team_id: str) -> WorkspaceRef:
        """The workspace for ``team_id``, created with the configured admins on first use."""
        cached = self._cache.get(team_id)
        if cached is not None:
            return cached
        try:
            ref = self._ensure_in_db(team_id)
        except IntegrityError:
            # Another process created it between our read and our insert: read it back.
            ref = self._ensure_in_db(team_id)
        self._cache[team_id] = ref
        return ref

    def team_of(self, workspace_id: int) -> str | None:
        """The Slack team id of workspace ``workspace_id`` (None when there is none)."""
        for ref in list(self._cache.values()):
            if ref.id == workspace_id:
                return ref.team_id
        with self._sessions() as session:
            workspace = session.get(Workspace, workspace_id)
            return workspace.team_id if workspace is not None else None

    def is_installed(self, team_id: str) -> bool:
        """Whether ``team_id`` installed Vigie: always, with one bot token; with several
        workspaces, when the installation store holds its bot token."""
        return self._installed is None or self._installed(team_id)

    def _ensure_in_db(self, team_id: str) -> WorkspaceRef:
        with transaction(self._sessions) as session:
            workspace = repo.get_workspace_by_team(session, team_id)
            if workspace is None and team_id != CONSOLE_TEAM_ID and self._adopt_console:
                # Watches set up in console mode carry over when Slack is connected.
                workspace = repo.adopt_console_workspace(session, CONSOLE_TEAM_ID, team_id)
            if workspace is None:
                if (self._installed is not None and team_id != CONSOLE_TEAM_ID
                        and not self._installed(team_id)):
                    raise UnknownWorkspace(team_id)
                workspace = repo.create_workspace(session, team_id, timezone=self._timezone)
            admins = admins_for(self._admins, team_id,
                                multi_workspace=self._installed is not None)
            for user_id in admins:
                member = repo.get_member(session, workspace.id, user_id)
                if member is None or member.role != Role.ADMIN.value:
                    repo.set_member_role(session, workspace.id, user_id, Role.ADMIN,
                                         granted_by="config")
                    session.add(AuditEvent(
                        workspace_id=workspace.id, actor="system", action="role.granted",
                        surface="config", detail={"user_id": user_id, "role": "admin"},
                        reason="VIGIE_ADMINS",
                    ))
            return WorkspaceRef(workspace.id, workspace.team_id, workspace.locale,
                                workspace.timezone)


def team_language(sessions: sessionmaker[Session], team_id: str) -> str:
    """The default language of the workspace of ``team_id``; English for a team Vigie
    does not know (never creates it)."""
    with sessions() as session:
        workspace = repo.get_workspace_by_team(session, team_id)
        return workspace.locale if workspace is not None and workspace.locale else "en"


def workspace_language(session: Session, workspace_id: int) -> str:
    """The workspace's default language (for messages not addressed to one user)."""
    workspace = session.get(Workspace, workspace_id)
    return workspace.locale if workspace else "en"
