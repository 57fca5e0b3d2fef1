"""`/cm notify on|off|status`: whether Vigie sends you DMs about your work."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import notifications
from bot.services.permissions import ANYONE
from bot.slack.escape import escape
from handlers.commands.parsing import unescape
from handlers.commands.registry import REGISTRY, CommandRequest, Reply


@REGISTRY.subcommand("notify", usage="notify on|off|status",
                     examples=("notify off", "notify on", "notify status"), role=ANYONE)
def cmd_notify(request: CommandRequest, runtime: Runtime) -> Reply:
    """Turn your notification DMs on or off, or see whether they are on."""
    language = request.language
    choice = request.args[0].lower() if len(request.args) == 1 else ""
    if choice not in {"on", "off", "status"} or not request.user_id:
        given = escape(unescape(" ".join(request.args))[:40])
        return Reply(t(language, "notify.usage", value=given) if given
                     else t(language, "notify.usage_empty"))
    workspace_id = request.workspace_id(runtime)
    if choice != "status":
        notifications.do_set_dms(runtime.sessions, workspace_id,
                                 request.actor, choice == "on")
    enabled = notifications.dms_enabled(runtime.sessions, workspace_id, request.user_id)
    return Reply(t(language, "notify.status_on" if enabled else "notify.status_off"))
