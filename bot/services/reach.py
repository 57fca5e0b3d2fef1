"""Whether Slack takes a workspace's messages at all: what the scheduled jobs (digests,
monthly reports, SLA notices, spike alerts, approval digests) ask before queuing.

A workspace is out of reach while Vigie is marked uninstalled from it
(``Workspace.uninstalled_at``, Slack's ``app_uninstalled`` or ``tokens_revoked``) and
while its outbox is paused on a token Slack refuses (``TOKEN_ERRORS``): Slack's events
may never have reached Vigie (it was down when the app was uninstalled), and the outbox's
refusal is then the only sign. What those jobs queued meanwhile would wait in the paused
outbox and reach the channel all at once, days late. A pause on a token that may not post
(``missing_scope``) is not one: Slack accepts that token, and the scope comes back with
an install.

With nothing queued, such a pause still ends once Slack accepts the token again: at each
of its retry times the outbox asks Slack (``auth.test``) when no row of the workspace is
there to try (``bot.services.outbox``). Not for a workspace marked uninstalled, which
waits for an install (``bot.services.installs.do_reinstalled``)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists

from bot.messages.delivery import TOKEN_ERRORS
from storage.models import Workspace
from storage.models_outbox import OutboxPause

UNINSTALLED_PAUSES = frozenset({"app_uninstalled", "tokens_revoked"})
"""The errors ``bot.services.installs.do_uninstalled`` pauses an outbox with."""
DEAD_TOKEN_PAUSES = TOKEN_ERRORS | UNINSTALLED_PAUSES
"""A pause with one of these errors waits for a token Slack accepts (a reinstall, a new
SLACK_BOT_TOKEN): nothing of the workspace can reach Slack meanwhile."""


def dead_token_pause() -> ColumnElement[bool]:
    """SQL, on ``OutboxPause``: the pause waits for a token Slack accepts."""
    return OutboxPause.error.in_(sorted(DEAD_TOKEN_PAUSES))


def reachable() -> ColumnElement[bool]:
    """SQL, on ``Workspace``: Vigie is installed there, and its outbox is not paused on a
    refused token."""
    return and_(Workspace.uninstalled_at.is_(None),
                ~exists().where(OutboxPause.workspace_id == Workspace.id, dead_token_pause()))
