"""The Slack implementation of the HomePublisher port (``views.publish``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.messages.delivery import DeliveryError
from bot.messages.home import HomeSpec
from bot.slack.home import build_guest_home, build_home

RETRY_AFTER_DEFAULT = 30.0


class SlackHomePublisher:
    """Publishes App Home views; with ``token_for_team`` each workspace's own bot token."""

    def __init__(self, client: WebClient,
                 token_for_team: Callable[[str], str | None] | None = None) -> None:
        self._client = client
        self._token_for_team = token_for_team

    def publish_home(self, team_id: str | None, user_id: str, home: HomeSpec) -> None:
        """Render ``home`` and publish it as ``user_id``'s Home tab (the guest view when it
        has no summary); errors become DeliveryError."""
        view = (build_guest_home(home.language) if home.summary is None
                else build_home(home.summary, home.language))
        args: dict[str, Any] = {"user_id": user_id, "view": view}
        if self._token_for_team is not None and team_id:
            token = self._token_for_team(team_id)
            if token is None:
                raise DeliveryError(f"Vigie is not installed in workspace {team_id}")
            args["token"] = token
        try:
            self._client.views_publish(**args)
        except SlackApiError as err:
            response = err.response
            retry = None
            if response is not None and response.status_code == 429:
                retry = float(response.headers.get("Retry-After", RETRY_AFTER_DEFAULT))
            elif response is not None and response.status_code >= 500:
                retry = RETRY_AFTER_DEFAULT
            raise DeliveryError(f"Slack refused the Home view: {response.get('error')}",
                                retry_after=retry) from None
        except (SlackClientError, OSError) as err:
            raise DeliveryError(f"Slack could not be reached: {type(err).__name__}",
                                retry_after=RETRY_AFTER_DEFAULT) from None
