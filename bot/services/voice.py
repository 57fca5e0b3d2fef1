"""The brand's voice guide and the team's reply templates (per intent and language)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.replies.templates import INTENTS, CustomTemplate
from bot.services.actors import Actor
from bot.services.audit import record
from bot.services.errors import ServiceError
from bot.services.permissions import require_role
from storage.db import transaction
from storage.models import Role, Workspace

MAX_VOICE = 3000
MAX_TEMPLATE = 1000
MAX_TEMPLATES = 100
LANGUAGES = ("en", "fr")


def _workspace(session: Session, workspace_id: int) -> Workspace:
    workspace = session.get(Workspace, workspace_id)
    assert workspace is not None
    return workspace


def custom_templates(settings: dict[str, Any] | None) -> list[CustomTemplate]:
    """The team's templates stored in the workspace settings."""
    stored: list[Any] = (settings or {}).get("templates") or []
    return [CustomTemplate(str(t["intent"]), str(t["language"]), str(t["text"]), str(t["name"]))
            for t in stored if isinstance(t, dict)]


def list_templates(sessions: sessionmaker[Session], workspace_id: int) -> list[CustomTemplate]:
    """Every custom template, in the order they were added."""
    with sessions() as session:
        return custom_templates(_workspace(session, workspace_id).settings)


def do_add_template(sessions: sessionmaker[Session], workspace_id: int, actor: Actor, *,
                    name: str, intent: str, language: str, text: str) -> CustomTemplate:
    """Add (or replace, by name) a template for an intent and language (approvers)."""
    if intent not in INTENTS:
        raise ServiceError("voice.bad_intent", value=intent, valid=", ".join(INTENTS))
    if language not in LANGUAGES:
        raise ServiceError("voice.bad_language", value=language, valid=", ".join(LANGUAGES))
    if not text.strip() or len(text) > MAX_TEMPLATE:
        raise ServiceError("voice.bad_text", limit=str(MAX_TEMPLATE))
    if not name.replace("-", "").replace("_", "").isalnum() or len(name) > 40:
        raise ServiceError("voice.bad_name", value=name[:40])
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.APPROVER)
        workspace = _workspace(session, workspace_id)
        templates = [t for t in (workspace.settings or {}).get("templates") or []
                     if t.get("name") != name]
        if len(templates) >= MAX_TEMPLATES:
            raise ServiceError("voice.too_many", limit=str(MAX_TEMPLATES))
        templates.append({"name": name, "intent": intent, "language": language,
                          "text": text.strip()})
        workspace.settings = {**(workspace.settings or {}), "templates": templates}
        record(session, workspace_id, actor, "template.added", detail={"name": name})
        return CustomTemplate(intent, language, text.strip(), name)


def do_remove_template(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                       name: str) -> None:
    """Delete a template by name (approvers)."""
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.APPROVER)
        workspace = _workspace(session, workspace_id)
        templates = (workspace.settings or {}).get("templates") or []
        kept = [t for t in templates if t.get("name") != name]
        if len(kept) == len(templates):
            raise ServiceError("voice.no_template", name=name[:40])
        workspace.settings = {**(workspace.settings or {}), "templates": kept}
        record(session, workspace_id, actor, "template.removed", detail={"name": name})


def get_voice(sessions: sessionmaker[Session], workspace_id: int) -> str | None:
    """The voice guide the LLM drafts with (None: the built-in default)."""
    with sessions() as session:
        voice = (_workspace(session, workspace_id).settings or {}).get("voice")
        return str(voice) if voice else None


def do_set_voice(sessions: sessionmaker[Session], workspace_id: int, actor: Actor,
                 text: str | None) -> None:
    """Set (or clear with None) the voice guide and the brand name it speaks for (admins)."""
    if text is not None and len(text) > MAX_VOICE:
        raise ServiceError("voice.too_long", limit=str(MAX_VOICE))
    with transaction(sessions) as session:
        if actor.user_id:
            require_role(session, workspace_id, actor, Role.ADMIN)
        workspace = _workspace(session, workspace_id)
        workspace.settings = {**(workspace.settings or {}), "voice": text}
        record(session, workspace_id, actor, "voice.set", detail={"length": len(text or "")})
