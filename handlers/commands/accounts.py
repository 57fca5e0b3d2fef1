"""`/cm account add|list|remove`: the brand's own accounts; parse, then call one service."""

from __future__ import annotations

from bot.i18n import t
from bot.runtime import Runtime
from bot.services import brand_accounts
from bot.slack.escape import escape
from handlers.commands.parsing import unescape
from handlers.commands.registry import REGISTRY, CommandRequest, Reply


@REGISTRY.subcommand(
    "account", usage="account add NETWORK HANDLE | list | remove NETWORK HANDLE",
    examples=("account add x @acmecare", "account add mastodon @acme@mastodon.social",
              "account list", "account remove x @acmecare"))
def cmd_account(request: CommandRequest, runtime: Runtime) -> Reply:
    """Declare, list or forget the handles the brand posts from (admins change them)."""
    language = request.language
    action = request.args[0].lower() if request.args else "list"
    workspace_id = request.workspace_id(runtime)
    if action == "list" and len(request.args) <= 1:
        views = brand_accounts.list_accounts(runtime.sessions, workspace_id)
        if not views:
            return Reply(t(language, "account.none"))
        lines = [f"*{t(language, 'account.title', count=len(views))}*"]
        lines += [f"• {escape(v.network)}: {escape(v.handle)}" for v in views]
        return Reply("\n".join(lines))
    if action in {"add", "remove"} and len(request.args) == 3:
        network, handle = unescape(request.args[1]), unescape(request.args[2])
        actor = request.actor
        if action == "add":
            view = brand_accounts.do_add_account(runtime.sessions, workspace_id, actor,
                                                 network, handle)
        else:
            view = brand_accounts.do_remove_account(runtime.sessions, workspace_id,
                                                    actor, network, handle)
        return Reply(t(language, f"account.{'added' if action == 'add' else 'removed'}",
                       network=view.network, handle=escape(view.handle)))
    return Reply(t(language, "account.usage"), did_no_work=True)
