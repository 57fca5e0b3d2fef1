"""Who acts, and from which surface: every service call names its actor."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages.notes import Arg, Phrase


@dataclass(frozen=True, slots=True)
class Actor:
    """A Slack user (``user_id``) or the local operator (CLI, ``user_id`` None, trusted)."""

    user_id: str | None
    surface: str
    guest: bool = False
    """Slack says the user is a multi- or single-channel guest (``users.info``); False when
    they are a member, or Slack was not asked or could not answer."""
    unchecked: bool = False
    """Slack was asked whether the user is a guest, could not answer, and never had: only
    an admin's grant lets them act (``permissions.actor_role``)."""
    external: bool = False
    """The user is of another organisation's workspace (Slack Connect, a shared channel):
    Vigie lets them do nothing (``permissions.check_role``), whatever their role."""

    def __post_init__(self) -> None:
        # Only an explicit None is the trusted local operator: an empty id from a request
        # must never pass for it (nor skip the `if actor.user_id:` role checks).
        if self.user_id is not None and not self.user_id.strip():
            raise ValueError("a Slack actor needs a user id")

    @property
    def name(self) -> str:
        """What the audit trail records as the actor."""
        return self.user_id or self.surface

    @property
    def trusted(self) -> bool:
        """True for the local operator: no role checks, no SSRF guard on URLs they give."""
        return self.user_id is None


CLI = Actor(None, "cli")
SCHEDULER = Actor(None, "scheduler")
INSTALL = Actor(None, "install")
"""Vigie itself, when a workspace installs it (OAuth), e.g. adopting the installer's language."""
BRAND_ACCOUNT = Actor(None, "brand_account")
"""The brand's own account, replying natively on a network (found there by ingest)."""
CUSTOMER = Actor(None, "conversation")
"""The customer writing again in an answered case (it reopens the case)."""


def note_actor(actor: Actor) -> Arg:
    """``actor`` as a thread note names them, as the subject of its sentence: a Slack user
    as a mention, the local operator in words of the reader's language ("The terminal
    operator"), any other surface by its name."""
    if actor.user_id:
        return f"<@{actor.user_id}>"
    return Phrase.of("workflow.operator_subject") if actor == CLI else actor.surface
