"""`/cm settings [NAME VALUE]`: show the workspace's rules, or change one (admins)."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import workspace_settings
from bot.services.permissions import ANYONE, Role
from handlers.commands.parsing import unescape
from handlers.commands.registry import REGISTRY, CommandRequest, Reply


def _show(values: workspace_settings.WorkspaceSettings, language: str) -> str:
    lines = [t(language, "settings.title")]
    lines += ["• " + t(language, f"settings.line_{name}", value=values.shown(name))
              for name in workspace_settings.SETTING_NAMES]
    return "\n".join(lines)


@REGISTRY.subcommand("settings", usage="settings [NAME VALUE]",
                     examples=("settings", "settings default_role viewer",
                               "settings four_eyes on", "settings timezone Europe/Paris",
                               "settings language fr"),
                     role=lambda args: Role.ADMIN if len(args) == 2 else ANYONE)
def cmd_settings(request: CommandRequest, runtime: Runtime) -> Reply:
    """Show the workspace's rules, or change one (admins); each change is audited."""
    language = request.language
    workspace_id = request.workspace_id(runtime)
    if not request.args:
        return Reply(_show(workspace_settings.get_settings(runtime.sessions, workspace_id),
                           language))
    if len(request.args) != 2:
        return Reply(t(language, "settings.usage"), did_no_work=True)
    name, value = request.args[0].lower(), unescape(request.args[1])
    before = workspace_settings.get_settings(runtime.sessions, workspace_id)
    after = workspace_settings.do_set_setting(
        runtime.sessions, workspace_id, request.actor, name, value)
    name = name.replace("-", "_")
    if before.shown(name) == after.shown(name):
        return Reply(t(language, "settings.unchanged", name=name, value=after.shown(name)))
    return Reply(t(language, "settings.changed", user=f"<@{request.user_id}>", name=name,
                   before=before.shown(name), after=after.shown(name)))
