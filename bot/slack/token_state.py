"""Whether Slack refuses SLACK_BOT_TOKEN now: what ``/readyz`` names in its ``slack`` field.

A refusal (``token_revoked``, ``invalid_auth``... ``bot.messages.delivery.TOKEN_ERRORS``)
is learnt at start (``auth.test``) or from a later call: the outbox's, which pauses on it
(``bot.services.outbox``). It holds until a later call with the token goes through: an
outbox delivery, or the check this state runs itself while the token is refused, at most
every ``RECHECK_SECONDS``, in the background, when someone reads it (a /readyz probe), so
a token working again (the app reinstalled, the workspace active again) is seen without
a restart. A check that cannot reach Slack changes nothing: the last answer stands.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError

from bot.messages.delivery import TOKEN_ERRORS

log = logging.getLogger(__name__)

RECHECK_SECONDS = 5.0
"""Least time between two checks of a refused token (``auth.test``: cheap, and asked only
while the token is refused and someone reads the state)."""


class SlackTokenState:
    """The bot token's latest known standing with Slack (thread-safe)."""

    def __init__(self, check: Callable[[], object] | None = None, *,
                 recheck_seconds: float = RECHECK_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.check = check
        """A Slack call with the token (``auth.test``), raising SlackApiError when refused;
        None: nothing is checked, only told."""
        self._recheck = recheck_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._error: str | None = None
        self._told_at = monotonic()
        self._checking = False

    def refused(self, code: str) -> None:
        """Slack refused the token with ``code``."""
        with self._lock:
            self._error = code
            self._told_at = self._monotonic()

    def accepted(self) -> None:
        """A call with the token went through."""
        with self._lock:
            if self._error is not None:
                log.warning("Slack accepts SLACK_BOT_TOKEN again (it refused it: %s)",
                            self._error)
            self._error = None
            self._told_at = self._monotonic()

    def current(self) -> str | None:
        """Slack's error code while it refuses the token, else None. While refused, starts
        a check in the background when the last answer is ``RECHECK_SECONDS`` old: this
        read answers what is known, a later one what the check found."""
        with self._lock:
            error = self._error
            due = (error is not None and self.check is not None and not self._checking
                   and self._monotonic() - self._told_at >= self._recheck)
            if due:
                self._checking = True
        if due:
            threading.Thread(target=self._run_check, name="vigie-slack-token",
                             daemon=True).start()
        return error

    def verify(self) -> bool | None:
        """Ask Slack now (``check``, in this thread): True when it accepts the token, False
        when it refuses it, None when that could not be told (no check, Slack unreachable,
        another error: the last answer stands). The state follows the answer."""
        if self.check is None:
            return None
        try:
            self.check()
        except SlackApiError as err:
            code = str(err.response.get("error"))
            if code in TOKEN_ERRORS:
                self.refused(code)
                return False
            log.info("the bot token's check got %s: what is known stands", code)
            return None
        except Exception as err:  # noqa: BLE001  (unreachable: the last answer stands)
            log.info("the bot token's check did not reach Slack (%s)", type(err).__name__)
            return None
        self.accepted()
        return True

    def _run_check(self) -> None:
        try:
            self.verify()
        finally:
            with self._lock:
                self._checking = False
                self._told_at = self._monotonic()
