"""Installing Vigie in a workspace (OAuth): what happens once Slack has given the token."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import BoltResponse
from slack_bolt.oauth.callback_options import SuccessArgs
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.runtime import Runtime
from bot.services.workspace_settings import do_adopt_installer_language
from bot.services.workspaces import UnknownWorkspace
from bot.slack.client import build_web_client

log = logging.getLogger(__name__)


def installed(runtime: Runtime) -> Callable[[SuccessArgs], BoltResponse]:
    """Bolt's OAuth success callback: the installing user's Slack locale (``users.info``
    with ``include_locale``) becomes the language of channel messages when Vigie speaks it
    (`/cm settings language` changes it); then Bolt's own success page. A failure here
    never fails the install: the workspace keeps English."""

    def on_success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        if installation.team_id and installation.user_id and installation.bot_token:
            try:
                workspace = runtime.workspaces.ensure(installation.team_id)
                client = build_web_client(runtime.settings, token=installation.bot_token)
                user = client.users_info(user=installation.user_id,
                                         include_locale=True).get("user") or {}
                do_adopt_installer_language(runtime.sessions, workspace.id,
                                            user.get("locale"))
            except (SlackApiError, SlackClientError, OSError, UnknownWorkspace) as err:
                log.warning("installer's locale not read: %s", type(err).__name__)
        return args.default.success(args)

    return on_success
