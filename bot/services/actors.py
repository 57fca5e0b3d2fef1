"""Who acts, and from which surface: every service call names its actor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """A Slack user (``user_id``) or the local operator (CLI, ``user_id`` None, trusted)."""

    user_id: str | None
    surface: str

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
