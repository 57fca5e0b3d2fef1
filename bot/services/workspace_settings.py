"""`/cm settings`: the workspace's rules, each change checked and written to the audit trail.

Settings: ``four_eyes`` (on: nobody approves a draft holding their own words),
``default_role`` (the role of members nobody granted one: viewer or agent),
``backfill_hours`` (how far back a new source's first fetch may alert, 0-168),
``timezone`` (the workspace's IANA zone for digests, stats and SLA hours) and
``language`` (the language of what Vigie posts in channels: cards, thread notes, digests,
SLA notices, spike alerts, scheduled reports; each user's own answers follow `/cm lang`).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session, sessionmaker

from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from bot.services.actors import INSTALL, Actor
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.permissions import require_role
from storage.db import transaction
from storage.models import Role, Workspace

SETTING_NAMES = ("four_eyes", "default_role", "backfill_hours", "timezone", "language")
DEFAULT_ROLE_CHOICES = ("viewer", "agent")
DEFAULT_BACKFILL_HOURS = 48
MAX_BACKFILL_HOURS = 168
LANGUAGE_SOURCE = "language_source"
"""Who set the workspace's language: ``admin`` (a setting) or ``installer`` (their locale)."""
_ON = {"on", "yes", "true", "1"}
_OFF = {"off", "no", "false", "0"}


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """The workspace's rules as shown by `/cm settings`."""

    four_eyes: bool
    default_role: str
    backfill_hours: int
    timezone: str
    language: str

    def shown(self, name: str) -> str:
        """One setting's value as typed back (``on``/``off`` for switches)."""
        value = getattr(self, name)
        return ("on" if value else "off") if isinstance(value, bool) else str(value)


def settings_of(workspace: Workspace) -> WorkspaceSettings:
    """The rules of ``workspace``, defaults filled in."""
    extra = workspace.settings or {}
    role = extra.get("default_role")
    hours = extra.get("backfill_hours")
    return WorkspaceSettings(
        four_eyes=not workspace.allow_self_approval,
        default_role=role if role in DEFAULT_ROLE_CHOICES else Role.AGENT.value,
        backfill_hours=hours if isinstance(hours, int) else DEFAULT_BACKFILL_HOURS,
        timezone=workspace.timezone or "UTC",
        language=workspace.locale if workspace.locale in SUPPORTED_LANGUAGES
        else DEFAULT_LANGUAGE,
    )


def get_settings(sessions: sessionmaker[Session], workspace_id: int) -> WorkspaceSettings:
    """The workspace's current rules."""
    with sessions() as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            raise ServiceError("settings.no_workspace")
        return settings_of(workspace)


def _parse(name: str, raw: str) -> bool | str | int:
    value = raw.strip()
    if name == "four_eyes":
        if value.lower() in _ON | _OFF:
            return value.lower() in _ON
        raise ServiceError("settings.bad_switch", name=name, value=value[:40])
    if name == "default_role":
        if value.lower() in DEFAULT_ROLE_CHOICES:
            return value.lower()
        raise ServiceError("settings.bad_role", value=value[:40])
    if name == "backfill_hours":
        if value.isascii() and value.isdigit() and int(value) <= MAX_BACKFILL_HOURS:
            return int(value)
        raise ServiceError("settings.bad_hours", value=value[:40], most=MAX_BACKFILL_HOURS)
    if name == "language":
        # A Slack locale (fr-FR) names its language as well as the code itself does.
        short = value.lower().replace("_", "-").split("-")[0]
        if short in SUPPORTED_LANGUAGES:
            return short
        raise ServiceError("settings.bad_language", value=value[:40],
                           valid=", ".join(SUPPORTED_LANGUAGES))
    try:
        return ZoneInfo(value).key
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError("settings.bad_timezone", value=value[:60]) from None


def do_set_setting(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                   name: str, raw_value: str) -> WorkspaceSettings:
    """Change one setting (admins only); the audit trail keeps who, before and after."""
    name = name.strip().lower().replace("-", "_")
    if name not in SETTING_NAMES:
        raise ServiceError("settings.unknown", name=name[:40], known=", ".join(SETTING_NAMES))
    value = _parse(name, raw_value)
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        workspace = session.get(Workspace, workspace_id)
        if workspace is None:
            raise ServiceError("settings.no_workspace")
        before = settings_of(workspace)
        if name == "four_eyes":
            workspace.allow_self_approval = not value
        elif name == "timezone":
            workspace.timezone = str(value)
        elif name == "language":
            workspace.locale = str(value)
            # An admin's choice: a later install (new scopes) keeps it.
            workspace.settings = {**(workspace.settings or {}), LANGUAGE_SOURCE: "admin"}
        else:
            workspace.settings = {**(workspace.settings or {}), name: value}
        after = settings_of(workspace)
        if before.shown(name) != after.shown(name):
            record(session, workspace_id, actor, "settings.changed",
                   detail={"setting": name, "before": before.shown(name),
                           "after": after.shown(name)})
        return after


def do_adopt_installer_language(sessions: sessionmaker[Session], workspace_id: int,
                                slack_locale: str | None) -> str | None:
    """At install, make the installing user's Slack locale (``fr-FR``) the workspace's
    language for channel messages, when Vigie speaks it and no admin chose one (a reinstall
    for new scopes keeps an admin's choice). Audited; returns the language set, if any."""
    short = (slack_locale or "").lower().replace("_", "-").split("-")[0]
    if short not in SUPPORTED_LANGUAGES:
        return None
    with transaction(sessions) as session:
        workspace = session.get(Workspace, workspace_id)
        if workspace is None or (workspace.settings or {}).get(LANGUAGE_SOURCE) == "admin":
            return None
        before = settings_of(workspace).language
        workspace.locale = short
        workspace.settings = {**(workspace.settings or {}), LANGUAGE_SOURCE: "installer"}
        if before != short:
            record(session, workspace_id, INSTALL, "settings.changed",
                   reason="installer's Slack locale",
                   detail={"setting": "language", "before": before, "after": short})
        return short
