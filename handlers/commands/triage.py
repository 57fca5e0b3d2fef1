"""`/cm triage`: what Vigie learned from the team's triage; admins: learn, reset, off, on."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import triage_learning
from bot.services.permissions import ANYONE, Role
from bot.slack.triage_blocks import build_triage_status
from handlers.commands.registry import REGISTRY, CommandRequest, Reply

CHANGES = {"learn", "reset", "off", "on"}
"""The choices only admins make."""
CHOICES = {"status", *CHANGES}


@REGISTRY.subcommand("triage", usage="triage | triage learn [dry-run] | triage reset | "
                     "triage off | triage on",
                     examples=("triage", "triage learn dry-run", "triage reset"),
                     role=lambda args: Role.ADMIN if args and args[0].lower() in CHANGES
                     else ANYONE)
def cmd_triage(request: CommandRequest, runtime: Runtime) -> Reply:
    """Show the triage calibration, or (admins) learn now, reset it, turn it off or on."""
    language = request.language
    args = [arg.lower() for arg in request.args]
    choice = args[0] if args else "status"
    dry_run = args[1:] == ["dry-run"]
    if choice not in CHOICES or (len(args) > 1 and not (choice == "learn" and dry_run)):
        return Reply(t(language, "triage.usage"), did_no_work=True)
    workspace_id = request.workspace_id(runtime)
    actor = request.actor
    result = None
    if choice == "learn":
        result = triage_learning.do_learn_workspace(runtime.sessions, workspace_id, actor,
                                                    dry_run=dry_run)
    elif choice == "reset":
        result = triage_learning.do_reset(runtime.sessions, workspace_id, actor)
    elif choice in {"on", "off"}:
        result = triage_learning.do_set_enabled(runtime.sessions, workspace_id, actor,
                                                choice == "on")
    status = triage_learning.triage_status(runtime.sessions, workspace_id)
    text, blocks = build_triage_status(status, language,
                                       result if choice == "learn" else None)
    return Reply(text, blocks=blocks)
