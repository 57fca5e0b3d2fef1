"""The Slack implementation of the UserDirectory port (``users.info``)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.messages.delivery import SlackAccount

log = logging.getLogger(__name__)

SLACKBOT = "USLACKBOT"
"""Slackbot's id: Slack's user object says ``is_bot`` false for it ("Slackbot is special"),
but it is no one to hand work to."""
UNKNOWN_USER = frozenset({"user_not_found", "user_not_visible"})
"""users.info answers meaning there is no such user to see in this workspace."""


LOOKUP_TIMEOUT_SECONDS = 1
"""A look-up runs before the request is acknowledged (Slack waits 3 s): one short try, no
retry (the listener client waits out a rate limit and retries, seconds past that)."""


class SlackUserDirectory:
    """Looks users up with the listener's token (the right one for its workspace), quickly.

    One directory serves one request (each listener builds its own) and asks Slack about a
    user once: `/cm assign 41 42 43 @ana` checks Ana for every mention with one
    ``users.info``, and a look-up that failed is not tried again for the next mention (it
    would wait as long, for the same answer)."""

    def __init__(self, client: WebClient) -> None:
        self._client = WebClient(
            token=client.token, base_url=client.base_url, timeout=LOOKUP_TIMEOUT_SECONDS,
            ssl=client.ssl, proxy=client.proxy, headers=client.headers, retry_handlers=[])
        self._answers: dict[str, SlackAccount | None] = {}

    def account(self, user_id: str) -> SlackAccount | None:
        """What ``users.info`` says about ``user_id``; None when Slack could not answer
        (network, rate limit, missing scope), which the caller treats as unknown. Asked
        once per directory, then remembered."""
        if user_id not in self._answers:
            self._answers[user_id] = self._look_up(user_id)
        return self._answers[user_id]

    def _look_up(self, user_id: str) -> SlackAccount | None:
        try:
            user = self._client.users_info(user=user_id).get("user") or {}
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else None
            if code in UNKNOWN_USER:
                return SlackAccount(found=False)
            log.warning("users.info for %s failed: %s", user_id, code)
            return None
        except (SlackClientError, OSError) as err:
            log.warning("users.info for %s failed: %s", user_id, type(err).__name__)
            return None
        # is_restricted is any guest; is_ultra_restricted, a single-channel one, comes with
        # it, but either one is enough to tell.
        return SlackAccount(found=True,
                            is_bot=bool(user.get("is_bot")) or user_id == SLACKBOT,
                            deleted=bool(user.get("deleted")),
                            guest=bool(user.get("is_restricted"))
                            or bool(user.get("is_ultra_restricted")))
