"""`/cm account add|list|remove`: the brand's own accounts; parse, then call one service."""

from __future__ import annotations

from bot import verbs
from bot.i18n import t
from bot.runtime import Runtime
from bot.services import brand_accounts
from bot.services.permissions import ANYONE, Role
from bot.slack.escape import escape
from handlers.commands.parsing import typed_handle, typed_text
from handlers.commands.registry import REGISTRY, CommandRequest, Reply, Verb, Verbs


def _list(request: CommandRequest, runtime: Runtime) -> Reply:
    language = request.language
    views = brand_accounts.list_accounts(runtime.sessions, request.workspace_id(runtime))
    if not views:
        return Reply(t(language, "account.none"))
    lines = [f"*{t(language, 'account.title', count=len(views))}*"]
    lines += [f"• {escape(v.network)}: {escape(v.handle)}" for v in views]
    return Reply("\n".join(lines))


def _add_or_remove(request: CommandRequest, runtime: Runtime) -> Reply:
    action = request.args[0].lower()
    network, handle = typed_text(request.args[1]), typed_handle(request.args[2])
    change = brand_accounts.do_add_account if action == "add" else \
        brand_accounts.do_remove_account
    view = change(runtime.sessions, request.workspace_id(runtime), request.actor, network,
                  handle)
    return Reply(t(request.language, f"account.{'added' if action == 'add' else 'removed'}",
                   network=view.network, handle=escape(view.handle)))


REGISTRY.verbs("account", Verbs((
    Verb.shared(verbs.ACCOUNT_ADD, _add_or_remove, role=Role.ADMIN),
    Verb.shared(verbs.ACCOUNT_LIST, _list, role=ANYONE),
    Verb.shared(verbs.ACCOUNT_REMOVE, _add_or_remove, role=Role.ADMIN),
), usage_key="account.usage", default="list"),
    examples=("account add x @acmecare", "account add mastodon @acme@mastodon.social",
              "account list", "account remove x @acmecare"), module=__name__)
